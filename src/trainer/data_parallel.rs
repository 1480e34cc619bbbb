//! The trainer's data-parallel hooks: gather the embeddings, keep the peer's own rows,
//! sum the gradients. Without the `collective` feature they are the identity.

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use crate::sampler::{CandidateSet, Embeddings};
use crate::{ContrastiveModel, NegativeSampler, Result};

use super::Trainer;

#[cfg(feature = "collective")]
pub(crate) use with_peers::DataParallel;

#[cfg(feature = "collective")]
mod with_peers {
    use super::*;
    use crate::parallel::{GatherBackend, Peer, gather_embeddings};

    /// The peer a trainer runs as, and the gather of its backend.
    pub(crate) struct DataParallel<B: AutodiffBackend> {
        pub peer: Peer,
        pub gather: fn(&Peer, Embeddings<B>) -> Result<Embeddings<B>>,
    }

    impl<B, M, S> Trainer<B, M, S>
    where
        B: GatherBackend,
        M: ContrastiveModel<B> + burn::module::AutodiffModule<B>,
        S: NegativeSampler<B>,
    {
        /// A trainer at step 0 that runs as data-parallel `peer`: each step gathers every
        /// peer's embeddings (with gradient, [`crate::parallel::all_gather`]), the sampler
        /// builds candidates from the gathered batch, the loss covers this peer's rows
        /// against all candidates (the whole loss for an objective whose rows are not
        /// independent), and the parameter gradients are summed over peers. Peers start
        /// from the same model and apply the same update, so they stay identical; a memory
        /// queue enqueues every peer's keys, so queues stay identical too. Each peer is
        /// given its own shard of every global batch (equal sizes). Every peer starts from
        /// peer 0's parameters, broadcast here, whatever model it was given.
        ///
        /// Only peer 0 writes to `out_dir` (checkpoints, history) and shows progress;
        /// the other peers run with neither.
        ///
        /// # Errors
        /// Those of [`Trainer::new`].
        pub fn new_peer(
            config: super::super::TrainerConfig,
            model: M,
            sampler: S,
            device: B::Device,
            peer: Peer,
        ) -> Result<Self> {
            let config = peer_config(config, &peer);
            let mut trainer = Self::new(config, model, sampler, device)?;
            let model = trainer.model.take().expect("a new trainer holds its model");
            trainer.model = Some(crate::parallel::broadcast_parameters(&peer, model)?);
            trainer.parallel = Some(DataParallel {
                peer,
                gather: gather_embeddings::<B>,
            });
            Ok(trainer)
        }

        /// A data-parallel peer restored from a checkpoint that peer 0 wrote: every peer
        /// resumes from the same file. The checkpoint must come from a run on the same
        /// number of peers (the global batch, and so every step, depends on it).
        ///
        /// # Errors
        /// Those of [`Trainer::resume`]; [`crate::Error::ResumeMismatch`] when the
        /// checkpoint was written by a run on another number of peers.
        pub fn resume_peer(
            config: super::super::TrainerConfig,
            model: M,
            sampler: S,
            device: B::Device,
            path: &std::path::Path,
            peer: Peer,
        ) -> Result<Self> {
            let checkpoint = super::super::Checkpoint::read(path)?;
            if checkpoint.meta.peers != peer.world() {
                return Err(crate::Error::ResumeMismatch {
                    path: path.to_path_buf(),
                    differences: vec![format!(
                        "peers: {} in the checkpoint, {} now",
                        checkpoint.meta.peers,
                        peer.world()
                    )],
                });
            }
            let mut trainer = Self::new_peer(config, model, sampler, device, peer)?;
            trainer.restore(checkpoint)?;
            Ok(trainer)
        }
    }

    /// Peers other than 0 neither write nor draw progress.
    fn peer_config(
        mut config: super::super::TrainerConfig,
        peer: &Peer,
    ) -> super::super::TrainerConfig {
        if !peer.is_leader() {
            config.out_dir = None;
            config.progress = false;
        }
        config
    }
}

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + burn::module::AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    /// How many peers share a step (1 without data parallelism).
    pub fn peers(&self) -> usize {
        #[cfg(feature = "collective")]
        if let Some(p) = &self.parallel {
            return p.peer.world();
        }
        1
    }

    /// Every peer's embeddings, when data-parallel.
    pub(super) fn gather(&self, embeddings: Embeddings<B>) -> Result<Embeddings<B>> {
        #[cfg(feature = "collective")]
        if let Some(p) = &self.parallel {
            return (p.gather)(&p.peer, embeddings);
        }
        Ok(embeddings)
    }

    /// The peer's own rows of a gathered set, when the objective's rows are independent.
    pub(super) fn local_rows(&self, set: CandidateSet<B>) -> Result<CandidateSet<B>> {
        #[cfg(feature = "collective")]
        if let Some(p) = &self.parallel {
            // Rows without owners (a sampler that built its own identity): the whole loss.
            if self.objective.rows_are_independent() && set.context_rows.owner.is_some() {
                let local = crate::parallel::select_local_rows(set, &p.peer)?;
                return Ok(local.expect("the rows carry owners, checked above"));
            }
        }
        Ok(set)
    }

    /// The loss to differentiate: divided by the number of peers, whose gradients are
    /// summed, so the step applies the gradient of the mean over the global batch.
    pub(super) fn loss_to_differentiate(&self, loss: Tensor<B, 1>) -> Tensor<B, 1> {
        match self.peers() {
            1 => loss,
            k => loss.div_scalar(k as f64),
        }
    }

    /// The parameter gradients summed over peers.
    pub(super) fn reduce_gradients(
        &self,
        model: &M,
        grads: GradientsParams,
    ) -> Result<GradientsParams> {
        #[cfg(feature = "collective")]
        if let Some(p) = &self.parallel {
            return crate::parallel::all_reduce_gradients::<B, M>(&p.peer, model, grads);
        }
        let _ = model;
        Ok(grads)
    }

    /// A step's `[loss, accuracy, log N]` averaged over peers (each peer's covers its own
    /// rows), so every peer reports the global batch's values.
    pub(super) fn reduce_values(
        &self,
        values: Tensor<B::InnerBackend, 1>,
    ) -> Result<Tensor<B::InnerBackend, 1>> {
        #[cfg(feature = "collective")]
        if let Some(p) = &self.parallel {
            let sum = crate::parallel::all_reduce_values(&p.peer, "statistics all-reduce", values)?;
            return Ok(sum.div_scalar(p.peer.world() as f64));
        }
        Ok(values)
    }
}
