//! The checkpoint file: model, optimiser state, step, sampler state, history.
//!
//! Layout (little-endian): the 8-byte magic `INFONCE\0`, a `u32` format version, the
//! lengths of the four sections (`u64` each), a checksum of the sections (`u64`: CRC-32 from
//! `crc32fast` since format 3, FNV-1a 64 in formats 1 and 2), then the sections: JSON
//! metadata, the model record, the optimiser record and the sampler record (Burn named
//! MessagePack at full precision; format 1 had no sampler section). Files are written
//! atomically.

use std::path::{Path, PathBuf};

use super::history::{EpochAccumulator, EpochRecord};
use crate::io::write_atomic;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"INFONCE\0";
const VERSION: u32 = 3;

/// Sections of a file of format `version`: version 1 had no sampler record.
fn section_count(version: u32) -> Option<usize> {
    match version {
        1 => Some(3),
        2 | 3 => Some(4),
        _ => None,
    }
}

/// The checksum a file of format `version` carries: FNV-1a 64 up to format 2, CRC-32
/// (IEEE, zero-extended) from format 3.
fn checksum(version: u32, sections: &[&[u8]]) -> u64 {
    if version <= 2 {
        return fnv1a(sections);
    }
    let mut crc = crc32fast::Hasher::new();
    for s in sections {
        crc.update(s);
    }
    u64::from(crc.finalize())
}

/// Header bytes of a file with `sections` sections.
fn header_len(sections: usize) -> usize {
    8 + 4 + sections * 8 + 8
}

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
    /// How many data-parallel peers the run had (1 on one device); a run resumes on the
    /// same number.
    #[serde(default = "one_peer")]
    pub peers: usize,
}

fn one_peer() -> usize {
    1
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
    pub(crate) sampler: Vec<u8>,
}

/// The checksum of formats 1 and 2, kept so that their files stay readable.
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
        sampler: &[u8],
    ) -> Result<()> {
        let meta = serde_json::to_vec(meta).map_err(|source| Error::Json {
            context: path.display().to_string(),
            source,
        })?;
        let sections = [&meta[..], model, optimizer, sampler];
        let size: usize = sections.iter().map(|s| s.len()).sum();
        let mut out = Vec::with_capacity(header_len(sections.len()) + size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        for s in sections {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        }
        out.extend_from_slice(&checksum(VERSION, &sections).to_le_bytes());
        for s in sections {
            out.extend_from_slice(s);
        }
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
        if bytes.len() < header_len(0) || &bytes[..8] != MAGIC {
            return Err(corrupt(
                "not an infonce checkpoint (bad magic number or too short)".into(),
            ));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let Some(count) = section_count(version) else {
            return Err(corrupt(format!(
                "checkpoint format version {version}, this build reads 1 to {VERSION}"
            )));
        };
        let sections = split_sections(&bytes, version, count).map_err(corrupt)?;
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
            sampler: sections.get(3).map_or_else(Vec::new, |s| s.to_vec()),
        })
    }

    /// The model record as stored (Burn named MessagePack at full precision), for loading
    /// a model outside a trainer with Burn's `NamedMpkBytesRecorder`. Records carry each
    /// parameter's random id, so equal models need not have equal bytes.
    pub fn model_record(&self) -> &[u8] {
        &self.model
    }

    /// The sampler's tensor state as stored (empty for a stateless sampler or a file of
    /// format 1).
    pub fn sampler_record(&self) -> &[u8] {
        &self.sampler
    }

    /// Writes this checkpoint (atomically) to `path`, re-encoding it: for tools that edit
    /// the metadata or move checkpoints between directories.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_to(&self, path: &Path) -> Result<()> {
        Self::write(
            path,
            &self.meta,
            &self.model,
            &self.optimizer,
            &self.sampler,
        )
    }

    /// The newest checkpoint (highest step) in `dir`, if any.
    pub fn latest_in(dir: &Path) -> Option<PathBuf> {
        list_checkpoints(dir).pop().map(|(_, p)| p)
    }
}

/// Whether two versions share a release line: the same major version, and for `0.x` the
/// same minor version (semver's compatibility rule).
/// The `count` sections of a checkpoint file, after checking the announced lengths and the
/// checksum.
fn split_sections(
    bytes: &[u8],
    version: u32,
    count: usize,
) -> std::result::Result<Vec<&[u8]>, String> {
    let header = header_len(count);
    if bytes.len() < header {
        return Err("truncated header".into());
    }
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let lens: Vec<u64> = (0..count).map(|i| u64_at(12 + 8 * i)).collect();
    let stored = u64_at(12 + 8 * count);
    let total = lens
        .iter()
        .try_fold(header as u64, |a, &l| a.checked_add(l));
    if total != Some(bytes.len() as u64) {
        return Err(format!(
            "truncated or padded: header announces {} bytes, file has {}",
            total.map_or("an impossible number of".into(), |t| t.to_string()),
            bytes.len()
        ));
    }
    let mut start = header;
    let sections: Vec<&[u8]> = lens
        .iter()
        .map(|&l| {
            let s = &bytes[start..start + l as usize];
            start += l as usize;
            s
        })
        .collect();
    if checksum(version, &sections) != stored {
        return Err(format!(
            "checksum mismatch (format {version}): the file is damaged"
        ));
    }
    Ok(sections)
}

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
