//! Readers for image datasets on disk.

mod cifar10;
mod image_folder;
mod mnist_idx;

pub use cifar10::{parse_cifar10_batch, read_cifar10};
pub use image_folder::read_image_folder;
pub use mnist_idx::{
    idx_dataset, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, read_mnist,
};

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Reads a whole file, transparently gunzipping when the name ends in `.gz`.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::CorruptFile {
                path: path.to_path_buf(),
                reason: format!("not a valid gzip stream: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// `path`, or `path.gz` when only the compressed file exists.
pub(crate) fn plain_or_gz(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let plain = dir.join(name);
    if plain.exists() {
        return Ok(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.exists() {
        return Ok(gz);
    }
    Err(Error::io(
        &plain,
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("neither {name} nor {name}.gz found"),
        ),
    ))
}
