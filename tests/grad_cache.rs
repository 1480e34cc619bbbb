//! Gradient caching (`Trainer::train_step_cached`, `fit_cached`, the SimCLR recipe's
//! `grad_cache_chunk`): a step whose encoder sees a chunk of the batch at a time has the
//! plain step's gradients, for every objective, both model shapes and explicit negatives;
//! the epoch loop and the recipe take such steps; bad chunks are typed errors.

use burn::module::AutodiffModule;

use crate::common::small_models::{
    B, Batch, D_IN, OBJECTIVES, flat_params, shared_model, two_tower_model,
};
use crate::common::{assert_close, random_vec, tensor2};
use infonce::model::{NegativeLayout, PairBatch};
use infonce::objective::ObjectiveKind;
use infonce::sampler::{ExplicitNegativeSampler, InBatchSampler, RowIds, TwoViewSampler};
use infonce::trainer::{OptimizerKind, Trainer, TrainerConfig, materialize_parameters};
use infonce::{ContrastiveModel, Error, NegativeSampler};
use rusty_fork::rusty_fork_test;

/// `n` noisy pairs, labels in 3 classes, with `k` paired negatives each when `k > 0`.
fn batch(n: usize, k: usize, seed: u64) -> Batch {
    let device = Default::default();
    let x = random_vec(n * D_IN, 1.0, seed);
    let noise = random_vec(n * D_IN, 0.3, seed + 1);
    let y: Vec<f64> = x.iter().zip(&noise).map(|(a, b)| a + b).collect();
    let ids = RowIds::default()
        .with_instance((0..n as i64).collect())
        .with_label((0..n as i64).map(|i| i % 3).collect());
    let mut b = PairBatch::new(
        tensor2::<B>(&x, n, D_IN, &device),
        tensor2::<B>(&y, n, D_IN, &device),
    )
    .with_ids(ids);
    if k > 0 {
        let negatives = tensor2::<B>(
            &random_vec(n * k * D_IN, 1.0, seed + 2),
            n * k,
            D_IN,
            &device,
        );
        b.negatives = Some((negatives, NegativeLayout::Paired { k }));
    }
    b
}

/// SGD at learning rate 1 without momentum: one step moves each parameter by its gradient.
fn one_step_config(objective: ObjectiveKind) -> TrainerConfig {
    TrainerConfig {
        optimizer: OptimizerKind::Sgd,
        momentum: 0.0,
        cosine_decay: false,
        objective,
        progress: false,
        ..TrainerConfig::default()
    }
}

/// The parameters after one plain step and after one cached step with `chunk`, and the
/// two losses.
fn plain_and_cached<M, S>(
    model: M,
    sampler: impl Fn() -> S,
    objective: ObjectiveKind,
    batch: Batch,
    chunk: usize,
) -> ((Vec<f64>, f64), (Vec<f64>, f64))
where
    M: ContrastiveModel<B, Batch = Batch> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    materialize_parameters::<B, _>(&model);
    let device = Default::default();
    let config = one_step_config(objective);
    let mut plain = Trainer::new(config.clone(), model.clone(), sampler(), device).unwrap();
    let plain_loss = plain.train_step(batch.clone(), 1.0).unwrap().loss;
    let mut cached = Trainer::new(config, model, sampler(), Default::default()).unwrap();
    let cached_loss = cached.train_step_cached(batch, chunk, 1.0).unwrap().loss;
    (
        (flat_params(plain.model()), plain_loss),
        (flat_params(cached.model()), cached_loss),
    )
}

fn assert_same_step(got: ((Vec<f64>, f64), (Vec<f64>, f64)), what: &str) {
    let ((plain, plain_loss), (cached, cached_loss)) = got;
    assert!((plain_loss - cached_loss).abs() <= 1e-6, "{what}: loss");
    assert_close(&cached, &plain, 1e-5, 0.0, what);
}

/// Every built-in objective on a shared encoder (two views) and on two towers (in-batch),
/// chunks of 1, 3 (uneven: 3 + 3 + 2) and the whole batch.
#[test]
fn cached_steps_have_the_plain_gradients() {
    for name in OBJECTIVES {
        let objective: ObjectiveKind = name.parse().unwrap();
        for chunk in [1, 3, 8] {
            let what = format!("{name}, chunk {chunk}");
            let got = plain_and_cached(
                shared_model(),
                || TwoViewSampler,
                objective,
                batch(8, 0, 3),
                chunk,
            );
            assert_same_step(got, &format!("shared encoder, {what}"));
            let got = plain_and_cached(
                two_tower_model(),
                || InBatchSampler,
                objective,
                batch(8, 0, 5),
                chunk,
            );
            assert_same_step(got, &format!("two towers, {what}"));
        }
    }
}

/// Paired explicit negatives travel with their contexts' chunks.
#[test]
fn cached_steps_carry_paired_negatives() {
    let got = plain_and_cached(
        shared_model(),
        || ExplicitNegativeSampler,
        ObjectiveKind::InfoNce,
        batch(6, 2, 7),
        4,
    );
    assert_same_step(got, "explicit paired negatives, chunk 4");
}

