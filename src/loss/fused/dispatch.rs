//! Recognising a backend that has a kernel: the scores' type is compared with each kernel
//! backend's (`Any`), so the loss functions keep their `B: Backend` bound and a backend
//! without a kernel is simply not recognised.

use std::any::Any;

use burn::tensor::{backend::Backend, Tensor};

use super::autodiff_op::{autodiff_cross_entropy, plain_cross_entropy};
use super::row_kernel::{ForwardSummary, RowTargets};

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
}

/// Moves `value` into `U` when `T` is `U`, and gives it back otherwise.
fn same_type<T: 'static, U: 'static>(value: T) -> std::result::Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(as_u) => Ok(as_u.take().expect("the slot was filled just above")),
        None => Err(slot.expect("the slot is only emptied on a match")),
    }
}

/// `same_type` for a value that is known to be `U` (the kernel ran on `B`'s own type).
fn back_to<T: 'static, U: 'static>(value: T) -> U {
    same_type(value).unwrap_or_else(|_| unreachable!("the kernel's backend is B"))
}

impl Kernel {
    #[allow(unused_mut, clippy::let_and_return)]
    pub(super) fn of<B: Backend>(scores: Tensor<B, 2>) -> std::result::Result<Self, Tensor<B, 2>> {
        let mut scores = scores;
        #[cfg(feature = "ndarray")]
        {
            scores = match same_type(scores) {
                Ok(s) => return Ok(Kernel::NdArrayAutodiff(s)),
                Err(s) => s,
            };
            scores = match same_type(scores) {
                Ok(s) => return Ok(Kernel::NdArray(s)),
                Err(s) => s,
            };
        }
        #[cfg(feature = "flex")]
        {
            scores = match same_type(scores) {
                Ok(s) => return Ok(Kernel::FlexAutodiff(s)),
                Err(s) => s,
            };
            scores = match same_type(scores) {
                Ok(s) => return Ok(Kernel::Flex(s)),
                Err(s) => s,
            };
        }
        Err(scores)
    }

    pub(super) fn run<B: Backend>(self, targets: RowTargets) -> (Tensor<B, 1>, ForwardSummary) {
        let (loss, summary) = match self {
            #[cfg(feature = "ndarray")]
            Kernel::NdArrayAutodiff(s) => {
                let (l, summary) = autodiff_cross_entropy(s, targets);
                (back_to(l), summary)
            }
            #[cfg(feature = "ndarray")]
            Kernel::NdArray(s) => {
                let (l, summary) = plain_cross_entropy(s, targets);
                (back_to(l), summary)
            }
            #[cfg(feature = "flex")]
            Kernel::FlexAutodiff(s) => {
                let (l, summary) = autodiff_cross_entropy(s, targets);
                (back_to(l), summary)
            }
            #[cfg(feature = "flex")]
            Kernel::Flex(s) => {
                let (l, summary) = plain_cross_entropy(s, targets);
                (back_to(l), summary)
            }
        };
        (loss, summary)
    }
}
