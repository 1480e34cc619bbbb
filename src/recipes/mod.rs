//! End-to-end recipes: a method trained and evaluated in one call. The examples are thin
//! command-line fronts over these.

mod simclr;

pub use simclr::{
    independent_copy, simclr_model, train_simclr, Scores, SimclrConfig, SimclrModel, SimclrReport,
};
