//! A ring buffer of past sample embeddings, with their identity, as extra negatives.

use burn::record::{Record, Recorder};
use burn::tensor::{Int, Tensor, backend::Backend};

use super::composite::{CandidateSource, Layout};
use super::{CandidateSet, ColumnBlock, Embeddings, NegativeSampler, Rows, UNKNOWN_ID};
use crate::io::RecordBytes;
use crate::loss::{BoundKind, Mask};
use crate::{Error, Result};

/// A queue of the sample embeddings of earlier steps (the negative dictionary of MoCo, He et
/// al. 2020), as a [`CandidateSource`]: a device ring buffer of `capacity` rows with each
/// entry's instance id and label.
///
/// Each row of the batch sees every filled entry as a negative except those of its own
/// instance (a stale copy of its own positive, the bug of MoCo issues 24/87/146) and, with
/// [`MemoryQueue::with_label_masking`], those of its own label. Entries are written in
/// [`CandidateSource::after_step`], after the loss has used the old queue; a batch larger
/// than the queue keeps its last `capacity` rows. Queued embeddings come from an older
/// encoder, so `log N − J` is not a bound ([`BoundKind::StaleCandidates`]).
#[derive(Debug, Clone)]
pub struct MemoryQueue<B: Backend> {
    capacity: usize,
    mask_labels: bool,
    head: usize,
    len: usize,
    keys: Option<Tensor<B, 2>>,
    instance: Option<Tensor<B, 1, Int>>,
    label: Option<Tensor<B, 1, Int>>,
}

/// The queue in a checkpoint: a Burn record (tensors as tensors, not JSON numbers).
#[derive(Record)]
struct QueueRecord<B: Backend> {
    capacity: usize,
    head: usize,
    len: usize,
    keys: Option<Tensor<B, 2>>,
    instance: Option<Tensor<B, 1, Int>>,
    label: Option<Tensor<B, 1, Int>>,
}

impl<B: Backend> MemoryQueue<B> {
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
            mask_labels: false,
            head: 0,
            len: 0,
            keys: None,
            instance: None,
            label: None,
        })
    }

    /// Also hide entries that share the row's label (supervised false negatives).
    #[must_use]
    pub fn with_label_masking(mut self, mask_labels: bool) -> Self {
        self.mask_labels = mask_labels;
        self
    }

    /// The most embeddings the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Embeddings queued now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The filled entries and their identity.
    pub fn entries(&self) -> Option<(Tensor<B, 2>, Rows<B>)> {
        let (keys, instance, label) = (
            self.keys.clone()?,
            self.instance.clone()?,
            self.label.clone()?,
        );
        let take = |t: Tensor<B, 1, Int>| t.narrow(0, 0, self.len);
        let rows = Rows {
            instance: Some(take(instance)),
            label: Some(take(label)),
            ..Rows::none()
        };
        Some((keys.narrow(0, 0, self.len), rows))
    }

    /// Which entries row `i` of `set` may use: not its own instance (nor label).
    fn validity(&self, set: &CandidateSet<B>, rows: &Rows<B>) -> Option<Mask<B>> {
        let differ = |own: &Option<Tensor<B, 1, Int>>, theirs: &Option<Tensor<B, 1, Int>>| {
            Some(
                Mask::Equal {
                    rows: own.clone()?,
                    cols: theirs.clone()?,
                }
                .not(),
            )
        };
        let mut valid = differ(&set.context_rows.instance, &rows.instance);
        if self.mask_labels
            && let Some(l) = differ(&set.context_rows.label, &rows.label)
        {
            valid = Some(valid.map_or(l.clone(), |v| v.and(l)));
        }
        valid
    }

    /// Writes `values` at the ring positions from `head` on, wrapping.
    fn write<K>(&self, buffer: Tensor<B, 2, K>, values: Tensor<B, 2, K>) -> Tensor<B, 2, K>
    where
        K: burn::tensor::BasicOps<B>,
    {
        let [b, d] = values.dims();
        let first = b.min(self.capacity - self.head);
        let buffer = buffer.slice_assign(
            [self.head..self.head + first, 0..d],
            values.clone().narrow(0, 0, first),
        );
        if first == b {
            return buffer;
        }
        buffer.slice_assign([0..b - first, 0..d], values.narrow(0, first, b - first))
    }

    /// The last `capacity` rows of a batch and their ids (unknown ones as [`UNKNOWN_ID`]).
    fn incoming(
        &self,
        detached: &Embeddings<B>,
    ) -> (Tensor<B, 2>, Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
        let samples = detached.samples.clone();
        let [b, _] = samples.dims();
        let device = samples.device();
        let ids = |f: &Option<Tensor<B, 1, Int>>| {
            f.clone()
                .unwrap_or_else(|| Tensor::full([b], UNKNOWN_ID, &device))
        };
        let (instance, label) = (ids(&detached.rows.instance), ids(&detached.rows.label));
        let keep = b.min(self.capacity);
        (
            samples.narrow(0, b - keep, keep),
            instance.narrow(0, b - keep, keep),
            label.narrow(0, b - keep, keep),
        )
    }
}

