//! What a SimCLR run measured, as written to `report.json`.

use crate::trainer::EpochRecord;

/// The per-epoch metric that chooses `best.ckpt`: weighted kNN top-1 on the validation split.
pub const VALIDATION_METRIC: &str = "val_knn_top1";

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

/// What [`train_simclr`](crate::recipes::train_simclr) measured (written as `report.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SimclrReport {
    /// The method trained (`simclr`, `moco`, `supcon`, ...).
    pub method: String,
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
    /// Final training loss (mean over the last epoch).
    pub final_loss: f64,
    /// Which split chose the epoch of `best.ckpt`, and what it chose.
    pub model_selection: ModelSelection,
}

/// How `best.ckpt` was chosen: on a validation split carved from the training images, never
/// on the test split. The report's accuracies are the last epoch's, on the test split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelSelection {
    /// `"validation"`, or `"none"` when no split was carved (`validation_fraction` 0).
    pub split: String,
    /// Images in the validation split (held out of training).
    pub validation_images: usize,
    /// The metric compared across epochs ([`VALIDATION_METRIC`]), if any.
    pub metric: Option<String>,
    /// The epoch with the best value, 1-based.
    pub best_epoch: Option<u64>,
    /// That value.
    pub best_value: Option<f64>,
}

impl ModelSelection {
    /// The selection a run's history records over `validation_images` held-out images.
    pub fn from_history(history: &[EpochRecord], validation_images: usize) -> Self {
        if validation_images == 0 {
            return Self {
                split: "none".into(),
                validation_images,
                metric: None,
                best_epoch: None,
                best_value: None,
            };
        }
        let best = history
            .iter()
            .filter_map(|r| r.metrics.get(VALIDATION_METRIC).map(|v| (r.epoch, *v)))
            .fold(None, |best: Option<(u64, f64)>, (e, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((e, v)),
            });
        Self {
            split: "validation".into(),
            validation_images,
            metric: Some(VALIDATION_METRIC.into()),
            best_epoch: best.map(|b| b.0),
            best_value: best.map(|b| b.1),
        }
    }
}
