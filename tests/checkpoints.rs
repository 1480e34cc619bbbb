//! Checkpoint reliability: the best checkpoint, refusal of checkpoints that do not fit, and
//! falling back to the previous good one.

use burn::tensor::backend::AutodiffBackend;
use infonce::Error;
use infonce::critic::SeparableCriticConfig;
use infonce::encoder::IdentityEncoder;
use infonce::model::SharedEncoderModel;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{BestMetric, Checkpoint, Trainer, TrainerConfig};

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

/// FNV-1a 64, the checksum of formats 1 and 2, written out here to forge old files.
fn fnv1a(sections: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in sections.iter().flat_map(|s| s.iter()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A file of `version` holding `sections`, checksummed with `sum`.
fn forge(version: u32, sections: &[&[u8]], sum: u64) -> Vec<u8> {
    let mut out = b"INFONCE\0".to_vec();
    out.extend(version.to_le_bytes());
    for s in sections {
        out.extend((s.len() as u64).to_le_bytes());
    }
    out.extend(sum.to_le_bytes());
    for s in sections {
        out.extend_from_slice(s);
    }
    out
}

/// The sections of a current (format 3) file.
fn sections_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 3);
    let len = |i: usize| u64::from_le_bytes(bytes[12 + 8 * i..20 + 8 * i].try_into().unwrap());
    let mut start = 12 + 4 * 8 + 8;
    (0..4)
        .map(|i| {
            let s = bytes[start..start + len(i) as usize].to_vec();
            start += len(i) as usize;
            s
        })
        .collect()
}

/// Format 3 carries a CRC-32 (crc32fast); files of formats 1 and 2 (FNV-1a) still read;
/// an unknown format is refused with its number.
#[test]
fn older_checkpoint_formats_read_and_unknown_ones_are_refused() {
    type B = infonce::backend::NdArrayAutodiff;
    let (dir, _, _) = run_with_checkpoints::<B>("formats", &Default::default(), None);
    let latest = Checkpoint::latest_in(&dir.join("checkpoints")).unwrap();
    let current = Checkpoint::read(&latest).unwrap();
    let bytes = std::fs::read(&latest).unwrap();
    let s = sections_of(&bytes);
    let crc = crc32fast::hash(&s.concat());
    let stored = u64::from_le_bytes(bytes[44..52].try_into().unwrap());
    assert_eq!(
        stored,
        u64::from(crc),
        "format 3 stores the CRC-32 of the sections"
    );

    let all: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
    let cases = [
        ("v2.ckpt", forge(2, &all, fnv1a(&all))),
        ("v1.ckpt", forge(1, &all[..3], fnv1a(&all[..3]))),
    ];
    for (name, file) in cases {
        let path = dir.join(name);
        std::fs::write(&path, file).unwrap();
        let old = Checkpoint::read(&path).unwrap();
        assert_eq!(old.meta.step, current.meta.step, "{name}");
        assert_eq!(old.meta.history.len(), current.meta.history.len(), "{name}");
    }

    let refused = |name: &str, file: Vec<u8>| -> String {
        let path = dir.join(name);
        std::fs::write(&path, file).unwrap();
        match Checkpoint::read(&path) {
            Err(Error::CorruptFile { reason, .. }) => reason,
            other => panic!("{name}: expected CorruptFile, got {other:?}"),
        }
    };
    let future = refused("v9.ckpt", forge(9, &all, u64::from(crc)));
    assert!(future.contains("version 9"), "{future}");
    // A format-3 header with the old checksum: refused, the format named.
    let wrong_sum = refused("v3-fnv.ckpt", forge(3, &all, fnv1a(&all)));
    assert!(
        wrong_sum.contains("checksum mismatch (format 3)"),
        "{wrong_sum}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
