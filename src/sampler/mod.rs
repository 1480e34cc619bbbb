//! Negative samplers: where each context's candidate set comes from.
//!
//! A sampler turns the embeddings of a batch into a [`CandidateSet`]: the contexts, the
//! candidates, which candidates are positives and which are valid for each row. Sources
//! combine instead of replacing one another: the in-batch sampler also takes the explicit
//! negatives a batch carries.

mod candidates;
mod explicit;
mod in_batch;
mod memory_queue;
mod traits;
mod two_view;

pub use candidates::{CandidateSet, Embeddings, ExplicitNegatives};
pub use explicit::ExplicitNegativeSampler;
pub use in_batch::InBatchSampler;
pub use memory_queue::MemoryQueueSampler;
pub use traits::NegativeSampler;
pub use two_view::TwoViewSampler;
