//! End-to-end recipes: a method trained and evaluated in one call. The examples are thin
//! command-line fronts over these.

mod simclr;
mod simclr_eval;
mod simclr_report;
mod simclr_train;

pub use simclr::{independent_copy, simclr_model, SimclrConfig, SimclrModel};
pub use simclr_report::{ModelSelection, Scores, SimclrReport, VALIDATION_METRIC};
pub use simclr_train::train_simclr;
