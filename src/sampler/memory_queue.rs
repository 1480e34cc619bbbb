//! A first-in-first-out queue of past sample embeddings as extra negatives.

use burn::tensor::{backend::Backend, Tensor, TensorData};

use super::candidates::layout_candidates;
use super::{CandidateSet, Embeddings, NegativeSampler};
use crate::loss::PairMask;
use crate::{Error, Result};

/// In-batch negatives plus a queue of the sample embeddings of earlier steps (the negative
/// dictionary of MoCo, He et al. 2020, without its momentum encoder): each row's candidates
/// are the batch's samples, any explicit negatives of the batch, then the queue.
///
/// The queue holds detached embeddings, newest last, at most `capacity` rows. It is read by
/// [`NegativeSampler::candidates`] and extended in [`NegativeSampler::after_step`], after the
/// loss of the step has used the old queue. Its contents are part of
/// [`NegativeSampler::state`], so a resumed run continues with the same negatives.
///
/// Queued embeddings come from an older encoder; MoCo keeps them consistent with a slowly
/// moving key encoder, here they are as old as `capacity / batch` steps.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use infonce::sampler::{Embeddings, MemoryQueueSampler};
/// use infonce::NegativeSampler;
///
/// let device = Default::default();
/// let mut queue = MemoryQueueSampler::<NdArray>::new(16).unwrap();
/// let batch = || Embeddings::new(Tensor::ones([4, 8], &device), Tensor::ones([4, 8], &device));
/// assert_eq!(queue.candidates(batch()).unwrap().candidates.dims(), [4, 8]);
/// queue.after_step(&batch()).unwrap();
/// assert_eq!(queue.candidates(batch()).unwrap().candidates.dims(), [8, 8]);
/// assert!(MemoryQueueSampler::<NdArray>::new(0).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct MemoryQueueSampler<B: Backend> {
    capacity: usize,
    queue: Option<Tensor<B, 2>>,
    /// A queue restored by `load_state`, moved to the device at the next step.
    restored: Option<QueueState>,
}

/// The serialised queue.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct QueueState {
    capacity: usize,
    rows: usize,
    dim: usize,
    values: Vec<f32>,
}

impl<B: Backend> MemoryQueueSampler<B> {
    /// An empty queue of at most `capacity` embeddings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a capacity of 0.
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::config(
                "queue capacity",
                "must be ≥ 1 (use InBatchSampler for no queue)",
            ));
        }
        Ok(Self {
            capacity,
            queue: None,
            restored: None,
        })
    }

    /// The most embeddings the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Embeddings queued now.
    pub fn len(&self) -> usize {
        match (&self.queue, &self.restored) {
            (Some(q), _) => q.dims()[0],
            (None, Some(r)) => r.rows,
            (None, None) => 0,
        }
    }

    /// Whether nothing is queued yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue on `device`, materialising a restored one.
    fn queue_on(&mut self, device: &B::Device) -> Option<Tensor<B, 2>> {
        if let Some(r) = self.restored.take() {
            self.queue = Some(Tensor::from_data(
                TensorData::new(r.values, [r.rows, r.dim]),
                device,
            ));
        }
        self.queue.clone()
    }
}

impl<B: Backend> NegativeSampler<B> for MemoryQueueSampler<B> {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let d = embeddings.samples.dims()[1];
        let device = embeddings.samples.device();
        let set = layout_candidates(embeddings, true)?;
        let Some(queue) = self.queue_on(&device) else {
            if set.candidates.dims()[0] < 2 {
                return Err(Error::TooFewCandidates {
                    what: "memory queue sampler (a batch of one and an empty queue)".into(),
                    got: 1,
                });
            }
            return Ok(set);
        };
        let [q, dq] = queue.dims();
        if dq != d {
            return Err(Error::shape(
                "queued embeddings width",
                d.to_string(),
                dq.to_string(),
            ));
        }
        let [n, m] = set.positives.dims();
        let positives = PairMask::from_fn(n, m + q, |i, j| j < m && set.positives.get(i, j));
        let valid = set
            .valid
            .as_ref()
            .map(|v| PairMask::from_fn(n, m + q, |i, j| j >= m || v.get(i, j)));
        Ok(CandidateSet {
            context: set.context,
            candidates: Tensor::cat(vec![set.candidates, queue], 0),
            positives,
            valid,
            log_weights: None,
        })
    }

    fn after_step(&mut self, detached: &Embeddings<B>) -> Result<()> {
        let samples = detached.samples.clone().detach();
        let queue = match self.queue_on(&samples.device()) {
            None => samples,
            Some(q) => {
                let (dq, d) = (q.dims()[1], samples.dims()[1]);
                if dq != d {
                    return Err(Error::shape(
                        "embeddings to enqueue width",
                        dq.to_string(),
                        d.to_string(),
                    ));
                }
                Tensor::cat(vec![q, samples], 0)
            }
        };
        let rows = queue.dims()[0];
        self.queue = Some(if rows > self.capacity {
            queue.narrow(0, rows - self.capacity, self.capacity)
        } else {
            queue
        });
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        let state = match (&self.queue, &self.restored) {
            (Some(q), _) => {
                let [rows, dim] = q.dims();
                let values = q
                    .to_data()
                    .convert::<f32>()
                    .to_vec::<f32>()
                    .unwrap_or_default();
                QueueState {
                    capacity: self.capacity,
                    rows,
                    dim,
                    values,
                }
            }
            (None, Some(r)) => r.clone(),
            (None, None) => QueueState {
                capacity: self.capacity,
                rows: 0,
                dim: 0,
                values: Vec::new(),
            },
        };
        serde_json::to_value(state).unwrap_or(serde_json::Value::Null)
    }

    fn load_state(&mut self, state: serde_json::Value) -> Result<()> {
        let s: QueueState = serde_json::from_value(state).map_err(|e| Error::Json {
            context: "memory queue state".into(),
            source: e,
        })?;
        if s.capacity != self.capacity || s.rows > s.capacity || s.values.len() != s.rows * s.dim {
            return Err(Error::config(
                "queue capacity",
                format!(
                    "the saved queue ({} of {} rows × {}, {} values) does not fit a queue of \
                     capacity {}",
                    s.rows,
                    s.capacity,
                    s.dim,
                    s.values.len(),
                    self.capacity
                ),
            ));
        }
        self.queue = None;
        self.restored = (s.rows > 0).then_some(s);
        Ok(())
    }
}
