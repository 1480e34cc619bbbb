//! MoCo's momentum encoder: after a step every trainable parameter of the key encoder (a
//! ResNet with batch norm and a projection head) is exactly `m·old + (1 − m)·online`, and
//! its batch-norm running statistics are those of its own forward pass over the keys; the
//! queue holds momentum keys (not online queries) with their images' ids; the copy shares
//! nothing with the online encoder; resume restores copy and queue exactly; bad
//! construction is a typed error.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use infonce::encoder::MlpConfig;
use infonce::model::{
    MomentumEncoderModel, MomentumSchedule, PairBatch, ema_update, independent_copy,
};
use infonce::recipes::{ImageEncoder, MocoModel, MocoSettings, SimclrConfig, moco_model};
use infonce::sampler::{MemoryQueueSampler, RowIds};
use infonce::trainer::{BatchSource, StepContext, Trainer, TrainerConfig};
use infonce::{ContrastiveModel, Encoder, Error, NegativeSampler};

use super::baseline::small_simclr_config;
use super::common::*;
use super::trainer::{parameters, temp_dir};

const MOMENTUM: f64 = 0.9;

/// The MoCo recipe's model on the small ResNet, its head kept alive ([`LiveHead`]) in
/// both encoders, so the copy still starts equal to the online encoder.
fn moco<B: Backend>(device: &B::Device) -> MocoModel<B> {
    let settings = MocoSettings {
        momentum: MOMENTUM,
        cosine_momentum: false,
        queue_size: 64,
    };
    let mut model = moco_model::<B>(&small_simclr_config(), &settings, 3, 100, device).unwrap();
    let (mut online, mut copy) = (LiveHead::default(), LiveHead::default());
    model.online = model.online.map(&mut online);
    model.momentum = model.momentum.map(&mut copy);
    assert_eq!(
        (online.changed, copy.changed),
        (2, 2),
        "the hidden layer's W and b"
    );
    model
}

/// Makes the projection head's hidden layer non-negative (`|W|`, `|b|`), so that every one
/// of its ReLUs passes: the ResNet's features are non-negative (ReLU, then average pooling).
///
/// The small ResNet's head has 4 hidden units. At Burn's random initialisation all four
/// were dead on the test batch in 3 of 80 draws (ndarray and wgpu alike): the embeddings
/// were one constant row, the step's loss exactly `log 8`, and nothing but the head's last
/// bias moved, which failed "moved" checks at random. Magnitudes stay random.
#[derive(Default)]
struct LiveHead {
    path: Vec<String>,
    changed: usize,
}

impl<B: Backend> ModuleMapper<B> for LiveHead {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if !self.path.join(".").starts_with("head.mlp.layers.0.") {
            return param;
        }
        self.changed += 1;
        param.map(|t| {
            let tracked = t.is_require_grad();
            let t = t.abs().detach();
            if tracked { t.require_grad() } else { t }
        })
    }
}

fn fresh_encoder<B: Backend>(device: &B::Device) -> ImageEncoder<B> {
    let config: SimclrConfig = small_simclr_config();
    moco_model::<B>(&config, &MocoSettings::default(), 3, 1, device)
        .unwrap()
        .online
}

/// Two views of `n` 8×8 RGB images drawn from `seed`, instance ids `first..first + n`.
fn image_pairs<B: Backend>(
    seed: u64,
    n: usize,
    first: i64,
    device: &B::Device,
) -> PairBatch<Tensor<B, 4>, Tensor<B, 4>> {
    let view = |s: u64| {
        let v: Vec<f32> = random_vec(n * 3 * 64, 1.0, s)
            .iter()
            .map(|&x| x as f32)
            .collect();
        Tensor::<B, 4>::from_data(TensorData::new(v, [n, 3, 8, 8]), device)
    };
    let instance: Vec<i64> = (first..first + n as i64).collect();
    let label = instance.iter().map(|i| i % 3).collect();
    PairBatch::new(view(seed), view(seed + 1))
        .with_ids(RowIds::default().with_instance(instance).with_label(label))
}

/// Every float of a module with its dotted path, in visiting order (running statistics
/// included).
#[derive(Default)]
struct Named(Vec<String>, Vec<(String, Vec<f64>)>);

impl<B: Backend> ModuleVisitor<B> for Named {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.0.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.0.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.1.push((self.0.join("."), values(param.val())));
    }
}

fn named<B: Backend, M: Module<B>>(module: &M) -> Vec<(String, Vec<f64>)> {
    let mut n = Named::default();
    module.visit(&mut n);
    n.1
}

