//! The symmetric (CLIP) InfoNCE.

use burn::tensor::{Tensor, backend::Backend};

use super::{LossOutput, Mask, info_nce_with_masks};
use crate::{Error, Result};

/// Symmetric InfoNCE as in CLIP (Radford et al. 2021; open_clip's `ClipLoss`):
///
/// `J = ( CE(S, diag) + CE(Sᵀ, diag) ) / 2`
///
/// with positives on the diagonal: row `i` of `S` scores context `i` against all samples,
/// column `i` scores sample `i` against all contexts. Pass `exp(t) · cos` scores for CLIP
/// (see [`crate::critic::CosineCritic`]).
///
/// # Shapes
/// - `log_scores`: `[n, n]`, `n ≥ 2`
/// - output: `[1]`
///
/// # Errors
/// [`Error::ShapeMismatch`] for a non-square matrix, [`Error::EmptyBatch`],
/// [`Error::TooFewCandidates`] for `n < 2`.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Tensor};
///
/// let device = Default::default();
/// let scores = Tensor::<PrebuiltNdArray, 2>::from_floats([[5.0, 0.0], [0.0, 5.0]], &device);
/// let loss = infonce::loss::symmetric_info_nce(scores).unwrap().into_scalar().elem::<f64>();
/// // Both directions: ln(1 + e^-5).
/// assert!((loss - (1.0 + (-5f64).exp()).ln()).abs() < 1e-6);
/// ```
pub fn symmetric_info_nce<B: Backend>(log_scores: Tensor<B, 2>) -> Result<Tensor<B, 1>> {
    Ok(symmetric_info_nce_with_stats(log_scores)?.loss)
}

/// [`symmetric_info_nce`] with accuracy (mean of both directions) and the MI bound.
pub fn symmetric_info_nce_with_stats<B: Backend>(
    log_scores: Tensor<B, 2>,
) -> Result<LossOutput<B>> {
    let [n, m] = log_scores.dims();
    if n != m {
        return Err(Error::shape(
            "symmetric_info_nce log_scores (square: one positive per row and per column)",
            format!("[{n}, {n}]"),
            format!("[{n}, {m}]"),
        ));
    }
    symmetric_with_masks(log_scores, &Mask::Diagonal { offset: 0 }, None)
}

/// The symmetric loss over any square candidate set whose masks can be transposed: the
/// mean of InfoNCE over rows and InfoNCE over columns.
///
/// # Errors
/// [`Error::InvalidConfig`] when a mask has no transpose (column ranges, row blocks,
/// concatenated sources), and those of [`info_nce_with_masks`].
pub fn symmetric_with_masks<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<LossOutput<B>> {
    let untransposable = || {
        Error::config(
            "symmetric objective",
            "the candidate set's masks have no transpose (use a square set: in-batch or two-view)",
        )
    };
    let positives_t = positives.transpose().ok_or_else(untransposable)?;
    let valid_t = valid
        .map(|v| v.transpose().ok_or_else(untransposable))
        .transpose()?;
    let rows = info_nce_with_masks(log_scores.clone(), positives, valid)?;
    let cols = info_nce_with_masks(log_scores.transpose(), &positives_t, valid_t.as_ref())?;
    Ok(LossOutput {
        loss: (rows.loss + cols.loss).div_scalar(2.0),
        accuracy: (rows.accuracy + cols.accuracy).div_scalar(2.0),
        log_num_candidates: rows.log_num_candidates,
        bound: rows.bound.and(cols.bound),
    })
}