impl<B: Backend> CandidateSource<B> for MemoryQueue<B> {
    fn columns(&mut self, set: &CandidateSet<B>) -> Result<Option<ColumnBlock<B>>> {
        let Some((keys, rows)) = self.entries() else {
            return Ok(None);
        };
        Ok(Some(ColumnBlock {
            candidates: keys,
            valid: self.validity(set, &rows),
            rows,
            positives: Mask::Empty,
            bound: BoundKind::StaleCandidates,
        }))
    }

    fn after_step(&mut self, detached: &Embeddings<B>) -> Result<()> {
        let (keys, instance, label) = self.incoming(detached);
        let [b, d] = keys.dims();
        let device = keys.device();
        if let Some(dq) = self
            .keys
            .as_ref()
            .map(|k| k.dims()[1])
            .filter(|&dq| dq != d)
        {
            return Err(Error::shape(
                "embeddings to enqueue width",
                dq.to_string(),
                d.to_string(),
            ));
        }
        let c = self.capacity;
        let buffer = self
            .keys
            .take()
            .unwrap_or_else(|| Tensor::zeros([c, d], &device));
        let ids = |t: Option<Tensor<B, 1, Int>>| {
            t.unwrap_or_else(|| Tensor::full([c], UNKNOWN_ID, &device))
                .reshape([c, 1])
        };
        let (inst, lab) = (ids(self.instance.take()), ids(self.label.take()));
        self.keys = Some(self.write(buffer, keys));
        self.instance = Some(self.write(inst, instance.reshape([b, 1])).reshape([c]));
        self.label = Some(self.write(lab, label.reshape([b, 1])).reshape([c]));
        self.head = (self.head + b) % c;
        self.len = (self.len + b).min(c);
        Ok(())
    }

    fn state_bytes(&self) -> Result<Vec<u8>> {
        let record = QueueRecord::<B> {
            capacity: self.capacity,
            head: self.head,
            len: self.len,
            keys: self.keys.clone(),
            instance: self.instance.clone(),
            label: self.label.clone(),
        };
        Recorder::<B>::record(&RecordBytes, record, ())
            .map_err(|e| Error::config("queue state", format!("cannot serialise: {e}")))
    }

    fn load_state_bytes(&mut self, bytes: &[u8], device: &B::Device) -> Result<()> {
        let record: QueueRecord<B> = Recorder::<B>::load(&RecordBytes, bytes.to_vec(), device)
            .map_err(|e| Error::config("queue state", format!("unreadable record: {e}")))?;
        let fits = record.capacity == self.capacity
            && record.len <= record.capacity
            && record.head < record.capacity.max(1)
            && record
                .keys
                .as_ref()
                .is_none_or(|k| k.dims()[0] == record.capacity);
        if !fits {
            return Err(Error::config(
                "queue capacity",
                format!(
                    "the saved queue ({} of {} entries) does not fit a queue of capacity {}",
                    record.len, record.capacity, self.capacity
                ),
            ));
        }
        self.head = record.head;
        self.len = record.len;
        self.keys = record.keys;
        self.instance = record.instance;
        self.label = record.label;
        Ok(())
    }
}

/// In-batch (or two-view) candidates plus a [`MemoryQueue`] of past samples: MoCo's
/// dictionary on top of either layout.
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
    layout: Layout,
    queue: MemoryQueue<B>,
}

impl<B: Backend> MemoryQueueSampler<B> {
    /// In-batch candidates (and any explicit negatives) plus a queue of `capacity`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a capacity of 0.
    pub fn new(capacity: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::InBatch,
            queue: MemoryQueue::new(capacity)?,
        })
    }

    /// The two-view layout (both views as rows) plus a queue of `capacity`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a capacity of 0.
    pub fn two_view(capacity: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::TwoView,
            queue: MemoryQueue::new(capacity)?,
        })
    }

    /// See [`MemoryQueue::with_label_masking`].
    #[must_use]
    pub fn with_label_masking(mut self, mask_labels: bool) -> Self {
        self.queue = self.queue.with_label_masking(mask_labels);
        self
    }

    /// The queue.
    pub fn queue(&self) -> &MemoryQueue<B> {
        &self.queue
    }

    /// The most embeddings the queue holds.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Embeddings queued now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is queued yet.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

impl<B: Backend> NegativeSampler<B> for MemoryQueueSampler<B> {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let set = self.layout.base_set(embeddings)?;
        let set = match self.queue.columns(&set)? {
            Some(block) => set.append(block)?,
            None => set,
        };
        if set.dims()[1] < 2 {
            return Err(Error::TooFewCandidates {
                what: "memory queue sampler (a batch of one and an empty queue)".into(),
                got: 1,
            });
        }
        Ok(set)
    }

    fn after_step(&mut self, detached: &Embeddings<B>) -> Result<()> {
        self.queue.after_step(detached)
    }

    fn state_bytes(&self) -> Result<Vec<u8>> {
        self.queue.state_bytes()
    }

    fn load_state_bytes(&mut self, bytes: &[u8], device: &B::Device) -> Result<()> {
        self.queue.load_state_bytes(bytes, device)
    }
}
