//! One optimiser step, and the read-back that closes a window of steps.

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::Trainer;
use super::pending::{StepOutcome, StepValues, Window, gradient_flags, non_finite_flags};
use super::source::derive_rng;
use super::train_loop::Snapshot;
use crate::loss::{LossOutput, LossStats};
use crate::sampler::Embeddings;
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Stream id of the backend seed derived for each step.
const BACKEND_STREAM: u64 = 0xB4C6;

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    /// One optimiser step on `batch` at learning rate `lr`, read back at once; returns the
    /// step's loss, accuracy and `log N − J`.
    ///
    /// # Errors
    /// Any error of the sampler, critic or objective (nothing is applied); [`Error::NonFinite`]
    /// when the loss or, with `check_gradients`, a gradient is NaN or infinite (the model
    /// and optimiser are left as before the step).
    pub fn train_step(&mut self, batch: M::Batch, lr: f64) -> Result<LossStats> {
        self.flush()?;
        self.step_on_device(batch, lr, true)?;
        Ok(self
            .last_stats
            .expect("an immediate step leaves its statistics"))
    }

    /// One step. `immediate`: its values are read back before the update (a non-finite
    /// step is never applied, no snapshot is needed); otherwise they join the current
    /// window, which starts with a snapshot of the model and optimiser to roll back to.
    pub(super) fn step_on_device(
        &mut self,
        batch: M::Batch,
        lr: f64,
        immediate: bool,
    ) -> Result<()> {
        self.step_with(lr, immediate, |trainer, model| {
            trainer.plain_gradients(model, batch)
        })
    }

    /// The loss and the parameters' gradients of one batch, in one forward and backward pass.
    fn plain_gradients(&mut self, model: &M, batch: M::Batch) -> Result<StepGradients<B>> {
        let (out, detached) = self.forward(model, batch)?;
        let grads = GradientsParams::from_grads(
            self.loss_to_differentiate(out.loss.clone()).backward(),
            model,
        );
        Ok(StepGradients {
            out,
            detached,
            grads,
        })
    }

    /// One step whose loss and gradients `compute` produces from the model; then as
    /// [`Self::step_on_device`].
    pub(super) fn step_with(
        &mut self,
        lr: f64,
        immediate: bool,
        compute: impl FnOnce(&mut Self, &M) -> Result<StepGradients<B>>,
    ) -> Result<()> {
        B::seed(&self.device, derive_seed(self.config.seed, self.step));
        let model = self.model.take().expect("model present between steps");
        if !immediate && self.window.is_none() {
            let snapshot = Snapshot {
                model: model.clone(),
                optimizer: self.optimizer.clone(),
            };
            self.window = Some(Window::new(self.step, snapshot));
        }
        let StepGradients {
            out,
            detached,
            grads,
        } = match compute(self, &model) {
            Ok(v) => v,
            Err(e) => return self.abandon_step(model, e),
        };
        let grads = match self.reduce_gradients(&model, grads) {
            Ok(g) => g,
            Err(e) => return self.abandon_step(model, e),
        };
        let values = match self.step_values(&model, &out, &grads) {
            Ok(v) => v,
            Err(e) => return self.abandon_step(model, e),
        };
        let stats = if immediate {
            match self.read_now(values) {
                Ok(stats) => Some(stats),
                Err(e) => return self.abandon_step(model, e),
            }
        } else {
            if let Some(w) = self.window.as_mut() {
                w.push(values);
            }
            None
        };
        // The sampler's hook is the last thing that can fail: nothing is applied before it.
        if let Err(e) = self.sampler.after_step(&detached) {
            return self.abandon_step(model, e);
        }
        let model = self.optimizer.step(lr, model, grads);
        self.step += 1;
        self.model = Some(model.after_step(self.step));
        if let Some(stats) = stats {
            self.epoch_sums.add(&stats);
            self.last_stats = Some(stats);
        }
        Ok(())
    }

    /// Reads one step's values back at once: its statistics, or its non-finite error.
    fn read_now(&self, values: StepValues<B::InnerBackend>) -> Result<LossStats> {
        let mut window = Window::<B::InnerBackend, ()>::new(self.step, ());
        window.push(values);
        match window.read_back().1.pop() {
            Some(StepOutcome::Finite(stats)) => Ok(stats),
            Some(StepOutcome::NonFinite { tensor, value }) => {
                Err(self.non_finite(self.step, tensor, value))
            }
            None => Err(Error::config(
                "trainer",
                "a step's values were not read back",
            )),
        }
    }

    /// Puts the model back, reads back the steps before this one, and returns `error`
    /// (or the earlier steps' non-finite error, which happened first).
    fn abandon_step(&mut self, model: M, error: Error) -> Result<()> {
        self.model = Some(model);
        self.flush()?;
        Err(error)
    }

    /// The step's `[loss, accuracy, log N]` and non-finite flags on the device.
    fn step_values(
        &self,
        model: &M,
        out: &LossOutput<B>,
        grads: &GradientsParams,
    ) -> Result<StepValues<B::InnerBackend>> {
        let mut flags = non_finite_flags(out.loss.clone().inner()).to_vec();
        let mut gradient_names = Vec::new();
        if self.config.check_gradients {
            let (names, gradient) = gradient_flags::<B, M>(model, grads);
            gradient_names = names;
            flags.extend(gradient);
        }
        let flags = Tensor::cat(flags, 0).float();
        let values = self.reduce_values(out.detached_values().inner())?;
        Ok(StepValues {
            values: Tensor::cat(vec![values, flags], 0),
            gradient_names,
            bound: out.bound,
        })
    }

    /// Whether the current window should be read back now (after `steps_in_window` steps,
    /// `since_read` seconds after the last read-back).
    pub(super) fn window_due(&self, since_read: f64) -> bool {
        let len = self.window.as_ref().map_or(0, Window::len) as u64;
        match self.config.sync_every {
            Some(k) => len >= k,
            None => len > 0 && since_read >= 0.1,
        }
    }

    /// Reads the window's steps back: their statistics join the epoch's sums; a non-finite
    /// step rolls the model and optimiser back to the window's start and is returned as
    /// [`Error::NonFinite`].
    pub(super) fn flush(&mut self) -> Result<()> {
        let Some(window) = self.window.take() else {
            return Ok(());
        };
        let first = window.first_step;
        let (snapshot, outcomes) = window.read_back();
        let bad = outcomes.iter().enumerate().find_map(|(i, o)| match o {
            StepOutcome::NonFinite { tensor, value } => Some((i, tensor.clone(), *value)),
            StepOutcome::Finite(_) => None,
        });
        if let Some((i, tensor, value)) = bad {
            self.model = Some(snapshot.model);
            self.optimizer = snapshot.optimizer;
            self.step = first;
            return Err(self.non_finite(first + i as u64, tensor, value));
        }
        for outcome in outcomes {
            if let StepOutcome::Finite(stats) = outcome {
                self.epoch_sums.add(&stats);
                self.last_stats = Some(stats);
            }
        }
        Ok(())
    }

    fn non_finite(&self, step: u64, tensor: String, value: f64) -> Error {
        Error::NonFinite {
            step,
            tensor,
            value,
            hint: "lower the learning rate, raise the temperature, enable grad_clip_norm, \
                   or check the input data for NaN"
                .into(),
            last_checkpoint: self.last_checkpoint.clone(),
        }
    }

    /// Embeddings → candidate set → log-scores → objective.
    fn forward(&mut self, model: &M, batch: M::Batch) -> Result<(LossOutput<B>, Embeddings<B>)> {
        let embeddings = self.gather(model.embed(batch)?)?;
        self.loss_of(model, embeddings)
    }

    /// Candidate set → log-scores → objective, from a batch's embeddings.
    pub(super) fn loss_of(
        &mut self,
        model: &M,
        embeddings: Embeddings<B>,
    ) -> Result<(LossOutput<B>, Embeddings<B>)> {
        let detached = embeddings.detach();
        let set = self.sampler.candidates(embeddings)?;
        let set = self.local_rows(set)?;
        let mut scores = model.log_scores(set.context.clone(), set.candidates.clone())?;
        if let Some(w) = &set.log_weights {
            scores = scores + w.clone();
        }
        let out = self.objective.loss(scores, &set)?;
        Ok((out, detached))
    }
}

/// What a step's passes produced: the loss, the embeddings without graph (for the
/// sampler's hook) and the parameters' gradients.
pub(super) struct StepGradients<B: AutodiffBackend> {
    pub(super) out: LossOutput<B>,
    pub(super) detached: Embeddings<B>,
    pub(super) grads: GradientsParams,
}

/// The backend seed of a step.
pub(super) fn derive_seed(seed: u64, step: u64) -> u64 {
    use rand::Rng;
    derive_rng(seed, step, BACKEND_STREAM).next_u64()
}
