//! A mask restricted to some of its rows (a data-parallel peer keeps its own rows).

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use super::{Mask, PairMask};
use crate::Result;

impl<B: Backend> Mask<B> {
    /// The mask over rows `rows` of an `[n, m]` layout, in that order: `[rows.len(), m]`.
    /// Structure is kept where it can be (a diagonal becomes an index per row, ids are
    /// selected), so nothing `n × m` is built for the structured masks.
    ///
    /// # Errors
    /// [`crate::Error::ShapeMismatch`] when a dense, host or concatenated mask does not fit
    /// `dims`.
    pub fn select_rows(
        &self,
        rows: &[usize],
        dims: [usize; 2],
        device: &B::Device,
    ) -> Result<Self> {
        let picked = || index_tensor::<B>(rows, device);
        let ids = |f: &dyn Fn(usize) -> i64| -> Tensor<B, 1, Int> {
            let v: Vec<i64> = rows.iter().map(|&r| f(r)).collect();
            Tensor::from_data(TensorData::new(v, [rows.len()]), device)
        };
        let again = |m: &Mask<B>| m.select_rows(rows, dims, device).map(Box::new);
        Ok(match self {
            Mask::All | Mask::Empty | Mask::Columns { .. } => self.clone(),
            Mask::Diagonal { offset } => Mask::Index {
                column: ids(&|r| r as i64 + offset),
            },
            Mask::TwoView { batch } => Mask::Index {
                column: ids(&|r| ((r + batch) % (2 * batch)) as i64),
            },
            Mask::Index { column } => Mask::Index {
                column: column.clone().select(0, picked()),
            },
            Mask::Equal { rows: r, cols } => Mask::Equal {
                rows: r.clone().select(0, picked()),
                cols: cols.clone(),
            },
            Mask::RowBlocks { per_row } => Mask::Equal {
                rows: ids(&|r| r as i64),
                cols: Tensor::arange(0..dims[1] as i64, device).div_scalar(*per_row.max(&1) as i64),
            },
            Mask::Dense(t) => Mask::Dense(t.clone().select(0, picked())),
            Mask::Host(p) => Mask::Host(select_host(p, rows)),
            Mask::Not(inner) => Mask::Not(again(inner)?),
            Mask::And(a, b) => Mask::And(again(a)?, again(b)?),
            Mask::Or(a, b) => Mask::Or(again(a)?, again(b)?),
            Mask::Concat(parts) => Mask::Concat(
                parts
                    .iter()
                    .map(|(m, w)| Ok((m.select_rows(rows, [dims[0], *w], device)?, *w)))
                    .collect::<Result<_>>()?,
            ),
        })
    }
}

fn index_tensor<B: Backend>(rows: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    Tensor::from_data(TensorData::new(v, [rows.len()]), device)
}

fn select_host(p: &PairMask, rows: &[usize]) -> PairMask {
    let [_, m] = p.dims();
    PairMask::from_fn(rows.len(), m, |i, j| p.get(rows[i], j))
}
