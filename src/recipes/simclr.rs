//! SimCLR (Chen et al. 2020): two augmented views, a shared ResNet encoder with a
//! projection head, NT-Xent, and evaluation against baselines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::SeedableRng;

use crate::critic::{CosineCritic, CosineCriticConfig};
use crate::data::augment::{augment, AugmentConfig};
use crate::data::{ImageDataset, TrainTest, TwoViewImages};
use crate::encoder::{EncoderWithHead, ProjectionHeadConfig, ResNetEncoder, ResNetEncoderConfig};
use crate::eval::{
    alignment, image_features, knn_accuracy, linear_probe, uniformity, LinearProbeConfig,
};
use crate::io::write_json;
use crate::model::SharedEncoderModel;
use crate::report::plot_training_curves;
use crate::sampler::TwoViewSampler;
use crate::trainer::{materialize_parameters, BestMetric, Checkpoint, Trainer, TrainerConfig};
use crate::{Error, Result};

/// The SimCLR model: ResNet backbone + projection head, shared by both views, cosine critic.
pub type SimclrModel<B> =
    SharedEncoderModel<B, EncoderWithHead<B, ResNetEncoder<B>>, CosineCritic<B>>;

/// Everything a SimCLR run needs besides the data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimclrConfig {
    /// Training epochs.
    pub epochs: usize,
    /// Pairs per batch (2 × batch_size views).
    pub batch_size: usize,
    /// Adam's peak learning rate (warm-up over the first epoch, cosine decay after).
    pub learning_rate: f64,
    /// NT-Xent temperature.
    pub temperature: f64,
    /// Backbone width of the first stage.
    pub width: usize,
    /// Backbone stages.
    pub stages: usize,
    /// Projection head output width.
    pub projection_dim: usize,
    /// The augmentation pipeline (its `output_size` is set to the images' size).
    pub augment: AugmentConfig,
    /// Run kNN every this many epochs (and after the last).
    pub knn_every: usize,
    /// Neighbours of the kNN classifier.
    pub knn_k: usize,
    /// At most this many training images form the kNN memory bank and probe training set.
    pub eval_train_limit: usize,
    /// At most this many test images are classified.
    pub eval_test_limit: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Output directory for `report.json`, `history.json`, `curves.svg` and checkpoints.
    pub out_dir: Option<PathBuf>,
    /// Show the progress bar.
    pub progress: bool,
    /// Continue from the newest usable checkpoint in `out_dir/checkpoints` (falling back
    /// past damaged ones) instead of starting over; a fresh start when there is none.
    pub resume: bool,
}

impl Default for SimclrConfig {
    fn default() -> Self {
        Self {
            epochs: 40,
            batch_size: 64,
            learning_rate: 2e-3,
            temperature: 0.2,
            width: 16,
            stages: 2,
            projection_dim: 64,
            // SimCLR's colour distortion of strength 1 (Appendix A): colour must not be a
            // shortcut for telling images apart.
            augment: AugmentConfig {
                crop_scale: (0.3, 1.0),
                brightness: 0.8,
                contrast: 0.8,
                saturation: 0.8,
                hue: 0.2,
                ..AugmentConfig::default()
            },
            knn_every: 3,
            knn_k: 20,
            eval_train_limit: 5000,
            eval_test_limit: 2000,
            seed: 0,
            out_dir: None,
            progress: true,
            resume: false,
        }
    }
}

impl SimclrConfig {
    /// Checks every field's range (and the augmentation's).
    ///
    /// # Errors
    /// [`Error::InvalidTemperature`] or [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let at_least = |name: &str, v: usize, min: usize| {
            if v < min {
                Err(Error::config(name, format!("must be ≥ {min}, got {v}")))
            } else {
                Ok(())
            }
        };
        at_least("epochs", self.epochs, 1)?;
        at_least("batch_size", self.batch_size, 2)?;
        at_least("width", self.width, 1)?;
        at_least("stages", self.stages, 1)?;
        at_least("projection_dim", self.projection_dim, 1)?;
        at_least("knn_every", self.knn_every, 1)?;
        at_least("knn_k", self.knn_k, 1)?;
        at_least("eval_train_limit", self.eval_train_limit, 1)?;
        at_least("eval_test_limit", self.eval_test_limit, 1)?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::InvalidTemperature(self.temperature));
        }
        self.augment.validate()
    }

    /// The settings a resumed run must share with the checkpoint: every field but
    /// `epochs`, `out_dir`, `progress` and `resume` (stored as the trainer's
    /// `run_settings`, so `--resume` with another temperature or batch size is refused by
    /// name).
    ///
    /// # Errors
    /// [`Error::Json`] if the config cannot be serialised.
    pub fn resume_settings(&self) -> Result<serde_json::Value> {
        let mut value = serde_json::to_value(self).map_err(|source| Error::Json {
            context: "SimCLR config".into(),
            source,
        })?;
        if let Some(fields) = value.as_object_mut() {
            for free in ["epochs", "out_dir", "progress", "resume"] {
                fields.remove(free);
            }
        }
        Ok(value)
    }

    /// Parses and validates a config from JSON text (missing fields take their defaults,
    /// unknown fields are refused); `source` (a file name) prefixes errors.
    ///
    /// # Errors
    /// [`Error::Json`] with serde's message; those of [`SimclrConfig::validate`].
    pub fn from_json(text: &str, source: &str) -> Result<Self> {
        let config: SimclrConfig = serde_json::from_str(text).map_err(|e| Error::Json {
            context: source.to_string(),
            source: e,
        })?;
        config.validate()?;
        Ok(config)
    }
}

