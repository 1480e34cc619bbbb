//! The data that flows from the model to the sampler and from the sampler to the objective.

use burn::tensor::{Tensor, backend::Backend};

use super::Rows;
use crate::loss::{BoundKind, Mask};
use crate::{Error, Result};

/// Negatives supplied by the data rather than by the batch.
#[derive(Debug, Clone)]
pub enum ExplicitNegatives<B: Backend> {
    /// `k` negatives of its own for each context: `[n, k, d]`.
    Paired(Tensor<B, 3>),
    /// `k` negatives shared by every context: `[k, d]`.
    Unpaired(Tensor<B, 2>),
}

/// What a model produces for one batch: embeddings and who each row is.
#[derive(Debug, Clone)]
pub struct Embeddings<B: Backend> {
    /// Context embeddings `[n, d_c]` (the anchors, the `c` of `f(x, c)`).
    pub context: Tensor<B, 2>,
    /// Positive sample embeddings `[n, d_x]`; row `i` is the positive of context `i`.
    pub samples: Tensor<B, 2>,
    /// Negatives that came with the batch, if any.
    pub negatives: Option<ExplicitNegatives<B>>,
    /// The identity of the `n` pairs (context `i` and sample `i` share it).
    pub rows: Rows<B>,
}

impl<B: Backend> Embeddings<B> {
    /// Contexts and positives only, rows without identity.
    pub fn new(context: Tensor<B, 2>, samples: Tensor<B, 2>) -> Self {
        Self {
            context,
            samples,
            negatives: None,
            rows: Rows::none(),
        }
    }

    /// The same embeddings with this row identity.
    #[must_use]
    pub fn with_rows(mut self, rows: Rows<B>) -> Self {
        self.rows = rows;
        self
    }

    /// The same embeddings with explicit negatives.
    #[must_use]
    pub fn with_negatives(mut self, negatives: ExplicitNegatives<B>) -> Self {
        self.negatives = Some(negatives);
        self
    }

    /// The same embeddings cut from the autodiff graph (what a memory queue stores).
    pub fn detach(&self) -> Self {
        Self {
            context: self.context.clone().detach(),
            samples: self.samples.clone().detach(),
            negatives: self.negatives.as_ref().map(|n| match n {
                ExplicitNegatives::Paired(t) => ExplicitNegatives::Paired(t.clone().detach()),
                ExplicitNegatives::Unpaired(t) => ExplicitNegatives::Unpaired(t.clone().detach()),
            }),
            rows: self.rows.clone(),
        }
    }

    /// Checks `context`, `samples` and the row ids have the same number of rows, at least
    /// one, and returns it.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::EmptyBatch`].
    pub fn check(&self) -> Result<usize> {
        let [n, _] = self.context.dims();
        let [m, _] = self.samples.dims();
        if n != m {
            return Err(Error::shape(
                "rows of context vs positive samples",
                n.to_string(),
                m.to_string(),
            ));
        }
        if n == 0 {
            return Err(Error::EmptyBatch {
                what: "embeddings".into(),
            });
        }
        self.rows.check(n)?;
        Ok(n)
    }
}

/// The input of the critic and the objective: who is compared with whom.
///
/// Rows are contexts (anchors), columns candidates. Masks are [`Mask`] descriptions,
/// built on the device by the objective.
#[derive(Debug, Clone)]
pub struct CandidateSet<B: Backend> {
    /// The rows of the score matrix, `[n, d_c]`.
    pub context: Tensor<B, 2>,
    /// The columns, `[m, d_x]`.
    pub candidates: Tensor<B, 2>,
    /// Identity of the `n` rows.
    pub context_rows: Rows<B>,
    /// Identity of the `m` columns (fields a source does not know are absent).
    pub col_rows: Rows<B>,
    /// Which candidates are positives of each row.
    pub positives: Mask<B>,
    /// Which candidates take part in each row (`None`: all of them). Positives always do.
    pub valid: Option<Mask<B>>,
    /// `[n, m]` log importance weights added to the scores, if any.
    pub log_weights: Option<Tensor<B, 2>>,
    /// Whether the candidates allow `log N − J` to be a bound (fresh negatives from the
    /// proposal) or not (a queue of stale ones).
    pub bound: BoundKind,
}

/// Columns that a source adds to a candidate set, with their masks over the set's rows.
#[derive(Debug, Clone)]
pub struct ColumnBlock<B: Backend> {
    /// The new candidates, `[q, d]`.
    pub candidates: Tensor<B, 2>,
    /// Their identity.
    pub rows: Rows<B>,
    /// Positives among them, over `[n, q]` (usually [`Mask::Empty`]).
    pub positives: Mask<B>,
    /// Which of them each row may use, over `[n, q]` (`None`: all).
    pub valid: Option<Mask<B>>,
    /// What they do to the bound.
    pub bound: BoundKind,
}

impl<B: Backend> CandidateSet<B> {
    /// `[n, m]`: contexts × candidates.
    pub fn dims(&self) -> [usize; 2] {
        [self.context.dims()[0], self.candidates.dims()[0]]
    }

