//! The one numerically stable core the loss family is built on: masks applied on the
//! device, a max-subtracted log-sum-exp, per-row means over positives.

use burn::tensor::{Bool, Int, Tensor, backend::Backend};

use super::fused::{LossKernel, has_fused_kernel, try_fused};
use super::{BoundKind, LossOutput, Mask, check_scores};
use crate::Result;

/// The score a masked-out candidate takes before the log-sum-exp.
///
/// A large *finite* negative rather than −∞: `exp(MASKED_LOG_SCORE − max)` is exactly 0 in
/// f32 whenever a row has a valid score above −1e30 + 104 (the same result as −∞), a row
/// with nothing valid gives a finite `−ln m` instead of NaN, and shader compilers that
/// assume no infinities (fast-math) cannot fold it away. It is applied after any
/// temperature, so a small temperature cannot scale it out of range.
///
/// When a row may mask more than a tenth of its candidates (CPC's same-step sets mask
/// about 97 %), the log-sum-exps of the composed path clip `x − max` at −87 before the
/// exponential: `exp(−87)` ≈ 1.6e-38 vanishes beside the row's maximum term, so values and
/// gradients are unchanged (a NaN stays NaN), and the C library's `expf` is spared its
/// slow underflow path, which made a third of the CPU time of a CPC step.
pub const MASKED_LOG_SCORE: f32 = -1.0e30;

/// The floor of `x − max` before the exponential of the composed log-sum-exps, where
/// [`Prepared::floor_exponentials`] says so (why: [`MASKED_LOG_SCORE`]). `exp(−87)` is
/// still a normal f32 and vanishes in any row sum, which is at least 1 (the maximum's own
/// term); a clipped entry's gradient is exactly 0 instead of at most 1.6e-38. A NaN is
/// not below the floor and stays NaN.
pub(crate) const EXP_FLOOR: f32 = -87.0;

/// `exp(max(x, EXP_FLOOR))`, element-wise, for `x` already shifted by its row maximum.
pub(crate) fn exp_of_shifted<B: Backend>(shifted: Tensor<B, 2>) -> Tensor<B, 2> {
    shifted.clamp_min(EXP_FLOOR).exp()
}

/// `exp(shifted)`, floored at [`EXP_FLOOR`] when `floor` (see [`Prepared::floor_exponentials`]).
fn exp_maybe_floored<B: Backend>(shifted: Tensor<B, 2>, floor: bool) -> Tensor<B, 2> {
    if floor {
        exp_of_shifted(shifted)
    } else {
        shifted.exp()
    }
}

/// Row-wise log-softmax, `x − logsumexp_j x_j`, as Burn's `log_softmax`, with the
/// exponentials floored at [`EXP_FLOOR`] below each row's maximum when `floor`.
fn log_softmax_rows<B: Backend>(x: Tensor<B, 2>, floor: bool) -> Tensor<B, 2> {
    let shifted = x.clone() - x.detach().max_dim(1);
    let log_sum = exp_maybe_floored(shifted.clone(), floor).sum_dim(1).log();
    shifted - log_sum
}

/// Which candidates are positives, in the cheapest form the mask's structure allows.
pub(crate) enum Positives<B: Backend> {
    /// Exactly one per row, at this column.
    Single(Tensor<B, 1, Int>),
    /// Any number per row.
    Dense(Tensor<B, 2, Bool>),
}

impl<B: Backend> Positives<B> {
    /// `[n, 1]`: the mean of `x` over each row's positives, and `[n, 1]` row weights (1 for
    /// a row with a positive, 0 for one without, which is skipped); `None` when every row
    /// has one.
    pub fn mean_over(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        match self {
            Positives::Single(col) => {
                let n = col.dims()[0];
                (x.gather(1, col.clone().reshape([n, 1])), None)
            }
            Positives::Dense(p) => {
                let count = p.clone().float().sum_dim(1);
                let sum = x.mask_fill(p.clone().bool_not(), 0.0).sum_dim(1);
                let has = count.clone().greater_elem(0.0).float();
                (sum / count.clamp_min(1.0), Some(has))
            }
        }
    }
}

/// Scores with invalid candidates filled, and what the objectives need beside them.
///
/// Top-1 accuracy and `log N` are computed when it is built, so an objective can move
/// `scores` into its last use (on ndarray a uniquely held tensor is updated in place).
pub(crate) struct Prepared<B: Backend> {
    /// `[n, m]` scores, invalid entries at [`MASKED_LOG_SCORE`].
    pub scores: Tensor<B, 2>,
    /// `[n, m]` invalid candidates (positives are never invalid); `None`: none.
    pub invalid: Option<Tensor<B, 2, Bool>>,
    /// The positives.
    pub positives: Positives<B>,
    /// `[n, m]`.
    pub dims: [usize; 2],
    /// `[1]` top-1 accuracy, detached.
    pub accuracy: Tensor<B, 1>,
    /// `[1]` mean `ln N_i`, detached.
    pub log_num_candidates: Tensor<B, 1>,
    /// Whether the log-sum-exps floor their exponentials at [`EXP_FLOOR`]: when a row
    /// may mask more than a tenth of its candidates (by structure, or when the count is
    /// not known). The floor costs passes of its own, which only that many slow
    /// exponentials repay; one excluded diagonal does not.
    pub floor_exponentials: bool,
}

