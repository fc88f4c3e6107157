//! Build script: one link setting, for Windows MSVC builds with live capture. The executable
//! imports Npcap's `wpcap.dll` lazily (`/DELAYLOAD`), so it starts, and `tomskype analyze`
//! works, on a machine without Npcap; `tomskype live` then finds Npcap's folder itself and says
//! to install Npcap if it is missing (`src/capture/iface/npcap.rs`). Nothing else is built here.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "windows"
        && var("CARGO_CFG_TARGET_ENV") == "msvc"
        && std::env::var_os("CARGO_FEATURE_LIVE").is_some()
    {
        println!("cargo:rustc-link-arg-bins=/DELAYLOAD:wpcap.dll");
        println!("cargo:rustc-link-arg-bins=delayimp.lib");
    }
}
