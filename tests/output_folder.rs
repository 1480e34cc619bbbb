//! One writer per output folder, temporaries that only dead writers' are cleaned, and a
//! write that fails half-way (a file-size limit, as a full disk or a quota would) leaving
//! the previous good files in place, a typed error, and a resume to the identical model.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use infonce::Error;
use infonce::io::{FolderLock, LOCK_FILE, remove_stale_temporaries};
use infonce::recipes::simclr_model;
use infonce::trainer::Checkpoint;

use super::baseline::small_simclr_config;
use super::example_errors::example;
use super::example_flags::{run, tiny_simclr};
use super::trainer::{parameters, temp_dir};

#[test]
fn a_folder_has_one_lock_holder_at_a_time_even_in_one_process() {
    let dir = temp_dir("lock-in-process");
    let first = FolderLock::acquire(&dir).unwrap();
    match FolderLock::acquire(&dir) {
        Err(Error::FolderInUse { dir: d, holder }) => {
            assert_eq!(d, dir);
            assert_eq!(holder, Some(std::process::id()));
        }
        other => panic!("expected FolderInUse, got {other:?}"),
    }
    assert!(matches!(
        FolderLock::ensure_free(&dir),
        Err(Error::FolderInUse { .. })
    ));
    drop(first);
    FolderLock::ensure_free(&dir).unwrap();
    let nowhere = dir.join("not-yet");
    FolderLock::ensure_free(&nowhere).unwrap();
    assert!(!nowhere.exists(), "the check creates nothing");
    let again = FolderLock::acquire(&dir).expect("released on drop");
    drop(again);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A child process started by another thread holds a copy of every open descriptor until
/// it execs, the lock's too: a lock just dropped can look held by this very process for a
/// moment. `ensure_free` waits that out as `acquire` does (without the wait, about one
/// check in ten failed here while children were being started).
#[test]
fn a_lock_dropped_while_children_start_is_free() {
    let dir = temp_dir("lock-with-children");
    let stop = Arc::new(AtomicBool::new(false));
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = Command::new("true").status();
            }
        })
    };
    let refused = (0..500)
        .filter(|_| {
            drop(FolderLock::acquire(&dir).unwrap());
            FolderLock::ensure_free(&dir).is_err()
        })
        .count();
    stop.store(true, Ordering::Relaxed);
    spawner.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        refused, 0,
        "ensure_free refused a dropped lock {refused} times of 500"
    );
}