/// Top-1 accuracies of one classifier for the three representations.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    /// The trained encoder's features.
    pub learned: f64,
    /// The same network at its random initialisation (the parameters training started from).
    pub random_init: f64,
    /// The raw pixels.
    pub raw_pixels: f64,
}

/// What [`train_simclr`] measured (written as `report.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SimclrReport {
    /// Weighted cosine kNN top-1.
    pub knn_top1: Scores,
    /// Linear probe top-1.
    pub linear_probe_top1: Scores,
    /// Alignment of the learned features on two views of test images (lower is better).
    pub alignment: f64,
    /// Uniformity of the learned features on test images (lower is better).
    pub uniformity: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// Training images, test images, classes.
    pub train_images: usize,
    /// Test images used.
    pub test_images: usize,
    /// Classes.
    pub num_classes: usize,
    /// Final NT-Xent loss (mean over the last epoch).
    pub final_loss: f64,
}

/// Backbone features of `data` through the evaluation-mode model.
fn features<B: AutodiffBackend>(
    model: &SimclrModel<B>,
    data: &ImageDataset,
    device: &B::Device,
) -> Result<(Vec<f32>, usize)>
where
    B::InnerBackend: Backend,
{
    let eval = model.valid();
    image_features::<B::InnerBackend>(data, 256, device, |x| eval.encoder.backbone.forward(x))
}

/// An evenly spread subset of at most `limit` images.
fn subset(data: &ImageDataset, limit: usize) -> ImageDataset {
    if data.len() <= limit {
        return data.clone();
    }
    let step = data.len() as f64 / limit as f64;
    let indices: Vec<usize> = (0..limit).map(|k| (k as f64 * step) as usize).collect();
    data.select(&indices)
}

/// Builds a fresh SimCLR model for images of `channels`.
pub fn simclr_model<B: Backend>(
    config: &SimclrConfig,
    channels: usize,
    device: &B::Device,
) -> Result<SimclrModel<B>> {
    let backbone = ResNetEncoderConfig::new()
        .with_in_channels(channels)
        .with_width(config.width)
        .with_stages(config.stages)
        .init(device)?;
    let head = ProjectionHeadConfig::new(backbone.features())
        .with_d_hidden(backbone.features())
        .with_d_output(config.projection_dim)
        .init(device)?;
    let critic = CosineCriticConfig::new()
        .with_temperature(config.temperature)
        .init(device)?;
    Ok(SharedEncoderModel::new(
        EncoderWithHead::new(backbone, head),
        critic,
    ))
}

/// A copy of `model` that shares nothing with it: a fresh network loaded with `model`'s
/// record. `Clone` is not enough for the random-initialisation baseline: Burn 0.21's
/// batch-norm running statistics (`RunningState`) clone as a shared `Arc<Mutex<..>>`, so a
/// clone's statistics would follow the network that trains.
///
/// # Errors
/// Those of [`simclr_model`].
pub fn independent_copy<B: Backend>(
    model: &SimclrModel<B>,
    config: &SimclrConfig,
    channels: usize,
    device: &B::Device,
) -> Result<SimclrModel<B>> {
    let fresh = simclr_model::<B>(config, channels, device)?;
    Ok(fresh.load_record(model.clone().into_record()))
}

