//! The checkpoint file: model, optimiser state, step, sampler state, history.
//!
//! Layout (little-endian): the 8-byte magic `INFONCE\0`, a `u32` format version, the
//! lengths of the three sections (`u64` each), an FNV-1a 64 checksum of the sections, then
//! the sections: JSON metadata, the model record and the optimiser record (both Burn named
//! MessagePack at full precision). Files are written atomically.

use std::path::{Path, PathBuf};

use super::history::{EpochAccumulator, EpochRecord};
use crate::io::write_atomic;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"INFONCE\0";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 3 * 8 + 8;

/// Everything about a run except the tensors.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckpointMeta {
    /// The crate version that wrote it.
    pub crate_version: String,
    /// Optimiser steps completed.
    pub step: u64,
    /// The run's configuration.
    pub config: serde_json::Value,
    /// The sampler's [`crate::NegativeSampler::state`].
    pub sampler_state: serde_json::Value,
    /// Completed epochs.
    pub history: Vec<EpochRecord>,
    /// Running sums of the current epoch.
    #[serde(default)]
    pub(crate) epoch_sums: EpochAccumulator,
    /// Dotted path and shape of every float parameter of the model, checked before the
    /// model record is loaded so that another architecture is refused by name.
    #[serde(default)]
    pub param_shapes: Vec<(String, Vec<usize>)>,
    /// The best value so far of the configured `keep_best` metric.
    #[serde(default)]
    pub best_value: Option<f64>,
}

/// A checkpoint read from disk, sections not yet decoded.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Where it was read from.
    pub path: PathBuf,
    /// The metadata.
    pub meta: CheckpointMeta,
    pub(crate) model: Vec<u8>,
    pub(crate) optimizer: Vec<u8>,
}

fn fnv1a(sections: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in sections {
        for &b in *s {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

impl Checkpoint {
    /// Encodes and writes atomically.
    pub(crate) fn write(
        path: &Path,
        meta: &CheckpointMeta,
        model: &[u8],
        optimizer: &[u8],
    ) -> Result<()> {
        let meta = serde_json::to_vec(meta).map_err(|source| Error::Json {
            context: path.display().to_string(),
            source,
        })?;
        let mut out = Vec::with_capacity(HEADER + meta.len() + model.len() + optimizer.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        for s in [&meta[..], model, optimizer] {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        }
        out.extend_from_slice(&fnv1a(&[&meta, model, optimizer]).to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(model);
        out.extend_from_slice(optimizer);
        write_atomic(path, &out)
    }

    /// Reads and checks a checkpoint file.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read; [`Error::CorruptFile`] for a wrong magic
    /// number, an unknown version, a truncated file or a checksum mismatch.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let corrupt = |reason: String| Error::CorruptFile {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(corrupt(
                "not an infonce checkpoint (bad magic number or too short)".into(),
            ));
        }
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(corrupt(format!(
                "checkpoint format version {version}, this build reads {VERSION}"
            )));
        }
        let lens = [u64_at(12), u64_at(20), u64_at(28)];
        let checksum = u64_at(36);
        let total = lens
            .iter()
            .try_fold(HEADER as u64, |a, &l| a.checked_add(l));
        if total != Some(bytes.len() as u64) {
            return Err(corrupt(format!(
                "truncated or padded: header announces {} bytes, file has {}",
                total.map_or("an impossible number of".into(), |t| t.to_string()),
                bytes.len()
            )));
        }
        let (m0, m1) = (HEADER, HEADER + lens[0] as usize);
        let (o0, o1) = (m1 + lens[1] as usize, bytes.len());
        let sections = [&bytes[m0..m1], &bytes[m1..o0], &bytes[o0..o1]];
        if fnv1a(&sections) != checksum {
            return Err(corrupt("checksum mismatch: the file is damaged".into()));
        }
        let meta: CheckpointMeta = serde_json::from_slice(sections[0])
            .map_err(|e| corrupt(format!("metadata unreadable: {e}")))?;
        if !same_release_line(&meta.crate_version, env!("CARGO_PKG_VERSION")) {
            return Err(corrupt(format!(
                "written by infonce {}, this is infonce {}: records of another release line \
                 are not read",
                meta.crate_version,
                env!("CARGO_PKG_VERSION")
            )));
        }
        Ok(Checkpoint {
            path: path.to_path_buf(),
            meta,
            model: sections[1].to_vec(),
            optimizer: sections[2].to_vec(),
        })
    }

    /// Writes this checkpoint (atomically) to `path`, re-encoding it: for tools that edit
    /// the metadata or move checkpoints between directories.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_to(&self, path: &Path) -> Result<()> {
        Self::write(path, &self.meta, &self.model, &self.optimizer)
    }

    /// The newest checkpoint (highest step) in `dir`, if any.
    pub fn latest_in(dir: &Path) -> Option<PathBuf> {
        list_checkpoints(dir).pop().map(|(_, p)| p)
    }
}

/// Whether two versions share a release line: the same major version, and for `0.x` the
/// same minor version (semver's compatibility rule).
fn same_release_line(a: &str, b: &str) -> bool {
    let line = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        Some((major, if major == 0 { minor } else { 0 }))
    };
    matches!((line(a), line(b)), (Some(x), Some(y)) if x == y)
}

/// File name of the best checkpoint (never pruned).
pub(crate) const BEST_NAME: &str = "best.ckpt";

/// File name of the checkpoint at `step`.
pub(crate) fn checkpoint_name(step: u64) -> String {
    format!("step-{step:09}.ckpt")
}

/// Checkpoints in `dir`, sorted by step.
pub(crate) fn list_checkpoints(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name
                .strip_prefix("step-")?
                .strip_suffix(".ckpt")?
                .parse()
                .ok()?;
            Some((step, e.path()))
        })
        .collect();
    found.sort();
    found
}
