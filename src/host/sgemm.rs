//! Single-precision matrix products on host buffers through `matrixmultiply` (with its
//! AVX-512 kernels): operands are [`View`]s, so a transpose or a block of rows is a matter
//! of strides and offsets and no operand is copied.

use rayon::prelude::*;

/// A matrix in a buffer: `rows × cols`, element `(i, j)` at `i · row_stride + j · col_stride`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// When the buffer does not hold exactly `rows · cols` values.
    pub(crate) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a {rows} × {cols} buffer");
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The same buffer read as the transposed matrix.
    pub(crate) fn transposed(self) -> Self {
        View {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `first..first + count` of the matrix, at the same strides.
    ///
    /// # Panics
    /// When the rows run past the matrix.
    pub(crate) fn row_range(self, first: usize, count: usize) -> Self {
        assert!(
            first + count <= self.rows,
            "rows {first}..{} of {}",
            first + count,
            self.rows
        );
        let offset = (first * self.row_stride).min(self.data.len());
        View {
            data: &self.data[offset..],
            rows: count,
            ..self
        }
    }

    /// Panics unless every element `(i, j)` lies inside the buffer.
    fn assert_in_bounds(&self) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        assert!(last < self.data.len(), "a view reaching past its buffer");
    }
}

/// Below this many multiply-adds a product runs on the calling thread: splitting it would
/// cost more in waking threads than it saves (about 50 µs of work at 80 GFLOP/s).
const PARALLEL_WORK: usize = 1 << 22;

/// Fewest output rows a thread takes (the kernels' register blocks are 16 rows at most).
const MIN_ROWS_PER_THREAD: usize = 64;

/// `scale · lhs · rhs`, row-major, `lhs.rows × rhs.cols`: large products split their output
/// rows over rayon's threads, each a single-threaded `sgemm` on its own rows.
///
/// # Panics
/// When the inner dimensions differ.
pub(crate) fn product(lhs: View<'_>, rhs: View<'_>, scale: f32) -> Vec<f32> {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions of the product");
    let (rows, cols) = (lhs.rows, rhs.cols);
    let mut out = vec![0.0f32; rows * cols];
    let threads = if rows * lhs.cols * cols < PARALLEL_WORK {
        1
    } else {
        rayon::current_num_threads().min(rows / MIN_ROWS_PER_THREAD)
    };
    if threads <= 1 {
        product_rows(lhs, rhs, scale, 0, &mut out);
        return out;
    }
    let rows_per_chunk = rows.div_ceil(threads);
    out.par_chunks_mut(rows_per_chunk * cols)
        .enumerate()
        .for_each(|(chunk, out)| {
            let first = chunk * rows_per_chunk;
            product_rows(lhs, rhs, scale, first, out);
        });
    out
}

/// Rows `first..first + out.len() / rhs.cols` of the product, into `out`.
fn product_rows(lhs: View<'_>, rhs: View<'_>, scale: f32, first: usize, out: &mut [f32]) {
    let rows = out.len() / rhs.cols;
    gemm(lhs.row_range(first, rows), rhs, scale, 0.0, out);
}

/// `out ← alpha · lhs · rhs + beta · out`, with `out` row-major `lhs.rows × rhs.cols`, on the
/// calling thread. With `beta = 0` the previous contents of `out` are not read.
///
/// # Panics
/// When the inner dimensions differ, `out` has another size, or a view reaches past its
/// buffer.
pub(crate) fn gemm(lhs: View<'_>, rhs: View<'_>, alpha: f32, beta: f32, out: &mut [f32]) {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions of the product");
    let (rows, cols) = (lhs.rows, rhs.cols);
    assert_eq!(out.len(), rows * cols, "a {rows} × {cols} output");
    if rows == 0 || cols == 0 {
        return;
    }
    lhs.assert_in_bounds();
    rhs.assert_in_bounds();
    // SAFETY: both views address only elements of their own buffers (checked just above:
    // the farthest element, at the last row and column, lies inside the buffer), and `out`
    // holds `rows × cols` values at strides (cols, 1).
    unsafe {
        matrixmultiply::sgemm(
            rows,
            lhs.cols,
            cols,
            alpha,
            lhs.data.as_ptr(),
            lhs.row_stride as isize,
            lhs.col_stride as isize,
            rhs.data.as_ptr(),
            rhs.row_stride as isize,
            rhs.col_stride as isize,
            beta,
            out.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_read_the_transpose() {
        // A = [[1, 2, 3], [4, 5, 6]]; A · Aᵀ = [[14, 32], [32, 77]], times 0.5.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let view = View::row_major(&a, 2, 3);
        assert_eq!(
            product(view, view.transposed(), 0.5),
            vec![7.0, 16.0, 16.0, 38.5]
        );
        // Aᵀ · A is 3 × 3; its first row is [17, 22, 27].
        let gram = product(view.transposed(), view, 1.0);
        assert_eq!(&gram[..3], &[17.0, 22.0, 27.0]);
    }

    #[test]
    fn rows_split_over_threads_give_the_single_threaded_product() {
        // 1000 × 300 · 300 × 40 is above the parallel threshold: compare with one chunk.
        let (rows, inner, cols) = (1000, 300, 40);
        let a: Vec<f32> = (0..rows * inner)
            .map(|i| ((i * 7919) % 97) as f32 / 97.0)
            .collect();
        let b: Vec<f32> = (0..inner * cols)
            .map(|i| ((i * 31) % 89) as f32 / 89.0)
            .collect();
        let (a, b) = (
            View::row_major(&a, rows, inner),
            View::row_major(&b, inner, cols),
        );
        let split = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| product(a, b, 0.5));
        let mut whole = vec![0.0; rows * cols];
        product_rows(a, b, 0.5, 0, &mut whole);
        assert_eq!(split, whole);
    }
}
