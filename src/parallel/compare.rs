//! One seeded run on one device against the same run split over `k` peers: the numbers
//! behind `examples/data_parallel.rs`.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{GatherBackend, Peer, ShardCheck, check_shard_equivalence, run_peers};
use crate::critic::{CosineCritic, CosineCriticConfig};
use crate::encoder::{Mlp, MlpConfig};
use crate::model::{PairBatch, SharedEncoderModel};
use crate::objective::ObjectiveKind;
use crate::sampler::{InBatchSampler, RowIds, TwoViewSampler};
use crate::trainer::{Trainer, TrainerConfig, materialize_parameters};
use crate::{Error, NegativeSampler, Result};

/// Input width of the synthetic pairs.
const D_INPUT: usize = 32;
/// Width of the embeddings.
const D_EMBED: usize = 32;
/// The cosine critic's temperature.
const TEMPERATURE: f64 = 0.2;
/// Classes of the synthetic labels (for the supervised objective).
const CLASSES: i64 = 4;

/// What [`compare_with_one_device`] runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Peers (threads on one device). Default 2.
    pub peers: usize,
    /// Optimiser steps of each run. Default 20.
    pub steps: usize,
    /// Global batch (pairs per step, split evenly over the peers). Default 64.
    pub global_batch: usize,
    /// The objective; the symmetric loss runs on in-batch pairs, the others on two views.
    pub objective: ObjectiveKind,
    /// Adam's learning rate. Default 1e-2.
    pub learning_rate: f64,
    /// Seed of the model and the data. Default 0.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            peers: 2,
            steps: 20,
            global_batch: 64,
            objective: ObjectiveKind::InfoNce,
            learning_rate: 1e-2,
            seed: 0,
        }
    }
}

/// One device against `peers` peers, same seed, same global batches.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CompareReport {
    /// Number of peers.
    pub peers: usize,
    /// Pairs per step over all peers.
    pub global_batch: usize,
    /// Negatives each row is contrasted with (from every peer).
    pub negatives_per_row: usize,
    /// Largest gradient difference of the first step (the shard-equivalence check).
    pub max_abs_grad_diff: f64,
    /// Largest difference of the loss at any step.
    pub max_loss_diff: f64,
    /// Bytes each peer hands to collective operations per step: the padded gather of
    /// embeddings and row ids, the gradient vector, three statistics.
    pub bytes_per_step: usize,
    /// Median wall time of a step, `"1"` on one device and `"k"` on the peers.
    pub step_ms: BTreeMap<String, f64>,
    /// The loss at every step on one device.
    pub losses: Vec<f64>,
}

pub(super) type Model<B> = SharedEncoderModel<B, Mlp<B>, CosineCritic<B>>;
type Batch<B> = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;

/// Trains the same seeded MLP encoder on synthetic pairs on one device and as
/// `options.peers` peers (threads sharing `device`), and reports how they compare.
///
/// # Errors
/// [`Error::InvalidConfig`] when the global batch does not split into equal shards of at
/// least 2 pairs, or `steps` is 0; the errors of training.
pub fn compare_with_one_device<B: GatherBackend>(
    options: &CompareOptions,
    device: B::Device,
) -> Result<CompareReport> {
    check_options(options)?;
    let options = &CompareOptions {
        objective: floored(options.objective),
        ..options.clone()
    };
    match options.objective {
        ObjectiveKind::Symmetric => compare_with::<B, _>(options, device, || InBatchSampler),
        _ => compare_with::<B, _>(options, device, || TwoViewSampler),
    }
}

/// Refuses a run whose global batch does not split into equal shards of at least 2 pairs,
/// or that has no step.
pub(super) fn check_options(options: &CompareOptions) -> Result<()> {
    let k = options.peers;
    if k == 0
        || !options.global_batch.is_multiple_of(k)
        || options.global_batch / k < 2
        || options.steps == 0
    {
        return Err(Error::config(
            "data-parallel run",
            format!(
                "{} pairs over {k} peers, {} steps: need ≥ 1 peer, equal shards of ≥ 2 pairs, ≥ 1 step",
                options.global_batch, options.steps
            ),
        ));
    }
    Ok(())
}

/// The debiased and hard-negative objectives with the authors' floor `−1/τ` on the
/// negative term where none is given (without it the estimate can turn negative: NaN).
pub(super) fn floored(objective: ObjectiveKind) -> ObjectiveKind {
    let floor = Some(-1.0 / TEMPERATURE);
    match objective {
        ObjectiveKind::Debiased {
            tau_plus,
            floor_log_score: None,
        } => ObjectiveKind::Debiased {
            tau_plus,
            floor_log_score: floor,
        },
        ObjectiveKind::HardNegative {
            beta,
            tau_plus,
            floor_log_score: None,
        } => ObjectiveKind::HardNegative {
            beta,
            tau_plus,
            floor_log_score: floor,
        },
        other => other,
    }
}

