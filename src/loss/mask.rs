//! Boolean masks over context × candidate pairs, built and checked on the host.

use burn::tensor::{Bool, Tensor, TensorData, backend::Backend};

use crate::{Error, Result};

/// A `rows × cols` boolean matrix over (context, candidate) pairs, kept on the host.
///
/// Samplers build their positive and validity masks as `PairMask`s: the shapes are known on
/// the host, so the loss can check every row has a positive and at least one negative, and
/// count the candidates of each row (the `N` of `log N − J`), without reading anything back
/// from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairMask {
    rows: usize,
    cols: usize,
    bits: Vec<bool>,
}

impl PairMask {
    /// A mask whose entry `(i, j)` is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, f: impl Fn(usize, usize) -> bool) -> Self {
        let mut bits = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                bits.push(f(i, j));
            }
        }
        Self { rows, cols, bits }
    }

    /// The `n × n` identity: candidate `i` is the positive of context `i`.
    pub fn diagonal(n: usize) -> Self {
        Self::from_fn(n, n, |i, j| i == j)
    }

    /// One positive per row at the given column.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when an index is `>= cols`.
    pub fn from_indices(cols: usize, indices: &[usize]) -> Result<Self> {
        if let Some((row, &bad)) = indices.iter().enumerate().find(|&(_, &j)| j >= cols) {
            return Err(Error::shape(
                format!("positive index of row {row}"),
                format!("< {cols}"),
                bad.to_string(),
            ));
        }
        Ok(Self::from_fn(indices.len(), cols, |i, j| indices[i] == j))
    }

    /// Builds a mask from row-major bits.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `bits.len() != rows * cols`.
    pub fn from_bits(rows: usize, cols: usize, bits: Vec<bool>) -> Result<Self> {
        if bits.len() != rows * cols {
            return Err(Error::shape(
                "mask bits",
                format!("{} = {rows} × {cols}", rows * cols),
                bits.len().to_string(),
            ));
        }
        Ok(Self { rows, cols, bits })
    }

    /// `[rows, cols]`.
    pub fn dims(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> bool {
        self.bits[i * self.cols + j]
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[bool] {
        &self.bits[i * self.cols..(i + 1) * self.cols]
    }

    /// Number of `true` entries in each row.
    pub fn row_counts(&self) -> Vec<usize> {
        (0..self.rows)
            .map(|i| self.row(i).iter().filter(|&&b| b).count())
            .collect()
    }

    /// Element-wise OR with a mask of the same shape.
    pub fn or(&self, other: &PairMask) -> Result<PairMask> {
        if self.dims() != other.dims() {
            return Err(Error::shape(
                "mask union",
                format!("{:?}", self.dims()),
                format!("{:?}", other.dims()),
            ));
        }
        let bits = self
            .bits
            .iter()
            .zip(&other.bits)
            .map(|(a, b)| *a || *b)
            .collect();
        Ok(PairMask {
            rows: self.rows,
            cols: self.cols,
            bits,
        })
    }

    /// For each row, the column of its positive when the row has exactly one; `None` when
    /// any row has zero or several.
    pub fn single_indices(&self) -> Option<Vec<usize>> {
        (0..self.rows)
            .map(|i| {
                let row = self.row(i);
                let mut it = row.iter().enumerate().filter(|&(_, &b)| b).map(|(j, _)| j);
                match (it.next(), it.next()) {
                    (Some(j), None) => Some(j),
                    _ => None,
                }
            })
            .collect()
    }

    /// Uploads the mask as a `Tensor<B, 2, Bool>`.
    pub fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Bool> {
        Tensor::from_data(
            TensorData::new(self.bits.clone(), [self.rows, self.cols]),
            device,
        )
    }
}
