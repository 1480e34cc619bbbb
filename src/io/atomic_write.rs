//! Crash-safe file replacement.

use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Temporary files are `.<name>` + this + a random suffix (from `tempfile`), beside the
/// file they replace.
const TMP_MARK: &str = ".tmp-";

/// Writes `bytes` to `path` so that a crash, a full disk or a quota at any moment leaves
/// either the old file or the new one, never a mixture: write to a uniquely named
/// temporary file in the same directory (held under an advisory lock while it exists),
/// `fsync` it, rename it over `path`, then `fsync` the directory so the rename itself is
/// durable.
///
/// Parent directories are created as needed.
///
/// # Errors
/// [`Error::Io`] naming `path` and the operating system's error when any step fails; the
/// temporary file is removed and the previous file at `path`, if any, is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::io(path, std::io::Error::other("path has no file name")))?;
    let prefix = format!(".{}{TMP_MARK}", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // `tempfile` creates private (0600) files; results and checkpoints are ordinary files
    // (0644 less the umask), as a plain `File::create` would make them.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(path, e))?;
    let written = (|| {
        // Held until the rename: a cleaner that can lock a temporary knows no live writer
        // has it (see `remove_stale_temporaries`).
        tmp.as_file().lock()?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()
    })();
    // On failure `tmp` is dropped here, which deletes the temporary.
    written.map_err(|e| Error::io(path, e))?;
    let file = tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    drop(file);
    // Make the rename durable. Directories cannot be opened for sync on every platform;
    // where they cannot, the rename is still atomic.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The directory `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes the temporary files [`write_atomic`] left in `dir` when a writer was killed
/// mid-write. A temporary whose writer is alive is locked by it and kept, whichever
/// process or thread that writer is. Best effort: a file that cannot be removed stays.
pub fn remove_stale_temporaries(dir: &Path) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.contains(TMP_MARK)) {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {
                let _ = fs::remove_file(entry.path());
            }
            Err(TryLockError::WouldBlock | TryLockError::Error(_)) => {}
        }
    }
}
