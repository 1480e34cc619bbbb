//! The training loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;

use super::checkpoint::{checkpoint_name, list_checkpoints, BEST_NAME};
use super::history::EpochAccumulator;
use super::optimizer::AnyOptimizer;
use super::param_walk::{first_non_finite_gradient, param_shapes, shape_difference};
use super::progress::Progress;
use super::source::derive_rng;
use super::{
    learning_rate_at, BatchSource, Checkpoint, CheckpointMeta, EpochRecord, StepContext,
    TrainerConfig, TrainingSummary,
};
use crate::loss::{masked_info_nce, LossStats};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Stream id of the backend seed derived for each step.
const BACKEND_STREAM: u64 = 0xB4C6;

/// Trains a [`ContrastiveModel`] with a [`NegativeSampler`] on batches from a
/// [`BatchSource`].
///
/// One step: embed the batch, let the sampler build the candidate set, score it with the
/// model's critic, compute the masked InfoNCE loss, read its value back (a non-finite loss
/// stops training with [`Error::NonFinite`] before the update; so does a non-finite
/// gradient, named by its parameter's path), backpropagate, update,
/// then call the sampler's `after_step` hook.
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
    config: TrainerConfig,
    model: Option<M>,
    optimizer: AnyOptimizer<M, B>,
    sampler: S,
    device: B::Device,
    step: u64,
    history: Vec<EpochRecord>,
    epoch_sums: EpochAccumulator,
    last_checkpoint: Option<PathBuf>,
    best_value: Option<f64>,
}

