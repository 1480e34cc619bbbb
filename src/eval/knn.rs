//! Weighted cosine k-nearest-neighbour classification.

use rayon::prelude::*;

use super::labelled_features::check_labelled;
use crate::{Error, Result};

/// L2-normalises each row of a row-major `[n, dim]` matrix (norm clamped at 1e-12).
pub fn normalize_rows(x: &[f32], dim: usize) -> Vec<f32> {
    x.chunks(dim)
        .flat_map(|r| {
            let n = r.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            r.iter().map(move |v| v / n)
        })
        .collect()
}

/// Top-1 accuracy of the weighted kNN classifier of Wu et al. 2018 (InstDisc), the standard
/// monitor of self-supervised training: features are L2-normalised, each test point takes
/// its `k` most cosine-similar training points, each votes for its label with weight
/// `exp(similarity / temperature)`, and the label with the largest total wins.
///
/// `train` and `test` are row-major `[n, dim]`.
///
/// ```
/// // Two well-separated classes in 2-D.
/// let train = [1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9];
/// let labels = [0, 0, 1, 1];
/// let test = [0.95, 0.05, 0.05, 0.95];
/// let acc = infonce::eval::knn_accuracy(&train, &labels, &test, &[0, 1], 2, 2, 2, 0.07).unwrap();
/// assert_eq!(acc, 1.0);
/// ```
///
/// # Errors
/// [`Error::ShapeMismatch`] when a matrix is not `labels × dim`; [`Error::InvalidConfig`]
/// for `k = 0`, `dim = 0`, a temperature ≤ 0 or a label ≥ `num_classes`;
/// [`Error::EmptyBatch`] for an empty set.
#[allow(clippy::too_many_arguments)]
pub fn knn_accuracy(
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    num_classes: usize,
    k: usize,
    temperature: f32,
) -> Result<f64> {
    if dim == 0 || k == 0 || temperature.is_nan() || temperature <= 0.0 {
        return Err(Error::config(
            "kNN",
            format!("need dim ≥ 1, k ≥ 1, temperature > 0 (got {dim}, {k}, {temperature})"),
        ));
    }
    check_labelled(
        "kNN",
        train,
        train_labels,
        test,
        test_labels,
        dim,
        num_classes,
    )?;
    let train = normalize_rows(train, dim);
    let test = normalize_rows(test, dim);
    let k = k.min(train_labels.len());
    let correct: usize = test
        .par_chunks(dim)
        .zip(test_labels.par_iter())
        .map(|(q, &label)| {
            let mut sims: Vec<(f32, usize)> = train
                .chunks(dim)
                .zip(train_labels)
                .map(|(t, &l)| (q.iter().zip(t).map(|(a, b)| a * b).sum::<f32>(), l))
                .collect();
            sims.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
            let mut votes = vec![0.0f64; num_classes];
            for &(s, l) in &sims[..k] {
                votes[l] += ((s / temperature) as f64).exp();
            }
            let best = votes
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(c, _)| c)
                .unwrap_or(0);
            usize::from(best == label)
        })
        .sum();
    Ok(correct as f64 / test_labels.len() as f64)
}
