//! The `ContrastiveModel` trait.

use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};

use crate::sampler::Embeddings;
use crate::Result;

/// Everything the trainer needs from a model: embed a batch, score candidates.
///
/// Implemented by [`super::SharedEncoderModel`] and [`super::TwoTowerModel`]; implement it
/// yourself for other shapes (a momentum pair, a sequence model with several critics).
pub trait ContrastiveModel<B: Backend>: Module<B> {
    /// The batch type the model reads.
    type Batch;

    /// Context and sample embeddings (and explicit negatives) of a batch.
    fn embed(&self, batch: Self::Batch) -> Result<Embeddings<B>>;

    /// `log f(x_j, c_i)` for every context × candidate pair, `[n, m]`.
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Result<Tensor<B, 2>>;
}
