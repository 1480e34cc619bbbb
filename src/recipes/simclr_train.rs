//! The image recipe from data to report, for every [`Method`].

use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;

use super::method::Method;
use super::simclr_eval::{Evaluator, subset};
use super::simclr_report::{ModelSelection, Scores, SimclrReport, VALIDATION_METRIC};
use super::{ImageMethodModel, SimclrConfig, image_backbone, moco_model, simclr_model};
use crate::data::augment::AugmentConfig;
use crate::data::{TrainTest, TwoViewImages};
use crate::encoder::ResNetEncoder;
use crate::io::write_json;
use crate::model::independent_copy;
use crate::report::plot_training_curves;
use crate::sampler::{MemoryQueueSampler, TwoViewSampler};
use crate::trainer::{
    BestMetric, Checkpoint, EpochRecord, Trainer, TrainerConfig, materialize_parameters,
};
use crate::{NegativeSampler, Result};

/// Seed offset of the validation split's draw.
const VALIDATION_SEED: u64 = 0x7A1D;

/// Trains the configured method ([`SimclrConfig::method`]: SimCLR, MoCo v2, SupCon, ...) on
/// `data.train` less a validation split (`validation_fraction`), choosing `best.ckpt` by
/// kNN on that split every `knn_every` epochs; then compares the learned backbone features
/// with the same backbone at its random initialisation (the parameters training started
/// from) and with raw pixels, by kNN and a linear probe on `data.test`. With `out_dir` set,
/// writes `report.json`, `history.json`, `curves.svg` and `checkpoints/`.
///
/// # Errors
/// Invalid settings, empty datasets, training errors, write failures.
pub fn train_simclr<B: AutodiffBackend>(
    config: &SimclrConfig,
    data: TrainTest,
    device: &B::Device,
) -> Result<SimclrReport> {
    let start = Instant::now();
    config.validate()?;
    let prepared = Prepared::new(config, data, device)?;
    let channels = prepared.channels;
    match config.method {
        Method::Moco(settings) => {
            let total = (prepared.steps_per_epoch * config.epochs) as u64;
            let sampler = MemoryQueueSampler::new(settings.queue_size)?;
            let model = || moco_model::<B>(config, &settings, channels, total, device);
            run(config, prepared, model, sampler, start)
        }
        _ => {
            let model = || simclr_model::<B>(config, channels, device);
            run(config, prepared, model, TwoViewSampler, start)
        }
    }
}

/// The data side of a run: the training source, the evaluation sets.
struct Prepared<'a, B: AutodiffBackend> {
    eval: Evaluator<'a, B>,
    source: TwoViewImages,
    augment_config: AugmentConfig,
    channels: usize,
    steps_per_epoch: usize,
    train_images: usize,
}

impl<'a, B: AutodiffBackend> Prepared<'a, B> {
    fn new(config: &'a SimclrConfig, data: TrainTest, device: &B::Device) -> Result<Self> {
        data.train.require_non_empty("training set")?;
        data.test.require_non_empty("test set")?;
        let (train, validation) = data
            .train
            .split_validation(config.validation_fraction, config.seed ^ VALIDATION_SEED)?;
        let mut augment_config = config.augment.clone();
        augment_config.output_size = train.height.min(train.width);
        let eval = Evaluator::<B> {
            train: subset(&train, config.eval_train_limit),
            test: subset(&data.test, config.eval_test_limit),
            validation,
            num_classes: train.num_classes.max(data.test.num_classes),
            config,
            device: device.clone(),
        };
        let (train_images, channels) = (train.len(), train.channels);
        let source =
            TwoViewImages::new(Arc::new(train), augment_config.clone(), config.batch_size)?;
        Ok(Self {
            eval,
            source,
            augment_config,
            channels,
            steps_per_epoch: train_images / config.batch_size,
            train_images,
        })
    }
}

