//! The one numerically stable core the loss family is built on: masks applied on the
//! device, a max-subtracted log-sum-exp, per-row means over positives.

use burn::tensor::{activation::log_softmax, backend::Backend, Bool, Int, Tensor};

use super::{check_scores, BoundKind, LossOutput, Mask};
use crate::Result;

/// The score a masked-out candidate takes before the log-sum-exp.
///
/// A large *finite* negative rather than −∞: `exp(MASKED_LOG_SCORE − max)` is exactly 0 in
/// f32 whenever a row has a valid score above −1e30 + 104 (the same result as −∞), a row
/// with nothing valid gives a finite `−ln m` instead of NaN, and shader compilers that
/// assume no infinities (fast-math) cannot fold it away. It is applied after any
/// temperature, so a small temperature cannot scale it out of range.
pub const MASKED_LOG_SCORE: f32 = -1.0e30;

/// Which candidates are positives, in the cheapest form the mask's structure allows.
pub(crate) enum Positives<B: Backend> {
    /// Exactly one per row, at this column.
    Single(Tensor<B, 1, Int>),
    /// Any number per row.
    Dense(Tensor<B, 2, Bool>),
}

/// Scores with invalid candidates filled, and what the objectives need beside them.
pub(crate) struct Prepared<B: Backend> {
    /// `[n, m]` scores, invalid entries at [`MASKED_LOG_SCORE`].
    pub scores: Tensor<B, 2>,
    /// `[n, m]` valid candidates (positives included); `None`: all.
    pub valid: Option<Tensor<B, 2, Bool>>,
    /// The positives.
    pub positives: Positives<B>,
    /// `[n, m]`.
    pub dims: [usize; 2],
}

impl<B: Backend> Prepared<B> {
    /// Checks the shapes and builds the masks on the device.
    pub fn new(
        what: &str,
        log_scores: Tensor<B, 2>,
        positives: &Mask<B>,
        valid: Option<&Mask<B>>,
    ) -> Result<Self> {
        let dims = log_scores.dims();
        check_scores(what, dims)?;
        let device = log_scores.device();
        let valid = match valid {
            Some(v) => Some(v.clone().or(positives.clone()).to_tensor(dims, &device)?),
            None => None,
        };
        let positives = match positives.single_column(dims[0], &device) {
            Some(col) => Positives::Single(col),
            None => Positives::Dense(positives.to_tensor(dims, &device)?),
        };
        let scores = match &valid {
            Some(v) => log_scores.mask_fill(v.clone().bool_not(), MASKED_LOG_SCORE),
            None => log_scores,
        };
        Ok(Self {
            scores,
            valid,
            positives,
            dims,
        })
    }

    /// Whether every row has exactly one positive by structure.
    pub fn single_positive(&self) -> bool {
        matches!(self.positives, Positives::Single(_))
    }

    /// `[n, 1]`: the mean of `x` over each row's positives, and `[n, 1]` weights (1 for a
    /// row with a positive, 0 for one without, which is skipped).
    pub fn positive_mean(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let n = self.dims[0];
        match &self.positives {
            Positives::Single(col) => {
                let picked = x.gather(1, col.clone().reshape([n, 1]));
                let ones = Tensor::ones([n, 1], &picked.device());
                (picked, ones)
            }
            Positives::Dense(p) => {
                let count = p.clone().float().sum_dim(1);
                let sum = x.mask_fill(p.clone().bool_not(), 0.0).sum_dim(1);
                let has = count.clone().greater_elem(0.0).float();
                (sum / count.clamp_min(1.0), has)
            }
        }
    }

    /// `[n, m]` negatives: valid and not a positive.
    pub fn negatives(&self) -> Tensor<B, 2, Bool> {
        let [n, m] = self.dims;
        let device = self.scores.device();
        let positive = match &self.positives {
            Positives::Single(col) => Tensor::<B, 1, Int>::arange(0..m as i64, &device)
                .reshape([1, m])
                .expand([n, m])
                .equal(col.clone().reshape([n, 1]).expand([n, m])),
            Positives::Dense(p) => p.clone(),
        };
        let not_positive = positive.bool_not();
        match &self.valid {
            Some(v) => v.clone().bool_and(not_positive),
            None => not_positive,
        }
    }

    /// `[1]`: mean over rows of `ln N_i`, `N_i` the valid candidates of row `i`, detached.
    pub fn log_num_candidates(&self) -> Tensor<B, 1> {
        let m = self.dims[1];
        let device = self.scores.device();
        match &self.valid {
            Some(v) => v.clone().float().sum_dim(1).clamp_min(1.0).log().mean(),
            None => Tensor::<B, 1>::ones([1], &device).mul_scalar((m as f64).ln()),
        }
        .detach()
    }

    /// `[1]`: fraction of rows whose highest-scoring valid candidate is a positive.
    pub fn top1(&self) -> Tensor<B, 1> {
        let n = self.dims[0];
        let best = self.scores.clone().detach().argmax(1); // [n, 1]
        let hit = match &self.positives {
            Positives::Single(col) => best.equal(col.clone().reshape([n, 1])).float(),
            Positives::Dense(p) => p.clone().float().gather(1, best),
        };
        hit.mean()
    }

    /// The InfoNCE output for per-row losses `[n, 1]` with row weights `[n, 1]`.
    pub fn output(
        &self,
        per_row: Tensor<B, 2>,
        weights: Tensor<B, 2>,
        bound: BoundKind,
    ) -> LossOutput<B> {
        LossOutput {
            loss: weighted_mean(per_row, weights),
            accuracy: self.top1(),
            log_num_candidates: self.log_num_candidates(),
            bound,
        }
    }
}

/// `Σ wᵢ xᵢ / max(Σ wᵢ, 1)` over `[n, 1]` columns, shape `[1]`.
pub(crate) fn weighted_mean<B: Backend>(x: Tensor<B, 2>, w: Tensor<B, 2>) -> Tensor<B, 1> {
    let total = w.clone().sum().clamp_min(1.0);
    (x * w).sum() / total
}

/// Row-wise `log Σ_j exp(x_ij)` over the entries of `mask` (all when `None`), max-subtracted;
/// `[n, 1]`. Rows with no entry give a finite, very negative value.
pub(crate) fn masked_logsumexp<B: Backend>(
    x: Tensor<B, 2>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> Tensor<B, 2> {
    let x = match mask {
        Some(m) => x.mask_fill(m.bool_not(), MASKED_LOG_SCORE),
        None => x,
    };
    let max = x.clone().max_dim(1).detach();
    (x - max.clone()).exp().sum_dim(1).log() + max
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
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use infonce::loss::{info_nce_with_masks, Mask};
///
/// let device = Default::default();
/// let scores = Tensor::<NdArray, 2>::zeros([4, 4], &device);
/// // Positives on the diagonal, all candidates valid: J = ln 4.
/// let out = info_nce_with_masks(scores, &Mask::Diagonal { offset: 0 }, None).unwrap();
/// assert!((out.stats().loss - 4f64.ln()).abs() < 1e-6);
/// ```
pub fn info_nce_with_masks<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<LossOutput<B>> {
    let prepared = Prepared::new("info_nce_with_masks", log_scores, positives, valid)?;
    let log_prob = log_softmax(prepared.scores.clone(), 1);
    let (per_row, weights) = prepared.positive_mean(log_prob);
    let bound = if prepared.single_positive() {
        BoundKind::Bound
    } else {
        BoundKind::SeveralPositives
    };
    Ok(prepared.output(per_row.neg(), weights, bound))
}
