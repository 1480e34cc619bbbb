//! One node of a multi-process run against the one-device run it reproduces: the numbers
//! behind `examples/data_parallel.rs --nodes`.

use std::collections::BTreeMap;

use super::compare::{
    Model, build_model, bytes_per_step, check_options, floored, negatives_per_row, run_config,
    train_one_device, train_peer,
};
use super::param_values::param_values;
use super::{CompareOptions, GatherBackend, NodeConfig};
use crate::objective::ObjectiveKind;
use crate::sampler::{InBatchSampler, TwoViewSampler};
use crate::{NegativeSampler, Result};

/// This node's run of a multi-process data-parallel run, against the same seeded run on one
/// device in this process.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeReport {
    /// Number of peers: one per node.
    pub peers: usize,
    /// This node's index (its peer's rank).
    pub node: usize,
    /// Pairs per step over all nodes.
    pub global_batch: usize,
    /// Negatives each row is contrasted with (from every node).
    pub negatives_per_row: usize,
    /// Largest difference of any parameter after the last step, against one device.
    pub max_abs_param_diff: f64,
    /// Largest difference of the loss at any step, against one device.
    pub max_loss_diff: f64,
    /// Bytes this node hands to collective operations per step.
    pub bytes_per_step: usize,
    /// Median wall time of a step, `"1"` on one device and `"k"` on this node.
    pub step_ms: BTreeMap<String, f64>,
    /// This node's loss at every step (the global batch's, equal on every node).
    pub losses: Vec<f64>,
}

/// Trains this node's peer of a run over `node.nodes` processes (one peer each, the global
/// batch of `options` split in rank order), then the same run on one device in this
/// process, and compares losses and final parameters. Every node must be given the same
/// `options`; peer 0's initial parameters are sent to the others.
///
/// Blocks until every node has registered with the orchestrator (see
/// [`super::start_orchestrator`]).
///
/// # Errors
/// As [`super::compare_with_one_device`] (`options.peers` is ignored: the nodes are the
/// peers); [`crate::Error::Collective`] when the nodes cannot meet or disagree on shapes.
pub fn compare_on_node<B: GatherBackend>(
    options: &CompareOptions,
    node: &NodeConfig,
    device: B::Device,
) -> Result<NodeReport> {
    let options = CompareOptions {
        peers: node.nodes,
        objective: floored(options.objective),
        ..options.clone()
    };
    check_options(&options)?;
    match options.objective {
        ObjectiveKind::Symmetric => node_with::<B, _>(&options, node, device, || InBatchSampler),
        _ => node_with::<B, _>(&options, node, device, || TwoViewSampler),
    }
}

fn node_with<B: GatherBackend, S: NegativeSampler<B>>(
    options: &CompareOptions,
    node: &NodeConfig,
    device: B::Device,
    sampler: impl Fn() -> S,
) -> Result<NodeReport> {
    let model = build_model::<B>(options.seed, &device)?;
    let config = run_config(options);
    let peer = node.register::<B>(&device)?;
    let run = train_peer(
        &config,
        model.clone(),
        sampler(),
        options,
        device.clone(),
        peer.clone(),
    );
    let left = peer.finish::<B>();
    let run = run?;
    left?;
    let (losses, one_ms, reference) =
        train_one_device::<B, _>(&config, &model, sampler(), options, &device)?;
    let max_loss_diff = run
        .losses
        .iter()
        .zip(&losses)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    Ok(NodeReport {
        peers: node.nodes,
        node: node.node,
        global_batch: options.global_batch,
        negatives_per_row: negatives_per_row(options),
        max_abs_param_diff: max_param_diff::<B>(&run.model, &reference),
        max_loss_diff,
        bytes_per_step: bytes_per_step(options, burn::module::Module::num_params(&model)),
        step_ms: BTreeMap::from([("1".into(), one_ms), ("k".into(), run.step_ms)]),
        losses: run.losses,
    })
}

fn max_param_diff<B: GatherBackend>(a: &Model<B>, b: &Model<B>) -> f64 {
    param_values::<B, _>(a)
        .iter()
        .zip(&param_values::<B, _>(b))
        .flat_map(|((_, x), (_, y))| x.iter().zip(y).map(|(p, q)| f64::from((p - q).abs())))
        .fold(0.0, f64::max)
}