/// [`named`] of an image encoder with its running statistics brought up to date (Burn
/// keeps them per thread and merges them when a record is taken, not when visited).
fn synced<B: Backend>(encoder: &ImageEncoder<B>, device: &B::Device) -> Vec<(String, Vec<f64>)> {
    named(&independent_copy(encoder, fresh_encoder::<B>(device)).unwrap())
}

fn is_running_statistic(path: &str) -> bool {
    path.ends_with("running_mean") || path.ends_with("running_var")
}

/// The key encoder's floats after the step the trainer would take: its own forward over
/// the key views (train mode, so batch norm updates its running statistics), on a copy.
fn key_forward_copy<B: AutodiffBackend>(
    model: &MocoModel<B>,
    keys: Tensor<B, 4>,
    device: &B::Device,
) -> (ImageEncoder<B>, Tensor<B, 2>) {
    let copy = independent_copy(&model.momentum, fresh_encoder::<B>(device)).unwrap();
    let out = copy.encode(keys).detach();
    (copy, out)
}

fn ema_after_a_step_is_exact_on_a_resnet_with_batch_norm<B: AutodiffBackend>(device: &B::Device) {
    let model = moco::<B>(device);
    let batch = image_pairs::<B>(11, 8, 0, device);
    let (key_forward, _) = key_forward_copy(&model, batch.positive.clone(), device);
    let key_before = synced(&model.momentum, device);
    let sampler = MemoryQueueSampler::<B>::new(64).unwrap();
    let config = TrainerConfig::new().with_progress(false);
    let mut trainer = Trainer::new(config, model, sampler, device.clone()).unwrap();
    trainer.train_step(batch, 1e-2).unwrap();

    let online = synced(&trainer.model().online, device);
    let key = synced(&trainer.model().momentum, device);
    let own_statistics = synced(&key_forward, device);
    let (mut averaged, mut statistics) = (0, 0);
    for (i, (path, got)) in key.iter().enumerate() {
        if is_running_statistic(path) {
            statistics += 1;
            assert_close(got, &own_statistics[i].1, 1e-6, 1e-5, path);
            assert_ne!(got, &online[i].1, "{path}: not the online statistics");
            assert_ne!(got, &key_before[i].1, "{path}: updated by its forward pass");
            continue;
        }
        averaged += 1;
        let want: Vec<f64> = key_before[i]
            .1
            .iter()
            .zip(&online[i].1)
            .map(|(k, o)| {
                ((*k as f32) * MOMENTUM as f32 + (*o as f32) * (1.0 - MOMENTUM) as f32) as f64
            })
            .collect();
        assert_close(got, &want, 1e-6, 1e-6, &format!("EMA of {path}"));
        assert_ne!(got, &key_before[i].1, "{path} moved");
    }
    assert!(averaged >= 10 && statistics >= 4, "{averaged} {statistics}");
}

fn the_queue_holds_momentum_keys_with_their_ids<B: AutodiffBackend>(device: &B::Device) {
    let model = moco::<B>(device);
    let batch = image_pairs::<B>(21, 8, 100, device);
    let (_, keys) = key_forward_copy(&model, batch.positive.clone(), device);
    let queries = model.online.encode(batch.context.clone()).detach();
    let mut sampler = MemoryQueueSampler::<B>::new(64).unwrap();
    let embeddings = model.embed(batch).unwrap();
    sampler.after_step(&embeddings.detach()).unwrap();
    let (queued, rows) = sampler.queue().entries().unwrap();
    let queued = values(queued);
    assert_close(&queued, &values(keys), 1e-5, 1e-4, "queue = momentum keys");
    let apart = queued
        .iter()
        .zip(values(queries))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(apart > 1e-2, "the queue must not hold online queries");
    let ids: Vec<f64> = values(rows.instance.unwrap().float());
    assert_eq!(ids, (100..108).map(f64::from).collect::<Vec<_>>());
}

fn the_copy_shares_nothing_with_the_online_encoder<B: AutodiffBackend>(device: &B::Device) {
    let model = moco::<B>(device);
    assert_eq!(
        parameters(&model.online),
        parameters(&model.momentum),
        "the copy starts equal"
    );
    let before = synced(&model.momentum, device);
    // Train-mode forward passes of the online encoder update only its own statistics.
    let batch = image_pairs::<B>(31, 8, 0, device);
    let _ = model.online.encode(batch.context);
    assert_ne!(synced(&model.online, device), before);
    assert_eq!(synced(&model.momentum, device), before);
}

