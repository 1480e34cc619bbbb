//! The `ContrastiveModel` trait.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use crate::Result;
use crate::sampler::Embeddings;

/// Everything the trainer needs from a model: embed a batch (with its rows' identity),
/// score candidates, and act after each optimiser step.
///
/// Implemented by [`super::SharedEncoderModel`] and [`super::TwoTowerModel`]; implement it
/// yourself for other shapes (a momentum pair, a sequence model with several critics).
///
/// Parameters that must not be optimised (a momentum copy of an encoder) are marked with
/// Burn's `Module::no_grad()`: they get no gradient, so the optimiser leaves them alone
/// (no step, no weight decay), and [`ContrastiveModel::after_step`] updates them.
pub trait ContrastiveModel<B: Backend>: Module<B> {
    /// The batch type the model reads.
    type Batch;

    /// Context and sample embeddings (and explicit negatives) of a batch.
    fn embed(&self, batch: Self::Batch) -> Result<Embeddings<B>>;

    /// `log f(x_j, c_i)` for every context × candidate pair, `[n, m]`.
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Result<Tensor<B, 2>>;

    /// Called by the trainer after every optimiser step, with the number of steps now
    /// completed (1 after the first): an exponential moving average of an encoder, a clamp of
    /// a learnable temperature. The default returns the model unchanged.
    fn after_step(self, _step: u64) -> Self
    where
        Self: Sized,
    {
        self
    }
}
