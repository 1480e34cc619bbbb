//! An encoder followed by a projection head.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::{Encoder, ProjectionHead};

/// `head(backbone(x))` for the loss, `backbone(x)` for downstream use (SimCLR, Chen et al.
/// 2020, §2.1: the representation before the projection head transfers better).
#[derive(Module, Debug)]
pub struct EncoderWithHead<B: Backend, E: Module<B>> {
    /// The representation network.
    pub backbone: E,
    /// The projection the contrastive loss sees.
    pub head: ProjectionHead<B>,
}

impl<B: Backend, E: Module<B>> EncoderWithHead<B, E> {
    /// Wraps a backbone and a head.
    pub fn new(backbone: E, head: ProjectionHead<B>) -> Self {
        Self { backbone, head }
    }
}

impl<B: Backend, E: Encoder<B>> EncoderWithHead<B, E> {
    /// The backbone's features (what evaluation uses).
    pub fn features(&self, input: E::Input) -> Tensor<B, 2> {
        self.backbone.encode(input)
    }
}

impl<B: Backend, E: Encoder<B>> Encoder<B> for EncoderWithHead<B, E> {
    type Input = E::Input;

    fn encode(&self, input: E::Input) -> Tensor<B, 2> {
        self.head.forward(self.backbone.encode(input))
    }
}
