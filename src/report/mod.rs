//! Reports of a training run: plots of the history.

mod curves;

pub use curves::plot_training_curves;
