//! The training loop.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::record::Recorder;
use burn::tensor::backend::AutodiffBackend;

use super::checkpoint::{BEST_NAME, checkpoint_name, list_checkpoints};
use super::history::EpochAccumulator;
use super::optimizer::AnyOptimizer;
use super::param_walk::{param_shapes, shape_difference};
use super::pending::Window;
use super::resume_check::setting_differences;
use super::{Checkpoint, CheckpointMeta, EpochRecord, TrainerConfig};
use crate::io::{FolderLock, RecordBytes, remove_stale_temporaries};
use crate::loss::LossStats;
use crate::objective::Objective;
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Trains a [`ContrastiveModel`] with a [`NegativeSampler`] on batches from a
/// [`BatchSource`](crate::trainer::BatchSource).
///
/// One step: embed the batch (with its rows' identity), let the sampler build the candidate
/// set, score it with the model's critic, compute the objective (`config.objective`, or
/// [`Trainer::with_objective`]), backpropagate, run the sampler's `after_step` hook (a queue
/// enqueues here, after the loss), let the optimiser update (weight decay on matrices only
/// by default), then run the model's `after_step` hook (an EMA, a temperature clamp).
///
/// Nothing is read back from the device during a step: the loss, accuracy, `log N` and a
/// non-finite flag for the loss and every gradient (`is_nan` / `is_inf` reductions) stay on
/// the device and are read in one transfer every `config.sync_every` steps, at every epoch
/// end and before every checkpoint. A non-finite step stops training with
/// [`Error::NonFinite`] naming the step and the tensor (`loss`, or the gradient's parameter
/// path); the model and optimiser are rolled back to the previous read-back, so nothing
/// non-finite is kept. A sampler's state (a queue) is not rolled back: resume from the last
/// checkpoint for an exact continuation.
///
/// # Example
/// ```no_run
/// use burn::backend::{Autodiff, NdArray};
/// use infonce::critic::SeparableCriticConfig;
/// use infonce::data::CorrelatedGaussian;
/// use infonce::encoder::IdentityEncoder;
/// use infonce::model::SharedEncoderModel;
/// use infonce::sampler::InBatchSampler;
/// use infonce::trainer::{Trainer, TrainerConfig};
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let model = SharedEncoderModel::new(
///     IdentityEncoder::new(),
///     SeparableCriticConfig::new().init::<B>(&device)?,
/// );
/// let data = CorrelatedGaussian::with_mi(20, 2.0, 128, 100)?;
/// let config = TrainerConfig::new().with_epochs(5).with_learning_rate(5e-4);
/// let mut trainer = Trainer::new(config, model, InBatchSampler, device)?;
/// let summary = trainer.fit(&data)?;
/// println!("MI bound: {:.2} nats", summary.history.last().unwrap().mi_bound);
/// # Ok::<(), infonce::Error>(())
/// ```
pub struct Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    pub(super) config: TrainerConfig,
    pub(super) model: Option<M>,
    pub(super) optimizer: AnyOptimizer<M, B>,
    pub(super) sampler: S,
    pub(super) objective: Box<dyn Objective<B>>,
    pub(super) device: B::Device,
    pub(super) step: u64,
    pub(super) history: Vec<EpochRecord>,
    pub(super) epoch_sums: EpochAccumulator,
    pub(super) last_checkpoint: Option<PathBuf>,
    pub(super) best_value: Option<f64>,
    pub(super) window: Option<Window<B::InnerBackend, Snapshot<M, B>>>,
    pub(super) last_stats: Option<LossStats>,
    /// Held while the trainer lives when `out_dir` is set: one writer per folder.
    pub(super) _folder_lock: Option<FolderLock>,
    /// The peer this trainer runs as, when data-parallel.
    #[cfg(feature = "collective")]
    pub(super) parallel: Option<super::data_parallel::DataParallel<B>>,
}

