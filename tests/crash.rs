//! A training run killed with SIGKILL at a random moment and resumed from its checkpoints
//! ends with exactly the parameters of a run that was never interrupted.
//!
//! The test re-runs this test binary as a child process (`crash_child`, ignored unless
//! `INFONCE_CRASH_DIR` is set) that trains with a checkpoint after every step, kills it,
//! then resumes in this process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use infonce::backend::NdArrayAutodiff;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{Checkpoint, Trainer, TrainerConfig};

use super::trainer::{data, model, parameters, temp_dir};

type B = NdArrayAutodiff;

const STEPS_PER_EPOCH: u64 = 8;
const EPOCHS: usize = 120;

fn config(dir: Option<&Path>) -> TrainerConfig {
    TrainerConfig::new()
        .with_epochs(EPOCHS)
        .with_learning_rate(2e-3)
        .with_warmup_steps(20)
        .with_seed(11)
        .with_checkpoint_every(Some(1))
        .with_keep_checkpoints(3)
        .with_out_dir(dir.map(|d| d.display().to_string()))
        .with_progress(false)
}

/// The child: resume from the initial checkpoint the parent wrote, train to the end.
#[test]
#[ignore = "run by sigkill_then_resume_matches_an_uninterrupted_run as a child process"]
fn crash_child() {
    let Some(dir) = std::env::var_os("INFONCE_CRASH_DIR").map(PathBuf::from) else {
        return;
    };
    let device = Default::default();
    let mut trainer = Trainer::resume(
        config(Some(&dir)),
        model::<B>(&device),
        InBatchSampler,
        device,
        &dir.join("initial.ckpt"),
    )
    .unwrap();
    trainer.fit(&data()).unwrap();
}

fn newest_step(checkpoints: &Path) -> Option<u64> {
    let newest = Checkpoint::latest_in(checkpoints)?;
    Checkpoint::read(&newest).ok().map(|c| c.meta.step)
}

#[test]
fn sigkill_then_resume_matches_an_uninterrupted_run() {
    let device = Default::default();
    let dir = temp_dir("sigkill");
    let checkpoints = dir.join("checkpoints");
    let total = STEPS_PER_EPOCH * EPOCHS as u64;

    // The initial parameters, shared by both runs through a step-0 checkpoint.
    let initial = model::<B>(&device);
    let _ = parameters(&initial);
    let mut straight = Trainer::new(config(None), initial.clone(), InBatchSampler, device).unwrap();
    Trainer::new(config(None), initial, InBatchSampler, device)
        .unwrap()
        .save_checkpoint(&dir.join("initial.ckpt"))
        .unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env("INFONCE_CRASH_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // A random moment in the first half of the run, different in every test run: a random
    // step to reach, then a random delay of up to 2 ms, so the kill lands anywhere in a
    // step or in a checkpoint write. A step here takes about 1 ms, so the child cannot
    // finish the second half before the kill.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let target = 1 + u64::from(nanos) % (total / 2);
    let delay = Duration::from_micros(u64::from(nanos / 7) % 2_000);
    while newest_step(&checkpoints).is_none_or(|s| s < target) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the child did not reach step {target} in 5 minutes"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited early"
        );
        std::thread::sleep(Duration::from_micros(500));
    }
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "the child must die by SIGKILL mid-run (it finished {total} steps first: {status:?})"
        );
    }
    let killed_at = newest_step(&checkpoints).unwrap();
    assert!(killed_at < total, "killed after the last step");
    eprintln!(
        "SIGKILL {delay:?} after step {target}: newest checkpoint at step {killed_at} of {total}"
    );

    let (mut resumed, skipped) = Trainer::resume_latest(
        config(Some(&dir)),
        model::<B>(&device),
        InBatchSampler,
        device,
        &checkpoints,
        true,
    )
    .unwrap();
    assert!(
        skipped.is_empty(),
        "atomic writes leave no bad checkpoint: {skipped:?}"
    );
    assert!(resumed.step() >= killed_at);
    resumed.fit(&data()).unwrap();
    straight.fit(&data()).unwrap();

    let (a, b) = (parameters(straight.model()), parameters(resumed.model()));
    let differing = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    assert_eq!(a.len(), b.len());
    assert_eq!(differing, 0, "{differing} of {} parameters differ", a.len());
    assert_eq!(resumed.step(), total);
    // Temporary files of the killed writer are cleaned up by the resumed run.
    let leftovers: Vec<_> = std::fs::read_dir(&checkpoints)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
