//! Negative samplers: where each context's candidate set comes from.
//!
//! A sampler turns a batch's embeddings and row identity ([`Rows`]) into a
//! [`CandidateSet`]: the contexts, the candidates, and [`crate::loss::Mask`] descriptions of
//! which candidates are positives and which are valid for each row, built on the device by
//! the objective. Sources combine instead of replacing one another: a base [`Layout`]
//! (in-batch, own-positive-only with explicit negatives, two-view) followed by any number of
//! [`CandidateSource`]s (a [`MemoryQueue`], your own) in a [`CompositeSampler`].
//!
//! Writing your own: start from [`in_batch_set`] or [`two_view_set`], change or add masks
//! ([`crate::loss::Mask::Equal`] over the rows' ids), append blocks with
//! [`CandidateSet::append`]; the [`NegativeSampler`] docs show one in full.

mod candidates;
mod composite;
mod explicit;
mod in_batch;
mod memory_queue;
mod rows;
mod traits;
mod two_view;

pub use candidates::{
    CandidateSet, ColumnBlock, Embeddings, ExplicitNegatives, explicit_block, in_batch_set,
    two_view_set,
};
pub use composite::{CandidateSource, CompositeSampler, Layout};
pub use explicit::ExplicitNegativeSampler;
pub use in_batch::InBatchSampler;
pub use memory_queue::{MemoryQueue, MemoryQueueSampler};
pub use rows::{RowIds, Rows, UNKNOWN_ID};
pub use traits::NegativeSampler;
pub use two_view::TwoViewSampler;
