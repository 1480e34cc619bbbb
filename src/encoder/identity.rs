//! The encoder that does nothing.

use core::marker::PhantomData;

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::Encoder;

/// Passes feature vectors through unchanged.
///
/// Useful when the critic itself learns the representation, as in the separable and
/// concat critics of Poole et al. 2019's mutual-information benchmark.
#[derive(Module, Debug)]
pub struct IdentityEncoder<B: Backend> {
    backend: PhantomData<B>,
}

impl<B: Backend> IdentityEncoder<B> {
    /// A new identity encoder.
    pub fn new() -> Self {
        Self {
            backend: PhantomData,
        }
    }
}

impl<B: Backend> Default for IdentityEncoder<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Encoder<B> for IdentityEncoder<B> {
    type Input = Tensor<B, 2>;

    fn encode(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        input
    }
}
