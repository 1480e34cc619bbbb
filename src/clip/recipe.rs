//! The CLIP-style recipe: settings, training, evaluation, report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;

use super::evaluate::{embed_split, recall_at, zero_shot_top1};
use super::{CaptionPairs, ClipReport, DirectionScores, TemperatureTrajectory, clip_model};
use crate::data::{CaptionedImages, CaptionedSplits};
use crate::io::write_json;
use crate::objective::ObjectiveKind;
use crate::report::plot_training_curves;
use crate::sampler::InBatchSampler;
use crate::trainer::{BatchSource, Trainer, TrainerConfig, materialize_parameters};
use crate::{Error, Result};

/// The per-epoch metric that records the critic's temperature.
pub const TEMPERATURE_METRIC: &str = "temperature";

/// Everything a CLIP-style run needs besides the data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipConfig {
    /// Training epochs.
    pub epochs: usize,
    /// Image–caption pairs per batch (the in-batch candidates of each side).
    pub batch_size: usize,
    /// Adam's peak learning rate (warm-up over the first epoch, cosine decay after).
    pub learning_rate: f64,
    /// The temperature τ the learnable scale starts from (CLIP: 0.07).
    pub initial_temperature: f64,
    /// The clamp on the scale 1/τ (CLIP: 100); τ stays in `[1/max_scale, 1]`.
    pub max_scale: f64,
    /// Image backbone width of the first stage.
    pub width: usize,
    /// Image backbone stages.
    pub stages: usize,
    /// Width of the shared embedding space.
    pub embed_dim: usize,
    /// Probability of blanking each caption slot but the shape's during training.
    pub caption_dropout: f64,
    /// Seed of every random choice. Burn's backend random generator (parameter
    /// initialisation, `Tensor::random`) is process-wide: the seed reproduces a run when no
    /// other thread of the process draws from it meanwhile.
    pub seed: u64,
    /// Output directory for `report.json`, `history.json` and `curves.svg`.
    pub out_dir: Option<PathBuf>,
    /// Show the progress bar.
    pub progress: bool,
}

impl Default for ClipConfig {
    fn default() -> Self {
        Self {
            epochs: 20,
            batch_size: 128,
            learning_rate: 2e-3,
            initial_temperature: 0.07,
            max_scale: 100.0,
            width: 16,
            stages: 2,
            embed_dim: 64,
            caption_dropout: 0.7,
            seed: 0,
            out_dir: None,
            progress: true,
        }
    }
}

impl ClipConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field; [`Error::InvalidTemperature`].
    pub fn validate(&self) -> Result<()> {
        for (name, v, min) in [
            ("epochs", self.epochs, 1),
            ("batch_size", self.batch_size, 2),
            ("width", self.width, 1),
            ("stages", self.stages, 1),
            ("embed_dim", self.embed_dim, 1),
        ] {
            if v < min {
                return Err(Error::config(name, format!("must be ≥ {min}, got {v}")));
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        if !(self.max_scale.is_finite() && self.max_scale >= 1.0) {
            return Err(Error::config(
                "max_scale",
                format!("must be finite and ≥ 1, got {}", self.max_scale),
            ));
        }
        let t = self.initial_temperature;
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::InvalidTemperature(t));
        }
        if !(1.0 / self.max_scale..=1.0).contains(&t) {
            return Err(Error::config(
                "initial_temperature",
                format!(
                    "must lie in [1/max_scale, 1] = [{}, 1], got {t}",
                    1.0 / self.max_scale
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.caption_dropout) {
            return Err(Error::config(
                "caption_dropout",
                format!("must lie in [0, 1], got {}", self.caption_dropout),
            ));
        }
        Ok(())
    }
}

/// Trains image and caption towers with CLIP's symmetric objective (Radford et al. 2021)
/// and a learnable temperature, then reports zero-shot classification of the test images
/// from one prompt per class (the bare shape name), image→text and text→image recall@1 and
/// @5 on the test pairs, and the temperature's trajectory. With `out_dir` set, writes
/// `report.json`, `history.json` (the temperature is an epoch metric) and `curves.svg`.
///
/// # Errors
/// Invalid settings, empty splits, training errors, write failures.
pub fn train_clip<B: AutodiffBackend>(
    config: &ClipConfig,
    data: CaptionedSplits,
    device: &B::Device,
) -> Result<ClipReport> {
    let start = Instant::now();
    config.validate()?;
    data.test.images.require_non_empty("CLIP test set")?;
    let num_classes = data
        .train
        .images
        .num_classes
        .max(data.test.images.num_classes);
    let channels = data.train.images.channels;
    let source = CaptionPairs::new(
        Arc::new(data.train),
        config.batch_size,
        config.caption_dropout,
    )?;
    B::seed(device, config.seed);
    let model = clip_model::<B>(config, channels, device)?;
    materialize_parameters::<B, _>(&model);
    let start_temperature = model.critic.temperature();
    let trainer_config = TrainerConfig::new()
        .with_epochs(config.epochs)
        .with_learning_rate(config.learning_rate)
        .with_warmup_steps(BatchSource::<B>::steps_per_epoch(&source) as u64)
        .with_objective(ObjectiveKind::Symmetric)
        .with_seed(config.seed)
        .with_progress(config.progress)
        .with_out_dir(config.out_dir.as_ref().map(|d| d.display().to_string()));
    let mut trainer = Trainer::new(trainer_config, model, InBatchSampler, device.clone())?;
    let summary = trainer.fit_with_hook(&source, |model, _| {
        Ok(BTreeMap::from([(
            TEMPERATURE_METRIC.to_string(),
            model.critic.temperature(),
        )]))
    })?;
    let report = measure(trainer.model(), &data.test, num_classes, device)?;
    let report = ClipReport {
        temperature: TemperatureTrajectory {
            start: start_temperature,
            end: trainer.model().critic.temperature(),
        },
        epochs: config.epochs,
        seconds: start.elapsed().as_secs_f64(),
        final_loss: summary.history.last().map_or(f64::NAN, |r| r.loss),
        ..report
    };
    if let Some(dir) = &config.out_dir {
        write_json(&dir.join("report.json"), &report)?;
        plot_training_curves(&summary.history, &dir.join("curves.svg"))?;
    }
    Ok(report)
}

/// Zero-shot top-1 and recall on the test pairs (training fields left at defaults).
fn measure<B: AutodiffBackend>(
    model: &super::ClipModel<B>,
    test: &CaptionedImages,
    num_classes: usize,
    device: &B::Device,
) -> Result<ClipReport> {
    let e = embed_split(model, test, num_classes, device)?;
    let labels = &test.images.labels;
    let recall = |k| DirectionScores {
        image_to_text: recall_at(&e.images, &e.captions, e.dim, k),
        text_to_image: recall_at(&e.captions, &e.images, e.dim, k),
    };
    Ok(ClipReport {
        zero_shot_top1: zero_shot_top1(&e, labels),
        chance: majority_share(labels, num_classes),
        recall_at_1: recall(1),
        recall_at_5: recall(5),
        test_pairs: labels.len(),
        ..ClipReport::default()
    })
}

/// The share of the most frequent class: the best a constant guess can do.
fn majority_share(labels: &[usize], num_classes: usize) -> f64 {
    let mut counts = vec![0usize; num_classes.max(1)];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    counts.into_iter().max().unwrap_or(0) as f64 / labels.len().max(1) as f64
}
