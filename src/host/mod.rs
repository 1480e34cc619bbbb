//! The crate's CPU kernels for the host-memory backends (burn-ndarray, burn-flex): tensors
//! read into plain `f32` buffers, matrix products through `matrixmultiply`, and autodiff
//! operations with their own backward built on them (the similarity product, the 3×3
//! convolution, batch normalisation, a bias and ReLU, 2×2 max pooling, and on ndarray
//! a fully connected layer). Other backends never reach this module: each caller
//! recognises the backend by type ([`return_on_host_backend!`]) and otherwise takes a path
//! composed of Burn's operations.

mod batch_norm;
mod bias_relu;
pub(crate) mod conv3x3;
mod conv3x3_op;
#[cfg(feature = "ndarray")]
mod dense;
mod finite;
pub(crate) mod max_pool;
mod ordered_sum;
pub(crate) mod sgemm;
pub(crate) mod tensor;
mod tracked;

pub(crate) use tracked::tracked_op;

use burn::tensor::DType;

/// Whether every operand is `f32`, the one type the host kernels compute in. Tensors of
/// another type (a device whose default float type was set to `f64`, say) take Burn's own
/// operations, so their precision is kept.
pub(crate) fn all_f32(dtypes: &[DType]) -> bool {
    dtypes.iter().all(|dtype| *dtype == DType::F32)
}

pub(crate) use batch_norm::{BatchStats, try_host_batch_norm};
pub(crate) use bias_relu::try_host_bias_relu;
pub(crate) use conv3x3_op::try_host_conv3x3;
#[cfg(feature = "ndarray")]
pub(crate) use dense::try_host_dense;
pub(crate) use finite::host_non_finite;
pub(crate) use max_pool::try_host_max_pool2;

/// Returns `Ok($tracked)` from the enclosing function when the backend `$B` is
/// `Autodiff<K>` of a host backend `K` (ndarray, flex; each when its feature is on), and
/// `Ok($plain)` when `$B` is `K` itself; `$K` names that `K` inside both expressions. Falls
/// through for any other backend, so the caller's next statement handles it. With
/// `ndarray only:` first, flex falls through too (for an operation that flex's own kernels
/// do faster than a round trip through host buffers).
macro_rules! return_on_host_backend {
    ($B:ty, |$K:ident| tracked: $tracked:expr, plain: $plain:expr $(,)?) => {
        #[cfg(feature = "ndarray")]
        $crate::host::return_on_host_backend!(@one $crate::backend::PrebuiltNdArray, $B, |$K| $tracked, $plain);
        #[cfg(feature = "ndarray")]
        $crate::host::return_on_host_backend!(@one burn::backend::NdArray, $B, |$K| $tracked, $plain);
        #[cfg(feature = "flex")]
        $crate::host::return_on_host_backend!(@one burn::backend::Flex, $B, |$K| $tracked, $plain);
    };
    (ndarray only: $B:ty, |$K:ident| tracked: $tracked:expr, plain: $plain:expr $(,)?) => {
        #[cfg(feature = "ndarray")]
        $crate::host::return_on_host_backend!(@one $crate::backend::PrebuiltNdArray, $B, |$K| $tracked, $plain);
        #[cfg(feature = "ndarray")]
        $crate::host::return_on_host_backend!(@one burn::backend::NdArray, $B, |$K| $tracked, $plain);
    };
    (@one $host:ty, $B:ty, |$K:ident| $tracked:expr, $plain:expr) => {{
        type $K = $host;
        let id = std::any::TypeId::of::<$B>();
        if id == std::any::TypeId::of::<burn::backend::Autodiff<$K>>() {
            return Ok($tracked);
        }
        if id == std::any::TypeId::of::<$K>() {
            return Ok($plain);
        }
    }};
}
pub(crate) use return_on_host_backend;
