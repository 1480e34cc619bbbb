//! Argument checks shared by the classifiers on features.

use crate::{Error, Result};

/// Checks a train and a test set of row-major `[labels, dim]` features for `what`: shapes,
/// non-empty, labels below `num_classes`.
pub(crate) fn check_labelled(
    what: &str,
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    num_classes: usize,
) -> Result<()> {
    for (set, x, labels) in [
        ("train features", train, train_labels),
        ("test features", test, test_labels),
    ] {
        if x.len() != labels.len() * dim {
            return Err(Error::shape(
                format!("{what} {set}"),
                format!("{} × {dim}", labels.len()),
                format!("{} values", x.len()),
            ));
        }
        if labels.is_empty() {
            return Err(Error::EmptyBatch {
                what: format!("{what} {set}"),
            });
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= num_classes) {
            return Err(Error::config(
                "labels",
                format!("label {l} ≥ num_classes {num_classes}"),
            ));
        }
    }
    Ok(())
}
