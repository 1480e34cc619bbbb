//! The crate's one error type.
//!
//! Every fallible public function returns [`Result`]. Variants carry the numbers a caller
//! needs to fix the call (the shapes that disagree, the offending value, the step at which
//! training diverged) rather than a bare message.

use std::path::PathBuf;

/// Everything that can go wrong in `infonce`, as a typed value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two tensors whose shapes must agree do not.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which argument or pair of arguments disagreed.
        what: String,
        /// The shape that was required, written out (`[n, d]`, `d = 128`, ...).
        expected: String,
        /// The shape that was passed.
        got: String,
    },
    /// A batch with no rows.
    #[error("empty batch in {what}: at least one row is required")]
    EmptyBatch {
        /// The function or argument that received it.
        what: String,
    },
    /// Fewer than two candidates per row: there is nothing to contrast the positive with.
    #[error(
        "{what} has {got} candidate(s) per row; InfoNCE needs at least 2 (one positive and one negative)"
    )]
    TooFewCandidates {
        /// The function or argument that received it.
        what: String,
        /// How many candidates there were.
        got: usize,
    },
    /// A temperature that is not a finite number above zero.
    #[error("temperature must be finite and > 0, got {0}")]
    InvalidTemperature(f64),
    /// Any other configuration value outside its valid range.
    #[error("invalid value for {name}: {reason}")]
    InvalidConfig {
        /// The field or argument.
        name: String,
        /// What is wrong with it and what is allowed.
        reason: String,
    },
    /// Training produced a NaN or an infinity: in the loss, or in the gradient of a
    /// parameter. The update of that step was not applied.
    #[error("non-finite {tensor} ({value}) at step {step}: {hint}{}", last_checkpoint_note(.last_checkpoint))]
    NonFinite {
        /// The optimiser step at which it appeared.
        step: u64,
        /// Which tensor: `loss`, or `gradient of <parameter path>`.
        tensor: String,
        /// The value read back (the loss, or the sum of the gradient).
        value: f64,
        /// What to try (a lower learning rate, a higher temperature, gradient clipping...).
        hint: String,
        /// The last checkpoint written (or resumed from) before the failure, if any.
        last_checkpoint: Option<PathBuf>,
    },
    /// No checkpoint in a directory could be resumed from.
    #[error("no usable checkpoint in {dir}{}", skipped_note(.skipped))]
    NoUsableCheckpoint {
        /// The directory searched.
        dir: PathBuf,
        /// Every checkpoint tried, newest first, with why it was refused.
        skipped: Vec<String>,
    },
    /// Another run holds the output folder's lock (see [`crate::io::FolderLock`]).
    #[error("{dir} is in use by another run ({}); wait for it to end or choose another output folder", holder_note(.holder))]
    FolderInUse {
        /// The output folder.
        dir: PathBuf,
        /// The holder's process id, when it has recorded it.
        holder: Option<u32>,
    },
    /// `resume` was asked with settings that differ from those the checkpoint was written
    /// with (other than those a resume may change, such as the number of epochs).
    #[error("{path} was written with other settings: {}; resume with the same settings or start a new output folder", .differences.join("; "))]
    ResumeMismatch {
        /// The checkpoint.
        path: PathBuf,
        /// One entry per setting: `name: <in the checkpoint> in the checkpoint, <now> now`.
        differences: Vec<String>,
    },
    /// The requested backend is unavailable (no GPU adapter, feature not compiled in).
    #[error("backend unavailable: {0}")]
    BackendUnavailable(String),
    /// Training split over data-parallel peers did not reproduce training on one device
    /// (the shard-equivalence check).
    #[error(
        "{peers} peers differ from one device: gradient of `{parameter}` by {max_abs_grad_diff:e} (loss by {max_loss_diff:e}), tolerance {tolerance:e}"
    )]
    ShardMismatch {
        /// Number of peers.
        peers: usize,
        /// The parameter with the largest difference.
        parameter: String,
        /// Its largest absolute gradient difference.
        max_abs_grad_diff: f64,
        /// The largest absolute difference of the reported loss.
        max_loss_diff: f64,
        /// The tolerance it was checked against.
        tolerance: f64,
    },
    /// A collective operation among data-parallel peers failed (a peer registered twice,
    /// peers disagreed on a shape, the orchestrator was unreachable).
    #[error("collective {operation} failed for peer {peer}: {detail}")]
    Collective {
        /// Which operation: `register`, `all-gather`, `gradient all-reduce`, ...
        operation: String,
        /// The peer's rank.
        peer: usize,
        /// burn-collective's error, in words.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file that was being read or written.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its content is not what was expected.
    #[error("{path}: {reason}")]
    CorruptFile {
        /// The file.
        path: PathBuf,
        /// Why it was refused (bad magic number, truncated, wrong model shape...).
        reason: String,
    },
    /// A JSON document (config, history, report) could not be (de)serialised.
    #[error("{context}: {source}")]
    Json {
        /// The file or object involved.
        context: String,
        /// serde_json's message, with line and column.
        #[source]
        source: serde_json::Error,
    },
}

fn last_checkpoint_note(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("; last good checkpoint: {}", p.display()),
        None => "; no checkpoint was written before it".into(),
    }
}

fn holder_note(holder: &Option<u32>) -> String {
    match holder {
        Some(pid) => format!("process {pid}"),
        None => "process id not yet recorded".into(),
    }
}

fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        " (none found)".into()
    } else {
        format!(" (tried: {})", skipped.join("; "))
    }
}

/// `Result` with [`Error`] as its error type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::ShapeMismatch`].
    pub(crate) fn shape(
        what: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        Error::ShapeMismatch {
            what: what.into(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// Shorthand for [`Error::InvalidConfig`], for custom samplers, objectives and models
    /// that refuse a setting or an input.
    pub fn config(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the error is the caller's request rather than the run: a setting out of
    /// range, a temperature, or a resume with other settings. Programs exit with status 2
    /// for these (a usage error) and 1 for the rest ([`crate::backend::exit_code`]).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidConfig { .. }
                | Error::InvalidTemperature(_)
                | Error::ResumeMismatch { .. }
        )
    }
}
