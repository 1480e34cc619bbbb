//! Recognising a backend that has a kernel: the scores' type is compared with each kernel
//! backend's (`Any`), so the loss functions keep their `B: Backend` bound and a backend
//! without a kernel is simply not recognised.
//!
//! Each backend's kernel is called through a function of its own that names no type
//! parameter, so the kernel is compiled once, here, and not again in every program whose
//! generic code reaches the loss.

use burn::tensor::{Int, Tensor, backend::Backend};

use super::Fused;
use crate::Result;
use crate::loss::type_match::{back_to, same_type};

#[cfg(feature = "ndarray")]
type NdArray = burn::backend::NdArray;
#[cfg(feature = "ndarray")]
type PrebuiltNdArray = crate::backend::PrebuiltNdArray;
#[cfg(feature = "flex")]
type Flex = burn::backend::Flex;
#[cfg(feature = "wgpu")]
type Wgpu = burn::backend::Wgpu;
#[cfg(feature = "wgpu")]
type PrebuiltWgpu = crate::backend::PrebuiltWgpu;
#[cfg(feature = "cuda")]
type Cuda = burn::backend::Cuda;
type Autodiff<B> = burn::backend::Autodiff<B>;

#[cfg(any(feature = "wgpu", feature = "cuda"))]
use super::cube_op::{autodiff_cross_entropy as cube_ad, plain_cross_entropy as cube};
#[cfg(any(feature = "ndarray", feature = "flex"))]
use super::host_op::{autodiff_cross_entropy as host_ad, plain_cross_entropy as host};

/// Declares `Kernel` from one list of the backends with a kernel and the function that
/// runs it: the enum (a variant per backend, holding the scores typed as it), `Kernel::of`
/// (moving the scores into the variant of their type), `Kernel::covers` (whether a type is
/// listed) and `Kernel::run`, so the four cannot disagree.
macro_rules! kernel_backends {
    ($($(#[$cfg:meta])* $variant:ident: $backend:ty => $kernel:expr),* $(,)?) => {
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

            /// The fused loss of the recognised scores against one positive column per
            /// row, with the column `i + excluded_offset` left out of row `i`'s candidates
            /// when given.
            pub(super) fn run<B: Backend>(
                self,
                positives: Tensor<B, 1, Int>,
                excluded_offset: Option<i64>,
            ) -> Result<Fused<B>> {
                match self {
                    $(
                        $(#[$cfg])*
                        Kernel::$variant(scores) => {
                            fn kernel(
                                scores: Tensor<$backend, 2>,
                                positives: Tensor<$backend, 1, Int>,
                                excluded_offset: Option<i64>,
                            ) -> Result<Fused<$backend>> {
                                $kernel(scores, positives, excluded_offset)
                            }
                            Ok(kernel(scores, back_to(positives), excluded_offset)?.into_backend())
                        }
                    )*
                }
            }
        }
    };
}

kernel_backends! {
    #[cfg(feature = "ndarray")]
    PrebuiltNdArrayAutodiff: Autodiff<PrebuiltNdArray> => host_ad,
    #[cfg(feature = "ndarray")]
    PrebuiltNdArray: PrebuiltNdArray => host,
    #[cfg(feature = "ndarray")]
    NdArrayAutodiff: Autodiff<NdArray> => host_ad,
    #[cfg(feature = "ndarray")]
    NdArray: NdArray => host,
    #[cfg(feature = "flex")]
    FlexAutodiff: Autodiff<Flex> => host_ad,
    #[cfg(feature = "flex")]
    Flex: Flex => host,
    #[cfg(feature = "wgpu")]
    PrebuiltWgpuAutodiff: Autodiff<PrebuiltWgpu> => |s, p, e| Ok(cube_ad(s, p, e)),
    #[cfg(feature = "wgpu")]
    PrebuiltWgpu: PrebuiltWgpu => |s, p, e| Ok(cube(s, p, e)),
    #[cfg(feature = "wgpu")]
    WgpuAutodiff: Autodiff<Wgpu> => |s, p, e| Ok(cube_ad(s, p, e)),
    #[cfg(feature = "wgpu")]
    Wgpu: Wgpu => |s, p, e| Ok(cube(s, p, e)),
    #[cfg(feature = "cuda")]
    CudaAutodiff: Autodiff<Cuda> => |s, p, e| Ok(cube_ad(s, p, e)),
    #[cfg(feature = "cuda")]
    Cuda: Cuda => |s, p, e| Ok(cube(s, p, e)),
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
