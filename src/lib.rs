//! # infonce
//!
//! Contrastive learning with the InfoNCE loss on [Burn](https://burn.dev), generic over the
//! backend.
//!
//! For a context `c`, a candidate set `X` holds one positive `x⁺ ~ p(x|c)` and `N − 1`
//! negatives from a proposal `p(x)`; a critic `f(x, c)` scores them, and the loss is the
//! cross-entropy of picking the positive (van den Oord et al. 2018, "Representation
//! Learning with Contrastive Predictive Coding"):
//!
//! `J = −E[ log f(x⁺, c) / Σ_{x∈X} f(x, c) ]`,   `I(x; c) ≥ log N − J`.
//!
//! The pieces, each a trait with built-ins:
//! - [`Encoder`]: inputs → embeddings ([`encoder`]).
//! - [`Critic`]: `log f` for every context × candidate ([`critic`]).
//! - [`NegativeSampler`]: where the candidates come from, and which are positives and valid
//!   for each row ([`sampler`]).
//! - [`objective::Objective`]: what is minimised over them ([`objective`], on the
//!   [`loss`] family's one stable masked log-sum-exp, fused into three passes over the
//!   scores on the CPU backends).
//! - [`ContrastiveModel`]: one Burn module owning encoders and critic, with a hook after
//!   each optimiser step ([`model`]).
//! - [`trainer`]: the backend-generic training loop.
//!
//! Built on them: [`cpc`] (Contrastive Predictive Coding on sequences, with the walk from
//! the formula above to the code and a source whose optimum is known in closed form) and
//! [`recipes`] (SimCLR on images). [`allocator`] keeps freed memory in the process, which
//! spares a CPU step the page faults of its large tensors.
//!
//! # The data path
//!
//! ```text
//! rows with identity ─► model.embed ─► Embeddings { context, samples, rows }
//!   ─► sampler.candidates ─► CandidateSet { candidates, positives: Mask, valid: Mask }
//!   ─► model.log_scores (critic) ─► objective.loss ─► LossOutput (on the device)
//!   ─► backward ─► sampler.after_step (enqueue) ─► optimiser ─► model.after_step (EMA, clamp)
//! ```
//!
//! A batch's rows carry an instance id, a class label and a (sequence, position) pair, each
//! optional ([`sampler::RowIds`] on the host, [`sampler::Rows`] on the device). Samplers turn
//! them into masks described by structure ([`loss::Mask`]: the diagonal, the other view, the
//! same id), built on the device only where an objective needs them. Statistics and the
//! non-finite check are read back every few steps, not every step.
//!
//! The backend is a type parameter: [`backend::NdArrayAutodiff`] on the CPU and
//! [`backend::WgpuAutodiff`] on the GPU (feature `wgpu`), Burn's `NdArray` and `Wgpu` with
//! their operations compiled inside this crate, so your program does not compile them again;
//! `Autodiff<Flex>` (feature `flex`), `Autodiff<Cuda>` on NVIDIA GPUs (feature `cuda`). A
//! program that only picks the backend at run time calls [`launch`], whose recipes are
//! compiled once inside this crate for every backend built in, instead of once per binary;
//! [`bench`](mod@crate::bench) holds the benchmark workloads. With the `collective`
//! feature, `parallel` trains one global batch across data-parallel peers, every peer's
//! rows contrasted with every other peer's.

pub mod allocator;
pub mod backend;
#[cfg(any(feature = "ndarray", feature = "wgpu"))]
mod backend_compiled;
pub mod bench;
pub mod clip;
pub mod cpc;
pub mod critic;
pub mod data;
pub mod encoder;
mod error;
pub mod eval;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod host;
pub mod io;
#[cfg(any(
    feature = "ndarray",
    feature = "wgpu",
    feature = "flex",
    feature = "cuda"
))]
pub mod launch;
pub mod loss;
pub mod model;
pub mod objective;
#[cfg(feature = "collective")]
pub mod parallel;
pub mod readback;
pub mod recipes;
pub mod report;
pub mod sampler;
pub mod trainer;

pub use critic::Critic;
pub use encoder::Encoder;
pub use error::{Error, Result};
pub use model::ContrastiveModel;
pub use sampler::NegativeSampler;

/// The README's Rust snippets, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
