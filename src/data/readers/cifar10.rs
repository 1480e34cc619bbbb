//! CIFAR-10's binary batches.

use std::path::Path;

use super::{plain_or_gz, read_maybe_gz};
use crate::data::{ImageDataset, TrainTest};
use crate::{Error, Result};

const RECORD: usize = 1 + 3 * 32 * 32;

/// Reads one CIFAR-10 binary batch file, appending to `pixels` and `labels`.
fn read_batch(path: &Path, pixels: &mut Vec<f32>, labels: &mut Vec<usize>) -> Result<()> {
    let (px, lb) = parse_cifar10_batch(&read_maybe_gz(path)?, path)?;
    pixels.extend(px);
    labels.extend(lb);
    Ok(())
}

/// Parses one CIFAR-10 binary batch held in memory: records of 1 label byte then 3 072
/// pixel bytes (R, G, B planes of 32 × 32). Returns pixels in `[0, 1]` and labels; `path`
/// names the bytes in errors.
///
/// # Errors
/// [`Error::CorruptFile`] for an empty or truncated batch or a label outside 0..9.
pub fn parse_cifar10_batch(bytes: &[u8], path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(Error::CorruptFile {
            path: path.to_path_buf(),
            reason: format!(
                "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records (truncated?)",
                bytes.len()
            ),
        });
    }
    for (i, record) in bytes.chunks(RECORD).enumerate() {
        let label = record[0] as usize;
        if label >= 10 {
            return Err(Error::CorruptFile {
                path: path.to_path_buf(),
                reason: format!("record {i} has label {label}; CIFAR-10 labels are 0..9"),
            });
        }
        labels.push(label);
        pixels.extend(record[1..].iter().map(|&b| b as f32 / 255.0));
    }
    Ok((pixels, labels))
}

/// Reads CIFAR-10 from `dir` (the `cifar-10-batches-bin` folder): `data_batch_1.bin` …
/// `data_batch_5.bin` for training, `test_batch.bin` for testing (each optionally `.gz`).
/// Missing training batches after the first are skipped, so a subset works.
///
/// # Errors
/// [`Error::Io`] when `data_batch_1.bin` or `test_batch.bin` is missing;
/// [`Error::CorruptFile`] for a truncated file or a label outside 0..9.
pub fn read_cifar10(dir: &Path) -> Result<TrainTest> {
    let names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];
    let (mut px, mut lb) = (Vec::new(), Vec::new());
    read_batch(&plain_or_gz(dir, "data_batch_1.bin")?, &mut px, &mut lb)?;
    for k in 2..=5 {
        if let Ok(path) = plain_or_gz(dir, &format!("data_batch_{k}.bin")) {
            read_batch(&path, &mut px, &mut lb)?;
        }
    }
    let (mut tpx, mut tlb) = (Vec::new(), Vec::new());
    read_batch(&plain_or_gz(dir, "test_batch.bin")?, &mut tpx, &mut tlb)?;
    let mut train = ImageDataset::new(3, 32, 32, px, lb, 10)?;
    let mut test = ImageDataset::new(3, 32, 32, tpx, tlb, 10)?;
    train.class_names = names.iter().map(|s| s.to_string()).collect();
    test.class_names = train.class_names.clone();
    Ok(TrainTest { train, test })
}
