//! The memory queue: a device ring buffer of past samples with their identity. Candidates
//! are the batch then the filled slots; the loss against hand-built candidate lists; a row's
//! own instance (and, when asked, its label) is never a negative, also after wrap-around;
//! state round trip as a tensor record; exact resume; enqueueing after (not before) the loss;
//! refusal of a zero capacity or a width change.

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use infonce::critic::DotProductCritic;
use infonce::loss::{BoundKind, info_nce_with_masks};
use infonce::sampler::{
    CandidateSet, CandidateSource, CompositeSampler, Embeddings, Layout, MemoryQueue,
    MemoryQueueSampler, Rows,
};
use infonce::trainer::{Checkpoint, Trainer, TrainerConfig};
use infonce::{Critic, Error, NegativeSampler};

use super::common::*;
use super::trainer::{data, model, parameters, temp_dir};

fn ids<B: AutodiffBackend>(v: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// A batch of `n` pairs with instance ids `first..first + n` and labels `id % 3`.
fn batch<B: AutodiffBackend>(
    seed: u64,
    n: usize,
    d: usize,
    first: i64,
    device: &B::Device,
) -> (Vec<f64>, Vec<f64>, Embeddings<B>) {
    let c = random_vec(n * d, 1.0, seed);
    let x = random_vec(n * d, 1.0, seed + 1000);
    let instance: Vec<i64> = (first..first + n as i64).collect();
    let label: Vec<i64> = instance.iter().map(|i| i % 3).collect();
    let rows = Rows {
        instance: Some(ids::<B>(instance, device)),
        label: Some(ids::<B>(label, device)),
        ..Rows::none()
    };
    let e = Embeddings::new(
        tensor2::<B>(&c, n, d, device),
        tensor2::<B>(&x, n, d, device),
    )
    .with_rows(rows);
    (c, x, e)
}

/// The ring buffer as the test expects it: slot contents `(row, instance)`, next slot, fill.
struct HostRing {
    slots: Vec<(Vec<f64>, i64)>,
    head: usize,
    len: usize,
}

impl HostRing {
    fn push(&mut self, row: Vec<f64>, id: i64) {
        let cap = self.slots.len();
        self.slots[self.head] = (row, id);
        self.head = (self.head + 1) % cap;
        self.len = (self.len + 1).min(cap);
    }
    fn entries(&self) -> &[(Vec<f64>, i64)] {
        &self.slots[..self.len]
    }
}

/// Scores and masks of a set read back: the loss with the set's masks.
fn loss_of<B: AutodiffBackend>(set: &CandidateSet<B>) -> f64 {
    let scores =
        DotProductCritic::<B>::new().log_scores(set.context.clone(), set.candidates.clone());
    info_nce_with_masks(scores, &set.positives, set.valid.as_ref())
        .unwrap()
        .stats()
        .loss
}

fn queue_is_a_ring_and_masks_own_instances<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, capacity) = (4, 3, 6);
    let mut sampler = MemoryQueueSampler::<B>::new(capacity).unwrap();
    let mut ring = HostRing {
        slots: vec![(vec![0.0; d], 0); capacity],
        head: 0,
        len: 0,
    };
    for step in 0..4u64 {
        // Instances repeat every other step, so the queue holds stale copies of this
        // batch's own instances, before and after wrap-around.
        let first = (step % 2) as i64 * 100;
        let (c, x, e) = batch::<B>(10 + step, n, d, first, device);
        let set = sampler.candidates(e.clone()).unwrap();
        let queued = ring.entries().to_vec();
        assert_eq!(set.candidates.dims(), [n + queued.len(), d], "step {step}");
        let got = values(set.candidates.clone());
        let want: Vec<f64> = queued.iter().flat_map(|(r, _)| r.clone()).collect();
        assert_close(
            &got[n * d..],
            &want,
            0.0,
            1e-6,
            &format!("slots at step {step}"),
        );
        assert_eq!(set.bound == BoundKind::Bound, queued.is_empty());
        // Reference: positive, the other samples, the queued rows of other instances.
        let xs: Vec<Vec<f64>> = x.chunks(d).map(<[f64]>::to_vec).collect();
        let want: f64 = (0..n)
            .map(|i| {
                let ci = &c[i * d..(i + 1) * d];
                let own = first + i as i64;
                let s: Vec<f64> = std::iter::once(&xs[i])
                    .chain((0..n).filter(|&j| j != i).map(|j| &xs[j]))
                    .chain(queued.iter().filter(|(_, id)| *id != own).map(|(r, _)| r))
                    .map(|v| v.iter().zip(ci).map(|(a, b)| a * b).sum())
                    .collect();
                logsumexp(&s) - s[0]
            })
            .sum::<f64>()
            / n as f64;
        assert_close(
            &[loss_of(&set)],
            &[want],
            1e-5,
            1e-5,
            &format!("loss at step {step}"),
        );
        // No row's own instance is a valid queued candidate.
        if let Some(valid) = &set.valid {
            let bits = valid.to_pair_mask(set.dims(), device).unwrap();
            for (i, row) in (0..n).map(|i| (i, bits.row(i))) {
                for (k, (_, id)) in queued.iter().enumerate() {
                    assert_eq!(row[n + k], *id != first + i as i64, "row {i} slot {k}");
                }
            }
        }
        sampler.after_step(&e.detach()).unwrap();
        for (i, r) in xs.into_iter().enumerate() {
            ring.push(r, first + i as i64);
        }
        assert_eq!(sampler.len(), ring.len);
    }
}

