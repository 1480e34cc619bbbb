#![doc = include_str!("guide.md")]

mod batch;
mod evaluate;
mod markov;
mod model;
mod optimum;
mod probe;
mod recipe;
mod report;
mod sampler;
mod step_critics;

pub use batch::SequenceBatch;
pub use evaluate::{evaluate_steps, StepMetrics, TIE_TOLERANCE};
pub use markov::MarkovSequences;
pub use model::{CpcModel, CpcModelConfig};
pub use optimum::{markov_mutual_information, markov_optimum, MarkovOptimum};
pub use probe::{context_probe, ProbeResult, ProbeSplit};
pub use recipe::{train_cpc, CpcConfig};
pub use report::{CpcReport, CpcStepReport};
pub use sampler::{SequenceNegatives, SequenceSampler};
pub use step_critics::{StepCritics, StepCriticsConfig};
