//! Recognising a backend that has a kernel: the scores' type is compared with each kernel
//! backend's (`Any`), so the loss functions keep their `B: Backend` bound and a backend
//! without a kernel is simply not recognised.

use std::any::Any;

use burn::tensor::{backend::Backend, Int, Tensor};

use super::Fused;
use crate::Result;

#[cfg(feature = "cuda")]
type Cuda = burn::backend::Cuda;
#[cfg(feature = "wgpu")]
type Wgpu = burn::backend::Wgpu;

/// The scores, recognised as a backend with a kernel.
pub(super) enum Kernel {
    #[cfg(feature = "ndarray")]
    NdArrayAutodiff(Tensor<burn::backend::Autodiff<burn::backend::NdArray>, 2>),
    #[cfg(feature = "ndarray")]
    NdArray(Tensor<burn::backend::NdArray, 2>),
    #[cfg(feature = "flex")]
    FlexAutodiff(Tensor<burn::backend::Autodiff<burn::backend::Flex>, 2>),
    #[cfg(feature = "flex")]
    Flex(Tensor<burn::backend::Flex, 2>),
    #[cfg(feature = "wgpu")]
    WgpuAutodiff(Tensor<burn::backend::Autodiff<Wgpu>, 2>),
    #[cfg(feature = "wgpu")]
    Wgpu(Tensor<Wgpu, 2>),
    #[cfg(feature = "cuda")]
    CudaAutodiff(Tensor<burn::backend::Autodiff<Cuda>, 2>),
    #[cfg(feature = "cuda")]
    Cuda(Tensor<Cuda, 2>),
}

/// Moves `value` into `U` when `T` is `U`, and gives it back otherwise.
fn same_type<T: 'static, U: 'static>(value: T) -> std::result::Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(as_u) => Ok(as_u.take().expect("the slot was filled just above")),
        None => Err(slot.expect("the slot is only emptied on a match")),
    }
}

/// `same_type` for a value that is known to be `U` (the kernel runs on `B`'s own type).
fn back_to<T: 'static, U: 'static>(value: T) -> U {
    same_type(value).unwrap_or_else(|_| unreachable!("the kernel's backend is B"))
}

impl<K: Backend> Fused<K> {
    /// The same outputs typed as `B`, which is `K` (checked when the kernel was chosen).
    fn into_backend<B: Backend>(self) -> Fused<B> {
        Fused {
            loss: back_to(self.loss),
            accuracy: back_to(self.accuracy),
            log_num_candidates: back_to(self.log_num_candidates),
        }
    }
}

/// Tries each listed variant in turn: `scores` moves into the first whose type it has.
macro_rules! recognise {
    ($scores:ident, $($(#[$cfg:meta])* $variant:ident),* $(,)?) => {
        $(
            $(#[$cfg])*
            {
                $scores = match same_type($scores) {
                    Ok(s) => return Ok(Kernel::$variant(s)),
                    Err(s) => s,
                };
            }
        )*
    };
}

/// The positives' device tensor, typed as the kernel's backend's (which is `B`'s).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn on_device<B: Backend, T: 'static>(positives: Tensor<B, 1, Int>) -> T {
    back_to(positives.into_primitive())
}

impl Kernel {
    #[allow(unused_mut)]
    pub(super) fn of<B: Backend>(scores: Tensor<B, 2>) -> std::result::Result<Self, Tensor<B, 2>> {
        let mut scores = scores;
        recognise!(
            scores,
            #[cfg(feature = "ndarray")]
            NdArrayAutodiff,
            #[cfg(feature = "ndarray")]
            NdArray,
            #[cfg(feature = "flex")]
            FlexAutodiff,
            #[cfg(feature = "flex")]
            Flex,
            #[cfg(feature = "wgpu")]
            WgpuAutodiff,
            #[cfg(feature = "wgpu")]
            Wgpu,
            #[cfg(feature = "cuda")]
            CudaAutodiff,
            #[cfg(feature = "cuda")]
            Cuda,
        );
        Err(scores)
    }

    /// The fused loss of the recognised scores against one positive column per row, with
    /// the column `i + excluded_offset` left out of row `i`'s candidates when given.
    pub(super) fn run<B: Backend>(
        self,
        positives: Tensor<B, 1, Int>,
        excluded_offset: Option<i64>,
    ) -> Result<Fused<B>> {
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        use super::cube_op::{autodiff_cross_entropy as cube_ad, plain_cross_entropy as cube};
        #[cfg(any(feature = "ndarray", feature = "flex"))]
        use super::host_op::{autodiff_cross_entropy as host_ad, plain_cross_entropy as host};
        let fused = match self {
            #[cfg(feature = "ndarray")]
            Kernel::NdArrayAutodiff(s) => host_ad(s, positives, excluded_offset)?.into_backend(),
            #[cfg(feature = "ndarray")]
            Kernel::NdArray(s) => host(s, positives, excluded_offset)?.into_backend(),
            #[cfg(feature = "flex")]
            Kernel::FlexAutodiff(s) => host_ad(s, positives, excluded_offset)?.into_backend(),
            #[cfg(feature = "flex")]
            Kernel::Flex(s) => host(s, positives, excluded_offset)?.into_backend(),
            #[cfg(feature = "wgpu")]
            Kernel::WgpuAutodiff(s) => {
                cube_ad(s, on_device::<B, _>(positives), excluded_offset).into_backend()
            }
            #[cfg(feature = "wgpu")]
            Kernel::Wgpu(s) => {
                cube(s, on_device::<B, _>(positives), excluded_offset).into_backend()
            }
            #[cfg(feature = "cuda")]
            Kernel::CudaAutodiff(s) => {
                cube_ad(s, on_device::<B, _>(positives), excluded_offset).into_backend()
            }
            #[cfg(feature = "cuda")]
            Kernel::Cuda(s) => {
                cube(s, on_device::<B, _>(positives), excluded_offset).into_backend()
            }
        };
        Ok(fused)
    }
}
