//! The memory queue sampler: candidates are the batch then the queue (FIFO, capacity
//! bounded), the loss against hand-built candidate lists, state round trip, exact resume,
//! and refusal of a zero capacity or a width change.

use burn::tensor::backend::AutodiffBackend;
use infonce::critic::DotProductCritic;
use infonce::loss::masked_info_nce;
use infonce::sampler::{Embeddings, MemoryQueueSampler};
use infonce::trainer::{Checkpoint, Trainer, TrainerConfig};
use infonce::{Critic, Error, NegativeSampler};

use super::common::*;
use super::trainer::{data, model, parameters, temp_dir};

fn batch<B: AutodiffBackend>(
    seed: u64,
    n: usize,
    d: usize,
    device: &B::Device,
) -> (Vec<f64>, Vec<f64>, Embeddings<B>) {
    let c = random_vec(n * d, 1.0, seed);
    let x = random_vec(n * d, 1.0, seed + 1000);
    let e = Embeddings::new(
        tensor2::<B>(&c, n, d, device),
        tensor2::<B>(&x, n, d, device),
    );
    (c, x, e)
}

fn queue_is_fifo_bounded_and_scored_as_negatives<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, capacity) = (4, 3, 6);
    let mut sampler = MemoryQueueSampler::<B>::new(capacity).unwrap();
    let mut history: Vec<Vec<f64>> = Vec::new(); // every sample row enqueued, oldest first
    for step in 0..3u64 {
        let (c, x, e) = batch::<B>(10 + step, n, d, device);
        let set = sampler.candidates(e.clone()).unwrap();
        let queued: Vec<Vec<f64>> = history
            .iter()
            .skip(history.len().saturating_sub(capacity))
            .cloned()
            .collect();
        let m = n + queued.len();
        assert_eq!(set.candidates.dims(), [m, d], "step {step}");
        assert_eq!(set.positives.single_indices(), Some(vec![0, 1, 2, 3]));
        assert!(set.valid.is_none());
        // The queue's columns are the queued rows, oldest first.
        let got = values(set.candidates.clone());
        assert_close(
            &got[n * d..],
            &queued.concat(),
            0.0,
            1e-6,
            &format!("queued rows at step {step}"),
        );
        // The loss against hand-built lists: positive, the other samples, the queue.
        let xs: Vec<Vec<f64>> = x.chunks(d).map(<[f64]>::to_vec).collect();
        let want: f64 = (0..n)
            .map(|i| {
                let ci = &c[i * d..(i + 1) * d];
                let s: Vec<f64> = std::iter::once(&xs[i])
                    .chain((0..n).filter(|&j| j != i).map(|j| &xs[j]))
                    .chain(queued.iter())
                    .map(|v| v.iter().zip(ci).map(|(a, b)| a * b).sum())
                    .collect();
                logsumexp(&s) - s[0]
            })
            .sum::<f64>()
            / n as f64;
        let scores = DotProductCritic::<B>::new().log_scores(set.context, set.candidates);
        let got = masked_info_nce(scores, &set.positives, set.valid.as_ref())
            .unwrap()
            .stats();
        assert_close(
            &[got.loss],
            &[want],
            1e-5,
            1e-5,
            &format!("loss at step {step}"),
        );
        assert!((got.log_n - (m as f64).ln()).abs() < 1e-12);
        sampler.after_step(&e.detach()).unwrap();
        history.extend(xs);
        assert_eq!(sampler.len(), history.len().min(capacity));
    }

    // State round trip: a fresh sampler restored from the state gives the same candidates.
    let mut restored = MemoryQueueSampler::<B>::new(capacity).unwrap();
    restored.load_state(sampler.state()).unwrap();
    let (_, _, e) = batch::<B>(99, n, d, device);
    let a = values(sampler.candidates(e.clone()).unwrap().candidates);
    let b = values(restored.candidates(e).unwrap().candidates);
    assert_eq!(a, b);
    // A state of another capacity does not fit.
    let mut other = MemoryQueueSampler::<B>::new(capacity + 1).unwrap();
    assert!(matches!(
        other.load_state(sampler.state()),
        Err(Error::InvalidConfig { .. })
    ));
}

fn queue_refuses_bad_input<B: AutodiffBackend>(device: &B::Device) {
    match MemoryQueueSampler::<B>::new(0) {
        Err(Error::InvalidConfig { name, .. }) => assert_eq!(name, "queue capacity"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let mut sampler = MemoryQueueSampler::<B>::new(8).unwrap();
    let (_, _, one) = batch::<B>(1, 1, 3, device);
    assert!(matches!(
        sampler.candidates(one.clone()),
        Err(Error::TooFewCandidates { .. })
    ));
    // Once something is queued, a batch of one has negatives.
    sampler.after_step(&batch::<B>(2, 4, 3, device).2).unwrap();
    assert_eq!(sampler.candidates(one).unwrap().candidates.dims(), [5, 3]);
    // The embedding width cannot change under a filled queue.
    let (_, _, wider) = batch::<B>(3, 4, 5, device);
    assert!(matches!(
        sampler.candidates(wider.clone()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        sampler.after_step(&wider),
        Err(Error::ShapeMismatch { .. })
    ));
}

backend_tests!(
    queue_is_fifo_bounded_and_scored_as_negatives,
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
    // Step 10: the queue is full (40 of 32-row batches) and has wrapped.
    let mid = dir.join("checkpoints/step-000000010.ckpt");
    let saved = Checkpoint::read(&mid).unwrap();
    assert_eq!(saved.meta.sampler_state["rows"], 40);
    assert!(
        (summary.history[2].log_n - 72f64.ln()).abs() < 1e-9,
        "32 in-batch + 40 queued candidates: {}",
        summary.history[2].log_n
    );
    let mut resumed = Trainer::resume(config, model::<B>(&device), sampler, device, &mid).unwrap();
    resumed.fit(&data()).unwrap();
    let (a, b) = (parameters(straight.model()), parameters(resumed.model()));
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "parameters differ after resuming with a queue"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
