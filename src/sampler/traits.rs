//! The `NegativeSampler` trait.

use burn::tensor::backend::Backend;

use super::{CandidateSet, Embeddings};
use crate::Result;

/// Builds the candidate set of a batch from its embeddings.
///
/// Called once per step before the loss. [`NegativeSampler::after_step`] is called after
/// the optimiser step with the batch's detached embeddings: a memory queue enqueues there,
/// after the loss has used the old queue, never before (the bug of PML #24).
///
/// Samplers with state (a queue) expose it through [`NegativeSampler::state`] and
/// [`NegativeSampler::load_state`] so a checkpoint can restore it exactly.
pub trait NegativeSampler<B: Backend> {
    /// The candidates, positive mask and validity mask for this batch.
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>>;

    /// Hook run after the optimiser step. The default does nothing.
    fn after_step(&mut self, _detached: &Embeddings<B>) -> Result<()> {
        Ok(())
    }

    /// Serialisable state for checkpoints. Stateless samplers return `Null`.
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Restores what [`NegativeSampler::state`] returned.
    fn load_state(&mut self, _state: serde_json::Value) -> Result<()> {
        Ok(())
    }
}
