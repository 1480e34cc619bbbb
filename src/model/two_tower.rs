//! One encoder per side.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::batch::assemble_embeddings;
use super::{ContrastiveModel, PairBatch};
use crate::sampler::Embeddings;
use crate::{Critic, Encoder, Result};

/// A context encoder and a sample encoder, possibly of different input types (CLIP's image
/// vs. text towers). CPC, whose contexts and samples come from one sequence and whose critic
/// depends on the step ahead, has its own model: [`crate::cpc::CpcModel`].
#[derive(Module, Debug)]
pub struct TwoTowerModel<B: Backend, C: Module<B>, X: Module<B>, K: Module<B>> {
    /// Encodes contexts.
    pub context_encoder: C,
    /// Encodes samples (positives and negatives).
    pub sample_encoder: X,
    /// The critic.
    pub critic: K,
    backend: core::marker::PhantomData<B>,
}

impl<B: Backend, C: Module<B>, X: Module<B>, K: Module<B>> TwoTowerModel<B, C, X, K> {
    /// Wraps two encoders and a critic.
    pub fn new(context_encoder: C, sample_encoder: X, critic: K) -> Self {
        Self {
            context_encoder,
            sample_encoder,
            critic,
            backend: core::marker::PhantomData,
        }
    }
}

impl<B, C, X, K> ContrastiveModel<B> for TwoTowerModel<B, C, X, K>
where
    B: Backend,
    C: Encoder<B>,
    X: Encoder<B>,
    K: Critic<B>,
{
    type Batch = PairBatch<C::Input, X::Input>;

    fn embed(&self, batch: Self::Batch) -> Result<Embeddings<B>> {
        assemble_embeddings(
            self.context_encoder.encode(batch.context),
            self.sample_encoder.encode(batch.positive),
            batch.negatives,
            batch.ids,
            |x| self.sample_encoder.encode(x),
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
