//! Masks over context × candidate pairs, described by structure and built on the device.

use burn::tensor::{Bool, Int, Tensor, backend::Backend};

use super::PairMask;
use crate::{Error, Result};

/// Which (context, candidate) pairs of an `n × m` score matrix a mask selects.
///
/// A `Mask` is a *description*: the built-in samplers say "the diagonal", "the other view",
/// "same instance id", "these columns", and the objective turns the description into a
/// `Tensor<B, 2, Bool>` on the device only where it needs one ([`Mask::to_tensor`]). The
/// largest upload a built-in mask makes is its per-row and per-column id vectors, `O(n + m)`;
/// nothing `n × m` is built on the host. [`Mask::single_column`] gives the one positive
/// column of each row for masks whose structure guarantees exactly one, so InfoNCE can
/// gather instead of masking.
///
/// A custom sampler can still hand over an arbitrary pattern as [`Mask::Dense`] (a device
/// tensor) or [`Mask::Host`] (a [`PairMask`], uploaded when used).
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{Int, Tensor};
/// use infonce::loss::Mask;
///
/// let device = Default::default();
/// // Same label, but not the pair itself: SupCon's positives.
/// let labels = Tensor::<PrebuiltNdArray, 1, Int>::from_ints([0, 1, 0], &device);
/// let same = Mask::Equal { rows: labels.clone(), cols: labels };
/// let positives = same.and(Mask::Diagonal { offset: 0 }.not());
/// let bits = positives.to_pair_mask([3, 3], &device).unwrap();
/// assert!(bits.get(0, 2) && bits.get(2, 0) && !bits.get(0, 0) && !bits.get(1, 1));
/// ```
#[derive(Debug, Clone)]
pub enum Mask<B: Backend> {
    /// Every pair.
    All,
    /// No pair.
    Empty,
    /// `(i, j)` with `j = i + offset`.
    Diagonal {
        /// Column offset of the diagonal.
        offset: i64,
    },
    /// The two-view layout of `2·batch` rows and columns: `j = (i + batch) mod 2·batch`,
    /// each row's other view (NT-Xent's positives).
    TwoView {
        /// Pairs per view.
        batch: usize,
    },
    /// One column per row: `(i, j)` with `j == column[i]` (InfoNCE's positive indices).
    Index {
        /// The selected column of each row, `[n]`.
        column: Tensor<B, 1, Int>,
    },
    /// `(i, j)` with `rows[i] == cols[j]` (same instance id, same label, same time step).
    Equal {
        /// One id per row, `[n]`.
        rows: Tensor<B, 1, Int>,
        /// One id per column, `[m]`.
        cols: Tensor<B, 1, Int>,
    },
    /// Every row, columns `start..end`.
    Columns {
        /// First column.
        start: usize,
        /// One past the last column.
        end: usize,
    },
    /// Column blocks of `per_row` owned by one row each: `(i, j)` with `j / per_row == i`
    /// (paired explicit negatives).
    RowBlocks {
        /// Columns per row.
        per_row: usize,
    },
    /// An arbitrary pattern already on the device, `[n, m]`.
    Dense(Tensor<B, 2, Bool>),
    /// An arbitrary pattern on the host, uploaded when used.
    Host(PairMask),
    /// Pairs the inner mask does not select.
    Not(Box<Mask<B>>),
    /// Pairs both masks select.
    And(Box<Mask<B>>, Box<Mask<B>>),
    /// Pairs either mask selects.
    Or(Box<Mask<B>>, Box<Mask<B>>),
    /// Column blocks side by side, each with its width: the mask of a candidate set
    /// assembled from several sources.
    Concat(Vec<(Mask<B>, usize)>),
}

