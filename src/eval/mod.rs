//! Evaluation of trained models.

mod mi_estimate;

pub use mi_estimate::{estimate_mi, MiEstimate};
