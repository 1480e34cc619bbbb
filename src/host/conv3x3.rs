//! The 3×3, stride-1, zero-padded convolution of channels-last images on host buffers, and
//! its two gradients.
//!
//! Each block of output pixels gathers its 3×3 neighbourhoods into a `[rows, 9·c_in]`
//! matrix (im2col; Chellapilla, Puri and Simard 2006, *High Performance Convolutional
//! Neural Networks for Document Processing*) and multiplies it by the `[9·c_in, c_out]`
//! weight in one `sgemm`. Blocks are small enough for the gathered rows to stay in cache and
//! are spread over rayon's threads. The input gradient is the same convolution of the
//! upstream gradient with the weight flipped in space and transposed in channels; the
//! weight gradient sums `colsᵀ · G` over a fixed number of row groups, so it does not depend
//! on the number of threads.

use rayon::prelude::*;

use super::ordered_sum::ordered_sum;
use super::sgemm::{View, gemm};

/// Output pixels per gathered block: a `[256, 9·64]` block is 590 KB.
const BLOCK_ROWS: usize = 256;

/// A batch of channels-last images `[batch, height, width, channels]` in a row-major buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Images<'a> {
    data: &'a [f32],
    dims: [usize; 4],
}

impl<'a> Images<'a> {
    /// # Panics
    /// When the buffer does not hold `dims`' product of values.
    pub(crate) fn new(data: &'a [f32], dims: [usize; 4]) -> Self {
        assert_eq!(
            data.len(),
            dims.iter().product::<usize>(),
            "images {dims:?}"
        );
        Images { data, dims }
    }

    fn pixels(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// Rows `first..first + cols.len() / (9·c)` of the im2col matrix: row `p` (pixel
    /// `(n, y, x)`) holds tap `(dy, dx)`'s input pixel `(n, y + dy − 1, x + dx − 1)` at
    /// columns `(dy·3 + dx)·c ..`, zeros where that pixel is padding.
    fn gather(&self, first: usize, cols: &mut [f32]) {
        let [_, h, w, c] = self.dims;
        for (r, row) in cols.chunks_exact_mut(9 * c).enumerate() {
            let p = first + r;
            let (n, y, x) = (p / (h * w), p / w % h, p % w);
            for dy in 0..3 {
                let taps = &mut row[dy * 3 * c..(dy + 1) * 3 * c];
                if y + dy == 0 || y + dy > h {
                    taps.fill(0.0);
                    continue;
                }
                let line = (n * h + y + dy - 1) * w;
                if x >= 1 && x + 2 <= w {
                    // The three taps of an interior pixel are three neighbouring pixels.
                    let src = (line + x - 1) * c;
                    taps.copy_from_slice(&self.data[src..src + 3 * c]);
                    continue;
                }
                for dx in 0..3 {
                    let tap = &mut taps[dx * c..(dx + 1) * c];
                    if x + dx == 0 || x + dx > w {
                        tap.fill(0.0);
                    } else {
                        let src = (line + x + dx - 1) * c;
                        tap.copy_from_slice(&self.data[src..src + c]);
                    }
                }
            }
        }
    }
}

/// The convolution of `x` with `weight` `[9·c_in, c_out]` (row `(dy·3 + dx)·c_in + c`):
/// `[batch, height, width, c_out]`, row-major.
pub(crate) fn forward(x: Images<'_>, weight: &[f32], c_out: usize) -> Vec<f32> {
    let k = 9 * x.dims[3];
    assert_eq!(weight.len(), k * c_out, "a [{k}, {c_out}] weight");
    let mut out = vec![0.0f32; x.pixels() * c_out];
    if out.is_empty() {
        return out;
    }
    let weight = View::row_major(weight, k, c_out);
    out.par_chunks_mut(BLOCK_ROWS * c_out)
        .enumerate()
        .for_each_init(
            || vec![0.0f32; BLOCK_ROWS * k],
            |cols, (block, out)| {
                let rows = out.len() / c_out;
                let cols = &mut cols[..rows * k];
                x.gather(block * BLOCK_ROWS, cols);
                gemm(View::row_major(cols, rows, k), weight, 1.0, 0.0, out);
            },
        );
    out
}

/// The gradient with respect to the input of `Σ upstream ⊙ forward(x, weight)`, where
/// `upstream` holds `[batch, height, width, c_out]` images: the convolution of `upstream`
/// with the flipped weight (tap `(2 − dy, 2 − dx)`, channels swapped).
pub(crate) fn input_gradient(upstream: Images<'_>, weight: &[f32], c_in: usize) -> Vec<f32> {
    let c_out = upstream.dims[3];
    forward(upstream, &flipped(weight, c_in, c_out), c_in)
}

/// `weight` `[9·c_in, c_out]` as the `[9·c_out, c_in]` weight of the transposed
/// convolution: row `k'·c_out + o`, column `c` is `weight[(8 − k')·c_in + c, o]`.
fn flipped(weight: &[f32], c_in: usize, c_out: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; weight.len()];
    for k in 0..9 {
        for c in 0..c_in {
            for o in 0..c_out {
                out[((8 - k) * c_out + o) * c_in + c] = weight[(k * c_in + c) * c_out + o];
            }
        }
    }
    out
}

