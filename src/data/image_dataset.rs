//! A labelled set of same-sized images held in memory.

use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::{Error, Result};

/// Images of one size, channels-first, values in `[0, 1]`, with class labels.
///
/// Pixel `(c, y, x)` of image `i` is `pixels[((i·C + c)·H + y)·W + x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    /// Channels: 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// All pixels, image after image.
    pub pixels: Vec<f32>,
    /// One label per image, `< num_classes`.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub num_classes: usize,
    /// Class names, when known (image folders).
    pub class_names: Vec<String>,
}

impl ImageDataset {
    /// Checks and assembles a dataset.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero sizes, an unsupported channel count, a pixel count
    /// that does not match, a label count that does not match, or a label out of range.
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        pixels: Vec<f32>,
        labels: Vec<usize>,
        num_classes: usize,
    ) -> Result<Self> {
        if !(channels == 1 || channels == 3) {
            return Err(Error::config(
                "channels",
                format!("must be 1 or 3, got {channels}"),
            ));
        }
        if height == 0 || width == 0 {
            return Err(Error::config(
                "image size",
                format!("{height}×{width} is empty"),
            ));
        }
        let per = channels * height * width;
        if pixels.len() != labels.len() * per {
            return Err(Error::config(
                "labels",
                format!(
                    "{} labels but {} images of {channels}×{height}×{width}",
                    labels.len(),
                    pixels.len() as f64 / per as f64
                ),
            ));
        }
        if let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l >= num_classes) {
            return Err(Error::config(
                "labels",
                format!("label {l} of image {i} is out of range for {num_classes} classes"),
            ));
        }
        Ok(Self {
            channels,
            height,
            width,
            pixels,
            labels,
            num_classes,
            class_names: Vec::new(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image, `C·H·W`.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Image `i`, channels-first.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The first `n` images (or all of them).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            pixels: self.pixels[..n * self.image_len()].to_vec(),
            labels: self.labels[..n].to_vec(),
            ..self.clone_empty()
        }
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Self {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..self.clone_empty()
        }
    }

    /// Carves a validation split out of this set: `round(fraction · len)` images (at least
    /// one when `fraction > 0`) drawn at random with `seed`, returned as `(rest, validation)`,
    /// each in the original order. Model and epoch choices are made on the validation
    /// split, never on a test split.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (`validation_fraction`) for a fraction outside `[0, 1)` or
    /// one that would leave no image on either side.
    ///
    /// # Example
    /// ```
    /// use infonce::data::ImageDataset;
    ///
    /// let data = ImageDataset::new(1, 1, 1, vec![0.0; 10], vec![0; 10], 1).unwrap();
    /// let (rest, validation) = data.split_validation(0.2, 7).unwrap();
    /// assert_eq!((rest.len(), validation.len()), (8, 2));
    /// assert!(data.split_validation(1.0, 7).is_err());
    /// ```
    pub fn split_validation(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let n = self.len();
        let wanted = (fraction * n as f64).round() as usize;
        let count = if fraction > 0.0 { wanted.max(1) } else { 0 };
        if !(0.0..1.0).contains(&fraction) || (count > 0 && count >= n) {
            return Err(Error::config(
                "validation_fraction",
                format!(
                    "must lie in [0, 1) and leave images on both sides; {fraction} of {n} images \
                     does not"
                ),
            ));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let (mut validation, mut rest) = (order[..count].to_vec(), order[count..].to_vec());
        validation.sort_unstable();
        rest.sort_unstable();
        Ok((self.select(&rest), self.select(&validation)))
    }

    fn clone_empty(&self) -> Self {
        Self {
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels: Vec::new(),
            labels: Vec::new(),
            num_classes: self.num_classes,
            class_names: self.class_names.clone(),
        }
    }

    /// Refuses an empty dataset.
    pub fn require_non_empty(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            Err(Error::EmptyBatch {
                what: format!("{what} (the dataset has no images)"),
            })
        } else {
            Ok(())
        }
    }
}

/// A train split and a test split.
#[derive(Debug, Clone)]
pub struct TrainTest {
    /// Training images.
    pub train: ImageDataset,
    /// Held-out images for evaluation.
    pub test: ImageDataset,
}
