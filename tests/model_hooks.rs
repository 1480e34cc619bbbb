//! Model hooks and what the optimiser touches: a momentum (EMA) copy written as a user would
//! (a `no_grad()` key encoder updated in `after_step`) follows `m·old + (1 − m)·online`
//! exactly and is never stepped or decayed; weight decay skips rank-1 parameters by default.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use infonce::critic::DotProductCritic;
use infonce::encoder::{Mlp, MlpConfig};
use infonce::model::PairBatch;
use infonce::sampler::{Embeddings, InBatchSampler};
use infonce::trainer::{
    BatchSource, DecayScope, OptimizerKind, StepContext, Trainer, TrainerConfig,
};
use infonce::{ContrastiveModel, Critic, Encoder};

use crate::common::*;
use crate::trainer::data;

/// Every float parameter's values, in visiting order.
#[derive(Default)]
struct Floats(Vec<Vec<f64>>);

impl<B: Backend> ModuleVisitor<B> for Floats {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(values(param.val()));
    }
}

fn floats<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<f64>> {
    let mut f = Floats::default();
    module.visit(&mut f);
    f.0
}

/// `target ← m·target + (1 − m)·online`, parameter by parameter in visiting order.
struct Ema<B: Backend> {
    online: Vec<Tensor<B, 1>>,
    next: usize,
    momentum: f64,
}

impl<B: Backend> ModuleMapper<B> for Ema<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let online = self.online[self.next].clone();
        self.next += 1;
        let m = self.momentum;
        param.map(|old| {
            let shape = old.shape();
            old.mul_scalar(m) + online.reshape(shape).mul_scalar(1.0 - m)
        })
    }
}

struct Flatten<B: Backend>(Vec<Tensor<B, 1>>);

impl<B: Backend> ModuleVisitor<B> for Flatten<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(param.val().detach().flatten(0, D - 1));
    }
}

/// MoCo's shape in a few lines: an online encoder for contexts, a momentum copy for keys.
#[derive(Module, Debug)]
struct MomentumPair<B: Backend> {
    online: Mlp<B>,
    key: Mlp<B>,
    critic: DotProductCritic<B>,
}

const MOMENTUM: f64 = 0.9;

impl<B: Backend> ContrastiveModel<B> for MomentumPair<B> {
    type Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;

    fn embed(&self, batch: Self::Batch) -> infonce::Result<Embeddings<B>> {
        Ok(Embeddings::new(
            self.online.encode(batch.context),
            self.key.encode(batch.positive).detach(),
        ))
    }

    fn log_scores(&self, c: Tensor<B, 2>, x: Tensor<B, 2>) -> infonce::Result<Tensor<B, 2>> {
        self.critic.try_log_scores(c, x)
    }

    fn after_step(mut self, _step: u64) -> Self {
        let mut online = Flatten(Vec::new());
        self.online.visit(&mut online);
        self.key = self.key.map(&mut Ema {
            online: online.0,
            next: 0,
            momentum: MOMENTUM,
        });
        self
    }
}

fn momentum_pair<B: Backend>(device: &B::Device) -> MomentumPair<B> {
    let online = MlpConfig::new(4, vec![16], 8).init::<B>(device).unwrap();
    let key = MlpConfig::new(4, vec![16], 8)
        .init::<B>(device)
        .unwrap()
        .no_grad();
    MomentumPair {
        online,
        key,
        critic: DotProductCritic::new(),
    }
}

fn ctx(step: u64) -> StepContext {
    StepContext {
        seed: 3,
        step,
        epoch: 0,
        index_in_epoch: step,
    }
}

