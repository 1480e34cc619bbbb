//! The image recipe's settings and models: SimCLR (Chen et al. 2020), a shared ResNet
//! encoder with a projection head and a cosine critic (NT-Xent over two augmented views),
//! and MoCo v2 (He et al. 2020; Chen et al. 2020), the same encoder as an online/momentum
//! pair.

use std::path::PathBuf;

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::method::{Method, MocoSettings};

use crate::critic::{CosineCritic, CosineCriticConfig};
use crate::data::augment::AugmentConfig;
use crate::encoder::{EncoderWithHead, ProjectionHeadConfig, ResNetEncoder, ResNetEncoderConfig};
use crate::model::{MomentumEncoderModel, MomentumSchedule, PairBatch, SharedEncoderModel};
use crate::{ContrastiveModel, Error, Result};

/// The SimCLR model: ResNet backbone + projection head, shared by both views, cosine critic.
pub type SimclrModel<B> = SharedEncoderModel<B, ImageEncoder<B>, CosineCritic<B>>;

/// The MoCo v2 model: the same encoder as online (queries) and momentum (keys) copies.
pub type MocoModel<B> = MomentumEncoderModel<B, ImageEncoder<B>, CosineCritic<B>>;

/// The recipe's encoder: ResNet backbone + projection head.
pub type ImageEncoder<B> = EncoderWithHead<B, ResNetEncoder<B>>;

/// A model the image recipe can train and evaluate: it reads two-view image batches and
/// has a ResNet backbone whose features are judged.
pub trait ImageMethodModel<B: AutodiffBackend>:
    ContrastiveModel<B, Batch = PairBatch<Tensor<B, 4>, Tensor<B, 4>>> + AutodiffModule<B>
{
    /// The backbone that is evaluated (MoCo: the online one, as in the paper).
    fn backbone(&self) -> &ResNetEncoder<B>;
}

impl<B: AutodiffBackend> ImageMethodModel<B> for SimclrModel<B> {
    fn backbone(&self) -> &ResNetEncoder<B> {
        &self.encoder.backbone
    }
}

impl<B: AutodiffBackend> ImageMethodModel<B> for MocoModel<B> {
    fn backbone(&self) -> &ResNetEncoder<B> {
        &self.online.backbone
    }
}

/// Everything a SimCLR run needs besides the data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimclrConfig {
    /// The method: SimCLR, MoCo v2, SupCon, or an objective of the debiasing family.
    pub method: Method,
    /// Training epochs.
    pub epochs: usize,
    /// Pairs per batch (2 × batch_size views).
    pub batch_size: usize,
    /// Adam's peak learning rate (warm-up over the first epoch, cosine decay after).
    pub learning_rate: f64,
    /// Temperature of the cosine critic.
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
    /// Share of the training images held out (from training too) as a validation split:
    /// the per-epoch kNN that chooses `best.ckpt` classifies these, never the test split.
    /// 0 turns per-epoch selection off.
    pub validation_fraction: f64,
    /// Seed of every random choice. Burn's backend random generator (parameter
    /// initialisation, `Tensor::random`) is process-wide: the seed reproduces a run when no
    /// other thread of the process draws from it meanwhile.
    pub seed: u64,
    /// Output directory for `report.json`, `history.json`, `curves.svg` and checkpoints.
    pub out_dir: Option<PathBuf>,
    /// Show the progress bar.
    pub progress: bool,
    /// Continue from the newest usable checkpoint in `out_dir/checkpoints` (falling back
    /// past damaged ones) instead of starting over; a fresh start when there is none.
    pub resume: bool,
    /// Gradient caching (Gao et al. 2021): the encoder sees this many pairs at a time, so
    /// its activation memory is that of a chunk while the loss contrasts the whole batch
    /// ([`Trainer::fit_cached`](crate::trainer::Trainer::fit_cached)). Batch norm then
    /// normalises each chunk with its own statistics. `None`: the plain step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_cache_chunk: Option<usize>,
}

impl Default for SimclrConfig {
    fn default() -> Self {
        Self {
            method: Method::Simclr,
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
            validation_fraction: 0.1,
            seed: 0,
            out_dir: None,
            progress: true,
            resume: false,
            grad_cache_chunk: None,
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
        if let Some(chunk) = self.grad_cache_chunk {
            at_least("grad_cache_chunk", chunk, 1)?;
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        if !(0.0..=0.5).contains(&self.validation_fraction) {
            return Err(Error::config(
                "validation_fraction",
                format!("must lie in [0, 0.5], got {}", self.validation_fraction),
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::InvalidTemperature(self.temperature));
        }
        self.method.validate()?;
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

/// A fresh ResNet backbone for images of `channels`: the recipe's network before training.
///
/// # Errors
/// [`Error::InvalidConfig`] for a width or stage count the ResNet refuses.
pub fn image_backbone<B: Backend>(
    config: &SimclrConfig,
    channels: usize,
    device: &B::Device,
) -> Result<ResNetEncoder<B>> {
    ResNetEncoderConfig::new()
        .with_in_channels(channels)
        .with_width(config.width)
        .with_stages(config.stages)
        .init(device)
}

/// A fresh backbone + projection head.
fn image_encoder<B: Backend>(
    config: &SimclrConfig,
    channels: usize,
    device: &B::Device,
) -> Result<ImageEncoder<B>> {
    let backbone = image_backbone(config, channels, device)?;
    let head = ProjectionHeadConfig::new(backbone.features())
        .with_d_hidden(backbone.features())
        .with_d_output(config.projection_dim)
        .init(device)?;
    Ok(EncoderWithHead::new(backbone, head))
}

fn cosine_critic<B: Backend>(config: &SimclrConfig, device: &B::Device) -> Result<CosineCritic<B>> {
    CosineCriticConfig::new()
        .with_temperature(config.temperature)
        .init(device)
}

/// Builds a fresh SimCLR model for images of `channels`.
///
/// # Errors
/// Those of the ResNet, head and critic configs.
pub fn simclr_model<B: Backend>(
    config: &SimclrConfig,
    channels: usize,
    device: &B::Device,
) -> Result<SimclrModel<B>> {
    Ok(SharedEncoderModel::new(
        image_encoder(config, channels, device)?,
        cosine_critic(config, device)?,
    ))
}

/// Builds a fresh MoCo v2 model for images of `channels`, its momentum following
/// `settings` over `total_steps`.
///
/// # Errors
/// Those of the ResNet, head and critic configs; a momentum outside `[0, 1]`.
pub fn moco_model<B: Backend>(
    config: &SimclrConfig,
    settings: &MocoSettings,
    channels: usize,
    total_steps: u64,
    device: &B::Device,
) -> Result<MocoModel<B>> {
    let schedule = if settings.cosine_momentum {
        MomentumSchedule::cosine(settings.momentum, total_steps)
    } else {
        MomentumSchedule::constant(settings.momentum)
    };
    MomentumEncoderModel::new(
        image_encoder(config, channels, device)?,
        image_encoder(config, channels, device)?,
        cosine_critic(config, device)?,
        schedule,
    )
}