/// The model, optimiser and step a window of unread steps started from.
pub(super) struct Snapshot<M: AutodiffModule<B>, B: AutodiffBackend> {
    pub model: M,
    pub optimizer: AnyOptimizer<M, B>,
}

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    /// A trainer at step 0. With `out_dir` set it takes the folder's lock
    /// ([`FolderLock`], held until the trainer is dropped) and removes temporary files
    /// that writers killed mid-write left there. The first trainer on a backend checks
    /// that the device reports NaN and infinity
    /// ([`super::non_finite_detection_works`]) and warns on stderr when it does not.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the configuration is out of range;
    /// [`Error::FolderInUse`] when another run (in this process or another) holds
    /// `out_dir`.
    pub fn new(config: TrainerConfig, model: M, sampler: S, device: B::Device) -> Result<Self> {
        config.validate()?;
        let folder_lock = match &config.out_dir {
            Some(dir) => {
                let lock = FolderLock::acquire(Path::new(dir))?;
                remove_stale_temporaries(lock.dir());
                remove_stale_temporaries(&lock.dir().join("checkpoints"));
                Some(lock)
            }
            None => None,
        };
        super::guard_probe::warn_if_blind::<B::InnerBackend>(&device);
        let model = model.fork(&device);
        Ok(Self {
            optimizer: AnyOptimizer::from_config(&config),
            objective: Box::new(config.objective),
            config,
            model: Some(model),
            sampler,
            device,
            step: 0,
            history: Vec::new(),
            epoch_sums: EpochAccumulator::default(),
            last_checkpoint: None,
            best_value: None,
            window: None,
            last_stats: None,
            _folder_lock: folder_lock,
            #[cfg(feature = "collective")]
            parallel: None,
        })
    }

    /// Minimise a custom [`Objective`] instead of `config.objective`.
    #[must_use]
    pub fn with_objective(mut self, objective: impl Objective<B> + 'static) -> Self {
        self.objective = Box::new(objective);
        self
    }

    /// A trainer restored from a checkpoint: model parameters, optimiser state, step,
    /// sampler state and history. `model` supplies the architecture (its parameters are
    /// replaced). Training continues with `config`, which may extend `epochs`.
    ///
    /// # Errors
    /// Those of [`Checkpoint::read`]; [`Error::CorruptFile`] when the records do not fit
    /// this model or optimiser; [`Error::ResumeMismatch`] naming every setting of `config`
    /// (its `run_settings` included) that differs from the checkpoint's, other than those
    /// a resume may change (`epochs`, `checkpoint_every`, `keep_checkpoints`,
    /// `keep_best`, `check_gradients`, `out_dir`, `progress`, `sync_every`).
    pub fn resume(
        config: TrainerConfig,
        model: M,
        sampler: S,
        device: B::Device,
        path: &Path,
    ) -> Result<Self> {
        let checkpoint = Checkpoint::read(path)?;
        let mut trainer = Self::new(config, model, sampler, device)?;
        trainer.restore(checkpoint)?;
        Ok(trainer)
    }

    /// Resumes from the newest checkpoint in `dir` (a run's `checkpoints/` folder). With
    /// `fallback`, a checkpoint that cannot be used (truncated, corrupt, another model
    /// shape or crate version) is skipped for the next older one; the reasons of those
    /// skipped come back beside the trainer, newest first. `best.ckpt` is not considered.
    ///
    /// # Errors
    /// Without `fallback`, the newest checkpoint's error; [`Error::NoUsableCheckpoint`]
    /// when none is left to try. [`Error::ResumeMismatch`] and [`Error::FolderInUse`] are
    /// never skipped: they concern the request, not the file.
    pub fn resume_latest(
        config: TrainerConfig,
        model: M,
        sampler: S,
        device: B::Device,
        dir: &Path,
        fallback: bool,
    ) -> Result<(Self, Vec<Error>)>
    where
        S: Clone,
    {
        let mut skipped = Vec::new();
        for (_, path) in list_checkpoints(dir).into_iter().rev() {
            let attempt = Self::resume(
                config.clone(),
                model.clone(),
                sampler.clone(),
                device.clone(),
                &path,
            );
            match attempt {
                Ok(trainer) => return Ok((trainer, skipped)),
                Err(e @ (Error::ResumeMismatch { .. } | Error::FolderInUse { .. })) => {
                    return Err(e);
                }
                Err(e) if fallback => skipped.push(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoUsableCheckpoint {
            dir: dir.to_path_buf(),
            skipped: skipped.iter().map(ToString::to_string).collect(),
        })
    }

    pub(super) fn restore(&mut self, checkpoint: Checkpoint) -> Result<()> {
        let now = serde_json::to_value(&self.config).map_err(|source| Error::Json {
            context: "trainer config".into(),
            source,
        })?;
        let differences = setting_differences(&checkpoint.meta.config, &now);
        if !differences.is_empty() {
            return Err(Error::ResumeMismatch {
                path: checkpoint.path,
                differences,
            });
        }
        let corrupt = |what: &str, e: String| Error::CorruptFile {
            path: checkpoint.path.clone(),
            reason: format!("{what} does not fit this model: {e}"),
        };
        // Burn loads records without comparing shapes (and panics on a different number
        // of layers), so compare the stored inventory first.
        let ours = param_shapes::<B, M>(self.model());
        if let Some(diff) = shape_difference(&checkpoint.meta.param_shapes, &ours) {
            return Err(corrupt("model record", diff));
        }
        let record = Recorder::<B>::load(&RecordBytes, checkpoint.model.clone(), &self.device)
            .map_err(|e| corrupt("model record", e.to_string()))?;
        let model = self.model.take().expect("model present between steps");
        self.model = Some(model.load_record(record));
        let optimizer =
            std::mem::replace(&mut self.optimizer, AnyOptimizer::from_config(&self.config));
        self.optimizer = optimizer
            .load_bytes(checkpoint.optimizer.clone(), &self.device)
            .map_err(|e| corrupt("optimizer state", e))?;
        self.sampler
            .load_state(checkpoint.meta.sampler_state.clone())
            .map_err(|e| corrupt("sampler state", e.to_string()))?;
        if !checkpoint.sampler.is_empty() {
            self.sampler
                .load_state_bytes(&checkpoint.sampler, &self.device)
                .map_err(|e| corrupt("sampler record", e.to_string()))?;
        }
        self.step = checkpoint.meta.step;
        self.history = checkpoint.meta.history.clone();
        self.epoch_sums = checkpoint.meta.epoch_sums.clone();
        self.best_value = checkpoint.meta.best_value;
        self.last_checkpoint = Some(checkpoint.path);
        Ok(())
    }

    /// The model being trained.
    pub fn model(&self) -> &M {
        self.model.as_ref().expect("model present between steps")
    }

    /// Consumes the trainer, returning the model.
    pub fn into_model(mut self) -> M {
        self.model.take().expect("model present between steps")
    }

    /// Steps completed.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Completed epochs.
    pub fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    /// The configuration.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// The last checkpoint written or loaded.
    pub fn last_checkpoint(&self) -> Option<&Path> {
        self.last_checkpoint.as_deref()
    }

    /// Writes a checkpoint to `path` (atomically), after reading back the statistics of the
    /// steps not yet read.
    ///
    /// # Errors
    /// [`Error::NonFinite`] when one of those steps was not finite (nothing is written);
    /// I/O and serialisation errors.
    pub fn save_checkpoint(&mut self, path: &Path) -> Result<()> {
        self.flush()?;
        let model_bytes =
            Recorder::<B>::record(&RecordBytes, self.model().clone().into_record(), ())
                .map_err(|e| Error::config("model record", format!("cannot serialise: {e}")))?;
        let meta = CheckpointMeta {
            crate_version: env!("CARGO_PKG_VERSION").into(),
            step: self.step,
            config: serde_json::to_value(&self.config).map_err(|source| Error::Json {
                context: "trainer config".into(),
                source,
            })?,
            sampler_state: self.sampler.state(),
            history: self.history.clone(),
            epoch_sums: self.epoch_sums.clone(),
            param_shapes: param_shapes::<B, M>(self.model()),
            best_value: self.best_value,
            peers: self.peers(),
        };
        Checkpoint::write(
            path,
            &meta,
            &model_bytes,
            &self.optimizer.to_bytes()?,
            &self.sampler.state_bytes()?,
        )?;
        self.last_checkpoint = Some(path.to_path_buf());
        Ok(())
    }

    /// Writes `checkpoints/best.ckpt` when `out_dir` is set. The last good checkpoint
    /// reported on failure stays the newest regular one.
    pub(super) fn save_best_in_out_dir(&mut self) -> Result<()> {
        let Some(dir) = self.config.out_dir.clone() else {
            return Ok(());
        };
        let last = self.last_checkpoint.clone();
        self.save_checkpoint(&Path::new(&dir).join("checkpoints").join(BEST_NAME))?;
        self.last_checkpoint = last.or_else(|| self.last_checkpoint.clone());
        Ok(())
    }

    pub(super) fn save_checkpoint_in_out_dir(&mut self) -> Result<()> {
        let Some(dir) = self.config.out_dir.clone() else {
            return Ok(());
        };
        let dir = Path::new(&dir).join("checkpoints");
        self.save_checkpoint(&dir.join(checkpoint_name(self.step)))?;
        let all = list_checkpoints(&dir);
        let excess = all.len().saturating_sub(self.config.keep_checkpoints);
        for (_, old) in all.into_iter().take(excess) {
            std::fs::remove_file(&old).map_err(|e| Error::io(&old, e))?;
        }
        crate::io::remove_stale_temporaries(&dir);
        Ok(())
    }

    pub(super) fn write_history(&self) -> Result<()> {
        match &self.config.out_dir {
            Some(dir) => crate::io::write_json(&Path::new(dir).join("history.json"), &self.history),
            None => Ok(()),
        }
    }
}
