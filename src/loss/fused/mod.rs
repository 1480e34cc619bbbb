//! The fused single-positive InfoNCE: loss, top-1 and gradient in three passes over the
//! scores, on the CPU backends (ndarray, flex) and the CubeCL ones (wgpu, cuda).
//!
//! Composed from Burn's element-wise operations, InfoNCE makes about ten passes over the
//! `n × m` scores forward and as many backward (mask, maximum, subtract, exponentiate, sum,
//! logarithm, gather, arg-max, and each one's gradient). The fused kernel makes one pass
//! for the row maxima, one for the exponentials and their sums, and one backward pass that
//! writes `(softmax − onehot) / n` where the exponentials were. The gradient is the one of
//! van den Oord et al. 2018, eq. 4, differentiated by hand: `∂J/∂s_ij = (p_ij − [j = pos_i]) / n`.
//!
//! It applies when every row has exactly one positive by structure (an index per row, a
//! diagonal, the two-view partner) and the candidates are every column, or every column
//! but one diagonal (NT-Xent's self-pair). Other candidate sets, and backends without a
//! kernel (a backend of your own), take the composed path, which gives the same values
//! and gradients to 1e-5.
//!
//! On the CPU backends the rows run on rayon's threads and the positives are read to the
//! host, so a positive outside the candidates is an [`Error::InvalidConfig`](crate::Error).
//! On wgpu and cuda one cube of threads handles a row and nothing is read back: a positive
//! outside the candidates makes that row's loss infinite, which the trainer reports as a
//! non-finite loss.

#[cfg(all(test, feature = "ndarray"))]
mod burn_ndarray_test;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube_kernel;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube_op;
#[cfg(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda"
))]
mod dispatch;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod fast_exp;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod host_op;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod row_kernel;

use burn::tensor::{Tensor, backend::Backend};

use super::Mask;
use crate::Result;

/// Which implementation computes the single-positive InfoNCE core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossKernel {
    /// The fused kernel where the backend has one ([`has_fused_kernel`]), the scores are
    /// `f32` and the candidate set allows it; the composed path otherwise (an `f64` device
    /// default keeps its precision).
    #[default]
    Auto,
    /// Burn's element-wise operations, differentiated one by one: every backend.
    Composed,
}

/// Whether `B` has the fused InfoNCE kernel: ndarray, flex, wgpu and cuda (those compiled
/// in), with or without autodiff.
///
/// # Example
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// assert!(infonce::loss::has_fused_kernel::<Autodiff<NdArray>>());
/// ```
pub fn has_fused_kernel<B: Backend>() -> bool {
    #[cfg(any(
        feature = "ndarray",
        feature = "flex",
        feature = "wgpu",
        feature = "cuda"
    ))]
    {
        dispatch::Kernel::covers::<B>()
    }
    #[cfg(not(any(
        feature = "ndarray",
        feature = "flex",
        feature = "wgpu",
        feature = "cuda"
    )))]
    {
        false
    }
}

/// The fused loss's outputs, in `B`.
pub(crate) struct Fused<B: Backend> {
    /// `[1]` mean loss, tracked.
    pub loss: Tensor<B, 1>,
    /// `[1]` top-1 accuracy.
    pub accuracy: Tensor<B, 1>,
    /// `[1]` mean `ln N_i`.
    pub log_num_candidates: Tensor<B, 1>,
}

/// The fused loss when the backend has a kernel, the scores are `f32` (the kernels' one
/// type) and the masks allow it; the scores back otherwise, untouched, for the composed
/// path.
#[cfg(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda"
))]
pub(crate) fn try_fused<B: Backend>(
    scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<std::result::Result<Fused<B>, Tensor<B, 2>>> {
    let Some(excluded_offset) = excluded_offset(valid) else {
        return Ok(Err(scores));
    };
    if scores.dtype() != burn::tensor::DType::F32 {
        return Ok(Err(scores));
    }
    let n = scores.dims()[0];
    let Some(column) = positives.single_column(n, &scores.device()) else {
        return Ok(Err(scores));
    };
    match dispatch::Kernel::of(scores) {
        Ok(kernel) => Ok(Ok(kernel.run::<B>(column, excluded_offset)?)),
        Err(scores) => Ok(Err(scores)),
    }
}

/// Without a backend with a kernel compiled in, the scores go back.
#[cfg(not(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda"
)))]
pub(crate) fn try_fused<B: Backend>(
    scores: Tensor<B, 2>,
    _positives: &Mask<B>,
    _valid: Option<&Mask<B>>,
) -> Result<std::result::Result<Fused<B>, Tensor<B, 2>>> {
    Ok(Err(scores))
}

/// `Some(None)`: every column a candidate; `Some(Some(k))`: all but `j = i + k`; `None`:
/// a candidate set the kernel does not cover.
#[cfg(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda"
))]
fn excluded_offset<B: Backend>(valid: Option<&Mask<B>>) -> Option<Option<i64>> {
    match valid {
        None | Some(Mask::All) => Some(None),
        Some(Mask::Not(inner)) => match inner.as_ref() {
            Mask::Diagonal { offset } => Some(Some(*offset)),
            _ => None,
        },
        _ => None,
    }
}
