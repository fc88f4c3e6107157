//! (stub)
/// TEMPORARY stub (replaced by the samples branch).
pub fn write_all(_dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    Ok(Vec::new())
}
