//! The trainer: learning, history and checkpoints, exact resume, non-finite loss.

use std::path::PathBuf;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use infonce::Error;
use infonce::critic::{SeparableCritic, SeparableCriticConfig};
use infonce::data::CorrelatedGaussian;
use infonce::encoder::IdentityEncoder;
use infonce::model::{PairBatch, SharedEncoderModel};
use infonce::sampler::InBatchSampler;
use infonce::trainer::{
    BatchSource, Checkpoint, EpochRecord, OptimizerKind, StepContext, Trainer, TrainerConfig,
};

pub(crate) type Model<B> = SharedEncoderModel<B, IdentityEncoder<B>, SeparableCritic<B>>;

pub(crate) fn model<B: Backend>(device: &B::Device) -> Model<B> {
    let critic = SeparableCriticConfig::new()
        .with_d_context(4)
        .with_d_candidate(4)
        .with_hidden(vec![32])
        .with_d_embedding(16)
        .init(device)
        .unwrap();
    SharedEncoderModel::new(IdentityEncoder::new(), critic)
}

pub(crate) fn data() -> CorrelatedGaussian {
    CorrelatedGaussian::with_mi(4, 1.5, 32, 8).unwrap()
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infonce-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every float parameter, in visiting order.
pub(crate) fn parameters<B: Backend, M: Module<B>>(m: &M) -> Vec<f32> {
    struct Collect<B: Backend>(Vec<f32>, core::marker::PhantomData<B>);
    impl<B: Backend> ModuleVisitor<B> for Collect<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.extend(
                param
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .to_vec::<f32>()
                    .unwrap(),
            );
        }
    }
    let mut c = Collect::<B>(Vec::new(), core::marker::PhantomData);
    m.visit(&mut c);
    c.0
}

