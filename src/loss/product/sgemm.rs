//! The three matrix products of `scale · A · Bᵀ` and its gradients, on row-major host
//! buffers, through `matrixmultiply`'s single-precision product: the transposes are
//! strides, so no operand is copied.

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

/// `scale · lhs · rhs`, row-major, `lhs.rows × rhs.cols`.
///
/// # Panics
/// When the inner dimensions differ.
pub(super) fn product(lhs: View<'_>, rhs: View<'_>, scale: f32) -> Vec<f32> {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions of the product");
    let (rows, cols) = (lhs.rows, rhs.cols);
    let mut out = Vec::with_capacity(rows * cols);
    // SAFETY: both views address only their own buffers (`row_major` checked the length
    // and `transposed` swaps the strides over the same elements); `out` has room for
    // `rows × cols` values at strides (cols, 1); with β = 0 `sgemm` writes every element
    // of `out` and reads none, so the length may then be set.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            lhs.cols,
            cols,
            scale,
            lhs.data.as_ptr(),
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
        out.set_len(rows * cols);
    }
    out
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
}
