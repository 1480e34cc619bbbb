//! Which contrastive method the image recipe trains.

use std::str::FromStr;

use crate::objective::ObjectiveKind;
use crate::{Error, Result};

/// MoCo v2's settings (He et al. 2020; Chen et al. 2020, "Improved baselines").
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MocoSettings {
    /// The key encoder's momentum m in `[0, 1]` (the first step's, with `cosine_momentum`).
    pub momentum: f64,
    /// Raise m to 1 along a half cosine over the run (BYOL, Grill et al. 2020).
    pub cosine_momentum: bool,
    /// Keys in the queue (≥ 1); the row's own image is never a negative.
    pub queue_size: usize,
}

impl Default for MocoSettings {
    fn default() -> Self {
        // MoCo's 0.999 assumes ~1e6 steps; a few thousand steps need a faster copy.
        Self {
            momentum: 0.99,
            cosine_momentum: false,
            queue_size: 1024,
        }
    }
}

/// The method of [`super::train_simclr`]: all share the data, the two augmented views, the
/// ResNet and projection head, the cosine critic and the evaluation.
///
/// In a JSON config: `{"name": "simclr"}`, `{"name": "moco", "momentum": 0.99,
/// "queue_size": 1024}`, `{"name": "debiased", "tau_plus": 0.1}`...
///
/// # Example
/// ```
/// use infonce::recipes::Method;
///
/// let m: Method = "hard-negative".parse().unwrap();
/// assert_eq!(m, Method::HardNegative { beta: 1.0, tau_plus: 0.1 });
/// assert_eq!(m.name(), "hard-negative");
/// assert!("byol".parse::<Method>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Method {
    /// SimCLR (Chen et al. 2020): NT-Xent over both views, 2N − 2 negatives per row.
    #[default]
    Simclr,
    /// MoCo v2: queries from the online encoder, keys from its momentum copy, negatives from
    /// the batch's keys and a queue of earlier keys.
    Moco(MocoSettings),
    /// Supervised contrastive (Khosla et al. 2020, `L_out`): every view of the row's class
    /// is a positive. Uses the training labels.
    Supcon,
    /// Decoupled contrastive learning (Yeh et al. 2022): the positive left out of the
    /// denominator.
    Decoupled,
    /// Debiased contrastive learning (Chuang et al. 2020) with class prior τ⁺.
    Debiased {
        /// Class prior τ⁺ in `[0, 1)`.
        tau_plus: f64,
    },
    /// Hard-negative sampling (Robinson et al. 2021): concentration β, debiased with τ⁺.
    HardNegative {
        /// Concentration β ≥ 0.
        beta: f64,
        /// Class prior τ⁺ in `[0, 1)`.
        tau_plus: f64,
    },
}

/// The names [`Method::from_str`] reads.
pub const METHOD_NAMES: [&str; 6] = [
    "simclr",
    "moco",
    "supcon",
    "decoupled",
    "debiased",
    "hard-negative",
];

impl Method {
    /// The name used on command lines and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Simclr => "simclr",
            Method::Moco(_) => "moco",
            Method::Supcon => "supcon",
            Method::Decoupled => "decoupled",
            Method::Debiased { .. } => "debiased",
            Method::HardNegative { .. } => "hard-negative",
        }
    }

    /// The objective the trainer minimises. The debiased estimators floor their negative
    /// term at `N·e^{−1/τ}`, the smallest value cosine scores over τ can give (as the
    /// authors' code does).
    pub fn objective(&self, temperature: f64) -> ObjectiveKind {
        let floor_log_score = Some(-1.0 / temperature);
        match *self {
            Method::Simclr | Method::Moco(_) => ObjectiveKind::InfoNce,
            Method::Supcon => ObjectiveKind::SupervisedContrastive,
            Method::Decoupled => ObjectiveKind::Decoupled,
            Method::Debiased { tau_plus } => ObjectiveKind::Debiased {
                tau_plus,
                floor_log_score,
            },
            Method::HardNegative { beta, tau_plus } => ObjectiveKind::HardNegative {
                beta,
                tau_plus,
                floor_log_score,
            },
        }
    }

    /// Checks every setting's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if let Method::Moco(moco) = self {
            if !(0.0..=1.0).contains(&moco.momentum) {
                return Err(Error::config(
                    "momentum",
                    format!("must lie in [0, 1], got {}", moco.momentum),
                ));
            }
            if moco.queue_size == 0 {
                return Err(Error::config("queue_size", "must be ≥ 1"));
            }
        }
        self.objective(1.0).validate()
    }
}

impl FromStr for Method {
    type Err = Error;

    /// A method by name, with its default settings (`debiased`: τ⁺ = 0.1;
    /// `hard-negative`: β = 1, τ⁺ = 0.1, as in Robinson et al.'s image experiments).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "simclr" => Method::Simclr,
            "moco" => Method::Moco(MocoSettings::default()),
            "supcon" => Method::Supcon,
            "decoupled" => Method::Decoupled,
            "debiased" => Method::Debiased { tau_plus: 0.1 },
            "hard-negative" => Method::HardNegative {
                beta: 1.0,
                tau_plus: 0.1,
            },
            _ => {
                return Err(Error::config(
                    "method",
                    format!("`{s}` is not one of {}", METHOD_NAMES.join(", ")),
                ));
            }
        })
    }
}