impl<B: Backend> Prepared<B> {
    /// Checks the shapes and builds the masks on the device. What the masks' structure
    /// already says is not computed: a validity mask that contains the positives is not
    /// joined with them, and a candidate count that is the same in every row is not summed.
    pub fn new(
        what: &str,
        log_scores: Tensor<B, 2>,
        positives: &Mask<B>,
        valid: Option<&Mask<B>>,
    ) -> Result<Self> {
        let dims = log_scores.dims();
        check_scores(what, dims)?;
        let device = log_scores.device();
        let valid_mask = match valid {
            None | Some(Mask::All) => None,
            Some(v) if v.contains(positives, dims) => Some(v.clone()),
            Some(v) => Some(v.clone().or(positives.clone())),
        };
        // What `mask_fill` needs is the complement: built directly (`Not(Not(x))` is `x`).
        let invalid = valid_mask
            .as_ref()
            .map(|v| v.clone().not().to_tensor(dims, &device))
            .transpose()?;
        let positives = match positives.single_column(dims[0], &device) {
            Some(col) => Positives::Single(col),
            None => Positives::Dense(positives.to_tensor(dims, &device)?),
        };
        let count = valid_mask
            .as_ref()
            .map_or(Some(dims[1]), |v| v.uniform_row_count(dims));
        let floor_exponentials =
            invalid.is_some() && count.is_none_or(|valid| valid * 10 < dims[1] * 9);
        let log_num_candidates = match (count, &invalid) {
            (None, Some(v)) => {
                let excluded = v.clone().float().sum_dim(1);
                excluded
                    .neg()
                    .add_scalar(dims[1] as f64)
                    .clamp_min(1.0)
                    .log()
                    .mean()
            }
            _ => {
                let c = count.unwrap_or(dims[1]).max(1) as f64;
                Tensor::<B, 1>::from_floats([c.ln() as f32], &device)
            }
        };
        let scores = match &invalid {
            Some(v) => log_scores.mask_fill(v.clone(), MASKED_LOG_SCORE),
            None => log_scores,
        };
        let accuracy = top1(scores.clone().detach(), &positives);
        Ok(Self {
            scores,
            invalid,
            positives,
            dims,
            accuracy,
            log_num_candidates: log_num_candidates.detach(),
            floor_exponentials,
        })
    }

    /// Whether every row has exactly one positive by structure.
    pub fn single_positive(&self) -> bool {
        matches!(self.positives, Positives::Single(_))
    }

    /// See [`Positives::mean_over`].
    pub fn positive_mean(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        self.positives.mean_over(x)
    }

    /// `[n, m]` negatives: valid and not a positive.
    pub fn negatives(&self) -> Tensor<B, 2, Bool> {
        let [n, m] = self.dims;
        let device = self.scores.device();
        let positive = match &self.positives {
            Positives::Single(col) => col
                .clone()
                .reshape([n, 1])
                .equal(Tensor::<B, 1, Int>::arange(0..m as i64, &device).reshape([1, m])),
            Positives::Dense(p) => p.clone(),
        };
        match &self.invalid {
            Some(v) => positive.bool_or(v.clone()).bool_not(),
            None => positive.bool_not(),
        }
    }

    /// The output for per-row losses `[n, 1]` with row weights `[n, 1]`.
    pub fn output(
        &self,
        per_row: Tensor<B, 2>,
        weights: Option<Tensor<B, 2>>,
        bound: BoundKind,
    ) -> LossOutput<B> {
        LossOutput {
            loss: weighted_mean(per_row, weights),
            accuracy: self.accuracy.clone(),
            log_num_candidates: self.log_num_candidates.clone(),
            bound,
        }
    }
}

/// `[1]`: fraction of rows whose highest-scoring candidate is a positive.
fn top1<B: Backend>(scores: Tensor<B, 2>, positives: &Positives<B>) -> Tensor<B, 1> {
    let n = scores.dims()[0];
    let best = scores.argmax(1); // [n, 1]
    let hit = match positives {
        Positives::Single(col) => best.equal(col.clone().reshape([n, 1])).float(),
        Positives::Dense(p) => p.clone().float().gather(1, best),
    };
    hit.mean()
}

/// `Σ wᵢ xᵢ / max(Σ wᵢ, 1)` over `[n, 1]` columns (the plain mean without weights), `[1]`.
pub(crate) fn weighted_mean<B: Backend>(x: Tensor<B, 2>, w: Option<Tensor<B, 2>>) -> Tensor<B, 1> {
    match w {
        None => x.mean(),
        Some(w) => {
            let total = w.clone().sum().clamp_min(1.0);
            (x * w).sum() / total
        }
    }
}