type ModelBytes = NamedMpkBytesRecorder<FullPrecisionSettings>;

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    /// A trainer at step 0.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the configuration is out of range.
    pub fn new(config: TrainerConfig, model: M, sampler: S, device: B::Device) -> Result<Self> {
        config.validate()?;
        let model = model.fork(&device);
        Ok(Self {
            optimizer: AnyOptimizer::from_config(&config),
            config,
            model: Some(model),
            sampler,
            device,
            step: 0,
            history: Vec::new(),
            epoch_sums: EpochAccumulator::default(),
            last_checkpoint: None,
            best_value: None,
        })
    }

    /// A trainer restored from a checkpoint: model parameters, optimiser state, step,
    /// sampler state and history. `model` supplies the architecture (its parameters are
    /// replaced). Training continues with `config`, which may extend `epochs`.
    ///
    /// # Errors
    /// Those of [`Checkpoint::read`], and [`Error::CorruptFile`] when the records do not
    /// fit this model or optimiser.
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
    /// when none is left to try.
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
                Err(e) if fallback => skipped.push(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoUsableCheckpoint {
            dir: dir.to_path_buf(),
            skipped: skipped.iter().map(ToString::to_string).collect(),
        })
    }

    fn restore(&mut self, checkpoint: Checkpoint) -> Result<()> {
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
        let record = Recorder::<B>::load(
            &ModelBytes::default(),
            checkpoint.model.clone(),
            &self.device,
        )
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

    /// Trains until `config.epochs` epochs are complete.
    pub fn fit<D>(&mut self, data: &D) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
    {
        self.fit_with_hook(data, |_, _| Ok(BTreeMap::new()))
    }

    /// Like [`Trainer::fit`], calling `hook(model, record)` after each epoch; the metrics it
    /// returns are stored in the epoch's record (history and progress output).
    pub fn fit_with_hook<D, H>(&mut self, data: &D, mut hook: H) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
        H: FnMut(&M, &EpochRecord) -> Result<BTreeMap<String, f64>>,
    {
        let per_epoch = data.steps_per_epoch() as u64;
        if per_epoch == 0 {
            return Err(Error::EmptyBatch {
                what: "data source (0 steps per epoch)".into(),
            });
        }
        let total = per_epoch * self.config.epochs as u64;
        let progress = Progress::new(self.config.progress, total, self.step.min(total));
        let mut best_seen = self.best_value.is_some();
        let mut last = None;
        let mut epoch_start = Instant::now();
        while self.step < total {
            let ctx = StepContext {
                seed: self.config.seed,
                step: self.step,
                epoch: self.step / per_epoch,
                index_in_epoch: self.step % per_epoch,
            };
            let batch = data.batch(&ctx, &self.device)?;
            let lr = learning_rate_at(&self.config, self.step, total);
            let stats = self.train_step(batch, lr)?;
            self.epoch_sums.add(&stats);
            progress.update(ctx.epoch + 1, &stats);
            last = Some(stats);

            if self.step.is_multiple_of(per_epoch) {
                self.epoch_sums.seconds += epoch_start.elapsed().as_secs_f64();
                let mut record = self.epoch_sums.finish(self.step / per_epoch, self.step, lr);
                record.metrics = hook(self.model(), &record)?;
                progress.println(format_record(&record));
                let best = self.config.keep_best.clone();
                let value = best.as_ref().and_then(|b| record.metric(&b.metric));
                self.history.push(record);
                self.write_history()?;
                if let (Some(best), Some(value)) = (best, value) {
                    best_seen = true;
                    if best.improves(value, self.best_value) {
                        self.best_value = Some(value);
                        self.save_best_in_out_dir()?;
                    }
                }
                epoch_start = Instant::now();
            }
            let at_end = self.step == total;
            if let Some(every) = self.config.checkpoint_every {
                if self.step.is_multiple_of(every) || at_end {
                    self.epoch_sums.seconds += epoch_start.elapsed().as_secs_f64();
                    epoch_start = Instant::now();
                    self.save_checkpoint_in_out_dir()?;
                }
            }
        }
        progress.finish();
        if let (Some(best), false) = (&self.config.keep_best, best_seen) {
            progress.println(format!(
                "warning: keep_best metric `{}` was never reported at an epoch end; no best \
                 checkpoint was written",
                best.metric
            ));
        }
        Ok(TrainingSummary {
            steps: self.step,
            history: self.history.clone(),
            last,
        })
    }

    /// One optimiser step on `batch` at learning rate `lr`; returns the step's loss, accuracy
    /// and MI bound.
    ///
    /// # Errors
    /// Any error of the sampler, critic or loss; [`Error::NonFinite`] (the model is left
    /// unchanged) when the loss or, with `check_gradients`, a gradient is NaN or infinite.
    pub fn train_step(&mut self, batch: M::Batch, lr: f64) -> Result<LossStats> {
        B::seed(&self.device, derive_seed(self.config.seed, self.step));
        let model = self.model.take().expect("model present between steps");
        let result = self.forward(&model, batch);
        let (loss, stats, detached) = match result {
            Ok(v) => v,
            Err(e) => {
                self.model = Some(model);
                return Err(e);
            }
        };
        if !stats.loss.is_finite() {
            self.model = Some(model);
            return Err(self.non_finite("loss".into(), stats.loss));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        if self.config.check_gradients {
            if let Some((name, sum)) = first_non_finite_gradient::<B, M>(&model, &grads) {
                self.model = Some(model);
                return Err(self.non_finite(format!("gradient of `{name}`"), sum));
            }
        }
        self.model = Some(self.optimizer.step(lr, model, grads));
        self.sampler.after_step(&detached)?;
        self.step += 1;
        Ok(stats)
    }

    fn non_finite(&self, tensor: String, value: f64) -> Error {
        Error::NonFinite {
            step: self.step,
            tensor,
            value,
            hint: "lower the learning rate, raise the temperature, enable grad_clip_norm, \
                   or check the input data for NaN"
                .into(),
            last_checkpoint: self.last_checkpoint.clone(),
        }
    }

    #[allow(clippy::type_complexity)]
    fn forward(
        &mut self,
        model: &M,
        batch: M::Batch,
    ) -> Result<(
        burn::tensor::Tensor<B, 1>,
        LossStats,
        crate::sampler::Embeddings<B>,
    )> {
        let embeddings = model.embed(batch)?;
        let detached = embeddings.detach();
        let set = self.sampler.candidates(embeddings)?;
        let mut scores = model.log_scores(set.context, set.candidates)?;
        if let Some(w) = set.log_weights {
            scores = scores + w;
        }
        let out = masked_info_nce(scores, &set.positives, set.valid.as_ref())?;
        let stats = out.stats();
        Ok((out.loss, stats, detached))
    }

    /// Writes a checkpoint to `path` (atomically).
    pub fn save_checkpoint(&mut self, path: &Path) -> Result<()> {
        let model_bytes = Recorder::<B>::record(
            &ModelBytes::default(),
            self.model().clone().into_record(),
            (),
        )
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
        };
        Checkpoint::write(path, &meta, &model_bytes, &self.optimizer.to_bytes()?)?;
        self.last_checkpoint = Some(path.to_path_buf());
        Ok(())
    }

    /// Writes `checkpoints/best.ckpt` when `out_dir` is set. The last good checkpoint
    /// reported on failure stays the newest regular one.
    fn save_best_in_out_dir(&mut self) -> Result<()> {
        let Some(dir) = self.config.out_dir.clone() else {
            return Ok(());
        };
        let last = self.last_checkpoint.clone();
        self.save_checkpoint(&Path::new(&dir).join("checkpoints").join(BEST_NAME))?;
        self.last_checkpoint = last.or_else(|| self.last_checkpoint.clone());
        Ok(())
    }

    fn save_checkpoint_in_out_dir(&mut self) -> Result<()> {
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

    fn write_history(&self) -> Result<()> {
        match &self.config.out_dir {
            Some(dir) => crate::io::write_json(&Path::new(dir).join("history.json"), &self.history),
            None => Ok(()),
        }
    }
}

/// One line per epoch for the progress output.
fn format_record(r: &EpochRecord) -> String {
    let mut line = format!(
        "epoch {:>3} | loss {:.4} | MI ≥ {:.3} nats (cap {:.2}) | acc {:.3} | lr {:.2e} | {:.1}s",
        r.epoch, r.loss, r.mi_bound, r.log_n, r.accuracy, r.learning_rate, r.seconds
    );
    for (k, v) in &r.metrics {
        line.push_str(&format!(" | {k} {v:.4}"));
    }
    line
}

/// The backend seed of a step.
fn derive_seed(seed: u64, step: u64) -> u64 {
    use rand::Rng;
    derive_rng(seed, step, BACKEND_STREAM).next_u64()
}
