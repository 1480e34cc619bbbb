//! The built-in objectives, as one serde-configurable enum.

use std::str::FromStr;

use burn::tensor::{Tensor, backend::Backend};

use super::Objective;
use crate::loss::{
    LossOutput, Mask, NegativeCorrection, debiased_with_masks, decoupled_with_masks,
    info_nce_with_masks, symmetric_with_masks,
};
use crate::sampler::CandidateSet;
use crate::{Error, Result};

/// The built-in objectives, all on the one stable core of [`crate::loss`].
///
/// In a JSON config: `{"kind": "info_nce"}`, `{"kind": "debiased", "tau_plus": 0.1}`,
/// `{"kind": "hard_negative", "beta": 1.0, "tau_plus": 0.1}`... On a command line,
/// [`ObjectiveKind::from_str`] reads `info-nce`, `symmetric`, `decoupled`,
/// `debiased:TAU_PLUS`, `hard-negative:BETA,TAU_PLUS` and `supcon`.
///
/// # Example
/// ```
/// use infonce::objective::ObjectiveKind;
///
/// let k: ObjectiveKind = "hard-negative:1.0,0.1".parse().unwrap();
/// assert_eq!(k, ObjectiveKind::HardNegative { beta: 1.0, tau_plus: 0.1, floor_log_score: None });
/// let json = serde_json::to_string(&k).unwrap();
/// assert_eq!(serde_json::from_str::<ObjectiveKind>(&json).unwrap(), k);
/// assert!("debiased:1.5".parse::<ObjectiveKind>().is_err()); // τ⁺ must be below 1
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObjectiveKind {
    /// InfoNCE (van den Oord et al. 2018); several positives per row average as SupCon's
    /// `L_out` (Khosla et al. 2020). [`info_nce_with_masks`].
    #[default]
    InfoNce,
    /// CLIP's symmetric loss over rows and columns (Radford et al. 2021); needs a square
    /// set with transposable masks (in-batch, two-view). [`symmetric_with_masks`].
    Symmetric,
    /// Decoupled contrastive loss (Yeh et al. 2022): the positive left out of the
    /// denominator. [`decoupled_with_masks`].
    Decoupled,
    /// Debiased contrastive loss with class prior τ⁺ (Chuang et al. 2020).
    /// [`debiased_with_masks`].
    Debiased {
        /// Class prior τ⁺ ∈ [0, 1).
        tau_plus: f64,
        /// Floor of the negative term, `N·e^{floor}`: `−1/τ` for cosine scores over τ as in
        /// the authors' code; `None` for none.
        #[serde(default)]
        floor_log_score: Option<f64>,
    },
    /// Hard-negative reweighting with concentration β (Robinson et al. 2021), debiased with
    /// τ⁺. [`debiased_with_masks`].
    HardNegative {
        /// Concentration β ≥ 0.
        beta: f64,
        /// Class prior τ⁺ ∈ [0, 1).
        tau_plus: f64,
        /// As for [`ObjectiveKind::Debiased`].
        #[serde(default)]
        floor_log_score: Option<f64>,
    },
    /// Supervised contrastive (Khosla et al. 2020, `L_out`): the set's positives plus every
    /// valid candidate with the row's label. Needs labels on rows and columns.
    SupervisedContrastive,
}

impl ObjectiveKind {
    /// Checks the parameters' ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the parameter.
    pub fn validate(&self) -> Result<()> {
        self.correction().map_or(Ok(()), |c| c.validate())
    }

    /// The negative-term correction of the debiased and hard-negative objectives (the
    /// debiased one is the hard-negative one at β = 0).
    pub fn correction(&self) -> Option<NegativeCorrection> {
        let (tau_plus, beta, floor_log_score) = match *self {
            ObjectiveKind::Debiased {
                tau_plus,
                floor_log_score,
            } => (tau_plus, 0.0, floor_log_score),
            ObjectiveKind::HardNegative {
                beta,
                tau_plus,
                floor_log_score,
            } => (tau_plus, beta, floor_log_score),
            _ => return None,
        };
        Some(NegativeCorrection {
            tau_plus,
            beta,
            floor_log_score,
        })
    }

