//! Supervised contrastive loss (SupCon).

use burn::tensor::{Int, Tensor, backend::Backend};

use super::{
    Mask, check_scores, check_temperature, info_nce_with_masks, l2_normalize, scaled_gram,
};
use crate::{Error, Result};

/// Supervised contrastive loss, `L_out` of Khosla et al. 2020 (eq. 2): every row of `z`
/// is an anchor; its positives are the other rows with the same label, its candidates all
/// rows but itself; cosine similarity over `temperature`,
///
/// `ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} log( e^{s_ip} / Σ_{a≠i} e^{s_ia} )`,   mean over anchors.
///
/// Rows without a positive (a label seen once) are skipped: left out of the mean. The
/// authors' code also multiplies by `τ / base_τ` (1 at its defaults); this function does
/// not. With all labels distinct except each row's other view, it is NT-Xent.
///
/// # Shapes
/// - `z`: `[n, d]`, the views already concatenated
/// - `labels`: `[n]`
/// - output: `[1]`
///
/// # Errors
/// [`Error::ShapeMismatch`] when `labels` is not `n` long, [`Error::EmptyBatch`],
/// [`Error::TooFewCandidates`] for `n < 2`, [`Error::InvalidTemperature`].
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{ElementConversion, Int, Tensor};
///
/// let device = Default::default();
/// let z = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], &device);
/// let labels = Tensor::<PrebuiltNdArray, 1, Int>::from_ints([0, 1, 0, 1], &device);
/// let loss = infonce::loss::supervised_contrastive(z, labels, 0.5).unwrap();
/// // Each anchor: positive cos 1, two candidates of cos 0: log(e² + 2) − 2.
/// let want = (2f64.exp() + 2.0).ln() - 2.0;
/// assert!((loss.into_scalar().elem::<f64>() - want).abs() < 1e-5);
/// ```
pub fn supervised_contrastive<B: Backend>(
    z: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
    temperature: f64,
) -> Result<Tensor<B, 1>> {
    check_temperature(temperature)?;
    let [n, _] = z.dims();
    let [l] = labels.dims();
    if l != n {
        return Err(Error::shape(
            "supervised_contrastive labels (one per row of z)",
            format!("[{n}]"),
            format!("[{l}]"),
        ));
    }
    check_scores("supervised_contrastive", [n, n])?;
    let scores = scaled_gram(l2_normalize(z), temperature);
    let not_self = Mask::Diagonal { offset: 0 }.not();
    let positives = Mask::Equal {
        rows: labels.clone(),
        cols: labels,
    }
    .and(not_self.clone());
    Ok(info_nce_with_masks(scores, &positives, Some(&not_self))?.loss)
}
