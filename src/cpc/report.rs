//! What a CPC run reached: per-step numbers beside the closed-form optimum.

use super::{CpcConfig, SequenceNegatives, StepMetrics, markov_optimum};
use crate::Result;

/// One prediction step of a [`CpcReport`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CpcStepReport {
    /// Steps ahead.
    pub k: usize,
    /// Tie-aware top-1 on fresh batches.
    pub top1: f64,
    /// `log N − J_k` on fresh batches, nats.
    pub mi_bound: f64,
    /// `J_k`, nats.
    pub loss: f64,
    /// `1 / N`.
    pub chance_top1: f64,
    /// The optimal critic's top-1 ([`super::markov_optimum`]), where a closed form exists
    /// (noise-free, one direction, same-step negatives).
    pub optimal_top1: Option<f64>,
    /// The optimal critic's `log N − J*`, where a closed form exists.
    pub optimal_bound: Option<f64>,
    /// The true `I(x_{t+k}; x_t)` of the hidden chain, where a closed form exists.
    pub mutual_information: Option<f64>,
}

/// What a CPC run reached (the JSON of `examples/cpc.rs`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CpcReport {
    /// Sequences per batch.
    pub batch_size: usize,
    /// Mean `log N` over steps (candidates per row).
    pub log_n: f64,
    /// Where negatives came from.
    pub negatives: SequenceNegatives,
    /// Whether `log N − J` is an MI bound with these negatives.
    pub is_bound: bool,
    /// Per prediction step.
    pub steps: Vec<CpcStepReport>,
    /// Probe accuracy on the latent direction from the last context (two directions only).
    pub probe_top1: Option<f64>,
    /// The probe's chance level: the share of the most common direction in its test set.
    pub probe_chance: Option<f64>,
    /// Epochs trained.
    pub epochs: usize,
    /// Training seconds.
    pub seconds: f64,
}

/// Each step's metrics beside its optimum where [`CpcConfig::has_closed_form`].
pub(super) fn step_reports(
    config: &CpcConfig,
    metrics: &[StepMetrics],
) -> Result<Vec<CpcStepReport>> {
    metrics
        .iter()
        .map(|m| {
            let optimum = if config.has_closed_form() {
                Some(markov_optimum(
                    config.data.states,
                    config.data.lambda,
                    m.k,
                    config.candidates(),
                )?)
            } else {
                None
            };
            Ok(CpcStepReport {
                k: m.k,
                top1: m.top1,
                mi_bound: m.mi_bound,
                loss: m.loss,
                chance_top1: (-m.log_n).exp(),
                optimal_top1: optimum.map(|o| o.top1),
                optimal_bound: optimum.map(|o| o.bound),
                mutual_information: optimum.map(|o| o.mutual_information),
            })
        })
        .collect()
}
