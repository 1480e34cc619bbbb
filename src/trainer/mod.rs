//! The backend-generic training loop.
//!
//! [`Trainer`] drives any [`crate::ContrastiveModel`] with any [`crate::NegativeSampler`]
//! on batches from a [`BatchSource`], configured by a serde [`TrainerConfig`]: Adam, AdamW
//! or SGD with momentum, linear warm-up then cosine decay, gradient clipping, a progress bar
//! with loss / MI bound / accuracy, per-epoch history as JSON, checkpoints every K steps and
//! exact resume.
//!
//! Exact resume works because no random choice of the loop lives in the backend: every
//! batch is drawn from a generator derived from `(seed, step)` ([`StepContext::rng`]), and
//! the backend is re-seeded from `(seed, step)` before each step. A run resumed from step k
//! is bit-identical to one that never stopped (on ndarray).

mod checkpoint;
mod config;
mod data_parallel;
mod fit;
mod grad_cache;
mod guard_probe;
mod history;
mod optimizer;
pub(crate) mod param_walk;
mod pending;
mod progress;
mod resume_check;
mod schedule;
mod source;
mod step;
mod train_loop;
mod weight_decay;

pub use checkpoint::{Checkpoint, CheckpointMeta};
pub use config::{BestMetric, Goal, OptimizerKind, TrainerConfig};
pub use guard_probe::non_finite_detection_works;
pub use history::{EpochRecord, TrainingSummary};
pub use param_walk::materialize_parameters;
pub use schedule::learning_rate_at;
pub use source::{BatchSource, StepContext};
pub use train_loop::Trainer;
pub use weight_decay::DecayScope;
