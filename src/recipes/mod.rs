//! End-to-end recipes: a method trained and evaluated in one call. The examples are thin
//! command-line fronts over these.

mod method;
mod simclr;
mod simclr_eval;
mod simclr_report;
mod simclr_train;

pub use method::{METHOD_NAMES, Method, MocoSettings};
pub use simclr::{
    ImageEncoder, ImageMethodModel, MocoModel, SimclrConfig, SimclrModel, image_backbone,
    moco_model, simclr_model,
};
pub use simclr_report::{ModelSelection, Scores, SimclrReport, VALIDATION_METRIC};
pub use simclr_train::train_simclr;
