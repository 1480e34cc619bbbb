//! Batches cut into chunks of rows, for gradient caching
//! ([`crate::trainer::Trainer::train_step_cached`]).

use std::ops::Range;

use burn::tensor::{Tensor, backend::Backend};

use super::{NegativeLayout, PairBatch};
use crate::sampler::RowIds;
use crate::{Error, Result};

/// A batch of pairs that can be cut into consecutive chunks of rows, each a batch of its
/// own: what gradient caching needs from a model's batch type.
pub trait SplitBatch: Sized + Clone {
    /// Number of pairs (rows) in the batch.
    fn rows(&self) -> usize;

    /// The batch cut into consecutive chunks of `chunk` pairs (the last may be shorter),
    /// in order.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `chunk` is 0 or the batch cannot be cut (negatives
    /// shared by every context belong to no chunk).
    fn split(self, chunk: usize) -> Result<Vec<Self>>;
}

impl<B: Backend, const DC: usize, const DX: usize> SplitBatch
    for PairBatch<Tensor<B, DC>, Tensor<B, DX>>
{
    fn rows(&self) -> usize {
        self.context.dims()[0]
    }

    fn split(self, chunk: usize) -> Result<Vec<Self>> {
        if chunk == 0 {
            return Err(Error::config("grad_cache_chunk", "must be at least 1 pair"));
        }
        let k = match self.negatives {
            Some((_, NegativeLayout::Unpaired)) => {
                return Err(Error::config(
                    "grad_cache_chunk",
                    "negatives shared by every context cannot be cut into chunks; \
                     give each context its own (NegativeLayout::Paired) or train without chunks",
                ));
            }
            Some((_, NegativeLayout::Paired { k })) => k,
            None => 0,
        };
        let n = self.rows();
        self.ids.check(n)?;
        if let Some((x, _)) = &self.negatives
            && x.dims()[0] != n * k
        {
            return Err(Error::shape(
                "paired negatives (n · k rows)",
                format!("{n} · {k} = {}", n * k),
                x.dims()[0].to_string(),
            ));
        }
        Ok((0..n)
            .step_by(chunk)
            .map(|start| self.rows_in(start..(start + chunk).min(n), k))
            .collect())
    }
}

impl<B: Backend, const DC: usize, const DX: usize> PairBatch<Tensor<B, DC>, Tensor<B, DX>> {
    /// Pairs `range` of the batch, with their `k` paired negatives each and their ids.
    fn rows_in(&self, range: Range<usize>, k: usize) -> Self {
        let len = range.end - range.start;
        let negatives = self
            .negatives
            .as_ref()
            .map(|(x, layout)| (x.clone().narrow(0, range.start * k, len * k), *layout));
        Self {
            context: self.context.clone().narrow(0, range.start, len),
            positive: self.positive.clone().narrow(0, range.start, len),
            negatives,
            ids: slice_ids(&self.ids, range),
        }
    }
}

/// The ids of rows `range`.
fn slice_ids(ids: &RowIds, range: Range<usize>) -> RowIds {
    let cut = |field: &Option<Vec<i64>>| field.as_ref().map(|v| v[range.clone()].to_vec());
    RowIds {
        instance: cut(&ids.instance),
        label: cut(&ids.label),
        sequence: cut(&ids.sequence),
        position: cut(&ids.position),
    }
}