#[test]
fn start_up_cleanup_removes_only_temporaries_no_live_writer_holds() {
    let dir = temp_dir("stale-temporaries");
    std::fs::create_dir_all(&dir).unwrap();
    let live = dir.join(".history.json.tmp-live01");
    let dead = dir.join(".history.json.tmp-dead01");
    let keep = dir.join("history.json");
    for p in [&live, &dead, &keep] {
        std::fs::write(p, b"{}").unwrap();
    }
    // A live writer holds its temporary locked until it renames it.
    let writer = std::fs::File::open(&live).unwrap();
    writer.lock().unwrap();
    remove_stale_temporaries(&dir);
    assert!(live.exists(), "a live writer's temporary is kept");
    assert!(!dead.exists(), "a dead writer's temporary is removed");
    assert!(keep.exists());
    drop(writer);
    // A child process another test thread is starting holds the dropped lock until it
    // execs; the cleanup keeps the temporary then (it is best effort), so try for a second.
    let deadline = Instant::now() + Duration::from_secs(1);
    while live.exists() && Instant::now() < deadline {
        remove_stale_temporaries(&dir);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!live.exists(), "a released temporary is removed");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts the small SimCLR run on `out` in the background.
fn spawn_simclr(out: &Path, epochs: &str, resume: bool) -> std::process::Child {
    let mut args = tiny_simclr(out, epochs);
    if resume {
        args.push("--resume".into());
    }
    Command::new(example("simclr"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_runs_started_together_on_one_folder_one_trains_the_other_exits_1() {
    let out = temp_dir("lock-two-runs");
    let children = [
        spawn_simclr(&out, "40", false),
        spawn_simclr(&out, "40", false),
    ];
    let pids: Vec<u32> = children.iter().map(std::process::Child::id).collect();
    let results: Vec<(Option<i32>, String)> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect();
    let winner = results.iter().position(|r| r.0 == Some(0));
    let loser = results.iter().position(|r| r.0 == Some(1));
    let (Some(w), Some(l)) = (winner, loser) else {
        panic!("expected one success and one exit 1, got {results:?}");
    };
    let msg = &results[l].1;
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(msg.contains(&out.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("process {}", pids[w])), "{msg}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_killed_holders_lock_is_gone_and_the_next_run_starts() {
    let out = temp_dir("lock-killed");
    let mut holder = spawn_simclr(&out, "100000", false);
    let lock = out.join(LOCK_FILE);
    let pid = holder.id().to_string();
    let start = Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|t| t.trim() != pid)
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, stderr) = run("simclr", &tiny_simclr(&out, "1"));
    assert_eq!(code, Some(1), "refused while the holder lives: {stderr}");
    holder.kill().unwrap();
    holder.wait().unwrap();
    let (code, stderr) = run("simclr", &tiny_simclr(&out, "1"));
    assert_eq!(code, Some(0), "the lock died with its holder: {stderr}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// Runs the small SimCLR run in a child whose files may not grow past `limit` bytes
/// (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored so that the write fails with `EFBIG`).
fn simclr_with_file_size_limit(args: &[String], limit: u64) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(example("simclr"));
    command.args(args).stdout(Stdio::null());
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every parameter of the small SimCLR model stored in the checkpoint at `path` (records
/// also carry random parameter ids, so their bytes differ between equal models).
fn final_parameters(path: &Path) -> Vec<f32> {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let model = simclr_model::<B>(&small_simclr_config(), 3, &device).unwrap();
    let bytes = Checkpoint::read(path).unwrap().model_record().to_vec();
    let record = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes, &device)
        .unwrap();
    parameters(&model.load_record(record))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

/// Checkpoints grow by one epoch record each epoch: a limit between the second and the
/// third epoch's sizes lets two through and stops the third half-way.
#[test]
fn a_write_that_fails_half_way_keeps_the_last_good_files_and_resume_finishes_identically() {
    // Same-length names: the output folder is recorded in the checkpoint, so files of the
    // two runs have equal sizes.
    let reference = temp_dir("write-ref");
    let failing = temp_dir("write-run");
    let (code, stderr) = run("simclr", &tiny_simclr(&reference, "3"));
    assert_eq!(code, Some(0), "{stderr}");
    let ckpts = |d: &Path| d.join("checkpoints");
    let second = ckpts(&reference).join("step-000000008.ckpt");
    let third = ckpts(&reference).join("step-000000012.ckpt");
    let limit = (file_len(&second) + file_len(&third)) / 2;
    assert!(file_len(&second) < limit && limit < file_len(&third));

    let (code, stderr) = simclr_with_file_size_limit(&tiny_simclr(&failing, "3"), limit);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(".ckpt: File too large"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let kept = Checkpoint::read(&ckpts(&failing).join("step-000000008.ckpt")).unwrap();
    assert_eq!(kept.meta.step, 8);
    assert!(!ckpts(&failing).join("step-000000012.ckpt").exists());
    assert!(temporaries(&ckpts(&failing)).is_empty());
    assert!(temporaries(&failing).is_empty());
    let history: serde_json::Value =
        serde_json::from_slice(&std::fs::read(failing.join("history.json")).unwrap()).unwrap();
    assert!(history.as_array().is_some_and(|h| !h.is_empty()));

    let mut resume = tiny_simclr(&failing, "3");
    resume.push("--resume".into());
    let (code, stderr) = run("simclr", &resume);
    assert_eq!(code, Some(0), "{stderr}");
    let ours = final_parameters(&ckpts(&failing).join("step-000000012.ckpt"));
    assert_eq!(
        ours,
        final_parameters(&third),
        "the resumed run ends with the uninterrupted run's parameters"
    );
    std::fs::remove_dir_all(&reference).unwrap();
    std::fs::remove_dir_all(&failing).unwrap();
}
