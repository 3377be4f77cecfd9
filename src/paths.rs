//! Where wsmon keeps its files: logs, input history, recordings.

use std::path::PathBuf;

/// The data directory: `$WSMON_DATA_DIR`, else `$XDG_DATA_HOME/wsmon` (~/.local/share/wsmon).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WSMON_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("wsmon"))
}

/// The data directory, created if missing.
pub fn ensure_data_dir() -> std::io::Result<PathBuf> {
    let dir = data_dir().ok_or_else(|| {
        std::io::Error::other("no home directory to keep data in; set WSMON_DATA_DIR")
    })?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