fn compare_with<B: GatherBackend, S: NegativeSampler<B> + Send>(
    options: &CompareOptions,
    device: B::Device,
    sampler: impl Fn() -> S + Sync,
) -> Result<CompareReport> {
    let model = build_model::<B>(options.seed, &device)?;
    let k = options.peers;
    let check = ShardCheck {
        tolerance: f64::INFINITY,
        ..ShardCheck::default()
    };
    let (whole, shards) = step_batches::<B>(options, 0, &device);
    let devices = vec![device.clone(); k];
    let first = check_shard_equivalence(
        &model,
        &sampler,
        options.objective,
        whole,
        shards,
        devices,
        check,
    )?;
    let config = run_config(options);
    let (losses, one_ms, _) =
        train_one_device::<B, S>(&config, &model, sampler(), options, &device)?;
    let peers = run_peers::<B, _>(vec![device.clone(); k], |peer, device| {
        let run = train_peer(&config, model.clone(), sampler(), options, device, peer)?;
        Ok((run.losses, run.step_ms))
    })?;
    let max_loss_diff = peers
        .iter()
        .flat_map(|(l, _)| l.iter().zip(&losses).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f64::max);
    let params = burn::module::Module::num_params(&model);
    Ok(CompareReport {
        peers: k,
        global_batch: options.global_batch,
        negatives_per_row: negatives_per_row(options),
        max_abs_grad_diff: first.max_abs_grad_diff,
        max_loss_diff,
        bytes_per_step: bytes_per_step(options, params),
        step_ms: BTreeMap::from([("1".into(), one_ms), ("k".into(), peers[0].1)]),
        losses,
    })
}

/// What one peer's run left: its losses, median step time and model.
pub(super) struct PeerRun<M> {
    pub(super) losses: Vec<f64>,
    pub(super) step_ms: f64,
    pub(super) model: M,
}

/// `options.steps` steps of `peer` on its shard of each global batch.
pub(super) fn train_peer<B: GatherBackend, S: NegativeSampler<B>>(
    config: &TrainerConfig,
    model: Model<B>,
    sampler: S,
    options: &CompareOptions,
    device: B::Device,
    peer: Peer,
) -> Result<PeerRun<Model<B>>> {
    let rank = peer.rank();
    let mut trainer = Trainer::new_peer(config.clone(), model, sampler, device.clone(), peer)?;
    let (mut losses, mut times) = (Vec::new(), Vec::new());
    for step in 0..options.steps {
        let shard = step_batches::<B>(options, step as u64, &device)
            .1
            .swap_remove(rank);
        let start = Instant::now();
        losses.push(trainer.train_step(shard, options.learning_rate)?.loss);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(PeerRun {
        losses,
        step_ms: median(times),
        model: trainer.into_model(),
    })
}

pub(super) fn train_one_device<B: GatherBackend, S: NegativeSampler<B>>(
    config: &TrainerConfig,
    model: &Model<B>,
    sampler: S,
    options: &CompareOptions,
    device: &B::Device,
) -> Result<(Vec<f64>, f64, Model<B>)> {
    let mut trainer = Trainer::new(config.clone(), model.clone(), sampler, device.clone())?;
    let (mut losses, mut times) = (Vec::new(), Vec::new());
    for step in 0..options.steps {
        let whole = step_batches::<B>(options, step as u64, device).0;
        let start = Instant::now();
        losses.push(trainer.train_step(whole, options.learning_rate)?.loss);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok((losses, median(times), trainer.into_model()))
}

pub(super) fn build_model<B: GatherBackend>(seed: u64, device: &B::Device) -> Result<Model<B>> {
    B::seed(device, seed);
    let model = SharedEncoderModel::new(
        MlpConfig::new(D_INPUT, vec![64], D_EMBED).init::<B>(device)?,
        CosineCriticConfig::new()
            .with_temperature(0.2)
            .init::<B>(device)?,
    );
    materialize_parameters::<B, _>(&model);
    Ok(model)
}

/// Step `step`'s global batch of noisy pairs, and its shards in rank order.
fn step_batches<B: GatherBackend>(
    options: &CompareOptions,
    step: u64,
    device: &B::Device,
) -> (Batch<B>, Vec<Batch<B>>) {
    let n = options.global_batch;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ (step + 1).wrapping_mul(0x9E37_79B9));
    let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
    let x: Vec<f32> = (0..n * D_INPUT).map(|_| normal()).collect();
    let y: Vec<f32> = x.iter().map(|v| v + 0.3 * normal()).collect();
    let make = |rows: std::ops::Range<usize>| {
        let cut = |v: &[f32]| {
            let part = v[rows.start * D_INPUT..rows.end * D_INPUT].to_vec();
            Tensor::from_data(TensorData::new(part, [rows.len(), D_INPUT]), device)
        };
        let ids = RowIds::default()
            .with_instance(rows.clone().map(|i| i as i64).collect())
            .with_label(rows.clone().map(|i| i as i64 % CLASSES).collect());
        PairBatch::new(cut(&x), cut(&y)).with_ids(ids)
    };
    let per = n / options.peers;
    let shards = (0..options.peers)
        .map(|p| make(p * per..(p + 1) * per))
        .collect();
    (make(0..n), shards)
}

pub(super) fn negatives_per_row(options: &CompareOptions) -> usize {
    match options.objective {
        ObjectiveKind::Symmetric => options.global_batch - 1,
        _ => 2 * options.global_batch - 2,
    }
}

/// The floats each peer all-reduces per step, as bytes: the gather is padded to the whole
/// batch (contexts and samples, two id fields as two halves each), then the
/// gradient vector and the three statistics.
pub(super) fn bytes_per_step(options: &CompareOptions, params: usize) -> usize {
    let n = options.global_batch;
    let embeddings = n * 2 * D_EMBED;
    let ids = n * 2 * 2;
    4 * (embeddings + ids + params + 3)
}

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(super) fn run_config(options: &CompareOptions) -> TrainerConfig {
    TrainerConfig {
        learning_rate: options.learning_rate,
        objective: options.objective,
        seed: options.seed,
        progress: false,
        ..TrainerConfig::default()
    }
}
