//! The one numerically stable core every loss of the family is built on.

use burn::tensor::{activation::log_softmax, backend::Backend, Int, Tensor, TensorData};

use super::{check_scores, LossOutput, PairMask};
use crate::{Error, Result};

/// InfoNCE over an arbitrary candidate set described by masks.
///
/// For row `i` with positives `P_i` and valid candidates `V_i ⊇ P_i` (van den Oord et al.
/// 2018, eq. 4; multi-positive form of Khosla et al. 2020, `L_out`):
///
/// `J_i = −(1/|P_i|) Σ_{p∈P_i} [ s_ip − logsumexp_{j∈V_i} s_ij ]`,   `J = mean_i J_i`.
///
/// Invalid candidates are filled with −∞ before the reduction (never with a large negative
/// constant that a low temperature could overflow), and the log-sum-exp subtracts each
/// row's maximum (Burn's `log_softmax`). Positives are always treated as valid.
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
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use infonce::loss::{masked_info_nce, PairMask};
///
/// let device = Default::default();
/// // Two contexts, three candidates; row 0 has two positives.
/// let scores = Tensor::<NdArray, 2>::from_floats([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]], &device);
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
    if positives.dims() != dims {
        return Err(Error::shape(
            "positive mask vs log_scores",
            format!("{dims:?}"),
            format!("{:?}", positives.dims()),
        ));
    }
    let valid = match valid {
        Some(v) if v.dims() != dims => {
            return Err(Error::shape(
                "validity mask vs log_scores",
                format!("{dims:?}"),
                format!("{:?}", v.dims()),
            ))
        }
        Some(v) => Some(v.or(positives)?),
        None => None,
    };
    let positive_counts = positives.row_counts();
    if let Some(row) = positive_counts.iter().position(|&c| c == 0) {
        return Err(Error::shape(
            format!("positive mask row {row}"),
            "at least one positive per row",
            "none",
        ));
    }
    let [n, m] = dims;
    let candidate_counts = match &valid {
        Some(v) => v.row_counts(),
        None => vec![m; n],
    };
    if let Some(&few) = candidate_counts.iter().find(|&&c| c < 2) {
        return Err(Error::TooFewCandidates {
            what: "masked_info_nce (after masking)".into(),
            got: few,
        });
    }
    let log_num_candidates = candidate_counts
        .iter()
        .map(|&c| (c as f64).ln())
        .sum::<f64>()
        / n as f64;

    let device = log_scores.device();
    let masked = match &valid {
        Some(v) => log_scores.mask_fill(v.to_tensor::<B>(&device).bool_not(), f32::NEG_INFINITY),
        None => log_scores,
    };
    let accuracy = top1_accuracy(masked.clone().detach(), positives);
    let log_prob = log_softmax(masked, 1);

    let loss = match positives.single_indices() {
        // One positive per row: a gather, no n × m mask on the device.
        Some(indices) => {
            let idx = index_column::<B>(&indices, &device);
            log_prob.gather(1, idx).mean().neg()
        }
        // Several: zero out the non-positives (masked, not multiplied, so −∞ never meets 0)
        // and average per row.
        None => {
            let pos = positives.to_tensor::<B>(&device);
            let counts: Vec<f32> = positive_counts.iter().map(|&c| c as f32).collect();
            let counts = Tensor::<B, 2>::from_data(TensorData::new(counts, [n, 1]), &device);
            let per_row = log_prob.mask_fill(pos.bool_not(), 0.0).sum_dim(1) / counts;
            per_row.mean().neg()
        }
    };
    Ok(LossOutput {
        loss,
        accuracy,
        log_num_candidates,
    })
}

/// `[n, 1]` integer column of per-row indices.
pub(crate) fn index_column<B: Backend>(indices: &[usize], device: &B::Device) -> Tensor<B, 2, Int> {
    let data: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(data, [indices.len(), 1]), device)
}

/// Fraction of rows whose arg-max candidate is one of the row's positives.
fn top1_accuracy<B: Backend>(scores: Tensor<B, 2>, positives: &PairMask) -> Tensor<B, 1> {
    let device = scores.device();
    let best = scores.argmax(1); // [n, 1]
    let hit = match positives.single_indices() {
        Some(indices) => best.equal(index_column::<B>(&indices, &device)).float(),
        None => positives.to_tensor::<B>(&device).float().gather(1, best),
    };
    hit.mean()
}
