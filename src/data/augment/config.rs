//! The augmentation settings.

use crate::{Error, Result};

/// Every parameter of the two-view pipeline. The defaults are SimCLR's CIFAR-10 recipe
/// (Chen et al. 2020, Appendix B.9): random resized crop of scale 0.08–1, horizontal flip,
/// colour jitter of strength 0.5 with probability 0.8, grayscale with probability 0.2, and no
/// blur (the paper drops it for 32-pixel images; set `blur_probability` for larger ones).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Output side length in pixels.
    pub output_size: usize,
    /// Range of the crop's area as a fraction of the image.
    pub crop_scale: (f32, f32),
    /// Range of the crop's aspect ratio (width / height).
    pub crop_ratio: (f32, f32),
    /// Probability of a horizontal flip.
    pub flip_probability: f32,
    /// Probability of applying colour jitter.
    pub jitter_probability: f32,
    /// Brightness factor range `[1 − b, 1 + b]`.
    pub brightness: f32,
    /// Contrast factor range `[1 − c, 1 + c]`.
    pub contrast: f32,
    /// Saturation factor range `[1 − s, 1 + s]`.
    pub saturation: f32,
    /// Hue shift range `[−h, h]` of a full turn.
    pub hue: f32,
    /// Probability of converting to grayscale.
    pub grayscale_probability: f32,
    /// Probability of a Gaussian blur.
    pub blur_probability: f32,
    /// Range of the blur's standard deviation in pixels.
    pub blur_sigma: (f32, f32),
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            output_size: 32,
            crop_scale: (0.08, 1.0),
            crop_ratio: (3.0 / 4.0, 4.0 / 3.0),
            flip_probability: 0.5,
            jitter_probability: 0.8,
            brightness: 0.4,
            contrast: 0.4,
            saturation: 0.4,
            hue: 0.1,
            grayscale_probability: 0.2,
            blur_probability: 0.0,
            blur_sigma: (0.1, 2.0),
        }
    }
}

impl AugmentConfig {
    /// Checks every range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let prob = |name: &str, p: f32| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::config(
                    name,
                    format!("a probability must be in [0, 1], got {p}"),
                ))
            }
        };
        if self.output_size == 0 {
            return Err(Error::config("output_size", "must be ≥ 1"));
        }
        let (lo, hi) = self.crop_scale;
        if !(lo > 0.0 && lo <= hi && hi <= 1.0) {
            return Err(Error::config(
                "crop_scale",
                format!("need 0 < min ≤ max ≤ 1, got ({lo}, {hi})"),
            ));
        }
        let (lo, hi) = self.crop_ratio;
        if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
            return Err(Error::config(
                "crop_ratio",
                format!("need 0 < min ≤ max, got ({lo}, {hi})"),
            ));
        }
        prob("flip_probability", self.flip_probability)?;
        prob("jitter_probability", self.jitter_probability)?;
        prob("grayscale_probability", self.grayscale_probability)?;
        prob("blur_probability", self.blur_probability)?;
        for (name, v, max) in [
            ("brightness", self.brightness, 1.0),
            ("contrast", self.contrast, 1.0),
            ("saturation", self.saturation, 1.0),
            ("hue", self.hue, 0.5),
        ] {
            if !(0.0..=max).contains(&v) {
                return Err(Error::config(
                    name,
                    format!("must be in [0, {max}], got {v}"),
                ));
            }
        }
        let (lo, hi) = self.blur_sigma;
        if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
            return Err(Error::config(
                "blur_sigma",
                format!("need 0 < min ≤ max, got ({lo}, {hi})"),
            ));
        }
        Ok(())
    }
}