impl<B: Backend> Mask<B> {
    /// The complement.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Mask::Not(inner) => *inner,
            Mask::All => Mask::Empty,
            Mask::Empty => Mask::All,
            other => Mask::Not(Box::new(other)),
        }
    }

    /// The intersection.
    pub fn and(self, other: Self) -> Self {
        match (self, other) {
            (Mask::All, m) | (m, Mask::All) => m,
            (Mask::Empty, _) | (_, Mask::Empty) => Mask::Empty,
            (a, b) => Mask::And(Box::new(a), Box::new(b)),
        }
    }

    /// The union.
    pub fn or(self, other: Self) -> Self {
        match (self, other) {
            (Mask::Empty, m) | (m, Mask::Empty) => m,
            (Mask::All, _) | (_, Mask::All) => Mask::All,
            (a, b) => Mask::Or(Box::new(a), Box::new(b)),
        }
    }

    /// Whether the mask certainly selects nothing.
    pub fn is_empty(&self) -> bool {
        match self {
            Mask::Empty => true,
            Mask::Concat(parts) => parts.iter().all(|(m, _)| m.is_empty()),
            _ => false,
        }
    }

    /// Whether this mask certainly selects every pair `other` selects, by structure alone
    /// (`false` when it cannot tell). Used to skip joining a validity mask with positives
    /// it already holds.
    pub fn contains(&self, other: &Mask<B>, dims: [usize; 2]) -> bool {
        match (self, other) {
            (Mask::All, _) | (_, Mask::Empty) => true,
            (Mask::Not(inner), o) => inner.disjoint(o, dims),
            _ => false,
        }
    }

    /// Whether the two masks certainly select no pair in common, by structure alone.
    fn disjoint(&self, other: &Mask<B>, dims: [usize; 2]) -> bool {
        match (self, other) {
            (Mask::Empty, _) | (_, Mask::Empty) => true,
            (Mask::Diagonal { offset: a }, Mask::Diagonal { offset: b }) => a != b,
            (Mask::Diagonal { offset: 0 }, Mask::TwoView { batch })
            | (Mask::TwoView { batch }, Mask::Diagonal { offset: 0 }) => {
                *batch >= 1 && dims == [2 * batch, 2 * batch]
            }
            _ => false,
        }
    }

    /// The number of pairs selected in each row when the structure makes it the same for
    /// every row of `[n, m]`; `None` when it may vary (or cannot be told).
    pub fn uniform_row_count(&self, dims: [usize; 2]) -> Option<usize> {
        let [n, m] = dims;
        match self {
            Mask::All => Some(m),
            Mask::Empty => Some(0),
            Mask::Diagonal { offset: 0 } if n <= m => Some(1),
            Mask::Index { .. } => Some(1),
            Mask::TwoView { batch } if dims == [2 * batch, 2 * batch] => Some(1),
            Mask::Columns { start, end } => Some(end.min(&m).saturating_sub(*start)),
            Mask::Not(inner) => inner.uniform_row_count(dims).map(|c| m - c),
            Mask::Concat(parts) => parts
                .iter()
                .map(|(mask, w)| mask.uniform_row_count([n, *w]))
                .sum(),
            _ => None,
        }
    }

    /// The mask as a `[n, m]` boolean tensor on `device`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when an id vector, a dense or host mask, or the widths of a
    /// [`Mask::Concat`] do not fit `[n, m]`.
    pub fn to_tensor(&self, dims: [usize; 2], device: &B::Device) -> Result<Tensor<B, 2, Bool>> {
        let [n, m] = dims;
        Ok(match self {
            Mask::All => Tensor::<B, 2, Int>::ones([n, m], device).equal_elem(1),
            Mask::Empty => Tensor::<B, 2, Int>::zeros([n, m], device).equal_elem(1),
            Mask::Diagonal { offset } => {
                let rows = Tensor::arange(0..n as i64, device).add_scalar(*offset);
                outer_equal(rows, Tensor::arange(0..m as i64, device), n, m)
            }
            Mask::TwoView { batch } => {
                check_dims("two-view mask", [2 * batch, 2 * batch], dims)?;
                outer_equal(two_view_partners(*batch, device), arange(m, device), n, m)
            }
            Mask::Index { column } => {
                check_dims("index mask", [column.dims()[0], m], dims)?;
                outer_equal(column.clone(), arange(m, device), n, m)
            }
            Mask::Equal { rows, cols } => {
                check_dims("id mask", [rows.dims()[0], cols.dims()[0]], dims)?;
                outer_equal(rows.clone(), cols.clone(), n, m)
            }
            Mask::Columns { start, end } => {
                let j = arange(m, device).reshape([1, m]).expand([n, m]);
                j.clone()
                    .greater_equal_elem(*start as i64)
                    .bool_and(j.lower_elem(*end as i64))
            }
            Mask::RowBlocks { per_row } => {
                let owner = arange(m, device).div_scalar(*per_row.max(&1) as i64);
                outer_equal(arange(n, device), owner, n, m)
            }
            Mask::Dense(t) => {
                check_dims("dense mask", t.dims(), dims)?;
                t.clone()
            }
            Mask::Host(p) => {
                check_dims("host mask", p.dims(), dims)?;
                p.to_tensor::<B>(device)
            }
            Mask::Not(inner) => inner.to_tensor(dims, device)?.bool_not(),
            Mask::And(a, b) => a
                .to_tensor(dims, device)?
                .bool_and(b.to_tensor(dims, device)?),
            Mask::Or(a, b) => a
                .to_tensor(dims, device)?
                .bool_or(b.to_tensor(dims, device)?),
            Mask::Concat(parts) => concat_parts(parts, dims, device)?,
        })
    }

    /// For a mask whose structure gives every row exactly one selected column, that column
    /// per row (`[n]`, on the device); `None` when the structure does not guarantee it.
    pub fn single_column(&self, n: usize, device: &B::Device) -> Option<Tensor<B, 1, Int>> {
        match self {
            Mask::Diagonal { offset } => Some(arange(n, device).add_scalar(*offset)),
            Mask::Index { column } => Some(column.clone()),
            Mask::TwoView { batch } if 2 * batch == n => Some(two_view_partners(*batch, device)),
            Mask::Host(p) => p.single_indices().map(|idx| {
                let v: Vec<i64> = idx.iter().map(|&j| j as i64).collect();
                Tensor::from_data(burn::tensor::TensorData::new(v, [n]), device)
            }),
            Mask::Concat(parts) => {
                let mut offset = 0;
                let mut found = None;
                for (part, width) in parts {
                    if !part.is_empty() {
                        if found.is_some() {
                            return None;
                        }
                        found = Some(part.single_column(n, device)?.add_scalar(offset as i64));
                    }
                    offset += width;
                }
                found
            }
            _ => None,
        }
    }

    /// The transposed mask (candidates as rows), where the structure allows it.
    pub fn transpose(&self) -> Option<Self> {
        Some(match self {
            Mask::All | Mask::Empty | Mask::TwoView { .. } => self.clone(),
            Mask::Diagonal { offset } => Mask::Diagonal { offset: -offset },
            Mask::Equal { rows, cols } => Mask::Equal {
                rows: cols.clone(),
                cols: rows.clone(),
            },
            Mask::Dense(t) => Mask::Dense(t.clone().transpose()),
            Mask::Host(p) => {
                let [r, c] = p.dims();
                Mask::Host(PairMask::from_fn(c, r, |i, j| p.get(j, i)))
            }
            Mask::Not(a) => Mask::Not(Box::new(a.transpose()?)),
            Mask::And(a, b) => Mask::And(Box::new(a.transpose()?), Box::new(b.transpose()?)),
            Mask::Or(a, b) => Mask::Or(Box::new(a.transpose()?), Box::new(b.transpose()?)),
            Mask::Index { .. }
            | Mask::Columns { .. }
            | Mask::RowBlocks { .. }
            | Mask::Concat(_) => return None,
        })
    }

    /// Reads the mask back to the host (for tests and debugging: this synchronises).
    ///
    /// # Errors
    /// As [`Mask::to_tensor`].
    pub fn to_pair_mask(&self, dims: [usize; 2], device: &B::Device) -> Result<PairMask> {
        let data = self.to_tensor(dims, device)?.into_data();
        let bits = data.iter::<bool>().collect();
        PairMask::from_bits(dims[0], dims[1], bits)
    }
}

