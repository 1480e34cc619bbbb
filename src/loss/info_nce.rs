//! InfoNCE with one positive per row given by index.

use burn::tensor::{Int, Tensor, backend::Backend};

use super::{LossOutput, Mask, check_scores, info_nce_with_masks};
use crate::{Error, Result};

/// InfoNCE (CPC, van den Oord et al. 2018, eq. 4), mean over rows:
///
/// `J = mean_i [ logsumexp_j s_ij − s_{i,pos_i} ]  = mean_i −log_softmax(s)_{i,pos_i}`
///
/// `log_scores[i][j] = log f(x_j, c_i)`; divide by a temperature before calling if you use
/// one. The gradient with respect to the scores is `(softmax(s) − onehot(pos)) / n`.
///
/// # Shapes
/// - `log_scores`: `[n, m]`, `m ≥ 2`
/// - `positives`: `[n]`, values in `0..m` (not checked: that would read the device)
/// - output: `[1]`
///
/// # Errors
/// [`Error::EmptyBatch`], [`Error::TooFewCandidates`], [`Error::ShapeMismatch`] when
/// `positives` has a length other than `n`.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Int, Tensor};
///
/// let device = Default::default();
/// // Equal scores: the loss is ln N whatever the positive.
/// let scores = Tensor::<PrebuiltNdArray, 2>::zeros([4, 8], &device);
/// let positives = Tensor::<PrebuiltNdArray, 1, Int>::from_ints([0, 1, 2, 3], &device);
/// let loss = infonce::loss::info_nce(scores, positives).unwrap();
/// let value = loss.into_scalar().elem::<f64>();
/// assert!((value - (8f64).ln()).abs() < 1e-6);
/// ```
pub fn info_nce<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: Tensor<B, 1, Int>,
) -> Result<Tensor<B, 1>> {
    Ok(info_nce_with_stats(log_scores, positives)?.loss)
}

/// [`info_nce`] with top-1 accuracy and the MI bound `ln m − J`.
pub fn info_nce_with_stats<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: Tensor<B, 1, Int>,
) -> Result<LossOutput<B>> {
    let [n, m] = log_scores.dims();
    check_scores("info_nce", [n, m])?;
    let [p] = positives.dims();
    if p != n {
        return Err(Error::shape(
            "info_nce positives (one index per row of log_scores)",
            format!("[{n}]"),
            format!("[{p}]"),
        ));
    }
    info_nce_with_masks(log_scores, &Mask::Index { column: positives }, None)
}
