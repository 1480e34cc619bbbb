//! Two-view image augmentation (SimCLR, Chen et al. 2020, Appendix A).

mod color;
mod config;
mod crop;
mod pipeline;

pub use config::AugmentConfig;
pub use pipeline::{Augmented, augment};
