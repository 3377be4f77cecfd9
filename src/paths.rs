//! Where wsmon keeps its files: logs, input history, recordings.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The data directory: `$WSMON_DATA_DIR`, else `$XDG_DATA_HOME/wsmon` (~/.local/share/wsmon).
pub(crate) fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WSMON_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("wsmon"))
}

/// The data directory, created if missing; readable by its owner only.
pub(crate) fn ensure_data_dir() -> std::io::Result<PathBuf> {
    let dir = data_dir().ok_or_else(|| {
        std::io::Error::other("no home directory to keep data in; set WSMON_DATA_DIR")
    })?;
    create_private_dir(&dir)?;
    make_private(&dir);
    Ok(dir)
}

/// Creates `dir` and any missing parents, readable by their owner only (0700 on Unix): they
/// hold what users type and what the peers sent.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Opens `path` for writing, readable by its owner only (0600 on Unix, also when it existed
/// before); `append` keeps what is there, else it is emptied. A symbolic link there is refused,
/// not followed: a link planted where wsmon writes could make it overwrite another file.
pub(crate) fn open_private(path: &Path, append: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true);
    if append {
        o.append(true);
    } else {
        // Emptied only once it is known not to be a link (below).
        o.write(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = o.open(path).map_err(|e| {
        #[cfg(unix)]
        let looped = e.raw_os_error() == Some(libc::ELOOP);
        #[cfg(not(unix))]
        let looped = false;
        if looped {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link: wsmon does not write through links; give the path of the file itself",
                    path.display()
                ),
            )
        } else {
            e
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    if !append {
        file.set_len(0)?;
    }
    Ok(file)
}

/// Writes `bytes` to `path`, a file readable by its owner only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    open_private(path, false)?.write_all(bytes)
}

/// Takes group and other access away from a file or directory of wsmon's own that an older
/// version created world-readable.
pub(crate) fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            let mode = if m.is_dir() { 0o700 } else { 0o600 };
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
