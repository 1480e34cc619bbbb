//! The epoch loop: steps, read-backs, epoch-end duties, checkpoints.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;

use super::progress::Progress;
use super::{BatchSource, EpochRecord, StepContext, Trainer, TrainingSummary, learning_rate_at};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    S: NegativeSampler<B>,
{
    /// Trains until `config.epochs` epochs are complete.
    pub fn fit<D>(&mut self, data: &D) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
    {
        self.fit_with_hook(data, |_, _| Ok(BTreeMap::new()))
    }

    /// Like [`Trainer::fit`], calling `hook(model, record)` after each epoch; the metrics it
    /// returns are stored in the epoch's record (history and progress output).
    pub fn fit_with_hook<D, H>(&mut self, data: &D, hook: H) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
        H: FnMut(&M, &EpochRecord) -> Result<BTreeMap<String, f64>>,
    {
        self.fit_loop(data, hook, |trainer, batch, lr, immediate| {
            trainer.step_on_device(batch, lr, immediate)
        })
    }

    /// The epoch loop, each step taken by `step(trainer, batch, lr, immediate)`.
    pub(super) fn fit_loop<D, H>(
        &mut self,
        data: &D,
        mut hook: H,
        mut step: impl FnMut(&mut Self, M::Batch, f64, bool) -> Result<()>,
    ) -> Result<TrainingSummary>
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
        let mut clock = Clocks::new();
        while self.step < total {
            let ctx = StepContext {
                seed: self.config.seed,
                step: self.step,
                epoch: self.step / per_epoch,
                index_in_epoch: self.step % per_epoch,
            };
            let batch = data.batch(&ctx, &self.device)?;
            let lr = learning_rate_at(&self.config, self.step, total);
            step(self, batch, lr, self.config.sync_every == Some(1))?;
            progress.advance(ctx.epoch + 1);
            if self.window_due(clock.since_read.elapsed().as_secs_f64()) {
                self.read_and_show(&progress, &mut clock)?;
            }
            if self.step.is_multiple_of(per_epoch) {
                self.read_and_show(&progress, &mut clock)?;
                best_seen |= self.end_epoch(per_epoch, lr, &progress, &mut clock, &mut hook)?;
            }
            self.checkpoint_if_due(total, &mut clock)?;
        }
        self.flush()?;
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
            last: self.last_stats,
        })
    }

    /// Reads the window back and shows the newest statistics.
    fn read_and_show(&mut self, progress: &Progress, clock: &mut Clocks) -> Result<()> {
        self.flush()?;
        clock.since_read = Instant::now();
        if let Some(stats) = &self.last_stats {
            progress.show(stats);
        }
        Ok(())
    }

    /// Closes the epoch: its record, the hook's metrics, history and the best checkpoint.
    /// Returns whether the best-checkpoint metric was reported.
    fn end_epoch<H>(
        &mut self,
        per_epoch: u64,
        lr: f64,
        progress: &Progress,
        clock: &mut Clocks,
        hook: &mut H,
    ) -> Result<bool>
    where
        H: FnMut(&M, &EpochRecord) -> Result<BTreeMap<String, f64>>,
    {
        self.epoch_sums.seconds += clock.epoch.elapsed().as_secs_f64();
        let mut record = self.epoch_sums.finish(self.step / per_epoch, self.step, lr);
        record.metrics = hook(self.model(), &record)?;
        progress.println(format_record(&record));
        let best = self.config.keep_best.clone();
        let value = best.as_ref().and_then(|b| record.metric(&b.metric));
        self.history.push(record);
        self.write_history()?;
        clock.epoch = Instant::now();
        let (Some(best), Some(value)) = (best, value) else {
            return Ok(false);
        };
        if best.improves(value, self.best_value) {
            self.best_value = Some(value);
            self.save_best_in_out_dir()?;
        }
        Ok(true)
    }

    fn checkpoint_if_due(&mut self, total: u64, clock: &mut Clocks) -> Result<()> {
        let Some(every) = self.config.checkpoint_every else {
            return Ok(());
        };
        if self.step.is_multiple_of(every) || self.step == total {
            self.flush()?;
            self.epoch_sums.seconds += clock.epoch.elapsed().as_secs_f64();
            clock.epoch = Instant::now();
            self.save_checkpoint_in_out_dir()?;
        }
        Ok(())
    }
}

/// When the epoch started (for its seconds) and when the last read-back was.
struct Clocks {
    epoch: Instant,
    since_read: Instant,
}

impl Clocks {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            since_read: Instant::now(),
        }
    }
}

/// One line per epoch for the progress output.
fn format_record(r: &EpochRecord) -> String {
    let bound = if r.bound.is_bound() {
        "MI ≥"
    } else {
        "log N − J ="
    };
    let mut line = format!(
        "epoch {:>3} | loss {:.4} | {bound} {:.3} nats (cap {:.2}) | acc {:.3} | lr {:.2e} | {:.1}s",
        r.epoch, r.loss, r.mi_bound, r.log_n, r.accuracy, r.learning_rate, r.seconds
    );
    for (k, v) in &r.metrics {
        line.push_str(&format!(" | {k} {v:.4}"));
    }
    line
}
