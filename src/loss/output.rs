//! What a loss call returns besides the loss: accuracy, `log N` and whether `log N − J` is a
//! bound.

use burn::tensor::{Tensor, backend::Backend};

/// Whether `log N − J` is a lower bound on mutual information for this loss and candidate
/// set, and if not, why.
///
/// The InfoNCE bound `I(x; c) ≥ log N − J` (van den Oord et al. 2018; Poole et al. 2019)
/// holds for one positive per row, negatives drawn from the proposal `p(x)`, all scored by
/// the same critic and the plain cross-entropy. Anything else makes the number a statistic
/// that tracks training, not a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundKind {
    /// `log N − J` is the InfoNCE bound.
    #[default]
    Bound,
    /// Some rows have several positives (SupCon's `L_out`).
    SeveralPositives,
    /// The positive is left out of the denominator (decoupled loss).
    Decoupled,
    /// The objective corrects or reweights the negatives (debiased, hard-negative).
    Reweighted,
    /// Some candidates were scored by an older encoder (a memory queue).
    StaleCandidates,
    /// Negatives drawn from the context's own sequence, which depend on the context rather
    /// than coming from the proposal `p(x)` (CPC's same-sequence negatives).
    DependentNegatives,
    /// A custom objective or sampler that does not claim the bound.
    NotClaimed,
}

impl BoundKind {
    /// Whether `log N − J` is a bound.
    pub fn is_bound(self) -> bool {
        self == BoundKind::Bound
    }

    /// The weaker of two kinds: a bound only if both are.
    pub fn and(self, other: BoundKind) -> BoundKind {
        if self.is_bound() { other } else { self }
    }

    /// Why it is not a bound, in words; `None` for a bound.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            BoundKind::Bound => None,
            BoundKind::SeveralPositives => Some("several positives per row"),
            BoundKind::Decoupled => Some("positive left out of the denominator"),
            BoundKind::Reweighted => Some("negatives corrected or reweighted"),
            BoundKind::StaleCandidates => Some("candidates from an older encoder"),
            BoundKind::DependentNegatives => Some("negatives from the context's own sequence"),
            BoundKind::NotClaimed => Some("not claimed by the objective or sampler"),
        }
    }
}

/// A loss value with its diagnostics, all still on the device.
///
/// Nothing here has been read back: [`LossOutput::stats`] does that (one read of three
/// numbers), and the trainer only calls it every few steps.
#[derive(Debug, Clone)]
pub struct LossOutput<B: Backend> {
    /// The mean loss `J`, shape `[1]`, differentiable.
    pub loss: Tensor<B, 1>,
    /// Fraction of rows whose highest-scoring valid candidate is a positive, shape `[1]`,
    /// detached from the graph.
    pub accuracy: Tensor<B, 1>,
    /// Mean over rows of `ln N_i`, `N_i` the number of valid candidates of row `i`, shape
    /// `[1]`, detached.
    pub log_num_candidates: Tensor<B, 1>,
    /// Whether `log N − J` is an MI bound here.
    pub bound: BoundKind,
}

/// The host-side numbers of a [`LossOutput`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossStats {
    /// The loss `J` in nats.
    pub loss: f64,
    /// Top-1 accuracy of picking the positive, in `[0, 1]`.
    pub accuracy: f64,
    /// `log N − J` in nats: the InfoNCE bound when `bound` says so.
    pub mi_bound: f64,
    /// `log N` (mean over rows when `N` varies), the cap of the bound.
    pub log_n: f64,
    /// Whether `mi_bound` is a bound.
    pub bound: BoundKind,
}

impl<B: Backend> LossOutput<B> {
    /// The three diagnostics side by side, `[loss, accuracy, log N]`, detached: what the
    /// trainer accumulates on the device between read-backs.
    pub fn detached_values(&self) -> Tensor<B, 1> {
        Tensor::cat(
            vec![
                self.loss.clone().detach(),
                self.accuracy.clone().detach(),
                self.log_num_candidates.clone().detach(),
            ],
            0,
        )
    }

    /// Reads loss, accuracy and `log N` back to the host in one transfer.
    pub fn stats(&self) -> LossStats {
        let v = crate::readback::read_back(self.detached_values());
        LossStats::from_values(&v, self.bound)
    }
}

impl LossStats {
    /// Stats from `[loss, accuracy, log N]`.
    pub fn from_values(v: &[f64], bound: BoundKind) -> Self {
        let (loss, accuracy, log_n) = (v[0], v[1], v[2]);
        LossStats {
            loss,
            accuracy,
            mi_bound: log_n - loss,
            log_n,
            bound,
        }
    }
}