/// After each step the key parameters equal `m·old + (1 − m)·online` (f32, computed here
/// from the values read before and after), although AdamW with weight decay ran: the copy
/// has no gradient, so the optimiser neither steps nor decays it.
fn momentum_copy_follows_the_ema_and_is_not_optimised<B: AutodiffBackend>(device: &B::Device) {
    let config = TrainerConfig::new()
        .with_optimizer(OptimizerKind::AdamW)
        .with_weight_decay(0.1)
        .with_progress(false);
    let mut trainer = Trainer::new(
        config,
        momentum_pair::<B>(device),
        InBatchSampler,
        device.clone(),
    )
    .unwrap();
    for step in 0..3 {
        let key_before = floats(&trainer.model().key);
        let online_before = floats(&trainer.model().online);
        let batch = BatchSource::<B>::batch(&data(), &ctx(step), device).unwrap();
        trainer.train_step(batch, 1e-2).unwrap();
        let online = floats(&trainer.model().online);
        assert_ne!(online, online_before, "the online encoder is trained");
        let want: Vec<f64> = key_before
            .iter()
            .zip(&online)
            .flat_map(|(k, o)| {
                k.iter()
                    .zip(o)
                    .map(|(k, o)| {
                        ((*k as f32) * MOMENTUM as f32 + (*o as f32) * (1.0 - MOMENTUM) as f32)
                            as f64
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let got: Vec<f64> = floats(&trainer.model().key).concat();
        assert_close(&got, &want, 1e-6, 1e-6, &format!("EMA at step {step}"));
    }
}

/// One AdamW step with weight decay: with the default scope the biases (rank 1) move as
/// without decay and the weights do not; with `DecayScope::All` the biases differ too.
fn weight_decay_skips_rank_one_parameters<B: AutodiffBackend>(device: &B::Device) {
    // The same initial weights in every run: drawn once (Burn draws lazily, and tests on
    // one device share its generator), then cloned.
    let initial = MlpConfig::new(4, vec![16], 8).init::<B>(device).unwrap();
    let _ = floats(&initial);
    let run = |decay: f64, scope: DecayScope| {
        let config = TrainerConfig::new()
            .with_optimizer(OptimizerKind::AdamW)
            .with_weight_decay(decay)
            .with_weight_decay_scope(scope)
            .with_progress(false);
        let model =
            infonce::model::SharedEncoderModel::new(initial.clone(), DotProductCritic::new());
        let mut trainer = Trainer::new(config, model, InBatchSampler, device.clone()).unwrap();
        let batch = BatchSource::<B>::batch(&data(), &ctx(0), device).unwrap();
        trainer.train_step(batch, 1e-2).unwrap();
        let mut shapes = Vec::new();
        let params = floats(&trainer.model().encoder);
        trainer.model().encoder.visit(&mut Ranks(&mut shapes));
        params.into_iter().zip(shapes).collect::<Vec<_>>()
    };
    let plain = run(0.0, DecayScope::MatricesOnly);
    let matrices = run(0.5, DecayScope::MatricesOnly);
    let all = run(0.5, DecayScope::All);
    for ((p, rank), ((m, _), (a, _))) in plain.iter().zip(matrices.iter().zip(&all)) {
        if *rank == 1 {
            assert_eq!(p, m, "a bias is not decayed by default");
            assert_ne!(p, a, "DecayScope::All decays biases too");
        } else {
            assert_ne!(p, m, "weights are decayed");
        }
    }
}

/// A learnable temperature trained as CLIP trains it, with a clamp `[40, 60]` on the scale
/// around its start (50) and Adam's first steps of ~0.5 in the log-scale, so each step
/// pushes it out: after every step it sits inside the clamp, at a bound.
fn learnable_temperature_is_clamped_after_each_step<B: AutodiffBackend>(device: &B::Device) {
    let critic = infonce::critic::CosineCriticConfig::new()
        .with_temperature(0.02)
        .with_learnable(true)
        .with_min_scale(40.0)
        .with_max_scale(60.0)
        .init::<B>(device)
        .unwrap();
    let model = infonce::model::SharedEncoderModel::new(
        MlpConfig::new(4, vec![16], 8).init::<B>(device).unwrap(),
        critic,
    );
    let config = TrainerConfig::new().with_progress(false);
    let mut trainer = Trainer::new(config, model, InBatchSampler, device.clone()).unwrap();
    let mut seen = Vec::new();
    for step in 0..5 {
        let batch = BatchSource::<B>::batch(&data(), &ctx(step), device).unwrap();
        trainer.train_step(batch, 0.5).unwrap();
        seen.push(trainer.model().critic.temperature());
    }
    let (lo, hi) = (1.0 / 60.0, 1.0 / 40.0);
    let at_bound = |t: &f64| (t - lo).abs() < 1e-6 || (t - hi).abs() < 1e-6;
    assert!(
        seen.iter().all(at_bound),
        "pushed out and clamped each step: {seen:?}"
    );
}

struct Ranks<'a>(&'a mut Vec<usize>);

impl<B: Backend> ModuleVisitor<B> for Ranks<'_> {
    fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<B, D>>) {
        self.0.push(D);
    }
}

backend_tests!(
    momentum_copy_follows_the_ema_and_is_not_optimised,
    weight_decay_skips_rank_one_parameters,
    learnable_temperature_is_clamped_after_each_step,
);