/// Row-wise `log Σ_j exp(x_ij)` over the entries of `mask`, max-subtracted, `[n, 1]`, the
/// exponentials floored at [`EXP_FLOOR`] when `floor`. Rows with no entry give a finite,
/// very negative value.
pub(crate) fn masked_logsumexp<B: Backend>(
    x: Tensor<B, 2>,
    mask: Tensor<B, 2, Bool>,
    floor: bool,
) -> Tensor<B, 2> {
    let x = x.mask_fill(mask.bool_not(), MASKED_LOG_SCORE);
    let max = x.clone().detach().max_dim(1);
    exp_maybe_floored(x - max.clone(), floor).sum_dim(1).log() + max
}

/// InfoNCE over a candidate set described by device masks (van den Oord et al. 2018,
/// eq. 4; multi-positive form of Khosla et al. 2020, `L_out`):
///
/// `J_i = −(1/|P_i|) Σ_{p∈P_i} [ s_ip − logsumexp_{j∈V_i} s_ij ]`,   `J = mean_i J_i`
///
/// over rows that have a positive (rows without one are skipped). Positives are always
/// valid. Invalid candidates enter the log-sum-exp at [`MASKED_LOG_SCORE`].
///
/// # Shapes
/// - `log_scores`: `[n, m]`, `log f(x_j, c_i)`, `m ≥ 2`
/// - `positives`, `valid`: masks over `[n, m]`
///
/// # Errors
/// [`crate::Error::EmptyBatch`], [`crate::Error::TooFewCandidates`] (`m < 2`),
/// [`crate::Error::ShapeMismatch`] when a mask does not fit.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::loss::{info_nce_with_masks, Mask};
///
/// let device = Default::default();
/// let scores = Tensor::<PrebuiltNdArray, 2>::zeros([4, 4], &device);
/// // Positives on the diagonal, all candidates valid: J = ln 4.
/// let out = info_nce_with_masks(scores, &Mask::Diagonal { offset: 0 }, None).unwrap();
/// assert!((out.stats().loss - 4f64.ln()).abs() < 1e-6);
/// ```
pub fn info_nce_with_masks<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<LossOutput<B>> {
    info_nce_with_masks_using(log_scores, positives, valid, LossKernel::Auto)
}

/// [`info_nce_with_masks`] through the implementation `kernel` picks: the fused kernel
/// (three passes over the scores, its own backward) where the backend has one and the
/// candidate set allows it, or Burn's composed operations. Both give the same values and
/// gradients to 1e-5; `LossKernel::Composed` is there to compare them and for debugging.
///
/// # Example
/// ```
/// use infonce::backend::NdArrayAutodiff;
/// use burn::tensor::{Distribution, Tensor};
/// use infonce::loss::{info_nce_with_masks_using, LossKernel, Mask};
///
/// type B = NdArrayAutodiff;
/// let device = Default::default();
/// let scores = Tensor::<B, 2>::random([6, 6], Distribution::Normal(0.0, 1.0), &device);
/// let positives = Mask::TwoView { batch: 3 };
/// let valid = Mask::Diagonal { offset: 0 }.not();
/// let run = |kernel| {
///     info_nce_with_masks_using(scores.clone(), &positives, Some(&valid), kernel)
///         .unwrap()
///         .stats()
///         .loss
/// };
/// assert!((run(LossKernel::Auto) - run(LossKernel::Composed)).abs() < 1e-5);
/// ```
pub fn info_nce_with_masks_using<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
    kernel: LossKernel,
) -> Result<LossOutput<B>> {
    check_scores("info_nce_with_masks", log_scores.dims())?;
    let log_scores = if kernel == LossKernel::Auto && has_fused_kernel::<B>() {
        match try_fused(log_scores, positives, valid)? {
            Ok(fused) => {
                return Ok(LossOutput {
                    loss: fused.loss,
                    accuracy: fused.accuracy,
                    log_num_candidates: fused.log_num_candidates,
                    bound: BoundKind::Bound,
                });
            }
            Err(scores) => scores,
        }
    } else {
        log_scores
    };
    let Prepared {
        scores,
        positives,
        accuracy,
        log_num_candidates,
        floor_exponentials,
        ..
    } = Prepared::new("info_nce_with_masks", log_scores, positives, valid)?;
    let bound = match positives {
        Positives::Single(_) => BoundKind::Bound,
        Positives::Dense(_) => BoundKind::SeveralPositives,
    };
    // `scores` moves into its last use: no copy of the n × m matrix is kept alive.
    let (per_row, weights) = positives.mean_over(log_softmax_rows(scores, floor_exponentials));
    Ok(LossOutput {
        loss: weighted_mean(per_row, weights).neg(),
        accuracy,
        log_num_candidates,
        bound,
    })
}
