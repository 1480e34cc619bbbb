//! In-batch negatives.

use burn::tensor::backend::Backend;

use super::{CandidateSet, Embeddings, NegativeSampler, in_batch_set};
use crate::Result;

/// The other positives of the batch serve as negatives: `n` candidates per row, positive on
/// the diagonal (CPC, CLIP, the Gaussian MI benchmark). Explicit negatives carried by the
/// batch are appended to the candidates (paired ones valid only for their own row), so the
/// two sources combine.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::loss::Mask;
/// use infonce::sampler::{Embeddings, InBatchSampler};
/// use infonce::NegativeSampler;
///
/// let device = Default::default();
/// let e = Embeddings::<PrebuiltNdArray>::new(Tensor::zeros([4, 8], &device), Tensor::zeros([4, 8], &device));
/// let set = InBatchSampler.candidates(e).unwrap();
/// assert_eq!(set.candidates.dims(), [4, 8]);
/// assert!(matches!(set.positives, Mask::Diagonal { offset: 0 }) && set.valid.is_none());
/// ```
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct InBatchSampler;

impl<B: Backend> NegativeSampler<B> for InBatchSampler {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let set = in_batch_set(embeddings, true)?;
        if set.dims()[1] < 2 {
            return Err(crate::Error::TooFewCandidates {
                what: "in-batch sampler (a batch of one has no negative)".into(),
                got: 1,
            });
        }
        Ok(set)
    }
}
