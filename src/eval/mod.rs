//! Evaluation of trained models.

mod gaussian_benchmark;
mod mi_estimate;

pub use gaussian_benchmark::{GaussianBenchmark, GaussianCritic, GaussianLevel};
pub use mi_estimate::{estimate_mi, MiEstimate};
