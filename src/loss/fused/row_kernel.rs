//! The fused cross-entropy over rows of scores held on the host: one pass for the maximum,
//! one for the exponentials and their sum (loss, log-sum-exp and top-1 fall out of those),
//! and one backward pass writing `softmax − onehot` over the same buffer.
//!
//! Rows are independent, so they run on rayon's threads. Within a row the reductions keep
//! [`LANES`] partial results, so the compiler vectorises them.

use rayon::prelude::*;

use super::fast_exp::exp_nonpositive;

/// Partial sums and maxima kept per row (two SSE or one AVX register of f32).
const LANES: usize = 8;
/// Scores handed to one rayon task at least: below this, splitting costs more than it saves.
const MIN_SCORES_PER_TASK: usize = 1 << 14;

/// Which candidates each row has: its positive column and, optionally, one column left out
/// (`j = i + offset`, NT-Xent's self-pair) unless it is the positive.
#[derive(Clone, Debug)]
pub(crate) struct RowTargets {
    /// The positive column of each row.
    pub positive: Vec<usize>,
    /// Offset of the excluded column, if any.
    pub excluded_offset: Option<i64>,
}

impl RowTargets {
    /// Row `i`'s excluded column, when it exists and is not the positive.
    fn excluded(&self, i: usize, m: usize) -> Option<usize> {
        let j = i as i64 + self.excluded_offset?;
        let j = usize::try_from(j).ok().filter(|&j| j < m)?;
        (j != self.positive[i]).then_some(j)
    }
}

/// What the forward pass leaves: per-row `1 / Σ exp(s − max)` for the backward pass, and the
/// batch's statistics.
#[derive(Clone, Debug)]
pub(crate) struct ForwardSummary {
    /// Per row, the reciprocal of the sum of exponentials.
    pub inverse_sums: Vec<f32>,
    /// Mean over rows of `logsumexp_j s_ij − s_{i,pos}`.
    pub mean_loss: f64,
    /// Fraction of rows whose first maximal candidate is the positive.
    pub accuracy: f64,
    /// Mean over rows of `ln` (number of candidates).
    pub mean_log_candidates: f64,
}

/// One row's results.
struct RowForward {
    inverse_sum: f32,
    loss: f64,
    hit: bool,
    log_candidates: f64,
}

/// Overwrites each row of `scores` (`[n, m]`, row-major) with `exp(s − max_row)` (0 for the
/// excluded column) and returns the loss and statistics.
pub(crate) fn forward_in_place(
    scores: &mut [f32],
    m: usize,
    targets: &RowTargets,
) -> ForwardSummary {
    let n = targets.positive.len();
    let rows: Vec<RowForward> = scores
        .par_chunks_mut(m)
        .with_min_len(rows_per_task(m))
        .enumerate()
        .map(|(i, row)| forward_row(row, targets.positive[i], targets.excluded(i, m)))
        .collect();
    let mean = |f: &dyn Fn(&RowForward) -> f64| rows.iter().map(f).sum::<f64>() / n as f64;
    ForwardSummary {
        mean_loss: mean(&|r| r.loss),
        accuracy: mean(&|r| f64::from(u8::from(r.hit))),
        mean_log_candidates: mean(&|r| r.log_candidates),
        inverse_sums: rows.iter().map(|r| r.inverse_sum).collect(),
    }
}

/// Overwrites the exponentials left by [`forward_in_place`] with the gradient of
/// `scale · mean_loss`: `scale/n · (softmax − onehot(positive))`.
pub(crate) fn backward_in_place(
    exps: &mut [f32],
    m: usize,
    targets: &RowTargets,
    inverse_sums: &[f32],
    scale: f32,
) {
    let per_row = scale / targets.positive.len() as f32;
    exps.par_chunks_mut(m)
        .with_min_len(rows_per_task(m))
        .enumerate()
        .for_each(|(i, row)| {
            let factor = per_row * inverse_sums[i];
            row.iter_mut().for_each(|v| *v *= factor);
            row[targets.positive[i]] -= per_row;
        });
}

fn rows_per_task(m: usize) -> usize {
    (MIN_SCORES_PER_TASK / m.max(1)).max(1)
}

fn forward_row(row: &mut [f32], positive: usize, excluded: Option<usize>) -> RowForward {
    if let Some(j) = excluded {
        row[j] = f32::NEG_INFINITY;
    }
    let max = row_max(row);
    let score = row[positive];
    let hit = score == max && !row[..positive].contains(&max);
    let sum = exp_shifted_in_place(row, max);
    let candidates = row.len() - usize::from(excluded.is_some());
    RowForward {
        inverse_sum: 1.0 / sum,
        loss: f64::from(max) + f64::from(sum).ln() - f64::from(score),
        hit,
        log_candidates: (candidates as f64).ln(),
    }
}

/// The row's maximum (NaN entries are passed over; they reach the loss through the sum).
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(v);
        }
    }
    tail.iter()
        .chain(lanes.iter())
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b))
}

/// `row ← exp(row − max)`, returning the sum.
fn exp_shifted_in_place(row: &mut [f32], max: f32) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        let chunk: &mut [f32; LANES] = chunk.try_into().expect("chunks of LANES");
        for k in 0..LANES {
            chunk[k] = exp_nonpositive(chunk[k] - max);
            lanes[k] += chunk[k];
        }
    }
    let mut sum: f32 = lanes.iter().sum();
    for v in chunks.into_remainder() {
        *v = exp_nonpositive(*v - max);
        sum += *v;
    }
    sum
}