/// Builds the model (seeded), trains it with `sampler` and the method's objective, and
/// evaluates it against its own initial backbone.
fn run<B, M, S>(
    config: &SimclrConfig,
    p: Prepared<'_, B>,
    build: impl FnOnce() -> Result<M>,
    sampler: S,
    start: Instant,
) -> Result<SimclrReport>
where
    B: AutodiffBackend,
    M: ImageMethodModel<B>,
    S: NegativeSampler<B> + Clone,
{
    let device = &p.eval.device;
    // Seed the backend so the initial parameters, too, follow from `seed`.
    B::seed(device, config.seed);
    let model = build()?;
    // The random-initialisation baseline is this very backbone before training, copied
    // through a record (a clone would share its batch-norm statistics).
    materialize_parameters::<B, _>(&model);
    let fresh = image_backbone::<B>(config, p.channels, device)?;
    let initial = independent_copy(model.backbone(), fresh)?;
    let select = !p.eval.validation.is_empty();
    let mut trainer = start_or_resume(config, model, sampler, p.steps_per_epoch, select, device)?;
    let hook = |model: &M, record: &EpochRecord| p.eval.epoch_metrics(model.backbone(), record);
    let summary = match config.grad_cache_chunk {
        Some(chunk) => trainer.fit_with_hook_cached(&p.source, chunk, hook)?,
        None => trainer.fit_with_hook(&p.source, hook)?,
    };
    let measured = evaluate(
        &p.eval,
        trainer.model().backbone(),
        &initial,
        &p.augment_config,
    )?;
    let report = SimclrReport {
        method: config.method.name().to_string(),
        knn_top1: measured.knn_top1,
        linear_probe_top1: measured.linear_probe_top1,
        alignment: measured.alignment,
        uniformity: measured.uniformity,
        epochs: config.epochs,
        seconds: start.elapsed().as_secs_f64(),
        train_images: p.train_images,
        test_images: p.eval.test.len(),
        num_classes: p.eval.num_classes,
        final_loss: summary.history.last().map_or(f64::NAN, |r| r.loss),
        model_selection: ModelSelection::from_history(&summary.history, p.eval.validation.len()),
    };
    if let Some(dir) = &config.out_dir {
        write_json(&dir.join("report.json"), &report)?;
        plot_training_curves(&summary.history, &dir.join("curves.svg"))?;
    }
    Ok(report)
}

/// A trainer for `model`: resumed from the newest usable checkpoint when `config.resume`
/// finds one, fresh otherwise. `best.ckpt` follows the validation kNN when there is a
/// validation split.
fn start_or_resume<B, M, S>(
    config: &SimclrConfig,
    model: M,
    sampler: S,
    steps_per_epoch: usize,
    select: bool,
    device: &B::Device,
) -> Result<Trainer<B, M, S>>
where
    B: AutodiffBackend,
    M: ImageMethodModel<B>,
    S: NegativeSampler<B> + Clone,
{
    let trainer_config = TrainerConfig::new()
        .with_epochs(config.epochs)
        .with_learning_rate(config.learning_rate)
        .with_warmup_steps(steps_per_epoch as u64)
        .with_objective(config.method.objective(config.temperature))
        .with_seed(config.seed)
        .with_progress(config.progress)
        .with_checkpoint_every(config.out_dir.as_ref().map(|_| steps_per_epoch as u64))
        .with_keep_checkpoints(2)
        .with_keep_best(select.then(|| BestMetric::max(VALIDATION_METRIC)))
        .with_run_settings(Some(config.resume_settings()?))
        .with_out_dir(config.out_dir.as_ref().map(|d| d.display().to_string()));
    let checkpoints = config.out_dir.as_ref().map(|d| d.join("checkpoints"));
    let previous = checkpoints
        .as_deref()
        .filter(|dir| config.resume && Checkpoint::latest_in(dir).is_some());
    let Some(dir) = previous else {
        return Trainer::new(trainer_config, model, sampler, device.clone());
    };
    let (trainer, skipped) =
        Trainer::resume_latest(trainer_config, model, sampler, device.clone(), dir, true)?;
    for e in skipped {
        eprintln!("skipped a checkpoint that cannot be used: {e}");
    }
    Ok(trainer)
}

/// The test-split measurements of a run.
struct Measured {
    knn_top1: Scores,
    linear_probe_top1: Scores,
    alignment: f64,
    uniformity: f64,
}

/// The learned backbone against its random initialisation and raw pixels, on the test split.
fn evaluate<B: AutodiffBackend>(
    eval: &Evaluator<'_, B>,
    learned: &ResNetEncoder<B>,
    initial: &ResNetEncoder<B>,
    augment_config: &AugmentConfig,
) -> Result<Measured> {
    let learned_scores = eval.model_scores(learned)?;
    let random = eval.model_scores(initial)?;
    let raw = eval.test_scores(&eval.train.pixels, &eval.test.pixels, eval.test.image_len())?;
    let (alignment, uniformity) = eval.alignment_uniformity(learned, augment_config)?;
    let scores = |pick: fn((f64, f64)) -> f64| Scores {
        learned: pick(learned_scores),
        random_init: pick(random),
        raw_pixels: pick(raw),
    };
    Ok(Measured {
        knn_top1: scores(|s| s.0),
        linear_probe_top1: scores(|s| s.1),
        alignment,
        uniformity,
    })
}
