//! NT-Xent, SimCLR's normalised-temperature cross-entropy.

use burn::tensor::{Tensor, backend::Backend};

use super::{LossKernel, LossOutput, Mask, PairMask, check_temperature, info_nce_with_masks_using};
use crate::{Error, Result};

/// Squared norms below this are clamped, so a zero row normalises to zero instead of NaN
/// (the same guard as PyTorch's `F.normalize`, eps = 1e-6 on the norm).
const MIN_SQUARED_NORM: f64 = 1e-12;

/// Divides each row by its L2 norm, clamped below at 1e-6.
///
/// # Shapes
/// - `x`: `[n, d]` → `[n, d]`
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .clamp_min(MIN_SQUARED_NORM)
        .sqrt();
    x / norm
}

/// Host bitmaps of the 2B two-view layout (for custom code and tests; the built-ins use
/// [`Mask::TwoView`] and `Mask::Diagonal { offset: 0 }.not()`, built on the device): rows `0..B` are view a, rows
/// `B..2B` view b; the positive of row `k` is `k ± B`; the self-pair is excluded.
pub fn two_view_masks(batch: usize) -> (PairMask, PairMask) {
    let n = 2 * batch;
    let positives = PairMask::from_fn(n, n, |i, j| j == (i + batch) % n);
    let valid = PairMask::from_fn(n, n, |i, j| i != j);
    (positives, valid)
}

/// NT-Xent (SimCLR, Chen et al. 2020, eq. 1): cosine similarity of the 2B views divided by
/// `temperature`, self-pairs excluded, positive of row `k` its other view; **mean over the
/// 2B rows**, the paper's `1/2N Σ ℓ`.
///
/// google-research/simclr's TF2 code returns `mean(loss_a + loss_b)`, exactly twice this
/// value. Each row has `2B − 1` candidates (its positive and `2B − 2` negatives), so the MI
/// bound is capped at `ln(2B − 1)`.
///
/// # Shapes
/// - `z1`, `z2`: `[B, d]`, the embeddings of the two views (any scale: they are normalised
///   here)
/// - output: `[1]`
///
/// # Errors
/// [`Error::ShapeMismatch`] when the views differ in shape, [`Error::EmptyBatch`],
/// [`Error::TooFewCandidates`] for `B = 1` (a single pair has no negative),
/// [`Error::InvalidTemperature`] for `temperature ≤ 0` or non-finite.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Tensor};
///
/// let device = Default::default();
/// // Closed form: z1 = z2 = [e1, e2] gives log(e^{1/τ} + 2) − 1/τ.
/// let z = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
/// let tau = 0.5;
/// let loss = infonce::loss::nt_xent(z.clone(), z, tau).unwrap().into_scalar().elem::<f64>();
/// let expected = ((1.0 / tau as f64).exp() + 2.0).ln() - 1.0 / tau;
/// assert!((loss - expected).abs() < 1e-5);
/// ```
pub fn nt_xent<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
) -> Result<Tensor<B, 1>> {
    Ok(nt_xent_with_stats(z1, z2, temperature)?.loss)
}

/// [`nt_xent`] with top-1 accuracy and the MI bound `ln(2B − 1) − J`.
pub fn nt_xent_with_stats<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
) -> Result<LossOutput<B>> {
    nt_xent_using(z1, z2, temperature, LossKernel::Auto)
}

/// [`nt_xent_with_stats`] through the implementation `kernel` picks (the benchmarks compare
/// the two).
pub(crate) fn nt_xent_using<B: Backend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
    kernel: LossKernel,
) -> Result<LossOutput<B>> {
    let scores = two_view_scores("nt_xent", z1, z2, temperature)?;
    let batch = scores.dims()[0] / 2;
    info_nce_with_masks_using(
        scores,
        &Mask::TwoView { batch },
        Some(&Mask::Diagonal { offset: 0 }.not()),
        kernel,
    )
}

/// The `[2B, 2B]` cosine similarities of `cat(z1, z2)` divided by `temperature`, after the
/// checks every two-view loss makes (`what` names the loss in errors).
pub(crate) fn two_view_scores<B: Backend>(
    what: &str,
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
) -> Result<Tensor<B, 2>> {
    check_temperature(temperature)?;
    let (d1, d2) = (z1.dims(), z2.dims());
    if d1 != d2 {
        return Err(Error::shape(
            format!("{what} views z1 vs z2"),
            format!("{d1:?}"),
            format!("{d2:?}"),
        ));
    }
    let batch = d1[0];
    if batch == 0 {
        return Err(Error::EmptyBatch { what: what.into() });
    }
    if batch == 1 {
        return Err(Error::TooFewCandidates {
            what: format!("{what} with a batch of one pair"),
            got: 1,
        });
    }
    let z = l2_normalize(Tensor::cat(vec![z1, z2], 0));
    Ok(scaled_gram(z, temperature))
}

/// `z zᵀ / temperature`, the temperature folded into the product (see
/// [`scaled_product`](super::scaled_product)) instead of a pass over the `n × n` scores.
pub(crate) fn scaled_gram<B: Backend>(z: Tensor<B, 2>, temperature: f64) -> Tensor<B, 2> {
    super::scaled_product_unchecked(z.clone(), z, 1.0 / temperature)
}
