//! The dot-product critic.

use core::marker::PhantomData;

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::Critic;

/// `log f(x, c) = cᵀx`: the plain inner product (CPC with `W = I`; MoCo before the
/// temperature).
///
/// # Shapes
/// - `context`: `[n, d]`, `candidates`: `[m, d]` → `[n, m]`
#[derive(Module, Debug)]
pub struct DotProductCritic<B: Backend> {
    backend: PhantomData<B>,
}

impl<B: Backend> DotProductCritic<B> {
    /// A new dot-product critic (it has no parameters).
    pub fn new() -> Self {
        Self {
            backend: PhantomData,
        }
    }
}

impl<B: Backend> Default for DotProductCritic<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Critic<B> for DotProductCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        crate::loss::scaled_product_unchecked(context, candidates, 1.0)
    }

    fn requires_equal_dims(&self) -> bool {
        true
    }
}
