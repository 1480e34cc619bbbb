//! Alignment and uniformity of normalised embeddings (Wang & Isola 2020).

use super::knn::normalize_rows;
use crate::{Error, Result};

/// Alignment `E ‖f(x) − f(y)‖₂^α` over positive pairs, with L2-normalised rows (α = 2 in
/// the paper). Lower is better: positives map close together.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the views differ in size or are not multiples of `dim`;
/// [`Error::EmptyBatch`] when empty.
pub fn alignment(a: &[f32], b: &[f32], dim: usize, alpha: f64) -> Result<f64> {
    if dim == 0 || a.len() != b.len() || !a.len().is_multiple_of(dim) {
        return Err(Error::shape(
            "alignment views",
            format!("two equal [n, {dim}] matrices"),
            format!("{} and {} values", a.len(), b.len()),
        ));
    }
    if a.is_empty() {
        return Err(Error::EmptyBatch {
            what: "alignment".into(),
        });
    }
    let (a, b) = (normalize_rows(a, dim), normalize_rows(b, dim));
    let n = a.len() / dim;
    let total: f64 = a
        .chunks(dim)
        .zip(b.chunks(dim))
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(p, q)| ((p - q) as f64).powi(2))
                .sum::<f64>()
                .powf(alpha / 2.0)
        })
        .sum();
    Ok(total / n as f64)
}

/// Uniformity `log E exp(−t ‖f(x) − f(y)‖₂²)` over distinct pairs of L2-normalised rows
/// (t = 2 in the paper). Lower is better: embeddings spread over the sphere. Computed
/// stably (log-sum-exp).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `x` is not a multiple of `dim`; [`Error::EmptyBatch`] for
/// fewer than two rows.
pub fn uniformity(x: &[f32], dim: usize, t: f64) -> Result<f64> {
    if dim == 0 || !x.len().is_multiple_of(dim) {
        return Err(Error::shape(
            "uniformity input",
            format!("[n, {dim}]"),
            format!("{} values", x.len()),
        ));
    }
    let x = normalize_rows(x, dim);
    let rows: Vec<&[f32]> = x.chunks(dim).collect();
    if rows.len() < 2 {
        return Err(Error::EmptyBatch {
            what: "uniformity (needs two rows)".into(),
        });
    }
    let mut terms = Vec::with_capacity(rows.len() * (rows.len() - 1) / 2);
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let d2: f64 = rows[i]
                .iter()
                .zip(rows[j])
                .map(|(p, q)| ((p - q) as f64).powi(2))
                .sum();
            terms.push(-t * d2);
        }
    }
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mean_exp = terms.iter().map(|v| (v - max).exp()).sum::<f64>() / terms.len() as f64;
    Ok(max + mean_exp.ln())
}
