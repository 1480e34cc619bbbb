//! The `NegativeSampler` trait.

use burn::tensor::backend::Backend;

use super::{CandidateSet, Embeddings};
use crate::Result;

/// Builds the candidate set of a batch from its embeddings and row identity.
///
/// Called once per step before the loss. [`NegativeSampler::after_step`] is called after
/// the loss and its backward pass, before the optimiser step, with the batch's detached
/// embeddings: a memory queue enqueues there, after the loss has used the old queue, never
/// before (the bug of PML #24). If it fails, the step is abandoned with nothing applied, so
/// it must leave the sampler unchanged on error.
///
/// Samplers with state (a queue) expose it through [`NegativeSampler::state`] (small JSON)
/// and [`NegativeSampler::state_bytes`] (tensors, as a Burn record) so a checkpoint can
/// restore it exactly.
///
/// The layout helpers a custom sampler builds on are public: [`super::in_batch_set`],
/// [`super::two_view_set`], [`super::explicit_block`], [`CandidateSet::append`], and the
/// [`crate::loss::Mask`] descriptions.
///
/// # Example: negatives of another class only
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{Int, Tensor};
/// use infonce::loss::Mask;
/// use infonce::sampler::{in_batch_set, CandidateSet, Embeddings, Rows};
/// use infonce::{NegativeSampler, Result};
///
/// /// In-batch negatives, except those that share the row's label (false negatives).
/// struct OtherLabelsOnly;
///
/// impl<B: burn::tensor::backend::Backend> NegativeSampler<B> for OtherLabelsOnly {
///     fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
///         let mut set = in_batch_set(embeddings, true)?;
///         let labels = set.context_rows.label.clone().ok_or_else(|| {
///             infonce::Error::config("OtherLabelsOnly", "the batch carries no labels")
///         })?;
///         let same = Mask::Equal { rows: labels.clone(), cols: labels };
///         set.valid = Some(same.not()); // positives stay valid whatever the mask says
///         Ok(set)
///     }
/// }
///
/// let device = Default::default();
/// let rows = Rows { label: Some(Tensor::<PrebuiltNdArray, 1, Int>::from_ints([0, 1, 0], &device)), ..Rows::none() };
/// let e = Embeddings::new(Tensor::zeros([3, 4], &device), Tensor::zeros([3, 4], &device)).with_rows(rows);
/// let set = OtherLabelsOnly.candidates(e).unwrap();
/// let valid = set.valid.unwrap().to_pair_mask([3, 3], &device).unwrap();
/// assert!(!valid.get(0, 2) && valid.get(0, 1)); // rows 0 and 2 share label 0
/// ```
pub trait NegativeSampler<B: Backend> {
    /// The candidates, positive mask and validity mask for this batch.
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>>;

    /// Hook run after the loss, before the optimiser step. The default does nothing.
    fn after_step(&mut self, _detached: &Embeddings<B>) -> Result<()> {
        Ok(())
    }

    /// Small serialisable state for checkpoints. Stateless samplers return `Null`.
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Restores what [`NegativeSampler::state`] returned.
    fn load_state(&mut self, _state: serde_json::Value) -> Result<()> {
        Ok(())
    }

    /// Tensor state for checkpoints (a Burn record as bytes); empty when there is none.
    fn state_bytes(&self) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }

    /// Restores what [`NegativeSampler::state_bytes`] returned, onto `device`.
    fn load_state_bytes(&mut self, _bytes: &[u8], _device: &B::Device) -> Result<()> {
        Ok(())
    }
}
