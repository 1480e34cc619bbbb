//! The trainer's configuration.

use std::path::Path;

use super::weight_decay::DecayScope;
use crate::Error;
use crate::objective::ObjectiveKind;

/// Which optimiser updates the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba 2015); `weight_decay` adds an L2 penalty.
    Adam,
    /// AdamW (Loshchilov & Hutter 2019); `weight_decay` is decoupled.
    AdamW,
    /// SGD with `momentum`; `weight_decay` adds an L2 penalty.
    Sgd,
}

/// Whether a larger or a smaller value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// Smaller is better (a loss).
    Min,
    /// Larger is better (an accuracy, the MI bound).
    Max,
}

/// Which epoch-end metric picks the best checkpoint (`checkpoints/best.ckpt`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestMetric {
    /// `loss`, `mi_bound`, `accuracy`, or a metric the epoch hook reports (`knn_top1`...).
    pub metric: String,
    /// Whether larger or smaller is better.
    pub goal: Goal,
}

impl BestMetric {
    /// Keep the checkpoint with the largest `metric`.
    pub fn max(metric: impl Into<String>) -> Self {
        Self {
            metric: metric.into(),
            goal: Goal::Max,
        }
    }

    /// Keep the checkpoint with the smallest `metric`.
    pub fn min(metric: impl Into<String>) -> Self {
        Self {
            metric: metric.into(),
            goal: Goal::Min,
        }
    }

    /// Whether `value` beats `best` (anything finite beats nothing; NaN never wins).
    pub fn improves(&self, value: f64, best: Option<f64>) -> bool {
        value.is_finite()
            && match (best, self.goal) {
                (None, _) => true,
                (Some(b), Goal::Min) => value < b,
                (Some(b), Goal::Max) => value > b,
            }
    }
}

/// Everything that shapes a training run. Serialisable, so a run is described by a JSON
/// file ([`TrainerConfig::from_file`]: missing fields take their defaults, unknown fields
/// are refused) and recorded in its checkpoints.
///
/// # Example
/// ```
/// use infonce::trainer::{OptimizerKind, TrainerConfig};
///
/// let config = TrainerConfig::new()
///     .with_epochs(5)
///     .with_optimizer(OptimizerKind::AdamW)
///     .with_warmup_steps(100)
///     .with_grad_clip_norm(Some(1.0));
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    /// Passes over the data source. Default 10.
    pub epochs: usize,
    /// Peak learning rate (reached after warm-up). Default 1e-3.
    pub learning_rate: f64,
    /// The optimiser. Default Adam.
    pub optimizer: OptimizerKind,
    /// Weight decay (L2 for Adam and SGD, decoupled for AdamW). Default 0.
    pub weight_decay: f64,
    /// Which parameters weight decay applies to. Default: matrices and kernels only
    /// (biases, normalisation parameters and the temperature are skipped, as SimCLR and
    /// open_clip do).
    pub weight_decay_scope: DecayScope,
    /// What the trainer minimises. Default InfoNCE.
    pub objective: ObjectiveKind,
    /// SGD momentum. Default 0.9.
    pub momentum: f64,
    /// Steps of linear warm-up from 0 to `learning_rate`. Default 0.
    pub warmup_steps: u64,
    /// Cosine decay from `learning_rate` to `min_learning_rate` after warm-up; constant
    /// when false. Default true.
    pub cosine_decay: bool,
    /// The floor of the cosine decay. Default 0.
    pub min_learning_rate: f64,
    /// Clip each parameter's gradient to this L2 norm (Burn's per-tensor clipping).
    /// Default none.
    pub grad_clip_norm: Option<f64>,
    /// Seed of every random choice of the run. Default 42. Burn's backend random
    /// generator (parameter initialisation, `Tensor::random`) is process-wide: the seed
    /// reproduces a run when no other thread of the process draws from it meanwhile.
    pub seed: u64,
    /// Write a checkpoint every this many steps (and at the end) when `out_dir` is set.
    /// Default none.
    pub checkpoint_every: Option<u64>,
    /// How many of the most recent checkpoints to keep. Default 3.
    pub keep_checkpoints: usize,
    /// Also keep the checkpoint of the epoch with the best value of this metric, as
    /// `checkpoints/best.ckpt` (never pruned). Default none.
    pub keep_best: Option<BestMetric>,
    /// After each backward pass, check every parameter's gradient for NaN and infinity and
    /// stop with the parameter's name before the update. Costs one reduction per parameter
    /// and one read-back per step. Default true.
    pub check_gradients: bool,
    /// Directory for `history.json` and `checkpoints/`; nothing is written when unset.
    pub out_dir: Option<String>,
    /// Show a progress bar on the terminal. Default true.
    pub progress: bool,
    /// Read the step statistics and the non-finite check back from the device every this
    /// many steps (and at every epoch end and checkpoint). `None` (the default) reads back
    /// at the progress display's refresh: whenever 100 ms have passed since the last
    /// read-back. `Some(1)` reads every step and stops before a non-finite update is
    /// applied; with more, a non-finite step is found at the next read-back and the model
    /// and optimiser are rolled back to the previous one.
    pub sync_every: Option<u64>,
    /// The settings of the program that drives the trainer (a recipe's own configuration,
    /// an example's flags), stored in every checkpoint and compared on resume like the
    /// trainer's own fields: a resume with other settings is refused, field by field
    /// ([`crate::Error::ResumeMismatch`]). Leave out what a resume may change (the number
    /// of epochs, the output folder). Default none.
    pub run_settings: Option<serde_json::Value>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            learning_rate: 1e-3,
            optimizer: OptimizerKind::Adam,
            weight_decay: 0.0,
            weight_decay_scope: DecayScope::MatricesOnly,
            objective: ObjectiveKind::InfoNce,
            momentum: 0.9,
            warmup_steps: 0,
            cosine_decay: true,
            min_learning_rate: 0.0,
            grad_clip_norm: None,
            seed: 42,
            checkpoint_every: None,
            keep_checkpoints: 3,
            keep_best: None,
            check_gradients: true,
            out_dir: None,
            progress: true,
            sync_every: None,
            run_settings: None,
        }
    }
}