fn arange<B: Backend>(len: usize, device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::arange(0..len as i64, device)
}

/// Row `k` of the two-view layout pairs with `(k + batch) mod 2·batch`.
fn two_view_partners<B: Backend>(batch: usize, device: &B::Device) -> Tensor<B, 1, Int> {
    arange(2 * batch, device)
        .add_scalar(batch as i64)
        .remainder_scalar(2 * batch as i64)
}

/// `[n, m]` with `rows[i] == cols[j]`.
fn outer_equal<B: Backend>(
    rows: Tensor<B, 1, Int>,
    cols: Tensor<B, 1, Int>,
    n: usize,
    m: usize,
) -> Tensor<B, 2, Bool> {
    // Broadcast: neither side is materialised at [n, m].
    rows.reshape([n, 1]).equal(cols.reshape([1, m]))
}

fn check_dims(what: &str, want: [usize; 2], got: [usize; 2]) -> Result<()> {
    if want == got {
        Ok(())
    } else {
        Err(Error::shape(
            format!("{what} vs score matrix"),
            format!("{got:?}"),
            format!("{want:?}"),
        ))
    }
}

fn concat_parts<B: Backend>(
    parts: &[(Mask<B>, usize)],
    dims: [usize; 2],
    device: &B::Device,
) -> Result<Tensor<B, 2, Bool>> {
    let total: usize = parts.iter().map(|(_, w)| w).sum();
    check_dims("concatenated mask", [dims[0], total], dims)?;
    let tensors = parts
        .iter()
        .filter(|(_, w)| *w > 0)
        .map(|(mask, w)| mask.to_tensor([dims[0], *w], device))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::cat(tensors, 1))
}
