//! One encoder for contexts and samples.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::batch::assemble_embeddings;
use super::{ContrastiveModel, PairBatch};
use crate::sampler::Embeddings;
use crate::{Critic, Encoder, Result};

/// Contexts and samples go through the same encoder (SimCLR's two views, or a critic that
/// does all the work behind an [`crate::encoder::IdentityEncoder`]).
///
/// # Example
/// ```
/// use infonce::backend::NdArrayAutodiff;
/// use infonce::critic::CosineCriticConfig;
/// use infonce::encoder::MlpConfig;
/// use infonce::model::SharedEncoderModel;
///
/// type B = NdArrayAutodiff;
/// let device = Default::default();
/// let model = SharedEncoderModel::new(
///     MlpConfig::new(8, vec![32], 16).init::<B>(&device).unwrap(),
///     CosineCriticConfig::new().with_temperature(0.5).init::<B>(&device).unwrap(),
/// );
/// # let _ = model;
/// ```
#[derive(Module, Debug)]
pub struct SharedEncoderModel<B: Backend, E: Module<B>, K: Module<B>> {
    /// The encoder applied to both sides.
    pub encoder: E,
    /// The critic.
    pub critic: K,
    backend: core::marker::PhantomData<B>,
}

impl<B: Backend, E: Module<B>, K: Module<B>> SharedEncoderModel<B, E, K> {
    /// Wraps an encoder and a critic.
    pub fn new(encoder: E, critic: K) -> Self {
        Self {
            encoder,
            critic,
            backend: core::marker::PhantomData,
        }
    }
}

impl<B, E, K> ContrastiveModel<B> for SharedEncoderModel<B, E, K>
where
    B: Backend,
    E: Encoder<B>,
    K: Critic<B>,
{
    type Batch = PairBatch<E::Input, E::Input>;

    fn embed(&self, batch: Self::Batch) -> Result<Embeddings<B>> {
        assemble_embeddings(
            self.encoder.encode(batch.context),
            self.encoder.encode(batch.positive),
            batch.negatives,
            batch.ids,
            |x| self.encoder.encode(x),
        )
    }

    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        self.critic.try_log_scores(context, candidates)
    }

    fn after_step(mut self, step: u64) -> Self {
        self.critic = self.critic.after_step(step);
        self
    }
}