/// A chunk of 0, negatives shared by every context, and ids of the wrong length are typed
/// errors, and the model is left as it was.
#[test]
fn bad_chunks_are_typed_errors() {
    let model = shared_model();
    materialize_parameters::<B, _>(&model);
    let before = flat_params(&model);
    let config = one_step_config(ObjectiveKind::InfoNce);
    let mut trainer = Trainer::new(config, model, TwoViewSampler, Default::default()).unwrap();
    let err = trainer.train_step_cached(batch(4, 0, 1), 0, 1.0);
    assert!(matches!(err, Err(Error::InvalidConfig { .. })), "{err:?}");
    let mut shared = batch(4, 0, 1);
    shared.negatives = Some((batch(3, 0, 2).context, NegativeLayout::Unpaired));
    let err = trainer.train_step_cached(shared, 2, 1.0);
    assert!(matches!(err, Err(Error::InvalidConfig { .. })), "{err:?}");
    let short_ids = batch(4, 0, 1).with_ids(RowIds::default().with_instance(vec![0, 1]));
    let err = trainer.train_step_cached(short_ids, 2, 1.0);
    assert!(matches!(err, Err(Error::ShapeMismatch { .. })), "{err:?}");
    assert_eq!(flat_params(trainer.model()), before);
}

/// `fit_cached` runs the epoch loop (windowed read-backs, several epochs) with cached
/// steps: on a model without batch norm it trains like `fit`.
#[test]
fn fit_cached_trains_like_fit() {
    use infonce::data::CorrelatedGaussian;
    let data = CorrelatedGaussian::new(D_IN, 0.8, 12, 3).unwrap();
    let model = shared_model();
    materialize_parameters::<B, _>(&model);
    let config = TrainerConfig::new().with_epochs(2).with_progress(false);
    let mut plain = Trainer::new(
        config.clone(),
        model.clone(),
        TwoViewSampler,
        Default::default(),
    )
    .unwrap();
    let plain_summary = plain.fit(&data).unwrap();
    let mut cached = Trainer::new(config, model, TwoViewSampler, Default::default()).unwrap();
    let cached_summary = cached.fit_cached(&data, 5).unwrap();
    assert_eq!(cached_summary.steps, 6);
    assert_eq!(cached_summary.history.len(), 2);
    // The two runs add the same f32 terms in other orders (chunks; and Burn's reductions
    // split over the shared rayon pool as its load allows): epoch means of about 2.9 were
    // seen 1.5e-5 apart with other tests running.
    for (p, c) in plain_summary.history.iter().zip(&cached_summary.history) {
        assert!(
            (p.loss - c.loss).abs() < 5e-5,
            "epoch {}: {} vs {}",
            p.epoch,
            p.loss,
            c.loss
        );
    }
    assert_close(
        &flat_params(cached.model()),
        &flat_params(plain.model()),
        1e-5,
        0.0,
        "parameters after fit_cached vs fit",
    );
    let err = cached.fit_cached(&data, 0);
    assert!(
        matches!(err, Err(Error::InvalidConfig { ref name, .. }) if name == "grad_cache_chunk")
    );
}

// Runs in its own process (rusty-fork): the assertions hold for the recipe's seed, and
// Burn's backend RNG is process-wide, so tests running beside it in this process would
// draw from it and change the run's initialisation.
rusty_fork_test! {
    /// The SimCLR recipe with `grad_cache_chunk`: a chunk of the whole batch trains as the
    /// plain step does; smaller chunks change what the ResNet's batch norm sees (each chunk is
    /// normalised on its own), so the losses move; a chunk of 0 is refused before training.
    #[test]
    fn the_simclr_recipe_takes_cached_steps() {
        use infonce::backend::BackendKind;
        use infonce::recipes::SimclrConfig;
        let run = |chunk: Option<usize>| {
            let config = SimclrConfig {
                epochs: 2,
                batch_size: 8,
                width: 4,
                stages: 1,
                knn_every: 2,
                eval_train_limit: 16,
                eval_test_limit: 8,
                validation_fraction: 0.0,
                progress: false,
                grad_cache_chunk: chunk,
                ..SimclrConfig::default()
            };
            let data = infonce::data::synthetic_shapes(32, 8, 8, 0).unwrap();
            infonce::launch::simclr(BackendKind::NdArray, &config, data)
        };
        let plain = run(None).unwrap().final_loss;
        let whole = run(Some(8)).unwrap().final_loss;
        let chunked = run(Some(2)).unwrap().final_loss;
        assert!((plain - whole).abs() < 1e-4, "{plain} vs {whole}");
        assert!((plain - chunked).abs() > 1e-3, "{plain} vs {chunked}");
        let err = run(Some(0));
        assert!(
            matches!(err, Err(Error::InvalidConfig { ref name, .. }) if name == "grad_cache_chunk")
        );
    }
}
