//! The fused single-positive InfoNCE: loss, top-1 and gradient in three passes over the
//! scores, for backends whose tensors live in host memory.
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
//! kernel (wgpu, cuda, a backend of your own), take the composed path, which gives the
//! same values and gradients to 1e-5.

#[cfg(any(feature = "ndarray", feature = "flex"))]
mod autodiff_op;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod dispatch;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod fast_exp;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod row_kernel;

use burn::tensor::{backend::Backend, Tensor};

use super::Mask;
use crate::Result;

/// Which implementation computes the single-positive InfoNCE core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossKernel {
    /// The fused kernel where the backend has one ([`has_fused_kernel`]) and the candidate
    /// set allows it; the composed path otherwise.
    #[default]
    Auto,
    /// Burn's element-wise operations, differentiated one by one: every backend.
    Composed,
}

/// Whether `B` has the fused InfoNCE kernel: ndarray and flex, with or without autodiff.
///
/// # Example
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// assert!(infonce::loss::has_fused_kernel::<Autodiff<NdArray>>());
/// ```
pub fn has_fused_kernel<B: Backend>() -> bool {
    use std::any::TypeId;
    let b = TypeId::of::<B>();
    #[cfg(feature = "ndarray")]
    {
        use burn::backend::{Autodiff, NdArray};
        if b == TypeId::of::<Autodiff<NdArray>>() || b == TypeId::of::<NdArray>() {
            return true;
        }
    }
    #[cfg(feature = "flex")]
    {
        use burn::backend::{Autodiff, Flex};
        if b == TypeId::of::<Autodiff<Flex>>() || b == TypeId::of::<Flex>() {
            return true;
        }
    }
    let _ = b;
    false
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

/// The fused loss when the backend has a kernel and the masks allow it; the scores back
/// otherwise, untouched, for the composed path.
#[cfg(any(feature = "ndarray", feature = "flex"))]
pub(crate) fn try_fused<B: Backend>(
    scores: Tensor<B, 2>,
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
) -> Result<std::result::Result<Fused<B>, Tensor<B, 2>>> {
    let Some(excluded_offset) = excluded_offset(valid) else {
        return Ok(Err(scores));
    };
    let [n, m] = scores.dims();
    let device = scores.device();
    let Some(column) = positives.single_column(n, &device) else {
        return Ok(Err(scores));
    };
    let kernel = match dispatch::Kernel::of(scores) {
        Ok(kernel) => kernel,
        Err(scores) => return Ok(Err(scores)),
    };
    let targets = row_kernel::RowTargets {
        positive: positive_columns(column, m)?,
        excluded_offset,
    };
    let (loss, summary) = kernel.run::<B>(targets);
    let scalar = |value: f64| Tensor::<B, 1>::from_floats([value as f32], &device);
    Ok(Ok(Fused {
        loss,
        accuracy: scalar(summary.accuracy),
        log_num_candidates: scalar(summary.mean_log_candidates),
    }))
}

/// Without a CPU backend compiled in, there is no kernel: the scores go back.
#[cfg(not(any(feature = "ndarray", feature = "flex")))]
pub(crate) fn try_fused<B: Backend>(
    scores: Tensor<B, 2>,
    _positives: &Mask<B>,
    _valid: Option<&Mask<B>>,
) -> Result<std::result::Result<Fused<B>, Tensor<B, 2>>> {
    Ok(Err(scores))
}

#[cfg(any(feature = "ndarray", feature = "flex"))]
/// `Some(None)`: every column a candidate; `Some(Some(k))`: all but `j = i + k`; `None`:
/// a candidate set the kernel does not cover.
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

/// The positive column of each row, read to the host (cheap: the kernels' backends keep
/// tensors there), checked against `m`.
#[cfg(any(feature = "ndarray", feature = "flex"))]
fn positive_columns<B: Backend>(
    column: Tensor<B, 1, burn::tensor::Int>,
    m: usize,
) -> Result<Vec<usize>> {
    use crate::Error;
    let values = column.into_data().convert::<i64>().to_vec::<i64>();
    let values = values.map_err(|e| Error::config("positives", format!("{e:?}")))?;
    values
        .into_iter()
        .map(|j| {
            usize::try_from(j).ok().filter(|&j| j < m).ok_or_else(|| {
                Error::config(
                    "positives",
                    format!("positive column {j} is outside the {m} candidates"),
                )
            })
        })
        .collect()
}