/// The gradient with respect to the weight, `colsᵀ · upstream` over all pixels: `[9·c_in,
/// c_out]`, summed block by block in a fixed order ([`ordered_sum`]).
pub(crate) fn weight_gradient(x: Images<'_>, upstream: &[f32], c_out: usize) -> Vec<f32> {
    let (pixels, k) = (x.pixels(), 9 * x.dims[3]);
    assert_eq!(
        upstream.len(),
        pixels * c_out,
        "a gradient of {pixels} pixels"
    );
    ordered_sum(pixels, BLOCK_ROWS, k * c_out, |range, sum| {
        let mut cols = vec![0.0f32; BLOCK_ROWS * k];
        for first in range.clone().step_by(BLOCK_ROWS) {
            let rows = BLOCK_ROWS.min(range.end - first);
            let cols = &mut cols[..rows * k];
            x.gather(first, cols);
            let g = &upstream[first * c_out..(first + rows) * c_out];
            let (cols, g) = (
                View::row_major(cols, rows, k),
                View::row_major(g, rows, c_out),
            );
            gemm(cols.transposed(), g, 1.0, 1.0, sum);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct convolution, loop by loop.
    fn direct(x: &[f32], dims: [usize; 4], weight: &[f32], c_out: usize) -> Vec<f32> {
        let [b, h, w, c] = dims;
        let mut out = vec![0.0f32; b * h * w * c_out];
        for n in 0..b {
            for y in 0..h {
                for xx in 0..w {
                    for (k, (dy, dx)) in
                        (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).enumerate()
                    {
                        let (sy, sx) = (y + dy, xx + dx);
                        if sy == 0 || sx == 0 || sy > h || sx > w {
                            continue;
                        }
                        for ci in 0..c {
                            let v = x[((n * h + sy - 1) * w + sx - 1) * c + ci];
                            for o in 0..c_out {
                                out[((n * h + y) * w + xx) * c_out + o] +=
                                    v * weight[(k * c + ci) * c_out + o];
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn pattern(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed) % 97) as f32 / 48.5 - 1.0)
            .collect()
    }

    #[test]
    fn blocks_give_the_direct_convolution() {
        // 2 · 13 · 11 = 286 pixels: two blocks, the second partial.
        let dims = [2, 13, 11, 3];
        let x = pattern(dims.iter().product(), 1);
        let weight = pattern(27 * 5, 2);
        let fast = forward(Images::new(&x, dims), &weight, 5);
        let slow = direct(&x, dims, &weight, 5);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-4, "{a} against {b}");
        }
    }

    #[test]
    fn weight_gradient_sums_every_block() {
        // 5 · 32 · 32 = 5 120 pixels: 20 blocks in 16 groups, so groups hold several blocks.
        let (dims, c_out) = ([5, 32, 32, 2], 3);
        let [b, h, w, c] = dims;
        let x = pattern(dims.iter().product(), 5);
        let g = pattern(b * h * w * c_out, 6);
        let mut direct = vec![0.0f64; 9 * c * c_out];
        for p in 0..b * h * w {
            let (n, y, xx) = (p / (h * w), p / w % h, p % w);
            for (k, (dy, dx)) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).enumerate() {
                let (sy, sx) = (y + dy, xx + dx);
                if sy == 0 || sx == 0 || sy > h || sx > w {
                    continue;
                }
                for ci in 0..c {
                    let v = x[((n * h + sy - 1) * w + sx - 1) * c + ci] as f64;
                    for o in 0..c_out {
                        direct[(k * c + ci) * c_out + o] += v * g[p * c_out + o] as f64;
                    }
                }
            }
        }
        let fast = weight_gradient(Images::new(&x, dims), &g, c_out);
        for (a, b) in fast.iter().zip(&direct) {
            assert!(
                (*a as f64 - b).abs() < 1e-3 * (1.0 + b.abs()),
                "{a} against {b}"
            );
        }
    }

    #[test]
    fn weight_gradient_does_not_depend_on_the_threads() {
        let dims = [4, 30, 30, 2];
        let x = pattern(dims.iter().product(), 3);
        let g = pattern(4 * 30 * 30 * 3, 4);
        let with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| weight_gradient(Images::new(&x, dims), &g, 3))
        };
        assert_eq!(with(1), with(3));
    }
}
