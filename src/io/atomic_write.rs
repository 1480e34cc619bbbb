//! Crash-safe file replacement.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Temporary files are `.<name>` + this + `<pid>`, beside the file they replace.
const TMP_MARK: &str = ".tmp-";

/// Writes `bytes` to `path` so that a crash at any moment leaves either the old file or the
/// new one, never a mixture: write to a temporary file in the same directory, `fsync` it,
/// rename it over `path`, then `fsync` the directory so the rename itself is durable.
///
/// Parent directories are created as needed.
///
/// # Errors
/// [`Error::Io`] naming the file when any step fails; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::io(path, std::io::Error::other("path has no file name")))?;
    let tmp = dir.join(format!(
        ".{}{TMP_MARK}{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename durable. Directories cannot be opened for sync on every platform;
        // where they cannot, the rename is still atomic.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Removes the temporary files [`write_atomic`] left in `dir` when another process was
/// killed mid-write (those of this process are in flight and kept). Best effort: a file
/// that cannot be removed stays.
pub fn remove_stale_temporaries(dir: &Path) {
    let own = std::process::id().to_string();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name.starts_with('.')
            && name
                .rsplit_once(TMP_MARK)
                .is_some_and(|(_, pid)| pid != own && pid.parse::<u32>().is_ok());
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}
