//! Critics: `log f(x, c)` for every context × candidate pair.
//!
//! To write your own, implement [`Critic`] on a `#[derive(Module, Debug)]` struct; the
//! built-ins here are a dozen lines each and are the templates to copy. The test that checks
//! a critic's gradients against finite differences is `tests/critics.rs`.

mod bilinear;
mod concat;
mod cosine;
mod dot;
mod separable;
mod traits;

pub use bilinear::{BilinearCritic, BilinearCriticConfig};
pub use concat::{ConcatCritic, ConcatCriticConfig};
pub use cosine::{CosineCritic, CosineCriticConfig};
pub use dot::DotProductCritic;
pub use separable::{SeparableCritic, SeparableCriticConfig};
pub use traits::Critic;
