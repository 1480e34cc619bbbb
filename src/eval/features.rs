//! Running an encoder over a dataset.

use burn::tensor::{Tensor, TensorData, backend::Backend};

use crate::data::ImageDataset;
use crate::{Error, Result};

/// Features of every image of `data`, row-major `[len, dim]`, computed `batch_size` images
/// at a time with `encode` (pass the backbone of a model taken with `.valid()`, so batch
/// norm uses its running statistics and no graph is recorded).
///
/// # Errors
/// [`Error::EmptyBatch`] for an empty dataset; [`Error::InvalidConfig`] for a zero batch
/// size.
pub fn image_features<B: Backend>(
    data: &ImageDataset,
    batch_size: usize,
    device: &B::Device,
    encode: impl Fn(Tensor<B, 4>) -> Tensor<B, 2>,
) -> Result<(Vec<f32>, usize)> {
    data.require_non_empty("feature extraction")?;
    if batch_size == 0 {
        return Err(Error::config("batch_size", "must be ≥ 1"));
    }
    let mut out = Vec::new();
    let mut dim = 0;
    for start in (0..data.len()).step_by(batch_size) {
        let n = batch_size.min(data.len() - start);
        let px = data.pixels[start * data.image_len()..(start + n) * data.image_len()].to_vec();
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(px, [n, data.channels, data.height, data.width]),
            device,
        );
        let f = encode(x);
        dim = f.dims()[1];
        out.extend(
            f.into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .expect("float features"),
        );
    }
    Ok((out, dim))
}