/// `with_field(value)` builder methods.
macro_rules! builder {
    ($($with:ident => $field:ident: $ty:ty),* $(,)?) => {
        impl TrainerConfig {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                #[must_use]
                pub fn $with(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

builder!(
    with_epochs => epochs: usize,
    with_learning_rate => learning_rate: f64,
    with_optimizer => optimizer: OptimizerKind,
    with_weight_decay => weight_decay: f64,
    with_momentum => momentum: f64,
    with_warmup_steps => warmup_steps: u64,
    with_cosine_decay => cosine_decay: bool,
    with_min_learning_rate => min_learning_rate: f64,
    with_grad_clip_norm => grad_clip_norm: Option<f64>,
    with_seed => seed: u64,
    with_checkpoint_every => checkpoint_every: Option<u64>,
    with_keep_checkpoints => keep_checkpoints: usize,
    with_keep_best => keep_best: Option<BestMetric>,
    with_check_gradients => check_gradients: bool,
    with_out_dir => out_dir: Option<String>,
    with_progress => progress: bool,
    with_weight_decay_scope => weight_decay_scope: DecayScope,
    with_objective => objective: ObjectiveKind,
    with_sync_every => sync_every: Option<u64>,
    with_run_settings => run_settings: Option<serde_json::Value>,
);

impl TrainerConfig {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field and the allowed range.
    pub fn validate(&self) -> crate::Result<()> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ))
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    name,
                    format!("must be finite and ≥ 0, got {v}"),
                ))
            }
        };
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be ≥ 1"));
        }
        positive("learning_rate", self.learning_rate)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("min_learning_rate", self.min_learning_rate)?;
        if self.min_learning_rate > self.learning_rate {
            return Err(Error::config(
                "min_learning_rate",
                "must not exceed learning_rate",
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::config(
                "momentum",
                format!("must be in [0, 1), got {}", self.momentum),
            ));
        }
        if let Some(c) = self.grad_clip_norm {
            positive("grad_clip_norm", c)?;
        }
        if self.sync_every == Some(0) {
            return Err(Error::config("sync_every", "must be ≥ 1 (or unset)"));
        }
        self.objective.validate()?;
        if self.checkpoint_every == Some(0) {
            return Err(Error::config("checkpoint_every", "must be ≥ 1 (or unset)"));
        }
        if self.keep_checkpoints == 0 {
            return Err(Error::config("keep_checkpoints", "must be ≥ 1"));
        }
        if let Some(best) = &self.keep_best
            && best.metric.trim().is_empty()
        {
            return Err(Error::config("keep_best.metric", "must name a metric"));
        }
        Ok(())
    }

    /// Reads a config from a JSON file; unknown fields and wrong types are refused with
    /// serde's message and the file name.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; those of [`TrainerConfig::from_json`].
    pub fn from_file(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses and validates a config from JSON text; `source` (a file name) prefixes
    /// errors.
    ///
    /// # Errors
    /// [`Error::Json`] with serde's message (unknown field, wrong type, line and column);
    /// [`Error::InvalidConfig`] for a value out of range.
    pub fn from_json(text: &str, source: &str) -> crate::Result<Self> {
        let config: TrainerConfig = serde_json::from_str(text).map_err(|e| Error::Json {
            context: source.to_string(),
            source: e,
        })?;
        config.validate()?;
        Ok(config)
    }
}
