//! The batch type of the built-in models.

use burn::tensor::{Tensor, backend::Backend};

use crate::sampler::{ExplicitNegatives, RowIds};
use crate::{Error, Result};

/// How the explicit negatives of a [`PairBatch`] are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NegativeLayout {
    /// `n · k` inputs, row-major by context: inputs `i·k .. (i+1)·k` are context `i`'s.
    Paired {
        /// Negatives per context.
        k: usize,
    },
    /// `k` inputs shared by every context.
    Unpaired,
}

/// One batch of (context, positive) pairs, optionally with explicit negatives.
#[derive(Debug, Clone)]
pub struct PairBatch<C, X> {
    /// The contexts (anchors), `n` of them.
    pub context: C,
    /// Their positives, `n` of them, in the same order.
    pub positive: X,
    /// Extra negatives and their layout.
    pub negatives: Option<(X, NegativeLayout)>,
    /// Who the `n` pairs are (instance id, label, sequence position), as far as the data
    /// source knows; both sides of a pair share it.
    pub ids: RowIds,
}

impl<C, X> PairBatch<C, X> {
    /// A batch without explicit negatives.
    pub fn new(context: C, positive: X) -> Self {
        Self {
            context,
            positive,
            negatives: None,
            ids: RowIds::default(),
        }
    }

    /// The same batch with row identity.
    #[must_use]
    pub fn with_ids(mut self, ids: RowIds) -> Self {
        self.ids = ids;
        self
    }
}

/// Turns encoded negatives `[rows, d]` into [`ExplicitNegatives`] for a batch of `n`.
pub(crate) fn arrange_negatives<B: Backend>(
    encoded: Tensor<B, 2>,
    layout: NegativeLayout,
    n: usize,
) -> Result<ExplicitNegatives<B>> {
    let [rows, d] = encoded.dims();
    match layout {
        NegativeLayout::Unpaired => Ok(ExplicitNegatives::Unpaired(encoded)),
        NegativeLayout::Paired { k } => {
            if k == 0 || rows != n * k {
                return Err(Error::shape(
                    "paired negatives (n · k rows)",
                    format!("{n} · {k} = {}", n * k),
                    rows.to_string(),
                ));
            }
            Ok(ExplicitNegatives::Paired(encoded.reshape([n, k, d])))
        }
    }
}

/// The [`Embeddings`] of a batch from its encoded sides: `encode_negatives` runs only when
/// the batch has explicit negatives; the rows' ids are checked against the batch size and
/// moved to the embeddings' device.
pub(crate) fn assemble_embeddings<B: Backend, X>(
    context: Tensor<B, 2>,
    samples: Tensor<B, 2>,
    negatives: Option<(X, NegativeLayout)>,
    ids: crate::sampler::RowIds,
    encode_negatives: impl FnOnce(X) -> Tensor<B, 2>,
) -> Result<crate::sampler::Embeddings<B>> {
    let n = context.dims()[0];
    let negatives = negatives
        .map(|(x, layout)| arrange_negatives(encode_negatives(x), layout, n))
        .transpose()?;
    ids.check(n)?;
    let rows = ids.to_device(&context.device());
    Ok(crate::sampler::Embeddings {
        context,
        samples,
        negatives,
        rows,
    })
}