    /// The set with `block`'s columns after its own, masks concatenated side by side.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the block's width differs from the candidates'.
    pub fn append(self, block: ColumnBlock<B>) -> Result<Self> {
        let [_, m] = self.dims();
        let [q, dq] = block.candidates.dims();
        let d = self.candidates.dims()[1];
        if dq != d {
            return Err(Error::shape(
                "appended candidates width",
                d.to_string(),
                dq.to_string(),
            ));
        }
        let valid = match (self.valid, block.valid) {
            (None, None) => None,
            (a, b) => Some(concat_masks(
                a.unwrap_or(Mask::All),
                m,
                b.unwrap_or(Mask::All),
                q,
            )),
        };
        Ok(Self {
            context: self.context,
            candidates: Tensor::cat(vec![self.candidates, block.candidates], 0),
            context_rows: self.context_rows,
            col_rows: Rows::cat(vec![(self.col_rows, m), (block.rows, q)]),
            positives: concat_masks(self.positives, m, block.positives, q),
            valid,
            log_weights: self.log_weights,
            bound: self.bound.and(block.bound),
        })
    }
}

/// `left` (width `m`) and `right` (width `q`) side by side, flattening nested blocks.
fn concat_masks<B: Backend>(left: Mask<B>, m: usize, right: Mask<B>, q: usize) -> Mask<B> {
    let mut parts = match left {
        Mask::Concat(parts) => parts,
        other => vec![(other, m)],
    };
    parts.push((right, q));
    Mask::Concat(parts)
}

/// The contexts as rows and the batch's samples as columns, positive on the diagonal
/// (CPC, CLIP, the Gaussian MI benchmark). With `others_are_negatives` every sample is a
/// candidate of every row; without, row `i` sees only its own positive among them (and
/// needs explicit negatives). Explicit negatives of the batch are appended
/// ([`explicit_block`]).
///
/// # Errors
/// Those of [`Embeddings::check`] and [`explicit_block`].
pub fn in_batch_set<B: Backend>(
    embeddings: Embeddings<B>,
    others_are_negatives: bool,
) -> Result<CandidateSet<B>> {
    let n = embeddings.check()?;
    let Embeddings {
        context,
        samples,
        negatives,
        rows,
    } = embeddings;
    let set = CandidateSet {
        context,
        candidates: samples,
        context_rows: rows.clone(),
        col_rows: rows.clone(),
        positives: Mask::Diagonal { offset: 0 },
        valid: (!others_are_negatives).then_some(Mask::Diagonal { offset: 0 }),
        log_weights: None,
        bound: BoundKind::Bound,
    };
    match negatives {
        Some(neg) => set.append(explicit_block(neg, n)?),
        None => Ok(set),
    }
}

/// SimCLR's layout (Chen et al. 2020): the `2n` embeddings of both views are both the rows
/// and the columns, rows `0..n` view a, `n..2n` view b; row `k`'s positive is `k ± n`
/// ([`Mask::TwoView`]), its self-pair is excluded, and the other `2n − 2` are negatives.
/// Both views of a pair share its identity.
///
/// # Errors
/// Those of [`Embeddings::check`]; [`Error::ShapeMismatch`] when the views differ in width.
pub fn two_view_set<B: Backend>(embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
    let n = embeddings.check()?;
    let (da, db) = (embeddings.context.dims()[1], embeddings.samples.dims()[1]);
    if da != db {
        return Err(Error::shape(
            "two-view widths (view a vs view b)",
            da.to_string(),
            db.to_string(),
        ));
    }
    let both = Tensor::cat(vec![embeddings.context, embeddings.samples], 0);
    let rows = embeddings.rows.repeat(n, 2);
    Ok(CandidateSet {
        context: both.clone(),
        candidates: both,
        context_rows: rows.clone(),
        col_rows: rows,
        positives: Mask::TwoView { batch: n },
        valid: Some(Mask::Diagonal { offset: 0 }.not()),
        log_weights: None,
        bound: BoundKind::Bound,
    })
}

/// Explicit negatives as columns for `n` rows: paired ones (`[n, k, d]`, flattened row by
/// row) are valid only for their own row; unpaired ones (`[k, d]`) for every row. Neither
/// carries an identity (their ids are [`super::UNKNOWN_ID`]).
///
/// # Errors
/// [`Error::ShapeMismatch`] when paired negatives are not `n` long.
pub fn explicit_block<B: Backend>(
    negatives: ExplicitNegatives<B>,
    n: usize,
) -> Result<ColumnBlock<B>> {
    Ok(match negatives {
        ExplicitNegatives::Paired(t) => {
            let [r, k, d] = t.dims();
            if r != n || k == 0 {
                return Err(Error::shape(
                    "paired negatives",
                    format!("[{n}, k ≥ 1, {d}]"),
                    format!("[{r}, {k}, {d}]"),
                ));
            }
            ColumnBlock {
                candidates: t.reshape([n * k, d]),
                rows: Rows::none(),
                positives: Mask::Empty,
                valid: Some(Mask::RowBlocks { per_row: k }),
                bound: BoundKind::Bound,
            }
        }
        ExplicitNegatives::Unpaired(t) => ColumnBlock {
            candidates: t,
            rows: Rows::none(),
            positives: Mask::Empty,
            valid: None,
            bound: BoundKind::Bound,
        },
    })
}
