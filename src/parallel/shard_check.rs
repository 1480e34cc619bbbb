//! The shard-equivalence kit: one batch on one device against the same batch split over
//! `k` peers, for any model, sampler and objective.

use std::sync::Mutex;

use burn::module::AutodiffModule;

use super::param_values::{ParamValues, param_values};
use super::{GatherBackend, GatherFault, run_peers};
use crate::objective::Objective;
use crate::trainer::{OptimizerKind, Trainer, TrainerConfig};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// What a shard-equivalence check compares and how strictly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShardCheck {
    /// Largest absolute gradient difference allowed. Default 1e-5.
    pub tolerance: f64,
    /// A deliberate gather bug, for tests of the check itself.
    #[doc(hidden)]
    pub fault: GatherFault,
}

impl Default for ShardCheck {
    fn default() -> Self {
        Self {
            tolerance: 1e-5,
            fault: GatherFault::None,
        }
    }
}

/// How far `k` peers were from one device.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShardReport {
    /// Number of peers.
    pub peers: usize,
    /// Largest absolute difference of any parameter's gradient.
    pub max_abs_grad_diff: f64,
    /// The parameter where it occurred.
    pub parameter: String,
    /// Largest absolute difference of the reported loss (each peer reports the global
    /// batch's mean).
    pub max_loss_diff: f64,
    /// The one-device loss.
    pub loss: f64,
}

/// Trains one step on the whole batch on one device and one step as `shards.len()` peers
/// (one thread per device of `devices`, peer `p` given `shards[p]`), both with plain SGD at
/// learning rate 1 from the same `model`, and compares every parameter afterwards: the
/// change is the gradient, so the difference is the gradient's. Every peer's model is
/// compared, and every peer's loss.
///
/// `shards` must split `whole` in rank order, in equal parts (peer `p`'s rows are rows
/// `p·n/k .. (p+1)·n/k` of `whole`). `sampler` makes a fresh sampler for each trainer.
/// Batch-norm layers compute their statistics per peer, so they differ from one device by
/// design: check models without them, or in evaluation mode.
///
/// # Errors
/// [`Error::ShardMismatch`] when a difference exceeds `check.tolerance`;
/// [`Error::InvalidConfig`] when `shards` and `devices` differ in length; the errors of a
/// training step.
pub fn check_shard_equivalence<B, M, S, O>(
    model: &M,
    sampler: impl Fn() -> S + Sync,
    objective: O,
    whole: M::Batch,
    shards: Vec<M::Batch>,
    devices: Vec<B::Device>,
    check: ShardCheck,
) -> Result<ShardReport>
where
    B: GatherBackend,
    M: ContrastiveModel<B> + AutodiffModule<B> + Send,
    M::Batch: Send,
    S: NegativeSampler<B> + Send,
    O: Objective<B> + Clone + Send + Sync + 'static,
{
    if shards.len() != devices.len() || shards.is_empty() {
        return Err(Error::config(
            "shard check",
            format!("{} shards for {} devices", shards.len(), devices.len()),
        ));
    }
    // Parameters are drawn lazily: draw them once so that every clone starts equal.
    crate::trainer::materialize_parameters::<B, M>(model);
    let config = one_step_config();
    let device = devices[0].clone();
    let mut single = Trainer::new(config.clone(), model.clone(), sampler(), device)?
        .with_objective(objective.clone());
    let loss = single.train_step(whole, 1.0)?.loss;
    let reference = param_values::<B, M>(single.model());
    let work = shards.into_iter().map(|s| Some((model.clone(), s)));
    let work = Mutex::new(work.collect::<Vec<_>>());
    let peers = run_peers::<B, _>(devices, |peer, device| {
        let (model, shard) = take_work(&work, peer.rank())?;
        let peer = peer.with_fault(check.fault);
        let mut trainer = Trainer::new_peer(config.clone(), model, sampler(), device, peer)?
            .with_objective(objective.clone());
        let stats = trainer.train_step(shard, 1.0)?;
        Ok((stats.loss, param_values::<B, M>(trainer.model())))
    })?;
    let report = compare(loss, &reference, &peers);
    if report.max_abs_grad_diff > check.tolerance || report.max_loss_diff > check.tolerance {
        return Err(Error::ShardMismatch {
            peers: report.peers,
            parameter: report.parameter,
            max_abs_grad_diff: report.max_abs_grad_diff,
            max_loss_diff: report.max_loss_diff,
            tolerance: check.tolerance,
        });
    }
    Ok(report)
}

fn take_work<T>(work: &Mutex<Vec<Option<T>>>, rank: usize) -> Result<T> {
    work.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_mut(rank)
        .and_then(Option::take)
        .ok_or_else(|| Error::config("shard check", format!("no shard for peer {rank}")))
}

/// Plain SGD at learning rate 1, nothing else: one step moves each parameter by minus its
/// gradient.
fn one_step_config() -> TrainerConfig {
    TrainerConfig {
        optimizer: OptimizerKind::Sgd,
        momentum: 0.0,
        weight_decay: 0.0,
        grad_clip_norm: None,
        warmup_steps: 0,
        cosine_decay: false,
        progress: false,
        ..TrainerConfig::default()
    }
}

fn compare(loss: f64, reference: &ParamValues, peers: &[(f64, ParamValues)]) -> ShardReport {
    let mut report = ShardReport {
        peers: peers.len(),
        max_abs_grad_diff: 0.0,
        parameter: String::new(),
        max_loss_diff: 0.0,
        loss,
    };
    for (peer_loss, values) in peers {
        report.max_loss_diff = report.max_loss_diff.max((peer_loss - loss).abs());
        for ((name, a), (_, b)) in reference.iter().zip(values) {
            let diff = a
                .iter()
                .zip(b)
                .map(|(x, y)| f64::from((x - y).abs()))
                .fold(0.0, f64::max);
            if diff > report.max_abs_grad_diff || report.parameter.is_empty() {
                report.max_abs_grad_diff = diff;
                report.parameter = name.clone();
            }
        }
    }
    report
}
