//! Data-parallel training across peers (threads, devices, machines) on Burn's
//! `burn-collective`, with negatives gathered from every peer (feature `collective`).
//!
//! In contrastive learning each peer's loss must see every other peer's embeddings as
//! candidates, and the gradient of those embeddings must travel back to the peer that
//! computed them. The pieces:
//!
//! - [`all_gather`]: a differentiable all-gather. Forward: each peer's rows in its own slot of
//!   a `[world·n, d]` tensor, zeros elsewhere, all-reduced (burn-collective has no
//!   all-gather). Backward: the gradient of the whole gathered tensor is all-reduced (summed
//!   over peers) and each peer keeps the rows it owns, so a peer's embeddings receive
//!   `Σ_q ∂L_q/∂z_p`: the gradient of every peer's loss, not only its own.
//! - [`gather_embeddings`]: the whole [`crate::sampler::Embeddings`] of a step (contexts,
//!   samples, explicit negatives, row ids) gathered with one collective call, each row
//!   marked with its owner ([`crate::sampler::Rows::owner`]).
//! - The trainer's data-parallel mode ([`crate::trainer::Trainer::new_peer`]): the sampler
//!   sees the gathered batch; with an objective whose rows are independent
//!   ([`crate::objective::Objective::rows_are_independent`]) each peer computes only its own
//!   rows' loss against all gathered candidates (open_clip's local loss), otherwise the
//!   whole loss; the loss is divided by the number of peers and the parameter gradients are
//!   summed ([`all_reduce_gradients`]), so every peer applies the gradient of the one-device
//!   loss over the global batch. Queues enqueue the gathered keys, so they stay identical;
//!   only peer 0 writes checkpoints and history.
//! - [`check_shard_equivalence`]: the users' guarantee. For a model, sampler and objective
//!   of their own, one batch on one device against the same batch split over `k` peers
//!   (threads), gradients compared parameter by parameter.
//!
//! Peers in one process are threads ([`run_peers`]); the collective server is per backend
//! type and process-wide, so [`run_peers`] holds a process lock while its peers run.
//!
//! Peers in several processes, on one machine or many, are nodes: each process registers
//! one peer with [`NodeConfig::register`] and the nodes meet through burn-collective's
//! global orchestrator ([`start_orchestrator`], run once, on any machine). The trainer is the
//! same; [`compare_on_node`] is a whole node's run checked against one device. This needs
//! the fix to burn-collective 0.21.0's cross-node barrier that this repository carries
//! (its `vendor/burn-collective/PATCHED.md`): without it every process waits forever in its
//! second all-reduce. A `[patch]` applies only to the workspace that declares it, so a
//! project of your own that trains across processes needs the same entry.
//!
//! The gather needs equal shards: every peer the same number of rows.
//!
//! # Example: two peers, one gathered step
//! ```
//! use infonce::backend::NdArrayAutodiff;
//! use burn::tensor::Tensor;
//! use infonce::parallel::{all_gather, run_peers};
//!
//! type B = NdArrayAutodiff;
//! let devices = vec![Default::default(); 2];
//! let sums = run_peers::<B, _>(devices, |peer, device| {
//!     let mine = Tensor::<B, 2>::full([1, 3], peer.rank() as f32 + 1.0, &device).require_grad();
//!     let all = all_gather(&peer, mine.clone())?; // [2, 3]: peer 0's row, then peer 1's
//!     // Each peer's loss weighs the rows differently; peer 0 uses row 1 only.
//!     let weight = if peer.rank() == 0 { [0.0, 2.0] } else { [1.0, 0.0] };
//!     let w = Tensor::<B, 1>::from_floats(weight, &device).reshape([2, 1]);
//!     let grads = (all * w).sum().backward();
//!     Ok(mine.grad(&grads).unwrap().sum().into_scalar())
//! })
//! .unwrap();
//! // Peer 0's row gets peer 1's weight (1 per entry), peer 1's row gets peer 0's (2).
//! assert_eq!(sums, vec![3.0, 6.0]);
//! ```

mod broadcast_params;
mod collective_ops;
mod compare;
mod gather;
mod gather_rows;
mod gradients;
mod local_rows;
mod node_compare;
mod nodes;
mod param_values;
mod peer;
mod shard_check;

pub(crate) use broadcast_params::broadcast_parameters;
pub(crate) use collective_ops::all_reduce_sum as all_reduce_values;
pub use compare::{CompareOptions, CompareReport, compare_with_one_device};
pub use gather::{GatherBackend, all_gather, gather_embeddings};
pub use gradients::all_reduce_gradients;
pub use local_rows::select_local_rows;
pub use node_compare::{NodeReport, compare_on_node};
pub use nodes::{NodeConfig, start_orchestrator};
pub use peer::{GatherFault, Peer, run_peers};
pub use shard_check::{ShardCheck, ShardReport, check_shard_equivalence};
