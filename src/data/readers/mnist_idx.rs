//! MNIST's IDX format (LeCun et al.), plain or gzipped.

use std::path::Path;

use super::{plain_or_gz, read_maybe_gz};
use crate::data::{ImageDataset, TrainTest};
use crate::{Error, Result};

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Checks that `bytes` hold at least the `header` bytes of an IDX `kind` file and start
/// with its `magic` number.
fn check_header(bytes: &[u8], path: &Path, kind: &str, header: usize, magic: u32) -> Result<()> {
    if bytes.len() < header {
        return Err(corrupt(
            path,
            format!(
                "truncated: {} bytes, the {kind} header alone is {header}",
                bytes.len()
            ),
        ));
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(corrupt(
            path,
            format!(
                "wrong magic number {found:#010x}, expected {magic:#010x} ({kind} unsigned bytes)"
            ),
        ));
    }
    Ok(())
}

/// Reads an IDX3 image file (magic 0x00000803, unsigned bytes): `(count, rows, cols,
/// pixels in [0, 1])`. Any image size is accepted.
///
/// # Errors
/// [`Error::CorruptFile`] naming the file for a wrong magic number or a truncated body.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<f32>)> {
    parse_idx_images(&read_maybe_gz(path)?, path)
}

/// [`read_idx_images`] on bytes already in memory; `path` names them in errors.
///
/// # Errors
/// As [`read_idx_images`].
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<(usize, usize, usize, Vec<f32>)> {
    check_header(bytes, path, "IDX3", 16, 0x0000_0803)?;
    let (n, rows, cols) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    let expected = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| corrupt(path, "header sizes overflow"))?;
    if bytes.len() - 16 != expected {
        return Err(corrupt(
            path,
            format!(
                "truncated or padded: header announces {n} images of {rows}×{cols} = {expected} bytes, body has {}",
                bytes.len() - 16
            ),
        ));
    }
    if rows == 0 || cols == 0 {
        return Err(corrupt(path, format!("images of size {rows}×{cols}")));
    }
    Ok((
        n,
        rows,
        cols,
        bytes[16..].iter().map(|&b| b as f32 / 255.0).collect(),
    ))
}

/// Reads an IDX1 label file (magic 0x00000801).
///
/// # Errors
/// [`Error::CorruptFile`] for a wrong magic number or a truncated body.
pub fn read_idx_labels(path: &Path) -> Result<Vec<usize>> {
    parse_idx_labels(&read_maybe_gz(path)?, path)
}

/// [`read_idx_labels`] on bytes already in memory; `path` names them in errors.
///
/// # Errors
/// As [`read_idx_labels`].
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<usize>> {
    check_header(bytes, path, "IDX1", 8, 0x0000_0801)?;
    let n = be_u32(bytes, 4) as usize;
    if bytes.len() - 8 != n {
        return Err(corrupt(
            path,
            format!(
                "truncated or padded: header announces {n} labels, body has {}",
                bytes.len() - 8
            ),
        ));
    }
    Ok(bytes[8..].iter().map(|&b| b as usize).collect())
}

fn read_split(dir: &Path, images: &str, labels: &str) -> Result<ImageDataset> {
    let image_path = plain_or_gz(dir, images)?;
    let label_path = plain_or_gz(dir, labels)?;
    idx_dataset(
        &read_maybe_gz(&image_path)?,
        &image_path,
        &read_maybe_gz(&label_path)?,
        &label_path,
    )
}

/// A grayscale dataset from the bytes of an IDX3 image file and an IDX1 label file (the
/// paths name them in errors); at least 10 classes, more when a label is larger.
///
/// # Errors
/// Those of [`parse_idx_images`] and [`parse_idx_labels`]; [`Error::CorruptFile`] when
/// the label count differs from the image count; [`Error::EmptyBatch`] for no images.
pub fn idx_dataset(
    images: &[u8],
    image_path: &Path,
    labels: &[u8],
    label_path: &Path,
) -> Result<ImageDataset> {
    let (n, rows, cols, pixels) = parse_idx_images(images, image_path)?;
    let labels = parse_idx_labels(labels, label_path)?;
    if labels.len() != n {
        return Err(corrupt(
            label_path,
            format!(
                "{} labels for the {n} images of {}",
                labels.len(),
                image_path.display()
            ),
        ));
    }
    if n == 0 {
        return Err(Error::EmptyBatch {
            what: format!(
                "IDX dataset {}: the file holds no images",
                image_path.display()
            ),
        });
    }
    let num_classes = labels.iter().max().map_or(0, |&m| m + 1).max(10);
    ImageDataset::new(1, rows, cols, pixels, labels, num_classes)
}

/// Reads the four MNIST files from `dir` under their usual names
/// (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
/// `t10k-labels-idx1-ubyte`), each optionally `.gz`. Fashion-MNIST and KMNIST use the same
/// layout.
///
/// # Errors
/// [`Error::Io`] for a missing file; [`Error::CorruptFile`] for a bad magic number, a
/// truncated file or a label count that does not match the image count.
pub fn read_mnist(dir: &Path) -> Result<TrainTest> {
    Ok(TrainTest {
        train: read_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: read_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    })
}
