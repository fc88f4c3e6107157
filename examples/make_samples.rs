//! Regenerates the sample captures in `captures/` (run from the crate root):
//! `cargo run --example make_samples [DIR]`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("captures"), PathBuf::from);
    for path in tomskype::samples::write_all(&dir)? {
        println!("{}", path.display());
    }
    Ok(())
}
