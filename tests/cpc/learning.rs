//! CPC learns what the data holds and nothing more: the closed-form optimum on the lazy
//! cycle, a perfect score on a future that copies the past, chance on an independent one,
//! and the latent direction in the context.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use infonce::backend::NdArrayAutodiff;
use infonce::cpc::{
    CpcConfig, CpcModelConfig, CpcReport, MarkovSequences, SequenceBatch, SequenceNegatives,
    SequenceSampler, evaluate_steps,
};
use infonce::trainer::{BatchSource, StepContext, Trainer, TrainerConfig};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rusty_fork::rusty_fork_test;

/// A short run: 32 sequences of 6 steps, K = 2, 200 steps.
fn short(data: MarkovSequences) -> CpcConfig {
    let mut config = CpcConfig {
        data: MarkovSequences {
            batch_size: 32,
            length: 6,
            ..data
        },
        epochs: 2,
        learning_rate: 5e-3,
        progress: false,
        ..CpcConfig::default()
    };
    config.model.steps_ahead = 2;
    config
}

fn train(config: &CpcConfig) -> CpcReport {
    infonce::launch::cpc(infonce::backend::BackendKind::NdArray, config).unwrap()
}

// Runs in its own process (rusty-fork): the assertions hold for the recipe's seed, and
// Burn's backend RNG is process-wide, so tests running beside it in this process would
// draw from it and change the run's initialisation.
rusty_fork_test! {
    #[test]
    fn the_trained_bound_reaches_the_closed_form_optimum() {
        let report = train(&short(MarkovSequences::default()));
        assert!(report.is_bound);
        for step in &report.steps {
            let optimum = step
                .optimal_bound
                .expect("noise-free, one direction, same-step");
            assert!(
                (step.mi_bound - optimum).abs() < 0.05,
                "k = {}: bound {:.4} vs optimum {optimum:.4}",
                step.k,
                step.mi_bound
            );
        }
        let (k1, k2) = (&report.steps[0], &report.steps[1]);
        assert!(
            k1.top1 > k2.top1,
            "top-1 falls with k: {} then {}",
            k1.top1,
            k2.top1
        );
        assert!(
            k2.top1 > 2.0 * k2.chance_top1,
            "top-1 {} vs chance {}",
            k2.top1,
            k2.chance_top1
        );
        assert!((k1.top1 - k1.optimal_top1.unwrap()).abs() < 0.03, "{k1:?}");
    }
}

// In its own process, as above.
rusty_fork_test! {
    #[test]
    fn an_independent_future_stays_at_chance() {
        let report = train(&short(MarkovSequences {
            lambda: 0.0,
            ..MarkovSequences::default()
        }));
        for step in &report.steps {
            assert!(
                step.mi_bound.abs() < 0.05,
                "k = {}: bound {}",
                step.k,
                step.mi_bound
            );
            assert!(
                (step.top1 - step.chance_top1).abs() < 0.01,
                "k = {}: top-1 {}",
                step.k,
                step.top1
            );
        }
    }
}

// In its own process, as above.
rusty_fork_test! {
    #[test]
    fn the_context_reveals_the_latent_direction() {
        let report = train(&CpcConfig {
            probe_batches: 16,
            ..short(MarkovSequences {
                directions: 2,
                lambda: 0.9,
                noise: 0.1,
                length: 8,
                ..MarkovSequences::default()
            })
        });
        assert!(report.steps.iter().all(|s| s.optimal_bound.is_none()));
        let probe = report.probe_top1.expect("two directions are probed");
        assert!(probe > 0.8, "probe accuracy {probe} (chance 0.5)");
    }
}

/// Sequences that repeat one random vector: the future is a copy of the past.
struct Repeating {
    width: usize,
    sequences: usize,
    length: usize,
}

impl<B: Backend> BatchSource<B> for Repeating {
    type Batch = SequenceBatch<B>;

    fn steps_per_epoch(&self) -> usize {
        100
    }

    fn batch(&self, ctx: &StepContext, device: &B::Device) -> infonce::Result<SequenceBatch<B>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(ctx.seed ^ ctx.step.rotate_left(17));
        let mut frames: Vec<f32> = Vec::with_capacity(self.sequences * self.length * self.width);
        for _ in 0..self.sequences {
            let v: Vec<f32> = (0..self.width)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            (0..self.length).for_each(|_| frames.extend(&v));
        }
        let shape = [self.sequences, self.length, self.width];
        Ok(SequenceBatch::new(Tensor::from_data(
            TensorData::new(frames, shape),
            device,
        )))
    }
}

#[test]
fn a_future_that_copies_the_past_is_found_with_a_custom_source() {
    let device = Default::default();
    let source = Repeating {
        width: 8,
        sequences: 32,
        length: 6,
    };
    let model = CpcModelConfig {
        d_input: 8,
        steps_ahead: 2,
        ..CpcModelConfig::default()
    }
    .init::<NdArrayAutodiff>(&device)
    .unwrap();
    // Same-step negatives: in a constant sequence the other steps are the positive itself.
    let sampler = SequenceSampler::new(2, SequenceNegatives::SameStep);
    let config = TrainerConfig {
        epochs: 2,
        learning_rate: 5e-3,
        progress: false,
        ..TrainerConfig::default()
    };
    let mut trainer = Trainer::new(config, model, sampler, device).unwrap();
    trainer.fit(&source).unwrap();
    let metrics = evaluate_steps(
        trainer.model(),
        &mut sampler.clone(),
        &source,
        2,
        10,
        99,
        &device,
    )
    .unwrap();
    for m in metrics {
        assert!(m.top1 > 0.97, "k = {}: top-1 {}", m.k, m.top1);
        assert!(
            m.mi_bound > m.log_n - 0.15,
            "k = {}: bound {} vs log N {}",
            m.k,
            m.mi_bound,
            m.log_n
        );
    }
}
