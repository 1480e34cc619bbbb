//! What a CLIP-style run measured, as written to `report.json`.

/// A retrieval score in both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DirectionScores {
    /// Each image retrieves its caption among all test captions.
    pub image_to_text: f64,
    /// Each caption retrieves its image among all test images.
    pub text_to_image: f64,
}

/// The learnable temperature before and after training.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TemperatureTrajectory {
    /// τ at initialisation.
    pub start: f64,
    /// τ after the last step.
    pub end: f64,
}

/// What [`super::train_clip`] measured on the test pairs.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ClipReport {
    /// Top-1 of zero-shot classification from one prompt per class.
    pub zero_shot_top1: f64,
    /// The majority class's share of the test images (a constant guess).
    pub chance: f64,
    /// Recall@1 both ways.
    pub recall_at_1: DirectionScores,
    /// Recall@5 both ways.
    pub recall_at_5: DirectionScores,
    /// τ's trajectory (per epoch in `history.json`, metric `temperature`).
    pub temperature: TemperatureTrajectory,
    /// Test pairs evaluated.
    pub test_pairs: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// The symmetric loss, mean over the last epoch.
    pub final_loss: f64,
}