fn trains_and_writes_history_and_checkpoints<B: AutodiffBackend>(device: &B::Device) {
    for optimizer in [
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
        OptimizerKind::Sgd,
    ] {
        let dir = temp_dir(&format!("fit-{optimizer:?}"));
        let config = TrainerConfig::new()
            .with_epochs(4)
            .with_optimizer(optimizer)
            .with_learning_rate(if optimizer == OptimizerKind::Sgd {
                0.05
            } else {
                3e-3
            })
            .with_warmup_steps(4)
            .with_grad_clip_norm(Some(5.0))
            .with_checkpoint_every(Some(8))
            .with_keep_checkpoints(2)
            .with_out_dir(Some(dir.display().to_string()))
            .with_progress(false);
        let mut trainer =
            Trainer::new(config, model::<B>(device), InBatchSampler, device.clone()).unwrap();
        let summary = trainer.fit(&data()).unwrap();
        assert_eq!(summary.steps, 32);
        let h = &summary.history;
        assert_eq!(h.len(), 4);
        assert!(
            h[3].loss < h[0].loss - 0.2,
            "{optimizer:?}: loss did not fall: {:.4} → {:.4}",
            h[0].loss,
            h[3].loss
        );
        for r in h {
            assert!(r.mi_bound <= r.log_n + 1e-6 && (r.log_n - 32f64.ln()).abs() < 1e-6);
            assert!((0.0..=1.0).contains(&r.accuracy));
        }
        let written: Vec<EpochRecord> = infonce::io::read_json(&dir.join("history.json")).unwrap();
        assert_eq!(&written, h);
        let mut ckpts: Vec<String> = std::fs::read_dir(dir.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        ckpts.sort();
        assert_eq!(
            ckpts,
            vec!["step-000000024.ckpt", "step-000000032.ckpt"],
            "keep the last 2"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A source that fails at a given step: a crash in the middle of an epoch.
struct CrashAt<D>(D, u64);

impl<B: Backend, D: BatchSource<B>> BatchSource<B> for CrashAt<D> {
    type Batch = D::Batch;
    fn steps_per_epoch(&self) -> usize {
        self.0.steps_per_epoch()
    }
    fn batch(&self, ctx: &StepContext, device: &B::Device) -> infonce::Result<D::Batch> {
        if ctx.step == self.1 {
            return Err(Error::InvalidConfig {
                name: "test".into(),
                reason: "simulated crash".into(),
            });
        }
        self.0.batch(ctx, device)
    }
}

#[test]
fn resume_from_a_mid_epoch_checkpoint_is_bit_identical() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let dir = temp_dir("resume");
    let config = TrainerConfig::new()
        .with_epochs(3)
        .with_learning_rate(3e-3)
        .with_warmup_steps(3)
        .with_checkpoint_every(Some(5))
        .with_progress(false);

    // Both runs start from the same initial parameters. Burn initialises parameters lazily
    // and a clone of an uninitialised module draws its own values, so materialise first.
    let initial = model::<B>(&device);
    let _ = parameters(&initial);
    let mut straight =
        Trainer::new(config.clone(), initial.clone(), InBatchSampler, device).unwrap();
    let expected = straight.fit(&data()).unwrap();

    let crashing = config.clone().with_out_dir(Some(dir.display().to_string()));
    let mut first = Trainer::new(crashing.clone(), initial, InBatchSampler, device).unwrap();
    let err = first.fit(&CrashAt(data(), 13)).unwrap_err();
    assert!(err.to_string().contains("simulated crash"));
    let latest = Checkpoint::latest_in(&dir.join("checkpoints")).unwrap();
    assert!(latest.ends_with("step-000000010.ckpt"), "{latest:?}");
    drop(first); // the crashed run lets go of its output folder

    // A fresh model (other random initial parameters) restored from the checkpoint.
    let mut resumed = Trainer::resume(
        crashing,
        model::<B>(&device),
        InBatchSampler,
        device,
        &latest,
    )
    .unwrap();
    assert_eq!(resumed.step(), 10);
    let got = resumed.fit(&data()).unwrap();

    let (a, b) = (parameters(straight.model()), parameters(resumed.model()));
    assert_eq!(a.len(), b.len());
    let differing = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert_eq!(
        differing,
        0,
        "{differing} of {} parameters differ (max |Δ| {worst:e})",
        a.len()
    );
    assert_eq!(got.steps, expected.steps);
    let strip = |h: &[EpochRecord]| {
        h.iter()
            .map(|r| (r.epoch, r.loss, r.accuracy, r.learning_rate))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&got.history),
        strip(&expected.history),
        "history differs"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A source whose batch at step 3 contains NaN.
struct PoisonAt(CorrelatedGaussian, u64);

impl<B: Backend> BatchSource<B> for PoisonAt {
    type Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;
    fn steps_per_epoch(&self) -> usize {
        BatchSource::<B>::steps_per_epoch(&self.0)
    }
    fn batch(&self, ctx: &StepContext, device: &B::Device) -> infonce::Result<Self::Batch> {
        let mut b: Self::Batch = self.0.batch(ctx, device)?;
        if ctx.step == self.1 {
            b.context = b.context.clone().mul_scalar(f32::NAN);
        }
        Ok(b)
    }
}

/// Read back every step: the poisoned step is found before its update.
fn non_finite_loss_stops_with_the_step<B: AutodiffBackend>(device: &B::Device) {
    let config = TrainerConfig::new()
        .with_epochs(1)
        .with_progress(false)
        .with_sync_every(Some(1));
    let mut trainer =
        Trainer::new(config, model::<B>(device), InBatchSampler, device.clone()).unwrap();
    let before = parameters(trainer.model());
    match trainer.fit(&PoisonAt(data(), 3)) {
        Err(Error::NonFinite {
            step,
            tensor,
            value,
            hint,
            ..
        }) => {
            assert_eq!(step, 3);
            assert_eq!(tensor, "loss");
            assert!(value.is_nan());
            assert!(hint.contains("learning rate"));
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(trainer.step(), 3, "the poisoned step must not be applied");
    let after = parameters(trainer.model());
    assert!(after.iter().all(|p| p.is_finite()));
    assert_ne!(before, after, "the three good steps were applied");
}

/// Read back every 10 steps: the poisoned step 3 is found at the read-back, named, and the
/// model rolled back to the window's start (step 0): nothing non-finite is kept.
fn non_finite_step_in_a_window_rolls_back<B: AutodiffBackend>(device: &B::Device) {
    let config = TrainerConfig::new()
        .with_epochs(1)
        .with_progress(false)
        .with_sync_every(Some(10));
    let mut trainer =
        Trainer::new(config, model::<B>(device), InBatchSampler, device.clone()).unwrap();
    let before = parameters(trainer.model());
    let reads = infonce::readback::count();
    match trainer.fit(&PoisonAt(data(), 3)) {
        Err(Error::NonFinite { step, tensor, .. }) => {
            assert_eq!(step, 3);
            assert_eq!(tensor, "loss");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert!(infonce::readback::count() > reads);
    assert_eq!(trainer.step(), 0, "rolled back to the last read-back");
    assert_eq!(parameters(trainer.model()), before);
}

fn corrupt_checkpoints_are_refused<B: AutodiffBackend>(device: &B::Device) {
    let dir = temp_dir("corrupt");
    let path = dir.join("good.ckpt");
    let config = TrainerConfig::new().with_epochs(1).with_progress(false);
    let mut trainer = Trainer::new(
        config.clone(),
        model::<B>(device),
        InBatchSampler,
        device.clone(),
    )
    .unwrap();
    trainer.save_checkpoint(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.ckpt",
            good[..good.len() - 7].to_vec(),
            "truncated",
        ),
        (
            "magic.ckpt",
            [b"NOTACKPT".as_slice(), &good[8..]].concat(),
            "magic",
        ),
        (
            "flipped.ckpt",
            {
                let mut b = good.clone();
                let last = b.len() - 3;
                b[last] ^= 0xFF;
                b
            },
            "checksum",
        ),
    ];
    for (name, bytes, reason) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        match Trainer::resume(
            config.clone(),
            model::<B>(device),
            InBatchSampler,
            device.clone(),
            &p,
        ) {
            Err(Error::CorruptFile { path, reason: r }) => {
                assert_eq!(path, p);
                assert!(r.contains(reason), "{name}: {r}");
            }
            other => panic!("{name}: expected CorruptFile, got {:?}", other.err()),
        }
    }
    assert!(
        Trainer::resume(
            config,
            model::<B>(device),
            InBatchSampler,
            device.clone(),
            &path
        )
        .is_ok()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Read-backs per step: the trainer reads the device once per `sync_every` window (the
/// count is process-wide, so with other tests running in parallel it can only be higher;
/// run this test alone to read the exact figure it prints).
fn read_backs_per_step<B: AutodiffBackend>(device: &B::Device) {
    let config = TrainerConfig::new()
        .with_epochs(2)
        .with_progress(false)
        .with_sync_every(Some(4));
    let mut trainer =
        Trainer::new(config, model::<B>(device), InBatchSampler, device.clone()).unwrap();
    let before = infonce::readback::count();
    let summary = trainer.fit(&data()).unwrap();
    let reads = infonce::readback::count() - before;
    println!(
        "read-backs: {reads} over {} steps ({:.3} per step)",
        summary.steps,
        reads as f64 / summary.steps as f64
    );
    assert!(
        reads >= summary.steps / 4,
        "one read per window of 4 steps at least"
    );
}

backend_tests!(
    read_backs_per_step,
    trains_and_writes_history_and_checkpoints,
    non_finite_loss_stops_with_the_step,
    non_finite_step_in_a_window_rolls_back,
    corrupt_checkpoints_are_refused,
);