/// Trains SimCLR on `data.train`, evaluating with kNN every `knn_every` epochs, then
/// compares the learned features with the same encoder at its random initialisation (the
/// parameters training started from) and with raw pixels (kNN and linear probe on `data.test`). With `out_dir`
/// set, writes `report.json`, `history.json`, `curves.svg` and `checkpoints/`.
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
    let mut augment_config = config.augment.clone();
    augment_config.output_size = data.train.height.min(data.train.width);
    let channels = data.train.channels;
    let eval_train = subset(&data.train, config.eval_train_limit);
    let eval_test = subset(&data.test, config.eval_test_limit);
    let num_classes = data.train.num_classes.max(data.test.num_classes);
    let train = Arc::new(data.train);
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
    let trainer_config = TrainerConfig::new()
        .with_epochs(config.epochs)
        .with_learning_rate(config.learning_rate)
        .with_warmup_steps(steps_per_epoch as u64)
        .with_seed(config.seed)
        .with_progress(config.progress)
        .with_checkpoint_every(config.out_dir.as_ref().map(|_| steps_per_epoch as u64))
        .with_keep_checkpoints(2)
        .with_keep_best(Some(BestMetric::max("knn_top1")))
        .with_run_settings(Some(config.resume_settings()?))
        .with_out_dir(config.out_dir.as_ref().map(|d| d.display().to_string()));
    let checkpoints = config.out_dir.as_ref().map(|d| d.join("checkpoints"));
    let previous = checkpoints
        .as_deref()
        .filter(|dir| config.resume && Checkpoint::latest_in(dir).is_some());
    let mut trainer = match previous {
        Some(dir) => {
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
            trainer
        }
        None => Trainer::new(trainer_config, model, TwoViewSampler, device.clone())?,
    };
    // Weighted kNN (τ = 0.07, as InstDisc) of test features against train features.
    let knn_on = |train_f: &[f32], test_f: &[f32], dim: usize| -> Result<f64> {
        knn_accuracy(
            train_f,
            &eval_train.labels,
            test_f,
            &eval_test.labels,
            dim,
            num_classes,
            config.knn_k,
            0.07,
        )
    };
    let knn = |model: &SimclrModel<B>| -> Result<f64> {
        let (tr, dim) = features(model, &eval_train, device)?;
        let (te, _) = features(model, &eval_test, device)?;
        knn_on(&tr, &te, dim)
    };
    let summary = trainer.fit_with_hook(&source, |model, record| {
        let mut metrics = BTreeMap::new();
        if (record.epoch as usize).is_multiple_of(config.knn_every)
            || record.epoch as usize == config.epochs
        {
            metrics.insert("knn_top1".to_string(), knn(model)?);
        }
        Ok(metrics)
    })?;

    // Evaluation against the baselines.
    let probe = LinearProbeConfig::default();
    let evaluate = |train_f: &[f32], test_f: &[f32], dim: usize| -> Result<(f64, f64)> {
        Ok((
            knn_on(train_f, test_f, dim)?,
            linear_probe::<B>(
                train_f,
                &eval_train.labels,
                test_f,
                &eval_test.labels,
                dim,
                num_classes,
                probe,
                device,
            )?,
        ))
    };
    let learned_model = trainer.model().clone();
    let (tr, dim) = features(&learned_model, &eval_train, device)?;
    let (te, _) = features(&learned_model, &eval_test, device)?;
    let learned = evaluate(&tr, &te, dim)?;
    let (rtr, rdim) = features(&initial_model, &eval_train, device)?;
    let (rte, _) = features(&initial_model, &eval_test, device)?;
    let random = evaluate(&rtr, &rte, rdim)?;
    let raw = evaluate(&eval_train.pixels, &eval_test.pixels, eval_test.image_len())?;

    // Alignment and uniformity on two views of (at most 512) test images.
    let few = subset(&eval_test, 512);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed ^ 0xA11C);
    let mut view = |img: &[f32]| {
        augment(
            img,
            few.channels,
            few.height,
            few.width,
            &augment_config,
            &mut rng,
        )
    };
    let (mut va, mut vb) = (Vec::new(), Vec::new());
    for i in 0..few.len() {
        va.extend(view(few.image(i)));
        vb.extend(view(few.image(i)));
    }
    let s = augment_config.output_size;
    let as_set = |px: Vec<f32>| {
        ImageDataset::new(few.channels, s, s, px, few.labels.clone(), few.num_classes)
    };
    let (fa, _) = features(&learned_model, &as_set(va)?, device)?;
    let (fb, _) = features(&learned_model, &as_set(vb)?, device)?;
    let (ff, _) = features(&learned_model, &few, device)?;

    let report = SimclrReport {
        knn_top1: Scores {
            learned: learned.0,
            random_init: random.0,
            raw_pixels: raw.0,
        },
        linear_probe_top1: Scores {
            learned: learned.1,
            random_init: random.1,
            raw_pixels: raw.1,
        },
        alignment: alignment(&fa, &fb, dim, 2.0)?,
        uniformity: uniformity(&ff, dim, 2.0)?,
        epochs: config.epochs,
        seconds: start.elapsed().as_secs_f64(),
        train_images: train.len(),
        test_images: eval_test.len(),
        num_classes,
        final_loss: summary.history.last().map_or(f64::NAN, |r| r.loss),
    };
    if let Some(dir) = &config.out_dir {
        write_json(&dir.join("report.json"), &report)?;
        plot_training_curves(&summary.history, &dir.join("curves.svg"))?;
    }
    Ok(report)
}
