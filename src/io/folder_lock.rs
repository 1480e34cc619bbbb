//! One writer per output folder: an advisory lock the operating system releases when its
//! holder exits, however it exits.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The lock file a run keeps open in its output folder. It stays on disk after the run:
/// only the lock on it (not its existence) means the folder is in use.
pub const LOCK_FILE: &str = ".infonce.lock";

/// An exclusive advisory lock (`flock` on Unix, `LockFileEx` on Windows, through
/// [`File::try_lock`]) on `<dir>/.infonce.lock`, holding the owner's process id. Dropping
/// it, or the process ending for any reason (a crash, `SIGKILL`), releases it.
///
/// Two locks on one folder conflict even inside one process, so two trainers given the
/// same output folder are kept apart wherever they run.
#[derive(Debug)]
pub struct FolderLock {
    dir: PathBuf,
    _file: File,
}

impl FolderLock {
    /// Takes the lock on `dir` (created if missing), or fails at once (after up to a second
    /// when the holder is this process: a child it forked keeps the lock until it execs).
    ///
    /// # Errors
    /// [`Error::FolderInUse`] naming the folder and the holder's process id when another
    /// run holds it; [`Error::Io`] when the folder or lock file cannot be created.
    pub fn acquire(dir: &Path) -> Result<FolderLock> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        lock_within_grace(&mut file, dir)?.map_err(|e| Error::io(&path, e))?;
        let record_pid = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            writeln!(f, "{}", std::process::id())?;
            f.sync_all()
        };
        record_pid(&mut file).map_err(|e| Error::io(&path, e))?;
        Ok(FolderLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// Fails at once when another run holds `dir`, creating nothing: for a program that
    /// wants to say so before a long set-up (reading a dataset) that precedes its trainer,
    /// which takes the lock itself. A lock recorded by this process is waited for as in
    /// [`FolderLock::acquire`], so a lock just dropped while another thread started a child
    /// process is not mistaken for a live one.
    ///
    /// # Errors
    /// [`Error::FolderInUse`] naming the folder and the holder's process id.
    pub fn ensure_free(dir: &Path) -> Result<()> {
        let path = dir.join(LOCK_FILE);
        let Ok(mut file) = File::open(&path) else {
            return Ok(()); // no lock file: no run has used the folder
        };
        // A lock file that cannot be locked at all (an error other than contention) does
        // not mean another run holds it.
        lock_within_grace(&mut file, dir).map(|_| ())
    }

    /// The folder this lock guards.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// How long a lock recorded by this very process is waited for: a child process started
/// between this process's taking and releasing the lock keeps it until that child execs
/// (its inherited descriptor closes then), a few milliseconds at most.
const OWN_LOCK_GRACE: Duration = Duration::from_secs(1);

/// Tries the lock on `file`: `Ok(Ok(()))` when taken; [`Error::FolderInUse`] at once when
/// another process holds it, and after [`OWN_LOCK_GRACE`] when this process does;
/// `Ok(Err(e))` when locking itself fails with `e`.
fn lock_within_grace(file: &mut File, dir: &Path) -> Result<std::io::Result<()>> {
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Ok(())),
            Err(TryLockError::Error(e)) => return Ok(Err(e)),
            Err(TryLockError::WouldBlock) => {
                let holder = holder_pid(file);
                let ours = holder == Some(std::process::id());
                if !ours || started.elapsed() > OWN_LOCK_GRACE {
                    return Err(Error::FolderInUse {
                        dir: dir.to_path_buf(),
                        holder,
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// The process id the holder wrote into the lock file. The holder writes it right after
/// taking the lock, so an empty file is read again a few times (for up to 0.1 s) before
/// giving up with `None`.
fn holder_pid(file: &mut File) -> Option<u32> {
    for _ in 0..10 {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).ok()?;
        file.read_to_string(&mut text).ok()?;
        if let Ok(pid) = text.trim().parse() {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}
