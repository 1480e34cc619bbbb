//! Checkpoint reliability: the best checkpoint, refusal of checkpoints that do not fit, and
//! falling back to the previous good one.

use burn::tensor::backend::AutodiffBackend;
use infonce::critic::SeparableCriticConfig;
use infonce::encoder::IdentityEncoder;
use infonce::model::SharedEncoderModel;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{BestMetric, Checkpoint, Trainer, TrainerConfig};
use infonce::Error;

use super::trainer::{data, model, parameters, temp_dir};

fn run_with_checkpoints<B: AutodiffBackend>(
    name: &str,
    device: &B::Device,
    best: Option<BestMetric>,
) -> (
    std::path::PathBuf,
    TrainerConfig,
    Vec<infonce::trainer::EpochRecord>,
) {
    let dir = temp_dir(name);
    let config = TrainerConfig::new()
        .with_epochs(5)
        .with_learning_rate(3e-3)
        .with_checkpoint_every(Some(8))
        .with_keep_checkpoints(2)
        .with_keep_best(best)
        .with_out_dir(Some(dir.display().to_string()))
        .with_progress(false);
    let mut trainer = Trainer::new(
        config.clone(),
        model::<B>(device),
        InBatchSampler,
        device.clone(),
    )
    .unwrap();
    let summary = trainer.fit(&data()).unwrap();
    (dir, config, summary.history)
}

fn best_checkpoint_is_kept_beside_the_last_k<B: AutodiffBackend>(device: &B::Device) {
    // The epoch with the largest loss: the first, which pruning of the last two removes.
    let (dir, config, history) =
        run_with_checkpoints::<B>("best", device, Some(BestMetric::max("loss")));
    let ckpts = dir.join("checkpoints");
    let worst = history
        .iter()
        .max_by(|a, b| a.loss.total_cmp(&b.loss))
        .unwrap();
    assert_eq!(worst.epoch, 1, "loss should fall: {history:?}");
    let best = Checkpoint::read(&ckpts.join("best.ckpt")).unwrap();
    assert_eq!(best.meta.step, worst.step);
    assert_eq!(best.meta.best_value, Some(worst.loss));
    let regular: Vec<u64> = std::fs::read_dir(&ckpts)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("step-")?
                .strip_suffix(".ckpt")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(regular.len(), 2, "{regular:?}");
    assert!(!regular.contains(&worst.step), "{regular:?}");
    // The best checkpoint resumes like any other.
    let resumed = Trainer::resume(
        config,
        model::<B>(device),
        InBatchSampler,
        device.clone(),
        &ckpts.join("best.ckpt"),
    )
    .unwrap();
    assert_eq!(resumed.step(), worst.step);

    // Minimising the loss keeps the last epoch's (the loss falls here).
    let (dir2, _, history) =
        run_with_checkpoints::<B>("best-min", device, Some(BestMetric::min("loss")));
    let lowest = history
        .iter()
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
        .unwrap();
    let best = Checkpoint::read(&dir2.join("checkpoints/best.ckpt")).unwrap();
    assert_eq!(best.meta.best_value, Some(lowest.loss));
    assert_eq!(best.meta.step, lowest.step);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}

fn checkpoints_of_another_model_or_version_are_refused<B: AutodiffBackend>(device: &B::Device) {
    let (dir, config, _) = run_with_checkpoints::<B>("mismatch", device, None);
    let latest = Checkpoint::latest_in(&dir.join("checkpoints")).unwrap();

    // Another architecture: a wider hidden layer and another embedding width.
    let wider = SharedEncoderModel::new(
        IdentityEncoder::new(),
        SeparableCriticConfig::new()
            .with_d_context(4)
            .with_d_candidate(4)
            .with_hidden(vec![48])
            .with_d_embedding(16)
            .init::<B>(device)
            .unwrap(),
    );
    match Trainer::resume(
        config.clone(),
        wider,
        InBatchSampler,
        device.clone(),
        &latest,
    ) {
        Err(Error::CorruptFile { path, reason }) => {
            assert_eq!(path, latest);
            assert!(
                reason.contains("[4, 32]") && reason.contains("[4, 48]"),
                "{reason}"
            );
        }
        other => panic!("expected CorruptFile, got {:?}", other.err()),
    }
    // Another number of layers: Burn itself would panic on this one.
    let deeper = SharedEncoderModel::new(
        IdentityEncoder::new(),
        SeparableCriticConfig::new()
            .with_d_context(4)
            .with_d_candidate(4)
            .with_hidden(vec![32, 32])
            .with_d_embedding(16)
            .init::<B>(device)
            .unwrap(),
    );
    match Trainer::resume(
        config.clone(),
        deeper,
        InBatchSampler,
        device.clone(),
        &latest,
    ) {
        Err(Error::CorruptFile { reason, .. }) => {
            assert!(reason.contains("does not fit this model"), "{reason}")
        }
        other => panic!("expected CorruptFile, got {:?}", other.err()),
    }

    // Written by another release line of the crate.
    let mut old = Checkpoint::read(&latest).unwrap();
    old.meta.crate_version = "7.3.1".into();
    let other_version = dir.join("other-version.ckpt");
    old.write_to(&other_version).unwrap();
    match Checkpoint::read(&other_version) {
        Err(Error::CorruptFile { path, reason }) => {
            assert_eq!(path, other_version);
            assert!(reason.contains("infonce 7.3.1"), "{reason}");
        }
        other => panic!("expected CorruptFile, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn resume_falls_back_to_the_previous_good_checkpoint<B: AutodiffBackend>(device: &B::Device) {
    let (dir, config, _) = run_with_checkpoints::<B>("fallback", device, None);
    let ckpts = dir.join("checkpoints");
    let newest = Checkpoint::latest_in(&ckpts).unwrap();
    let previous = Checkpoint::read(&newest).unwrap().meta.step - 8;
    // A crash mid-write cannot leave this (writes are atomic), but a damaged disk can.
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();

    let attempt = |fallback: bool| {
        Trainer::resume_latest(
            config.clone(),
            model::<B>(device),
            InBatchSampler,
            device.clone(),
            &ckpts,
            fallback,
        )
    };
    match attempt(false) {
        Err(Error::CorruptFile { path, .. }) => assert_eq!(path, newest),
        other => panic!("expected CorruptFile, got {:?}", other.err()),
    }
    let (trainer, skipped) = attempt(true).unwrap();
    assert_eq!(trainer.step(), previous);
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].to_string().contains("truncated"),
        "{}",
        skipped[0]
    );
    assert!(parameters(trainer.model()).iter().all(|p| p.is_finite()));

    // Nothing usable left: a typed error listing what was tried.
    for (_, path) in std::fs::read_dir(&ckpts)
        .unwrap()
        .map(|e| ((), e.unwrap().path()))
    {
        std::fs::write(&path, b"INFONCE\0garbage").unwrap();
    }
    match attempt(true) {
        Err(Error::NoUsableCheckpoint { dir: d, skipped }) => {
            assert_eq!(d, ckpts);
            assert_eq!(skipped.len(), 2, "{skipped:?}");
        }
        other => panic!("expected NoUsableCheckpoint, got {:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

backend_tests!(
    best_checkpoint_is_kept_beside_the_last_k,
    checkpoints_of_another_model_or_version_are_refused,
    resume_falls_back_to_the_previous_good_checkpoint,
);
