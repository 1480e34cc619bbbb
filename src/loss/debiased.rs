//! Debiased (Chuang et al. 2020) and hard-negative (Robinson et al. 2021) contrastive losses.

use burn::tensor::{Tensor, backend::Backend};

use super::core::{Prepared, masked_logsumexp};
use super::nt_xent::two_view_scores;
use super::{BoundKind, LossOutput, Mask};
use crate::{Error, Result};

/// The knobs of the debiased / hard-negative estimator of the negative term.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeCorrection {
    /// Class prior τ⁺ ∈ [0, 1): the chance that a "negative" shares the anchor's class.
    /// 0 turns the debiasing off.
    pub tau_plus: f64,
    /// Concentration β ≥ 0 on hard negatives; 0 turns the reweighting off.
    pub beta: f64,
    /// The floor of the estimated negative term is `N · exp(floor_log_score)`; the authors'
    /// code uses `−1/τ`, the smallest cosine score over τ. `None`: no floor.
    pub floor_log_score: Option<f64>,
}

impl NegativeCorrection {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.tau_plus.is_finite() && (0.0..1.0).contains(&self.tau_plus)) {
            return Err(Error::config(
                "tau_plus",
                format!("must be in [0, 1), got {}", self.tau_plus),
            ));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(Error::config(
                "beta",
                format!("must be finite and ≥ 0, got {}", self.beta),
            ));
        }
        if let Some(f) = self.floor_log_score.filter(|f| !f.is_finite()) {
            return Err(Error::config(
                "floor_log_score",
                format!("must be finite, got {f}"),
            ));
        }
        Ok(())
    }
}

/// The debiased / hard-negative loss over a candidate set described by masks, one positive
/// per row (Chuang et al. 2020, eq. 10; Robinson et al. 2021, eq. 5), written as the
/// authors' code computes it. With `pos = e^{s⁺}`, `neg_j = e^{s_j}` over the row's `N`
/// negatives:
///
/// `R = Σ_j neg_j^{1+β} / mean_j neg_j^β`   (`= Σ_j neg_j` for β = 0),
/// `Ng = max( (−τ⁺·N·pos + R) / (1 − τ⁺),  N·e^{floor} )`,
/// `J = mean_i −log( pos / (pos + Ng) )`.
///
/// Computed with each row's maximum factored out, so no exponential overflows. τ⁺ = 0 and
/// β = 0 give InfoNCE (as long as the floor is not reached).
///
/// # Errors
/// [`Error::InvalidConfig`] for a correction out of range or a positive mask without exactly
/// one positive per row by structure (diagonal, two-view, index); those of
/// [`super::info_nce_with_masks`].
pub fn debiased_with_masks<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
    correction: NegativeCorrection,
) -> Result<LossOutput<B>> {
    correction.validate()?;
    let prepared = Prepared::new("debiased", log_scores, positives, valid)?;
    if !prepared.single_positive() {
        return Err(Error::config(
            "debiased / hard-negative objective",
            "needs exactly one positive per row (a diagonal, two-view or index mask)",
        ));
    }
    let shift = prepared.scores.clone().detach().max_dim(1); // [n, 1]
    let (positive, weights) = prepared.positive_mean(prepared.scores.clone());
    let positive = positive - shift.clone(); // log(pos) − shift
    let negatives = prepared.negatives();
    let count = negatives.clone().float().sum_dim(1); // N per row
    let log_r = log_reweighted_sum(&prepared, negatives, count.clone(), correction.beta);
    let pos = positive.clone().exp();
    let tau = correction.tau_plus;
    let mut ng = (log_r - shift.clone()).exp() - pos.clone() * count.clone().mul_scalar(tau);
    ng = ng.div_scalar(1.0 - tau);
    if let Some(floor) = correction.floor_log_score {
        let least = count * (shift.neg().add_scalar(floor)).exp();
        ng = ng.clone().mask_where(ng.lower(least.clone()), least);
    }
    let per_row = (pos + ng).log() - positive;
    Ok(prepared.output(per_row, weights, BoundKind::Reweighted))
}

