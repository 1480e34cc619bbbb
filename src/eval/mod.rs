//! Evaluation of trained models.

mod alignment_uniformity;
mod features;
mod gaussian_benchmark;
mod knn;
mod labelled_features;
mod linear_probe;
mod mi_estimate;

pub use alignment_uniformity::{alignment, uniformity};
pub use features::image_features;
pub use gaussian_benchmark::{GaussianBenchmark, GaussianCritic, GaussianLevel};
pub use knn::{knn_accuracy, normalize_rows};
pub use linear_probe::{LinearProbeConfig, linear_probe};
pub use mi_estimate::{MiEstimate, estimate_mi};
