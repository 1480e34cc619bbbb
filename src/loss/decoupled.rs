//! The decoupled contrastive loss (DCL).

use burn::tensor::{Tensor, backend::Backend};

use super::core::{Prepared, masked_logsumexp};
use super::nt_xent::two_view_scores;
use super::{BoundKind, LossOutput, Mask};
use crate::Result;

/// Decoupled contrastive loss (Yeh et al. 2022, "Decoupled Contrastive Learning", eq. 6)
/// over a candidate set described by masks: the positive is removed from the denominator,
///
/// `J_i = −(1/|P_i|) Σ_{p∈P_i} s_ip + logsumexp_{j ∈ V_i ∖ P_i} s_ij`,   `J = mean_i J_i`.
///
/// Rows without a positive are skipped; a row without a negative contributes only its
/// positive term. Can be negative; `log N − J` is reported but is not a bound
/// ([`BoundKind::Decoupled`]).
///
/// # Errors
/// As [`super::info_nce_with_masks`].
pub fn decoupled_with_masks<B: Backend>(
    log_scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<LossOutput<B>> {
    let prepared = Prepared::new("decoupled", log_scores, positives, valid)?;
    let negatives = prepared.negatives();
    let has_negative = negatives
        .clone()
        .float()
        .sum_dim(1)
        .greater_elem(0.0)
        .float();
    let lse_negatives = masked_logsumexp(
        prepared.scores.clone(),
        negatives,
        prepared.floor_exponentials,
    ) * has_negative;
    let (positive, weights) = prepared.positive_mean(prepared.scores.clone());
    Ok(prepared.output(lse_negatives - positive, weights, BoundKind::Decoupled))
}

/// Decoupled NT-Xent (Yeh et al. 2022): [`super::nt_xent`]'s layout and conventions (rows
/// `0..B` view a, `B..2B` view b, cosine similarity over `temperature`, mean over the 2B
/// anchors), with the positive removed from the denominator:
/// `ℓ_k = −s⁺/τ + logsumexp over the 2B − 2 negatives of s⁻/τ`.
///
/// # Shapes
/// - `z1`, `z2`: `[B, d]` → `[1]`
///
/// # Errors
/// As [`super::nt_xent`].
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Tensor};
///
/// let device = Default::default();
/// let z = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
/// let tau = 0.5;
/// // Each row: positive cos 1, two negatives of cos 0: −1/τ + ln 2.
/// let loss = infonce::loss::decoupled_nt_xent(z.clone(), z, tau).unwrap();
/// let want = -1.0 / tau + 2f64.ln();
/// assert!((loss.into_scalar().elem::<f64>() - want).abs() < 1e-5);
/// ```
pub fn decoupled_nt_xent<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
) -> Result<Tensor<B, 1>> {
    let scores = two_view_scores("decoupled_nt_xent", z1, z2, temperature)?;
    let batch = scores.dims()[0] / 2;
    let out = decoupled_with_masks(
        scores,
        &Mask::TwoView { batch },
        Some(&Mask::Diagonal { offset: 0 }.not()),
    )?;
    Ok(out.loss)
}