/// `[n, 1]`: `log R` with `R = Σ neg^{1+β} / mean(neg^β)` over each row's negatives.
fn log_reweighted_sum<B: Backend>(
    prepared: &Prepared<B>,
    negatives: burn::tensor::Tensor<B, 2, burn::tensor::Bool>,
    count: Tensor<B, 2>,
    beta: f64,
) -> Tensor<B, 2> {
    let (scores, floor) = (&prepared.scores, prepared.floor_exponentials);
    if beta == 0.0 {
        return masked_logsumexp(scores.clone(), negatives, floor);
    }
    let weighted = masked_logsumexp(
        scores.clone().mul_scalar(1.0 + beta),
        negatives.clone(),
        floor,
    );
    let importance = masked_logsumexp(scores.clone().mul_scalar(beta), negatives, floor);
    weighted - importance + count.clamp_min(1.0).log()
}

/// Debiased NT-Xent (Chuang et al. 2020), as the authors' code (chingyaoc/DCL): on the
/// L2-normalised two-view layout of [`super::nt_xent`] with `N = 2B − 2` negatives per
/// anchor, `pos = e^{s⁺/τ}`, `neg = e^{s⁻/τ}`,
/// `Ng = max((−τ⁺·N·pos + Σ neg) / (1 − τ⁺), N·e^{−1/τ})`, loss `mean(−log(pos / (pos + Ng)))`
/// over the 2B anchors. τ⁺ = 0 gives NT-Xent.
///
/// # Shapes
/// - `z1`, `z2`: `[B, d]` → `[1]`
///
/// # Errors
/// As [`super::nt_xent`]; [`Error::InvalidConfig`] unless `0 ≤ τ⁺ < 1`.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Tensor};
///
/// let device = Default::default();
/// let z1 = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 0.2], [0.1, 1.0], [0.5, 0.5]], &device);
/// let z2 = Tensor::<PrebuiltNdArray, 2>::from_floats([[0.9, 0.1], [0.0, 1.0], [0.4, 0.6]], &device);
/// let plain = infonce::loss::nt_xent(z1.clone(), z2.clone(), 0.5).unwrap();
/// let debiased = infonce::loss::debiased_nt_xent(z1, z2, 0.5, 0.0).unwrap();
/// let (a, b) = (plain.into_scalar().elem::<f64>(), debiased.into_scalar().elem::<f64>());
/// assert!((a - b).abs() < 1e-5); // τ⁺ = 0: NT-Xent
/// ```
pub fn debiased_nt_xent<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
    tau_plus: f64,
) -> Result<Tensor<B, 1>> {
    hard_negative_nt_xent(z1, z2, temperature, 0.0, tau_plus)
}

/// Hard-negative NT-Xent (Robinson et al. 2021), as the authors' code (joshr17/HCL): as
/// [`debiased_nt_xent`] with `Σ neg` replaced by `Σ(imp·neg) / mean(imp)`, `imp = neg^β`.
/// β = 0 gives the debiased loss; β = 0 and τ⁺ = 0 give NT-Xent.
///
/// # Shapes
/// - `z1`, `z2`: `[B, d]` → `[1]`
///
/// # Errors
/// As [`super::nt_xent`]; [`Error::InvalidConfig`] unless `0 ≤ τ⁺ < 1` and `β ≥ 0`.
pub fn hard_negative_nt_xent<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
    beta: f64,
    tau_plus: f64,
) -> Result<Tensor<B, 1>> {
    let scores = two_view_scores("hard_negative_nt_xent", z1, z2, temperature)?;
    let batch = scores.dims()[0] / 2;
    let correction = NegativeCorrection {
        tau_plus,
        beta,
        floor_log_score: Some(-1.0 / temperature),
    };
    let out = debiased_with_masks(
        scores,
        &Mask::TwoView { batch },
        Some(&Mask::Diagonal { offset: 0 }.not()),
        correction,
    )?;
    Ok(out.loss)
}
