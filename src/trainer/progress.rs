//! The terminal progress bar.

use indicatif::{ProgressBar, ProgressStyle};

use crate::loss::LossStats;

/// A bar over all steps showing loss, MI bound and accuracy; hidden when disabled or when
/// stderr is not a terminal (indicatif's default).
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

    pub fn update(&self, epoch: u64, stats: &LossStats) {
        self.bar.set_prefix(epoch.to_string());
        self.bar.set_message(format!(
            "loss {:.4} | MI ≥ {:.3} nats (cap {:.2}) | acc {:.3}",
            stats.loss, stats.mi_bound, stats.log_n, stats.accuracy
        ));
        self.bar.inc(1);
    }

    pub fn println(&self, line: String) {
        self.bar.println(line);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
