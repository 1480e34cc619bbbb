//! The fused cross-entropy as CubeCL kernels (wgpu, cuda): one cube of threads per row of
//! scores. Forward: the threads stride over the row for its maximum, then for the
//! exponentials, their sum and the first maximal column, each reduced in shared memory;
//! unit 0 writes the row's loss, hit, `ln N` and `1 / Σ`. Backward: one strided pass
//! turning the exponentials into `g/n · (softmax − onehot)` in place.
//!
//! The loss is InfoNCE's cross-entropy (van den Oord et al. 2018, eq. 4),
//! `J_i = logsumexp_j s_ij − s_{i,pos}`, and its gradient `∂J/∂s_ij = p_ij − [j = pos_i]`.
//!
//! WGSL has no infinity literals, so the running maximum starts at the smallest finite
//! float, and an out-of-range positive yields an infinite loss by overflowing `exp`.

use cubecl::prelude::*;

/// Per-row outputs of the forward kernel, in this order.
pub(super) const ROW_LOSS: usize = 0;
pub(super) const ROW_HIT: usize = 1;
pub(super) const ROW_LOG_CANDIDATES: usize = 2;
pub(super) const ROW_INVERSE_SUM: usize = 3;
/// Floats written per row.
pub(super) const ROW_FIELDS: usize = 4;

/// The cube's row: cubes are laid out over x, then y (a dimension holds at most 65 535).
#[cube]
fn cube_row() -> usize {
    (CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X) as usize
}

/// How [`reduce_in_cube`] combines two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Combine {
    Max,
    Min,
    Sum,
}

#[cube]
fn combine<N: Numeric>(a: N, b: N, #[comptime] how: Combine) -> N {
    match how {
        Combine::Max => max(a, b),
        Combine::Min => min(a, b),
        Combine::Sum => a + b,
    }
}

/// Combines one value per unit of the cube (a power of two of them) in shared memory, by
/// halving; every unit gets the result.
#[cube]
fn reduce_in_cube<N: Numeric>(
    shared: &mut SharedMemory<N>,
    value: N,
    #[comptime] how: Combine,
) -> N {
    let unit = UNIT_POS_X as usize;
    shared[unit] = value;
    sync_cube();
    let mut width = (CUBE_DIM_X / 2) as usize;
    while width > 0 {
        if unit < width {
            shared[unit] = combine::<N>(shared[unit], shared[unit + width], how);
        }
        sync_cube();
        width /= 2;
    }
    let result = shared[0];
    sync_cube();
    result
}

/// Row `i` of `scores` (`[n, m]`, contiguous): `exps[i, j] = exp(s_ij − max_i)` (0 for the
/// excluded column), and `rows[i, ·]` = loss, hit, `ln N` (`log_m` or `log_m_minus_one`),
/// `1 / Σ`. The excluded column is
/// `i + excluded_shift − n` when `has_excluded` is 1 and that is a column other than the
/// positive (the shift carries `n` so that it stays unsigned).
#[cube(launch)]
pub(super) fn cross_entropy_forward<F: Float, I: Numeric>(
    scores: &Tensor<F>,
    positives: &Tensor<I>,
    exps: &mut Tensor<F>,
    rows: &mut Tensor<F>,
    excluded_shift: u32,
    has_excluded: u32,
    log_m: f32,
    log_m_minus_one: f32,
    #[comptime] block: u32,
    #[define(F, I)] _dtypes: [StorageType; 2],
) {
    let n = scores.shape(0);
    let m = scores.shape(1);
    let row = cube_row();
    if row >= n {
        terminate!();
    }
    let unit = UNIT_POS_X as usize;
    let step = block as usize;
    let base = row * m;
    let positive = u32::cast_from(positives[row]) as usize;
    let shifted = row + excluded_shift as usize;
    let mut excluded = m;
    if has_excluded == 1 && shifted >= n {
        let column = shifted - n;
        if column < m && column != positive {
            excluded = column;
        }
    }

    let mut shared = SharedMemory::<F>::new(block as usize);
    let mut shared_first = SharedMemory::<u32>::new(block as usize);
    let mut local_max = F::min_value();
    let mut j = unit;
    while j < m {
        if j != excluded {
            local_max = F::max(local_max, scores[base + j]);
        }
        j += step;
    }
    let max = reduce_in_cube::<F>(&mut shared, local_max, Combine::Max);

    let mut local_sum = F::new(0.0);
    let mut local_first = m as u32;
    let mut j = unit;
    while j < m {
        let s = scores[base + j];
        let mut e = F::new(0.0);
        if j != excluded {
            e = F::exp(s - max);
            if s == max && (j as u32) < local_first {
                local_first = j as u32;
            }
        }
        exps[base + j] = e;
        local_sum += e;
        j += step;
    }
    let sum = reduce_in_cube::<F>(&mut shared, local_sum, Combine::Sum);
    let first = reduce_in_cube::<u32>(&mut shared_first, local_first, Combine::Min);

    if unit == 0 {
        let out = row * ROW_FIELDS;
        // ln N from the host, in f64 there: some devices' `ln` is off by 1e-5 at 1000.
        let mut log_candidates = log_m;
        if excluded < m {
            log_candidates = log_m_minus_one;
        }
        let mut hit = F::new(0.0);
        if first as usize == positive {
            hit = F::new(1.0);
        }
        // Out of range: exp(1000 · m) overflows to +∞ (no infinity literal in WGSL).
        let mut loss = F::exp(F::new(1000.0) * F::cast_from(m as u32));
        if positive < m {
            loss = max + F::ln(sum) - scores[base + positive];
        }
        rows[out + ROW_LOSS] = loss;
        rows[out + ROW_HIT] = hit;
        rows[out + ROW_LOG_CANDIDATES] = F::cast_from(log_candidates);
        rows[out + ROW_INVERSE_SUM] = F::new(1.0) / sum;
    }
}

/// Overwrites `exps` (`[n, m]`, from the forward kernel) with the gradient of
/// `upstream[0] · mean_i loss_i`: `upstream/n · (exps · inverse_sum − onehot(positive))`.
#[cube(launch)]
pub(super) fn cross_entropy_backward<F: Float, I: Numeric>(
    exps: &mut Tensor<F>,
    rows: &Tensor<F>,
    positives: &Tensor<I>,
    upstream: &Tensor<F>,
    #[define(F, I)] _dtypes: [StorageType; 2],
) {
    let n = exps.shape(0);
    let m = exps.shape(1);
    let row = cube_row();
    if row >= n {
        terminate!();
    }
    let per_row = upstream[0] / F::cast_from(n as u32);
    let factor = per_row * rows[row * ROW_FIELDS + ROW_INVERSE_SUM];
    let positive = u32::cast_from(positives[row]) as usize;
    let base = row * m;
    let mut j = UNIT_POS_X as usize;
    while j < m {
        let mut g = exps[base + j] * factor;
        if j == positive {
            g -= per_row;
        }
        exps[base + j] = g;
        j += CUBE_DIM_X as usize;
    }
}
