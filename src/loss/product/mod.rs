//! The similarity product `scale · A · Bᵀ` behind every critic and loss of the crate: each
//! row of `A` (contexts) against each row of `B` (candidates), the temperature folded into
//! the product.
//!
//! Composed from Burn's operations it is a multiply of one factor and a matrix product,
//! and its backward makes two more products; burn-ndarray copies a transposed operand
//! before each product it is given. On the CPU backends (ndarray, flex) it is instead one
//! autodiff operation whose forward and backward call the single-precision matrix product
//! of `matrixmultiply` (with its AVX-512 kernels) with the transposes expressed as strides
//! and the scale as its `α`: three products and nothing else, a large one split by rows
//! over rayon's threads. Other backends
//! (wgpu, cuda, your own) take the composed path; both give the same values and gradients
//! to 1e-5.

#[cfg(any(feature = "ndarray", feature = "flex"))]
mod host_op;

use burn::tensor::{Tensor, backend::Backend};

use crate::{Error, Result};

/// `scale · a · bᵀ`: the `[n, m]` scores of `n` context rows against `m` candidate rows, for
/// example cosine similarities over a temperature (`scale = 1/τ` on L2-normalised rows).
/// Tracked by autodiff like `a.mul_scalar(scale).matmul(b.transpose())`, which it equals to
/// 1e-5 in value and gradient, and faster on the CPU backends (see the module docs).
///
/// # Shapes
/// - `a`: `[n, d]`, `b`: `[m, d]` → `[n, m]`
///
/// # Errors
/// [`Error::EmptyBatch`] when `n`, `m` or `d` is zero, [`Error::ShapeMismatch`] when the
/// rows' widths differ, [`Error::InvalidConfig`] when `scale` is not finite.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
///
/// let device = Default::default();
/// let a = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 0.0], [0.0, 2.0]], &device);
/// let b = Tensor::<PrebuiltNdArray, 2>::from_floats([[3.0, 1.0]], &device);
/// // Cosine-free dot products at temperature 0.5: 2 · [[3], [2]].
/// let scores = infonce::loss::scaled_product(a, b, 2.0).unwrap();
/// assert_eq!(scores.into_data().to_vec::<f32>().unwrap(), vec![6.0, 4.0]);
/// ```
pub fn scaled_product<B: Backend>(
    a: Tensor<B, 2>,
    b: Tensor<B, 2>,
    scale: f64,
) -> Result<Tensor<B, 2>> {
    let ([n, d], [m, e]) = (a.dims(), b.dims());
    if n == 0 || m == 0 || d == 0 {
        return Err(Error::EmptyBatch {
            what: format!("scaled_product ([{n}, {d}] against [{m}, {e}])"),
        });
    }
    if d != e {
        return Err(Error::shape(
            "scaled_product (rows of b, as wide as the rows of a)",
            format!("[{m}, {d}]"),
            format!("[{m}, {e}]"),
        ));
    }
    if !scale.is_finite() {
        return Err(Error::config(
            "scale",
            format!("must be finite, got {scale}"),
        ));
    }
    Ok(scaled_product_unchecked(a, b, scale))
}

/// [`scaled_product`] for callers that have checked the shapes (the critics, the losses).
pub(crate) fn scaled_product_unchecked<B: Backend>(
    a: Tensor<B, 2>,
    b: Tensor<B, 2>,
    scale: f64,
) -> Tensor<B, 2> {
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    let (a, b) = match host_op::try_host_product(a, b, scale) {
        Ok(scores) => return scores,
        Err(operands) => operands,
    };
    composed(a, b, scale)
}

/// Burn's operations: the scale on the `[n, d]` factor, then the product.
fn composed<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>, scale: f64) -> Tensor<B, 2> {
    let a = if scale == 1.0 { a } else { a.mul_scalar(scale) };
    a.matmul(b.transpose())
}
