//! One augmented view of one image.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Pixel, Rgb};
use rand::RngExt;

use super::AugmentConfig;
use super::color;
use super::crop::crop_window;

/// An augmented image: channels-first, `channels × size × size`, values in `[0, 1]`.
pub type Augmented = Vec<f32>;

/// Applies the pipeline (crop → resize → flip → colour jitter → grayscale → blur) to one
/// channels-first image with `channels` of `h × w`, drawing every choice from `rng`.
pub fn augment(
    image: &[f32],
    channels: usize,
    h: usize,
    w: usize,
    config: &AugmentConfig,
    rng: &mut impl rand::Rng,
) -> Augmented {
    let size = config.output_size;
    let (top, left, ch, cw) = crop_window(rng, h, w, config.crop_scale, config.crop_ratio);
    let flip = rng.random::<f32>() < config.flip_probability;
    let window = (left as u32, top as u32, cw as u32, ch as u32);
    let mut out = match channels {
        1 => {
            let img: ImageBuffer<Luma<f32>, Vec<f32>> =
                ImageBuffer::from_raw(w as u32, h as u32, image.to_vec()).expect("sized buffer");
            crop_resize_flip(&img, window, size as u32, flip)
        }
        _ => {
            let plane = h * w;
            let hwc: Vec<f32> = (0..plane)
                .flat_map(|i| [image[i], image[plane + i], image[2 * plane + i]])
                .collect();
            let img: ImageBuffer<Rgb<f32>, Vec<f32>> =
                ImageBuffer::from_raw(w as u32, h as u32, hwc).expect("sized buffer");
            let raw = crop_resize_flip(&img, window, size as u32, flip);
            (0..3)
                .flat_map(|c| raw.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
                .collect()
        }
    };
    let plane = size * size;
    if rng.random::<f32>() < config.jitter_probability {
        let factor = |rng: &mut dyn FnMut() -> f32, s: f32| 1.0 + s * (2.0 * rng() - 1.0);
        let mut draw = || rng.random::<f32>();
        let b = factor(&mut draw, config.brightness);
        let c = factor(&mut draw, config.contrast);
        let s = factor(&mut draw, config.saturation);
        let hshift = config.hue * (2.0 * draw() - 1.0);
        color::brightness(&mut out, b);
        color::contrast(&mut out, plane, c);
        color::saturation(&mut out, plane, s);
        if hshift != 0.0 {
            color::hue(&mut out, plane, hshift);
        }
    }
    if rng.random::<f32>() < config.grayscale_probability {
        color::grayscale(&mut out, plane);
    }
    if rng.random::<f32>() < config.blur_probability {
        let sigma = rng.random_range(config.blur_sigma.0..=config.blur_sigma.1);
        out = blur_planes(&out, channels, size, sigma);
    }
    out
}

/// Crops `window = (left, top, width, height)`, resizes to `size × size` (bilinear) and
/// optionally mirrors; returns the interleaved samples.
fn crop_resize_flip<P: Pixel<Subpixel = f32> + 'static>(
    img: &ImageBuffer<P, Vec<f32>>,
    window: (u32, u32, u32, u32),
    size: u32,
    flip: bool,
) -> Vec<f32> {
    let (left, top, cw, ch) = window;
    let crop = imageops::crop_imm(img, left, top, cw, ch).to_image();
    let mut resized = imageops::resize(&crop, size, size, FilterType::Triangle);
    if flip {
        imageops::flip_horizontal_in_place(&mut resized);
    }
    resized.into_raw()
}

/// Gaussian blur of each channel plane (image's `blur`).
fn blur_planes(px: &[f32], channels: usize, size: usize, sigma: f32) -> Vec<f32> {
    let plane = size * size;
    (0..channels)
        .flat_map(|c| {
            let img: ImageBuffer<Luma<f32>, Vec<f32>> = ImageBuffer::from_raw(
                size as u32,
                size as u32,
                px[c * plane..(c + 1) * plane].to_vec(),
            )
            .expect("sized");
            imageops::blur(&img, sigma).into_raw()
        })
        .collect()
}
