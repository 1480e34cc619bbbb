//! Recognising a backend that has a kernel: the scores' type is compared with each kernel
//! backend's (`Any`), so the loss functions keep their `B: Backend` bound and a backend
//! without a kernel is simply not recognised.

use burn::tensor::{Int, Tensor, backend::Backend};

use super::Fused;
use crate::Result;
use crate::loss::type_match::{back_to, same_type};

#[cfg(feature = "cuda")]
type Cuda = burn::backend::Cuda;
#[cfg(feature = "wgpu")]
type Wgpu = burn::backend::Wgpu;

/// Declares `Kernel` from one list of the backends with a kernel: the enum (a variant per
/// backend, holding the scores typed as it), `Kernel::of` (moving the scores into the variant
/// of their type) and `Kernel::covers` (whether a type is listed), so the three cannot
/// disagree. `Kernel::run`'s `match` is exhaustive, so a backend added here without a kernel
/// does not compile.
macro_rules! kernel_backends {
    ($($(#[$cfg:meta])* $variant:ident: $backend:ty),* $(,)?) => {
        /// The scores, recognised as a backend with a kernel.
        pub(super) enum Kernel {
            $($(#[$cfg])* $variant(Tensor<$backend, 2>),)*
        }

        impl Kernel {
            /// The scores as the variant of their backend, or back when it has no kernel.
            #[allow(unused_mut)]
            pub(super) fn of<B: Backend>(
                scores: Tensor<B, 2>,
            ) -> std::result::Result<Self, Tensor<B, 2>> {
                let mut scores = scores;
                $(
                    $(#[$cfg])*
                    {
                        scores = match same_type(scores) {
                            Ok(s) => return Ok(Kernel::$variant(s)),
                            Err(s) => s,
                        };
                    }
                )*
                Err(scores)
            }

            /// Whether `B` is one of the listed backends.
            pub(super) fn covers<B: Backend>() -> bool {
                let b = std::any::TypeId::of::<B>();
                $(
                    $(#[$cfg])*
                    {
                        if b == std::any::TypeId::of::<$backend>() {
                            return true;
                        }
                    }
                )*
                let _ = b;
                false
            }
        }
    };
}

kernel_backends! {
    #[cfg(feature = "ndarray")]
    NdArrayAutodiff: burn::backend::Autodiff<burn::backend::NdArray>,
    #[cfg(feature = "ndarray")]
    NdArray: burn::backend::NdArray,
    #[cfg(feature = "flex")]
    FlexAutodiff: burn::backend::Autodiff<burn::backend::Flex>,
    #[cfg(feature = "flex")]
    Flex: burn::backend::Flex,
    #[cfg(feature = "wgpu")]
    WgpuAutodiff: burn::backend::Autodiff<Wgpu>,
    #[cfg(feature = "wgpu")]
    Wgpu: Wgpu,
    #[cfg(feature = "cuda")]
    CudaAutodiff: burn::backend::Autodiff<Cuda>,
    #[cfg(feature = "cuda")]
    Cuda: Cuda,
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

/// The positives' device tensor, typed as the kernel's backend's (which is `B`'s).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn on_device<B: Backend, T: 'static>(positives: Tensor<B, 1, Int>) -> T {
    back_to(positives.into_primitive())
}

impl Kernel {
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
