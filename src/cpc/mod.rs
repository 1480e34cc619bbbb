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
pub use evaluate::{StepMetrics, TIE_TOLERANCE, evaluate_steps};
pub use markov::MarkovSequences;
pub use model::{CpcModel, CpcModelConfig};
pub use optimum::{MarkovOptimum, markov_mutual_information, markov_optimum};
pub use probe::{ProbeResult, ProbeSplit, context_probe};
pub use recipe::{CpcConfig, train_cpc};
pub use report::{CpcReport, CpcStepReport};
pub use sampler::{SequenceNegatives, SequenceSampler};
pub use step_critics::{StepCritics, StepCriticsConfig};
