//! The terminal progress bar.

use indicatif::{ProgressBar, ProgressStyle};

use crate::loss::LossStats;

/// A bar over all steps showing loss, MI bound and accuracy as of the last read-back;
/// hidden when disabled or when stderr is not a terminal (indicatif's default).
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(enabled: bool, total: u64, start: u64) -> Self {
        let bar = if enabled {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} epoch {prefix} [{bar:30}] {pos}/{len} {elapsed}<{eta} {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_position(start);
        Self { bar }
    }

    /// One more step done, in `epoch` (1-based).
    pub fn advance(&self, epoch: u64) {
        self.bar.set_prefix(epoch.to_string());
        self.bar.inc(1);
    }

    /// The newest statistics read back from the device.
    pub fn show(&self, stats: &LossStats) {
        let bound = if stats.bound.is_bound() {
            "MI ≥"
        } else {
            "log N − J ="
        };
        self.bar.set_message(format!(
            "loss {:.4} | {bound} {:.3} nats (cap {:.2}) | acc {:.3}",
            stats.loss, stats.mi_bound, stats.log_n, stats.accuracy
        ));
    }

    pub fn println(&self, line: String) {
        self.bar.println(line);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
