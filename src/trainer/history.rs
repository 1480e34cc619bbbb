//! Per-epoch training history.

use std::collections::BTreeMap;

use crate::loss::{BoundKind, LossStats};

/// Means over one epoch's steps, plus whatever an evaluation hook measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// Epoch, 1-based (the number completed).
    pub epoch: u64,
    /// Global step at the end of the epoch.
    pub step: u64,
    /// Mean InfoNCE loss.
    pub loss: f64,
    /// Mean MI bound `log N − J`, nats.
    pub mi_bound: f64,
    /// Mean top-1 accuracy of picking the positive.
    pub accuracy: f64,
    /// Mean `log N`.
    pub log_n: f64,
    /// Whether `mi_bound` is a bound for every step of the epoch, and if not why.
    #[serde(default)]
    pub bound: BoundKind,
    /// Learning rate of the last step.
    pub learning_rate: f64,
    /// Wall-clock seconds the epoch took (not part of exact resume).
    pub seconds: f64,
    /// Metrics from the evaluation hook (kNN accuracy, ...).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

impl EpochRecord {
    /// A metric by name: `loss`, `mi_bound`, `accuracy`, `log_n`, or one the hook reported.
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "loss" => Some(self.loss),
            "mi_bound" => Some(self.mi_bound),
            "accuracy" => Some(self.accuracy),
            "log_n" => Some(self.log_n),
            other => self.metrics.get(other).copied(),
        }
    }
}

/// Running sums within an epoch; saved in checkpoints so a mid-epoch resume reports the
/// same means.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct EpochAccumulator {
    pub steps: u64,
    pub loss: f64,
    pub mi_bound: f64,
    pub accuracy: f64,
    pub log_n: f64,
    pub seconds: f64,
    #[serde(default)]
    pub bound: BoundKind,
}

impl EpochAccumulator {
    pub fn add(&mut self, s: &LossStats) {
        self.steps += 1;
        self.loss += s.loss;
        self.mi_bound += s.mi_bound;
        self.accuracy += s.accuracy;
        self.log_n += s.log_n;
        self.bound = self.bound.and(s.bound);
    }

    pub fn finish(&mut self, epoch: u64, step: u64, learning_rate: f64) -> EpochRecord {
        let k = self.steps.max(1) as f64;
        let record = EpochRecord {
            epoch,
            step,
            loss: self.loss / k,
            mi_bound: self.mi_bound / k,
            accuracy: self.accuracy / k,
            log_n: self.log_n / k,
            bound: self.bound,
            learning_rate,
            seconds: self.seconds,
            metrics: BTreeMap::new(),
        };
        *self = Self::default();
        record
    }
}

/// What [`super::Trainer::fit`] returns.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrainingSummary {
    /// Steps completed in total (including those before a resume).
    pub steps: u64,
    /// One record per completed epoch.
    pub history: Vec<EpochRecord>,
    /// Stats of the last step.
    pub last: Option<LossStats>,
}
