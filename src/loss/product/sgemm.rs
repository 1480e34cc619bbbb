//! The three matrix products of `scale · A · Bᵀ` and its gradients, on row-major host
//! buffers, through `matrixmultiply`'s single-precision product: the transposes are
//! strides, so no operand is copied.

use rayon::prelude::*;

/// A matrix in a buffer: `rows × cols`, element `(i, j)` at `i · row_stride + j · col_stride`.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
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
    pub(super) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
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
    pub(super) fn transposed(self) -> Self {
        View {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
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
pub(super) fn product(lhs: View<'_>, rhs: View<'_>, scale: f32) -> Vec<f32> {
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
    let cols = rhs.cols;
    let rows = out.len() / cols;
    assert!(
        first + rows <= lhs.rows,
        "rows {first}.. of a {}-row product",
        lhs.rows
    );
    // SAFETY: `lhs` addresses rows `first..first + rows` of its own buffer at its strides
    // (`row_major` checked the buffer's length, `transposed` swaps the strides over the same
    // elements, and the assertion above bounds the rows); `rhs` likewise; `out` holds
    // `rows × cols` values at strides (cols, 1). With β = 0 `sgemm` reads nothing of `out`.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            lhs.cols,
            cols,
            scale,
            lhs.data.as_ptr().add(first * lhs.row_stride),
            lhs.row_stride as isize,
            lhs.col_stride as isize,
            rhs.data.as_ptr(),
            rhs.row_stride as isize,
            rhs.col_stride as isize,
            0.0,
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
