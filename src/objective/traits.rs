//! The `Objective` trait.

use burn::tensor::{Tensor, backend::Backend};

use crate::Result;
use crate::loss::LossOutput;
use crate::sampler::CandidateSet;

/// What the trainer minimises: a loss over a candidate set's log-scores.
///
/// `log_scores[i][j] = log f(x_j, c_i)` for the set's rows and columns (with the set's
/// `log_weights` already added). The set's masks ([`crate::loss::Mask`]) say which columns
/// are positives and which are valid; its `context_rows` / `col_rows` carry identity. The
/// `*_with_masks` functions of [`crate::loss`] do the numerics. Report `bound` honestly:
/// [`crate::loss::BoundKind::Bound`] only for one positive per row and the plain
/// cross-entropy, combined with the set's own `bound`.
///
/// # Example: InfoNCE with label smoothing
/// ```
/// use burn::tensor::{activation::log_softmax, backend::Backend, Tensor};
/// use infonce::loss::{info_nce_with_masks, BoundKind, LossOutput};
/// use infonce::objective::Objective;
/// use infonce::sampler::CandidateSet;
///
/// /// (1 − ε)·InfoNCE + ε·(mean −log-softmax over all candidates).
/// struct Smoothed { epsilon: f64 }
///
/// impl<B: Backend> Objective<B> for Smoothed {
///     fn loss(&self, s: Tensor<B, 2>, set: &CandidateSet<B>) -> infonce::Result<LossOutput<B>> {
///         let mut out = info_nce_with_masks(s.clone(), &set.positives, set.valid.as_ref())?;
///         let uniform = log_softmax(s, 1).mean().neg();
///         out.loss = out.loss.mul_scalar(1.0 - self.epsilon) + uniform.mul_scalar(self.epsilon);
///         out.bound = BoundKind::NotClaimed;
///         Ok(out)
///     }
/// }
///
/// use infonce::backend::PrebuiltNdArray;
/// use infonce::sampler::{Embeddings, InBatchSampler};
/// use infonce::NegativeSampler;
/// let device = Default::default();
/// let e = Embeddings::<PrebuiltNdArray>::new(Tensor::ones([3, 2], &device), Tensor::ones([3, 2], &device));
/// let set = InBatchSampler.candidates(e).unwrap();
/// let out = Smoothed { epsilon: 0.1 }.loss(Tensor::zeros([3, 3], &device), &set).unwrap();
/// assert!((out.stats().loss - 3f64.ln()).abs() < 1e-6); // equal scores: ln 3 either way
/// ```
pub trait Objective<B: Backend> {
    /// The loss and its diagnostics for `log_scores` over `set`.
    fn loss(&self, log_scores: Tensor<B, 2>, set: &CandidateSet<B>) -> Result<LossOutput<B>>;

    /// Whether the loss is the mean over rows of a term that depends on its own row only
    /// (and every column): then a data-parallel peer computes only its own rows' loss
    /// against all gathered candidates and the mean over peers equals the whole loss. The
    /// default, `false`, has every peer compute the whole loss, which is exact for any
    /// objective (a symmetric loss, which also normalises over columns, must keep it).
    fn rows_are_independent(&self) -> bool {
        false
    }
}
