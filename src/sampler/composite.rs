//! Samplers built from a base layout and any number of column sources.

use burn::tensor::backend::Backend;

use super::two_view::check_two_view;
use super::{CandidateSet, ColumnBlock, Embeddings, NegativeSampler, in_batch_set, two_view_set};
use crate::{Error, Result};

/// Which rows a candidate set has and which columns it starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Contexts as rows, the batch's samples as columns, every sample a candidate of every
    /// row ([`super::InBatchSampler`]).
    InBatch,
    /// Contexts as rows, each row seeing only its own sample among the batch's
    /// ([`super::ExplicitNegativeSampler`]).
    OwnPositiveOnly,
    /// Both views as rows and columns, self excluded ([`super::TwoViewSampler`]).
    TwoView,
}

impl Layout {
    /// The candidate set of `embeddings` in this layout, explicit negatives included where
    /// the layout takes them.
    ///
    /// # Errors
    /// Those of [`in_batch_set`] and [`two_view_set`]; the two-view layout refuses explicit
    /// negatives and a batch of one pair.
    pub fn base_set<B: Backend>(self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        match self {
            Layout::InBatch => in_batch_set(embeddings, true),
            Layout::OwnPositiveOnly => in_batch_set(embeddings, false),
            Layout::TwoView => {
                check_two_view(&embeddings)?;
                two_view_set(embeddings)
            }
        }
    }
}

/// Extra columns for a candidate set: a queue, a bank of mined negatives, anything that is
/// not the batch itself.
///
/// A source sees the set built so far (its rows' identity included) and returns the
/// columns it adds, with their masks over those rows, or `None` when it has nothing yet.
pub trait CandidateSource<B: Backend> {
    /// The columns this source adds to `set`.
    fn columns(&mut self, set: &CandidateSet<B>) -> Result<Option<ColumnBlock<B>>>;

    /// Hook run after the loss, before the optimiser step; must leave the source unchanged
    /// on error. The default does nothing.
    fn after_step(&mut self, _detached: &Embeddings<B>) -> Result<()> {
        Ok(())
    }

    /// Tensor state for checkpoints (a Burn record as bytes); empty when there is none.
    fn state_bytes(&self) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }

    /// Restores what [`CandidateSource::state_bytes`] returned.
    fn load_state_bytes(&mut self, _bytes: &[u8], _device: &B::Device) -> Result<()> {
        Ok(())
    }
}

/// A base [`Layout`] followed by the columns of several [`CandidateSource`]s, masks
/// concatenated side by side (in-batch keys and a queue together, as MoCo issue 62 asks).
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::sampler::{CompositeSampler, Embeddings, Layout, MemoryQueue};
/// use infonce::NegativeSampler;
///
/// let device = Default::default();
/// let mut sampler = CompositeSampler::<PrebuiltNdArray>::new(Layout::TwoView)
///     .with_source(MemoryQueue::new(64).unwrap());
/// let batch = || Embeddings::new(Tensor::ones([4, 8], &device), Tensor::ones([4, 8], &device));
/// assert_eq!(sampler.candidates(batch()).unwrap().dims(), [8, 8]);
/// sampler.after_step(&batch()).unwrap();
/// assert_eq!(sampler.candidates(batch()).unwrap().dims(), [8, 12]);
/// ```
pub struct CompositeSampler<B: Backend> {
    layout: Layout,
    sources: Vec<Box<dyn CandidateSource<B> + Send>>,
}

impl<B: Backend> std::fmt::Debug for CompositeSampler<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeSampler")
            .field("layout", &self.layout)
            .field("sources", &self.sources.len())
            .finish()
    }
}

impl<B: Backend> CompositeSampler<B> {
    /// The base layout alone.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            sources: Vec::new(),
        }
    }

    /// Appends a source's columns after those already there.
    #[must_use]
    pub fn with_source(mut self, source: impl CandidateSource<B> + Send + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }
}

impl<B: Backend> NegativeSampler<B> for CompositeSampler<B> {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let mut set = self.layout.base_set(embeddings)?;
        for source in &mut self.sources {
            if let Some(block) = source.columns(&set)? {
                set = set.append(block)?;
            }
        }
        if set.dims()[1] < 2 {
            return Err(Error::TooFewCandidates {
                what: "composite sampler".into(),
                got: set.dims()[1],
            });
        }
        Ok(set)
    }

    fn after_step(&mut self, detached: &Embeddings<B>) -> Result<()> {
        self.sources
            .iter_mut()
            .try_for_each(|s| s.after_step(detached))
    }

    /// Each source's bytes behind its length (`u64`, little-endian).
    fn state_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for s in &self.sources {
            let bytes = s.state_bytes()?;
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    fn load_state_bytes(&mut self, mut bytes: &[u8], device: &B::Device) -> Result<()> {
        let corrupt = || Error::config("composite sampler state", "does not fit its sources");
        for s in &mut self.sources {
            let len = bytes.get(..8).ok_or_else(corrupt)?;
            let len = u64::from_le_bytes(len.try_into().expect("8 bytes")) as usize;
            let end = len.checked_add(8).ok_or_else(corrupt)?;
            let body = bytes.get(8..end).ok_or_else(corrupt)?;
            s.load_state_bytes(body, device)?;
            bytes = &bytes[end..];
        }
        if bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupt())
        }
    }
}