fn queue_state_round_trips_as_a_record<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, capacity) = (4, 3, 6);
    let mut sampler = MemoryQueueSampler::<B>::new(capacity).unwrap();
    for step in 0..3u64 {
        let (_, _, e) = batch::<B>(20 + step, n, d, 10 * step as i64, device);
        sampler.after_step(&e).unwrap();
    }
    let bytes = sampler.state_bytes().unwrap();
    let mut restored = MemoryQueueSampler::<B>::new(capacity).unwrap();
    restored.load_state_bytes(&bytes, device).unwrap();
    let (_, _, e) = batch::<B>(99, n, d, 0, device);
    let (a, b) = (
        sampler.candidates(e.clone()).unwrap(),
        restored.candidates(e).unwrap(),
    );
    assert_eq!(values(a.candidates.clone()), values(b.candidates.clone()));
    assert_eq!(loss_of(&a), loss_of(&b));
    let mut other = MemoryQueueSampler::<B>::new(capacity + 1).unwrap();
    assert!(matches!(
        other.load_state_bytes(&bytes, device),
        Err(Error::InvalidConfig { .. })
    ));
}

fn queue_masks_labels_and_composes_with_two_views<B: AutodiffBackend>(device: &B::Device) {
    let (n, d) = (3, 2);
    let mut queue = MemoryQueue::<B>::new(8).unwrap().with_label_masking(true);
    let (_, _, old) = batch::<B>(1, n, d, 50, device); // labels 2, 0, 1
    CandidateSource::after_step(&mut queue, &old).unwrap();
    let mut sampler = CompositeSampler::new(Layout::TwoView).with_source(queue);
    let (_, _, e) = batch::<B>(2, n, d, 51, device); // instances 51..53, labels 0, 1, 2
    let set = sampler.candidates(e).unwrap();
    assert_eq!(set.dims(), [2 * n, 2 * n + n]);
    let valid = set
        .valid
        .as_ref()
        .unwrap()
        .to_pair_mask(set.dims(), device)
        .unwrap();
    let row_labels = [0, 1, 2, 0, 1, 2];
    let queued_labels = [2, 0, 1];
    for (i, label) in row_labels.iter().enumerate() {
        for (k, q) in queued_labels.iter().enumerate() {
            // Instances 51, 52 of the batch are queued too: label masking hides them anyway.
            assert_eq!(valid.get(i, 2 * n + k), label != q, "row {i} slot {k}");
        }
    }
}

