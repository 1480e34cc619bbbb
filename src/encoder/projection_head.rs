//! SimCLR's projection head.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::{Mlp, MlpConfig};

/// Configuration of a [`ProjectionHead`]: `Linear(d_input, d_hidden) → ReLU →
/// Linear(d_hidden, d_output)`.
#[derive(Config, Debug)]
pub struct ProjectionHeadConfig {
    /// Width of the encoder features it reads.
    pub d_input: usize,
    /// Width of the hidden layer.
    #[config(default = 128)]
    pub d_hidden: usize,
    /// Width of the projection the loss sees.
    #[config(default = 64)]
    pub d_output: usize,
}

impl ProjectionHeadConfig {
    /// Builds the head on `device`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] when a width is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<ProjectionHead<B>> {
        Ok(ProjectionHead {
            mlp: MlpConfig::new(self.d_input, vec![self.d_hidden], self.d_output).init(device)?,
        })
    }
}

/// The non-linear projection `g(·)` of SimCLR (Chen et al. 2020, §2.1): the contrastive loss
/// is computed on `g(h)`, while downstream tasks use the encoder features `h`, which the
/// paper found to be better representations.
#[derive(Module, Debug)]
pub struct ProjectionHead<B: Backend> {
    mlp: Mlp<B>,
}

impl<B: Backend> ProjectionHead<B> {
    /// # Shapes
    /// - `features`: `[batch, d_input]` → `[batch, d_output]`
    pub fn forward(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.mlp.forward(features)
    }
}
