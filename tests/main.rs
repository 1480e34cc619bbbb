//! Behaviour tests, one module per capability, in one test crate (one link, one
//! monomorphisation of the generic code per backend).
//!
//! Backend-generic tests are written once and instantiated by `backend_tests!` for
//! ndarray, and for wgpu when the `wgpu` feature is on (where a missing adapter fails the
//! test loudly rather than skipping it).

#[macro_use]
mod common;

mod augment;
mod backends_agree;
mod baseline;
mod checkpoints;
mod clip;
mod convolution;
mod cpc;
mod crash;
mod critics;
mod dense_layer;
mod endurance;
mod errors;
mod evaluation;
mod evaluation_graph;
mod example_errors;
mod example_flags;
mod fused_loss;
mod gaussian_mi;
mod grad_cache;
mod guard_rails;
mod launch;
mod loss_gradients;
mod loss_identities;
mod memory_queue;
mod methods_learn;
mod model_hooks;
mod momentum;
#[cfg(feature = "collective")]
mod nodes;
mod objectives;
mod output_folder;
mod parallel;
mod prebuilt_backend;
mod readers;
mod samplers;
mod similarity_product;
mod tiled_loss;
mod trainer;
mod validation;
