//! Objectives: what the trainer minimises over a candidate set.
//!
//! An [`Objective`] takes the critic's `[n, m]` log-scores and the [`CandidateSet`] they
//! were computed on (its masks and row identity) and returns a [`LossOutput`]: the loss,
//! top-1 accuracy, `log N`, and whether `log N − J` is a mutual-information bound for it.
//! [`ObjectiveKind`] names the built-ins for configs and command lines; implement the trait
//! for anything else.
//!
//! [`CandidateSet`]: crate::sampler::CandidateSet
//! [`LossOutput`]: crate::loss::LossOutput

mod kind;
mod traits;

pub use kind::ObjectiveKind;
pub use traits::Objective;
