//! InfoNCE and NT-Xent over dot-product scores without the `n × m` score matrix: the scores
//! are computed a tile of candidate columns at a time, so memory grows as `n · tile`.
//!
//! The loss and its gradient with respect to the embeddings are computed together, outside
//! the autodiff graph (two passes over the tiles; see `tiled_core`), then attached to the
//! embeddings as `J + Σ z·∂J/∂z − stop_gradient(Σ z·∂J/∂z)`: the value is `J` and the
//! backward hands each embedding its precomputed gradient times the upstream gradient. The
//! same construction lets gradient caching (Gao et al. 2021) cut an encoder's batch into
//! chunks. The backward of the rest of the graph (normalisation, encoder) is Burn's.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::tiled_core::{LossAndGradients, TiledLayout, loss_and_gradients};
use super::{check_scores, check_temperature, l2_normalize};
use crate::{Error, Result};

/// Bytes per `f32` score, and the `n × tile` buffers alive at once in a tile (scores,
/// their exponentials, the mask).
const BYTES_PER_TILE_SCORE: usize = 4 * 4;

/// The widest tile whose score buffers for `rows` rows fit in `budget_bytes` (at least 1).
///
/// ```
/// // 65 536 rows in 1 GiB: 1 024 columns per tile.
/// assert_eq!(infonce::loss::tile_for_memory(65_536, 1 << 30), 1024);
/// ```
pub fn tile_for_memory(rows: usize, budget_bytes: usize) -> usize {
    (budget_bytes / (rows.max(1) * BYTES_PER_TILE_SCORE)).max(1)
}

/// InfoNCE (CPC, van den Oord et al. 2018, eq. 4) over `contexts · candidatesᵀ /
/// temperature`, row `i`'s positive candidate `i`, computed `tile` candidates at a time.
/// Equal to `info_nce(contexts.matmul(candidates.transpose()).div_scalar(τ), arange(n))`
/// in value and gradients (tested to 1e-5), in `O(n · tile)` memory instead of `O(n · m)`.
/// Normalise the embeddings first ([`l2_normalize`]) for cosine scores.
///
/// The gradient is computed in the forward pass, so the backward only scales it: calling
/// this without a backward costs the second pass anyway.
///
/// # Shapes
/// - `contexts`: `[n, d]`; `candidates`: `[m, d]`, `m ≥ n`, `m ≥ 2`
/// - output: `[1]`
///
/// # Errors
/// [`Error::EmptyBatch`], [`Error::TooFewCandidates`], [`Error::ShapeMismatch`] (widths
/// differ, or fewer candidates than contexts), [`Error::InvalidTemperature`],
/// [`Error::InvalidConfig`] for `tile = 0`.
///
/// # Example
/// ```
/// use infonce::backend::NdArrayAutodiff;
/// use burn::tensor::{ElementConversion, Int, Tensor};
///
/// type B = NdArrayAutodiff;
/// let device = Default::default();
/// let c = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], &device);
/// let x = Tensor::<B, 2>::from_floats([[1.0, 0.5], [0.0, 2.0], [1.0, -1.0]], &device);
/// let tiled = infonce::loss::tiled_info_nce(c.clone(), x.clone(), 0.5, 2)?;
/// let logits = c.matmul(x.transpose()).div_scalar(0.5);
/// let plain = infonce::loss::info_nce(logits, Tensor::<B, 1, Int>::arange(0..3, &device))?;
/// let (a, b) = (tiled.into_scalar().elem::<f64>(), plain.into_scalar().elem::<f64>());
/// assert!((a - b).abs() < 1e-5);
/// # Ok::<(), infonce::Error>(())
/// ```
pub fn tiled_info_nce<B: AutodiffBackend>(
    contexts: Tensor<B, 2>,
    candidates: Tensor<B, 2>,
    temperature: f64,
    tile: usize,
) -> Result<Tensor<B, 1>> {
    let ([n, d], [m, d_candidates]) = (contexts.dims(), candidates.dims());
    check_scores("tiled_info_nce", [n, m])?;
    if d != d_candidates || m < n {
        return Err(Error::shape(
            "tiled_info_nce candidates (at least one per context, of the contexts' width)",
            format!("[≥ {n}, {d}]"),
            format!("[{m}, {d_candidates}]"),
        ));
    }
    check_settings(temperature, tile)?;
    let parts = loss_and_gradients(
        contexts.clone().inner(),
        candidates.clone().inner(),
        1.0 / temperature,
        TiledLayout::Diagonal,
        tile,
    );
    Ok(attach(parts, contexts, candidates))
}

/// NT-Xent (SimCLR, Chen et al. 2020, eq. 1) exactly as [`super::nt_xent`] (cosine scores
/// of the 2B views over `temperature`, self-pairs left out, mean over the 2B rows), computed
/// `tile` candidates at a time in `O(B · tile)` memory instead of `O(B²)`.
///
/// # Shapes
/// - `z1`, `z2`: `[B, d]`, `B ≥ 2`
/// - output: `[1]`
///
/// # Errors
/// As [`super::nt_xent`], and [`Error::InvalidConfig`] for `tile = 0`.
pub fn tiled_nt_xent<B: AutodiffBackend>(
    z1: Tensor<B, 2>,
    z2: Tensor<B, 2>,
    temperature: f64,
    tile: usize,
) -> Result<Tensor<B, 1>> {
    if z1.dims() != z2.dims() {
        return Err(Error::shape(
            "tiled_nt_xent views",
            format!("{:?}", z1.dims()),
            format!("{:?}", z2.dims()),
        ));
    }
    let batch = z1.dims()[0];
    check_scores("tiled_nt_xent", [2 * batch, (2 * batch).saturating_sub(1)])?;
    check_settings(temperature, tile)?;
    let z = l2_normalize(Tensor::cat(vec![z1, z2], 0));
    let inner = z.clone().inner();
    let parts = loss_and_gradients(
        inner.clone(),
        inner,
        1.0 / temperature,
        TiledLayout::TwoView,
        tile,
    );
    let d_z = parts.d_rows + parts.d_candidates;
    Ok(attach_one(parts.loss, z, d_z))
}

fn check_settings(temperature: f64, tile: usize) -> Result<()> {
    check_temperature(temperature)?;
    if tile == 0 {
        return Err(Error::config("tile", "must be ≥ 1 candidate column"));
    }
    Ok(())
}

/// The loss on `B`, with `contexts` and `candidates` receiving their precomputed gradients.
fn attach<B: AutodiffBackend>(
    parts: LossAndGradients<B::InnerBackend>,
    contexts: Tensor<B, 2>,
    candidates: Tensor<B, 2>,
) -> Tensor<B, 1> {
    let surrogate = (contexts * Tensor::from_inner(parts.d_rows)).sum()
        + (candidates * Tensor::from_inner(parts.d_candidates)).sum();
    Tensor::from_inner(parts.loss) + surrogate.clone() - surrogate.detach()
}

/// [`attach`] for one embedding matrix that is both rows and candidates.
fn attach_one<B: AutodiffBackend>(
    loss: Tensor<B::InnerBackend, 1>,
    z: Tensor<B, 2>,
    d_z: Tensor<B::InnerBackend, 2>,
) -> Tensor<B, 1> {
    let surrogate = (z * Tensor::from_inner(d_z)).sum();
    Tensor::from_inner(loss) + surrogate.clone() - surrogate.detach()
}