backend_tests!(
    ema_after_a_step_is_exact_on_a_resnet_with_batch_norm,
    the_queue_holds_momentum_keys_with_their_ids,
    the_copy_shares_nothing_with_the_online_encoder,
);

/// Image pairs from the step's seed, ids cycling through 24 images.
struct Pairs;

impl<B: Backend> BatchSource<B> for Pairs {
    type Batch = PairBatch<Tensor<B, 4>, Tensor<B, 4>>;
    fn steps_per_epoch(&self) -> usize {
        3
    }
    fn batch(&self, ctx: &StepContext, device: &B::Device) -> infonce::Result<Self::Batch> {
        let first = (ctx.step as i64 * 8) % 24;
        Ok(image_pairs::<B>(ctx.step * 7 + 1, 8, first, device))
    }
}

/// A MoCo run resumed from a mid-way checkpoint ends with the online encoder, the copy and
/// the queue bit-identical to the run that never stopped.
#[test]
fn moco_resumes_exactly() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let dir = temp_dir("moco-resume");
    let config = TrainerConfig::new()
        .with_epochs(3)
        .with_checkpoint_every(Some(4))
        .with_keep_checkpoints(10)
        .with_out_dir(Some(dir.display().to_string()))
        .with_progress(false);
    let sampler = || MemoryQueueSampler::<B>::new(20).unwrap();
    let mut straight = Trainer::new(config.clone(), moco::<B>(&device), sampler(), device).unwrap();
    straight.fit(&Pairs).unwrap();
    let want = (
        parameters(&straight.model().online),
        parameters(&straight.model().momentum),
    );
    drop(straight);
    let mid = dir.join("checkpoints/step-000000004.ckpt");
    let mut resumed = Trainer::resume(config, moco::<B>(&device), sampler(), device, &mid).unwrap();
    resumed.fit(&Pairs).unwrap();
    let got = (
        parameters(&resumed.model().online),
        parameters(&resumed.model().momentum),
    );
    assert_ne!(want.0, want.1, "the copy lags the online encoder");
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same(&want.0, &got.0), "online encoder differs after resume");
    assert!(same(&want.1, &got.1), "momentum copy differs after resume");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn momentum_models_refuse_bad_construction() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let mlp = |d_out: usize| {
        MlpConfig::new(4, vec![8], d_out)
            .init::<B>(&device)
            .unwrap()
    };
    let critic = infonce::critic::DotProductCritic::new();
    let mismatch =
        MomentumEncoderModel::new(mlp(8), mlp(6), critic, MomentumSchedule::constant(0.9));
    assert!(matches!(mismatch, Err(Error::ShapeMismatch { .. })));
    let bad = MomentumEncoderModel::new(
        mlp(8),
        mlp(8),
        infonce::critic::DotProductCritic::new(),
        MomentumSchedule::constant(1.5),
    );
    assert!(matches!(bad, Err(Error::InvalidConfig { .. })));
    assert!(matches!(
        ema_update(mlp(8), &mlp(8), -0.1),
        Err(Error::InvalidConfig { .. })
    ));
    let schedule = MomentumSchedule::cosine(0.9, 10);
    assert_eq!(schedule.at(0), 0.9);
    assert!((schedule.at(5) - 0.95).abs() < 1e-12);
    assert_eq!(schedule.at(10), 1.0);
    assert_eq!(schedule.at(99), 1.0);
}

/// The cosine schedule reaches the model: with `total_steps` = 1 the second update uses
/// m = 1, so the copy stops moving.
#[test]
fn cosine_momentum_freezes_the_copy_at_the_end() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let mlp = || MlpConfig::new(4, vec![8], 8).init::<B>(&device).unwrap();
    let model = MomentumEncoderModel::new(
        mlp(),
        mlp(),
        infonce::critic::DotProductCritic::new(),
        MomentumSchedule::cosine(0.5, 1),
    )
    .unwrap();
    let mut trainer = Trainer::new(
        TrainerConfig::new().with_progress(false),
        model,
        infonce::sampler::InBatchSampler,
        device,
    )
    .unwrap();
    let pair = |s: u64| {
        let t = |s| {
            Tensor::<B, 2>::from_data(
                TensorData::new(
                    random_vec(32, 1.0, s).iter().map(|&x| x as f32).collect(),
                    [8, 4],
                ),
                &device,
            )
        };
        PairBatch::new(t(s), t(s + 1))
    };
    trainer.train_step(pair(1), 1e-2).unwrap();
    let after_first = parameters(&trainer.model().momentum);
    trainer.train_step(pair(3), 1e-2).unwrap();
    assert_eq!(parameters(&trainer.model().momentum), after_first);
}
