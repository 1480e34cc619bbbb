//! The one numerically stable core every loss of the family is built on.

use burn::tensor::{Tensor, backend::Backend};

use super::{LossOutput, Mask, PairMask, check_scores, info_nce_with_masks};
use crate::{Error, Result};

/// InfoNCE over an arbitrary candidate set described by masks.
///
/// For row `i` with positives `P_i` and valid candidates `V_i ⊇ P_i` (van den Oord et al.
/// 2018, eq. 4; multi-positive form of Khosla et al. 2020, `L_out`):
///
/// `J_i = −(1/|P_i|) Σ_{p∈P_i} [ s_ip − logsumexp_{j∈V_i} s_ij ]`,   `J = mean_i J_i`.
///
/// The masks are host bitmaps, so the checks are exact: every row must have a positive and
/// two valid candidates. The computation is [`info_nce_with_masks`]'s (invalid candidates at
/// [`super::MASKED_LOG_SCORE`], each row's maximum subtracted); the built-in samplers use
/// that function directly with masks described by structure, which never build an `n × m`
/// bitmap on the host. Positives are always treated as valid.
///
/// # Shapes
/// - `log_scores`: `[n, m]`, `log f(x_j, c_i)`
/// - `positives`, `valid`: `n × m` host masks
///
/// # Errors
/// [`Error::EmptyBatch`], [`Error::TooFewCandidates`] (fewer than two valid candidates in
/// some row), [`Error::ShapeMismatch`] (mask shape, or a row with no positive).
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::loss::{masked_info_nce, PairMask};
///
/// let device = Default::default();
/// // Two contexts, three candidates; row 0 has two positives.
/// let scores = Tensor::<PrebuiltNdArray, 2>::from_floats([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]], &device);
/// let positives = PairMask::from_fn(2, 3, |i, j| (i == 0 && j < 2) || (i == 1 && j == 2));
/// let out = masked_info_nce(scores, &positives, None).unwrap();
/// let stats = out.stats();
/// assert!(stats.loss > 0.0 && stats.accuracy == 1.0);
/// ```
pub fn masked_info_nce<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &PairMask,
    valid: Option<&PairMask>,
) -> Result<LossOutput<B>> {
    let dims = log_scores.dims();
    check_scores("masked_info_nce", dims)?;
    check_host_masks(dims, positives, valid)?;
    info_nce_with_masks(
        log_scores,
        &Mask::Host(positives.clone()),
        valid.map(|v| Mask::Host(v.clone())).as_ref(),
    )
}

/// The checks a host mask allows: shapes, a positive in every row, two candidates in every
/// row.
fn check_host_masks(
    dims: [usize; 2],
    positives: &PairMask,
    valid: Option<&PairMask>,
) -> Result<()> {
    if positives.dims() != dims {
        return Err(Error::shape(
            "positive mask vs log_scores",
            format!("{dims:?}"),
            format!("{:?}", positives.dims()),
        ));
    }
    if let Some(row) = positives.row_counts().iter().position(|&c| c == 0) {
        return Err(Error::shape(
            format!("positive mask row {row}"),
            "at least one positive per row",
            "none",
        ));
    }
    let Some(v) = valid else {
        return Ok(());
    };
    if v.dims() != dims {
        return Err(Error::shape(
            "validity mask vs log_scores",
            format!("{dims:?}"),
            format!("{:?}", v.dims()),
        ));
    }
    if let Some(&few) = v.or(positives)?.row_counts().iter().find(|&&c| c < 2) {
        return Err(Error::TooFewCandidates {
            what: "masked_info_nce (after masking)".into(),
            got: few,
        });
    }
    Ok(())
}