    /// The name used on command lines.
    pub fn name(&self) -> &'static str {
        match self {
            ObjectiveKind::InfoNce => "info-nce",
            ObjectiveKind::Symmetric => "symmetric",
            ObjectiveKind::Decoupled => "decoupled",
            ObjectiveKind::Debiased { .. } => "debiased",
            ObjectiveKind::HardNegative { .. } => "hard-negative",
            ObjectiveKind::SupervisedContrastive => "supcon",
        }
    }
}

impl FromStr for ObjectiveKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (name, args) = s.split_once(':').unwrap_or((s, ""));
        let numbers: Vec<f64> = args
            .split(',')
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::config("objective", format!("`{s}`: {e}")))?;
        let kind = match (name, numbers.as_slice()) {
            ("info-nce" | "infonce", []) => ObjectiveKind::InfoNce,
            ("symmetric" | "clip", []) => ObjectiveKind::Symmetric,
            ("decoupled" | "dcl", []) => ObjectiveKind::Decoupled,
            ("debiased", [tau_plus]) => ObjectiveKind::Debiased {
                tau_plus: *tau_plus,
                floor_log_score: None,
            },
            ("hard-negative", [beta, tau_plus]) => ObjectiveKind::HardNegative {
                beta: *beta,
                tau_plus: *tau_plus,
                floor_log_score: None,
            },
            ("supcon" | "supervised-contrastive", []) => ObjectiveKind::SupervisedContrastive,
            _ => {
                return Err(Error::config(
                    "objective",
                    format!(
                        "`{s}` is not one of info-nce, symmetric, decoupled, debiased:TAU_PLUS, \
                         hard-negative:BETA,TAU_PLUS, supcon"
                    ),
                ));
            }
        };
        kind.validate()?;
        Ok(kind)
    }
}

impl<B: Backend> Objective<B> for ObjectiveKind {
    fn loss(&self, log_scores: Tensor<B, 2>, set: &CandidateSet<B>) -> Result<LossOutput<B>> {
        let (positives, valid) = (&set.positives, set.valid.as_ref());
        let out = match self {
            ObjectiveKind::InfoNce => info_nce_with_masks(log_scores, positives, valid),
            ObjectiveKind::Symmetric => symmetric_with_masks(log_scores, positives, valid),
            ObjectiveKind::Decoupled => decoupled_with_masks(log_scores, positives, valid),
            ObjectiveKind::Debiased { .. } | ObjectiveKind::HardNegative { .. } => {
                let correction = self.correction().unwrap_or(NegativeCorrection {
                    tau_plus: 0.0,
                    beta: 0.0,
                    floor_log_score: None,
                });
                debiased_with_masks(log_scores, positives, valid, correction)
            }
            ObjectiveKind::SupervisedContrastive => {
                let positives = label_positives(set)?;
                info_nce_with_masks(log_scores, &positives, valid)
            }
        }?;
        Ok(LossOutput {
            bound: out.bound.and(set.bound),
            ..out
        })
    }

    /// Every built-in but the symmetric loss is a mean over rows of a per-row term.
    fn rows_are_independent(&self) -> bool {
        !matches!(self, ObjectiveKind::Symmetric)
    }
}

/// The set's positives plus every valid candidate that shares the row's label.
fn label_positives<B: Backend>(set: &CandidateSet<B>) -> Result<Mask<B>> {
    let missing = || {
        Error::config(
            "supervised contrastive objective",
            "needs class labels on the batch's rows (RowIds::label) and its candidates",
        )
    };
    let rows = set.context_rows.label.clone().ok_or_else(missing)?;
    let cols = set.col_rows.label.clone().ok_or_else(missing)?;
    let same = Mask::Equal { rows, cols };
    let same = match &set.valid {
        Some(v) => same.and(v.clone()),
        None => same,
    };
    Ok(set.positives.clone().or(same))
}
