//! Data sources.

mod gaussian;

pub use gaussian::CorrelatedGaussian;
