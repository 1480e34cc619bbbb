//! Endurance: a long run of a small model keeps its resident memory flat and its checkpoint
//! folder at `keep_checkpoints` (+ `best.ckpt`).
//!
//! Ignored by default (100 000 steps take about a minute on two cores):
//!
//!     cargo test --release -- --ignored endurance --nocapture
//!     INFONCE_ENDURANCE_STEPS=5000 cargo test --release -- --ignored endurance   # brief (CI)
//!
//! Prints the resident set size averaged over the first and the last tenth of the epochs.

use infonce::critic::SeparableCriticConfig;
use infonce::data::CorrelatedGaussian;
use infonce::encoder::IdentityEncoder;
use infonce::model::SharedEncoderModel;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{BestMetric, Trainer, TrainerConfig};

use super::trainer::temp_dir;

const STEPS_PER_EPOCH: usize = 500;
const KEEP: usize = 3;

/// Resident set size of this process, MiB (Linux `/proc/self/status`).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
#[ignore = "long: run with --ignored (INFONCE_ENDURANCE_STEPS sets the length, default 100000)"]
fn endurance_memory_flat_and_checkpoints_bounded() {
    type B = infonce::backend::NdArrayAutodiff;
    let steps: usize = std::env::var("INFONCE_ENDURANCE_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let epochs = (steps / STEPS_PER_EPOCH).max(10);
    let dir = temp_dir("endurance");
    let device = Default::default();
    let critic = SeparableCriticConfig::new()
        .with_d_context(8)
        .with_d_candidate(8)
        .with_hidden(vec![32])
        .with_d_embedding(16)
        .init::<B>(&device)
        .unwrap();
    let config = TrainerConfig::new()
        .with_epochs(epochs)
        .with_learning_rate(5e-4)
        .with_checkpoint_every(Some(STEPS_PER_EPOCH as u64 * 2))
        .with_keep_checkpoints(KEEP)
        .with_keep_best(Some(BestMetric::max("mi_bound")))
        .with_out_dir(Some(dir.display().to_string()))
        .with_progress(false);
    let model = SharedEncoderModel::new(IdentityEncoder::new(), critic);
    let mut trainer = Trainer::new(config, model, InBatchSampler, device).unwrap();
    let data = CorrelatedGaussian::with_mi(8, 2.0, 32, STEPS_PER_EPOCH).unwrap();
    let mut rss = Vec::new();
    let mut most_files = 0;
    let checkpoints = dir.join("checkpoints");
    let summary = trainer
        .fit_with_hook(&data, |_, _| {
            rss.push(resident_mib());
            let files = std::fs::read_dir(&checkpoints).map_or(0, |d| d.count());
            most_files = most_files.max(files);
            Ok(Default::default())
        })
        .unwrap();
    let tenth = (rss.len() / 10).max(1);
    let (first, last) = (mean(&rss[..tenth]), mean(&rss[rss.len() - tenth..]));
    println!(
        "endurance: {} steps, resident memory {first:.1} MiB (first tenth) -> {last:.1} MiB \
         (last tenth), at most {most_files} files in checkpoints/",
        trainer.step()
    );
    assert_eq!(trainer.step() as usize, epochs * STEPS_PER_EPOCH);
    assert!(summary.history.iter().all(|r| r.loss.is_finite()));
    assert!(
        last <= first * 1.05 + 4.0,
        "resident memory grew: {first:.1} -> {last:.1} MiB ({rss:?})"
    );
    assert!(most_files <= KEEP + 1, "{most_files} files in checkpoints/");
    std::fs::remove_dir_all(&dir).unwrap();
}
