//! The SimCLR recipe from data to report.

use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;

use super::simclr_eval::{subset, Evaluator};
use super::simclr_report::{ModelSelection, Scores, SimclrReport, VALIDATION_METRIC};
use super::{independent_copy, simclr_model, SimclrConfig, SimclrModel};
use crate::data::augment::AugmentConfig;
use crate::data::{TrainTest, TwoViewImages};
use crate::io::write_json;
use crate::report::plot_training_curves;
use crate::sampler::TwoViewSampler;
use crate::trainer::{materialize_parameters, BestMetric, Checkpoint, Trainer, TrainerConfig};
use crate::Result;

/// Seed offset of the validation split's draw.
const VALIDATION_SEED: u64 = 0x7A1D;

/// Trains SimCLR on `data.train` less a validation split (`validation_fraction`), choosing
/// `best.ckpt` by kNN on that split every `knn_every` epochs; then compares the learned
/// features with the same encoder at its random initialisation (the parameters training
/// started from) and with raw pixels, by kNN and a linear probe on `data.test`. With
/// `out_dir` set, writes `report.json`, `history.json`, `curves.svg` and `checkpoints/`.
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
    data.train.require_non_empty("SimCLR training set")?;
    data.test.require_non_empty("SimCLR test set")?;
    let (train, validation) = data
        .train
        .split_validation(config.validation_fraction, config.seed ^ VALIDATION_SEED)?;
    let mut augment_config = config.augment.clone();
    augment_config.output_size = train.height.min(train.width);
    let channels = train.channels;
    let eval = Evaluator::<B> {
        train: subset(&train, config.eval_train_limit),
        test: subset(&data.test, config.eval_test_limit),
        validation,
        num_classes: train.num_classes.max(data.test.num_classes),
        config,
        device: device.clone(),
    };
    let train = Arc::new(train);
    let source = TwoViewImages::new(
        Arc::clone(&train),
        augment_config.clone(),
        config.batch_size,
    )?;
    let steps_per_epoch = train.len() / config.batch_size;

    // Seed the backend so the initial parameters, too, follow from `seed`.
    B::seed(device, config.seed);
    let model = simclr_model::<B>(config, channels, device)?;
    // The random-initialisation baseline is this very network before training. Burn
    // draws parameters lazily and a clone of an undrawn one draws anew, so draw first.
    materialize_parameters::<B, _>(&model);
    let initial_model = independent_copy(&model, config, channels, device)?;
    let mut trainer = start_or_resume(
        config,
        model,
        steps_per_epoch,
        !eval.validation.is_empty(),
        device,
    )?;
    let summary =
        trainer.fit_with_hook(&source, |model, record| eval.epoch_metrics(model, record))?;

    let measured = evaluate(&eval, trainer.model(), &initial_model, &augment_config)?;
    let report = SimclrReport {
        knn_top1: measured.knn_top1,
        linear_probe_top1: measured.linear_probe_top1,
        alignment: measured.alignment,
        uniformity: measured.uniformity,
        epochs: config.epochs,
        seconds: start.elapsed().as_secs_f64(),
        train_images: train.len(),
        test_images: eval.test.len(),
        num_classes: eval.num_classes,
        final_loss: summary.history.last().map_or(f64::NAN, |r| r.loss),
        model_selection: ModelSelection::from_history(&summary.history, eval.validation.len()),
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
fn start_or_resume<B: AutodiffBackend>(
    config: &SimclrConfig,
    model: SimclrModel<B>,
    steps_per_epoch: usize,
    select: bool,
    device: &B::Device,
) -> Result<Trainer<B, SimclrModel<B>, TwoViewSampler>> {
    let trainer_config = TrainerConfig::new()
        .with_epochs(config.epochs)
        .with_learning_rate(config.learning_rate)
        .with_warmup_steps(steps_per_epoch as u64)
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
        return Trainer::new(trainer_config, model, TwoViewSampler, device.clone());
    };
    let (trainer, skipped) = Trainer::resume_latest(
        trainer_config,
        model,
        TwoViewSampler,
        device.clone(),
        dir,
        true,
    )?;
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

/// The learned encoder against its random initialisation and raw pixels, on the test split.
fn evaluate<B: AutodiffBackend>(
    eval: &Evaluator<'_, B>,
    learned: &SimclrModel<B>,
    initial: &SimclrModel<B>,
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