fn queue_refuses_bad_input<B: AutodiffBackend>(device: &B::Device) {
    match MemoryQueueSampler::<B>::new(0) {
        Err(Error::InvalidConfig { name, .. }) => assert_eq!(name, "queue capacity"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let mut sampler = MemoryQueueSampler::<B>::new(8).unwrap();
    let (_, _, one) = batch::<B>(1, 1, 3, 0, device);
    assert!(matches!(
        sampler.candidates(one.clone()),
        Err(Error::TooFewCandidates { .. })
    ));
    // Once something is queued, a batch of one has negatives.
    sampler
        .after_step(&batch::<B>(2, 4, 3, 10, device).2)
        .unwrap();
    assert_eq!(sampler.candidates(one).unwrap().candidates.dims(), [5, 3]);
    // The embedding width cannot change under a filled queue, and a refused enqueue
    // leaves the queue as it was.
    let (_, _, wider) = batch::<B>(3, 4, 5, 20, device);
    assert!(matches!(
        sampler.candidates(wider.clone()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        sampler.after_step(&wider),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(sampler.len(), 4);
}

backend_tests!(
    queue_is_a_ring_and_masks_own_instances,
    queue_state_round_trips_as_a_record,
    queue_masks_labels_and_composes_with_two_views,
    queue_refuses_bad_input,
);

/// The queue travels in checkpoints: a run resumed mid-way ends bit-identical.
#[test]
fn training_with_a_queue_resumes_exactly() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = Default::default();
    let dir = temp_dir("queue-resume");
    let config = TrainerConfig::new()
        .with_epochs(3)
        .with_learning_rate(3e-3)
        .with_checkpoint_every(Some(5))
        .with_keep_checkpoints(10)
        .with_out_dir(Some(dir.display().to_string()))
        .with_progress(false);
    let initial = model::<B>(&device);
    let _ = parameters(&initial);
    let sampler = MemoryQueueSampler::<B>::new(40).unwrap();
    let mut straight = Trainer::new(config.clone(), initial, sampler.clone(), device).unwrap();
    let summary = straight.fit(&data()).unwrap();
    assert!(summary.history.iter().all(|r| r.loss.is_finite()));
    assert_eq!(summary.history[2].bound, BoundKind::StaleCandidates);
    // Step 10: the queue is full (40 of 32-row batches) and has wrapped.
    let mid = dir.join("checkpoints/step-000000010.ckpt");
    let saved = Checkpoint::read(&mid).unwrap();
    let mut probe = MemoryQueueSampler::<B>::new(40).unwrap();
    NegativeSampler::<B>::load_state_bytes(&mut probe, &saved_sampler_bytes(&saved), &device)
        .unwrap();
    assert_eq!(probe.len(), 40);
    // One trainer per output folder: the first lets go before the second resumes there.
    let a = parameters(straight.model());
    drop(straight);
    let mut resumed = Trainer::resume(config, model::<B>(&device), sampler, device, &mid).unwrap();
    resumed.fit(&data()).unwrap();
    let b = parameters(resumed.model());
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "parameters differ after resuming with a queue"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn saved_sampler_bytes(checkpoint: &Checkpoint) -> Vec<u8> {
    checkpoint.sampler_record().to_vec()
}

/// Records what happened, in order.
type Events = std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>;

struct RecordingSource(Events);

impl<B: burn::tensor::backend::Backend> CandidateSource<B> for RecordingSource {
    fn columns(
        &mut self,
        _set: &CandidateSet<B>,
    ) -> infonce::Result<Option<infonce::sampler::ColumnBlock<B>>> {
        self.0.lock().unwrap().push("candidates");
        Ok(None)
    }
    fn after_step(&mut self, _detached: &Embeddings<B>) -> infonce::Result<()> {
        self.0.lock().unwrap().push("enqueue");
        Ok(())
    }
}

struct RecordingObjective(Events);

impl<B: burn::tensor::backend::Backend> infonce::objective::Objective<B> for RecordingObjective {
    fn loss(
        &self,
        s: Tensor<B, 2>,
        set: &CandidateSet<B>,
    ) -> infonce::Result<infonce::loss::LossOutput<B>> {
        self.0.lock().unwrap().push("loss");
        info_nce_with_masks(s, &set.positives, set.valid.as_ref())
    }
}

/// The trainer enqueues after the loss: the first step's loss sees an empty queue (32
/// candidates), the second the first batch's 32 samples too; and the hooks run in the order
/// candidates → loss → enqueue. Enqueueing before the loss (PML #24) fails both.
#[test]
fn trainer_enqueues_after_the_loss() {
    type B = infonce::backend::NdArrayAutodiff;
    use infonce::trainer::{BatchSource, StepContext};
    let device = Default::default();
    let config = TrainerConfig::new().with_progress(false);
    let sampler = MemoryQueueSampler::<B>::new(1000).unwrap();
    let mut trainer = Trainer::new(config.clone(), model::<B>(&device), sampler, device).unwrap();
    let source = data();
    let ctx = |step| StepContext {
        seed: 1,
        step,
        epoch: 0,
        index_in_epoch: step,
    };
    let first = trainer
        .train_step(
            BatchSource::<B>::batch(&source, &ctx(0), &device).unwrap(),
            1e-3,
        )
        .unwrap();
    let second = trainer
        .train_step(
            BatchSource::<B>::batch(&source, &ctx(1), &device).unwrap(),
            1e-3,
        )
        .unwrap();
    assert!((first.log_n - 32f64.ln()).abs() < 1e-6, "{}", first.log_n);
    assert!((second.log_n - 64f64.ln()).abs() < 1e-6, "{}", second.log_n);

    let events = Events::default();
    let sampler =
        CompositeSampler::<B>::new(Layout::InBatch).with_source(RecordingSource(events.clone()));
    let mut trainer = Trainer::new(config, model::<B>(&device), sampler, device)
        .unwrap()
        .with_objective(RecordingObjective(events.clone()));
    for step in 0..2 {
        let batch = BatchSource::<B>::batch(&source, &ctx(step), &device).unwrap();
        trainer.train_step(batch, 1e-3).unwrap();
    }
    let order = ["candidates", "loss", "enqueue"];
    assert_eq!(*events.lock().unwrap(), [order, order].concat());
}
