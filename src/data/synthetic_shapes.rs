//! A procedurally generated labelled image dataset, so every example runs with no download.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{ImageDataset, TrainTest};
use crate::Result;

/// The ten classes of [`synthetic_shapes`].
pub const SHAPE_CLASSES: [&str; 10] = [
    "disk", "ring", "square", "frame", "triangle", "plus", "cross", "h-bars", "v-bars", "diamond",
];

/// Whether shape-local point `(u, v)` (y pointing down, unit scale) is inside shape `class`.
fn inside(class: usize, u: f32, v: f32) -> bool {
    let r2 = u * u + v * v;
    let box_ = u.abs().max(v.abs());
    match class {
        0 => r2 < 1.0,
        1 => (0.36..1.0).contains(&r2),
        2 => box_ < 0.8,
        3 => (0.55..0.9).contains(&box_),
        4 => (-0.9..0.8).contains(&v) && u.abs() < (v + 0.9) * 0.55,
        5 => (u.abs() < 0.28 && v.abs() < 0.95) || (v.abs() < 0.28 && u.abs() < 0.95),
        6 => r2 < 1.1 && ((u - v).abs() < 0.35 || (u + v).abs() < 0.35),
        7 => box_ < 0.9 && (((v + 0.9) * 2.8) as i32) % 2 == 0,
        8 => box_ < 0.9 && (((u + 0.9) * 2.8) as i32) % 2 == 0,
        _ => u.abs() + v.abs() < 1.0,
    }
}

/// Colours are drawn from a small palette, so colour says little about which image a view
/// came from and the contrastive task has to use shape.
const PALETTE: [[f32; 3]; 8] = [
    [0.9, 0.1, 0.1],
    [0.1, 0.7, 0.2],
    [0.15, 0.3, 0.9],
    [0.95, 0.85, 0.1],
    [0.8, 0.2, 0.8],
    [0.1, 0.8, 0.85],
    [0.95, 0.95, 0.95],
    [0.08, 0.08, 0.08],
];

/// Names of the palette's colours, in [`PALETTE`]'s order (for captions).
pub(crate) const COLOUR_NAMES: [&str; 8] = [
    "red", "green", "blue", "yellow", "magenta", "cyan", "white", "black",
];

/// What was drawn for one image: the shape's class, scale and centre (pixels), rotation,
/// and the palette indices of foreground and background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Drawn {
    pub class: usize,
    pub scale: f32,
    pub centre: (f32, f32),
    pub angle: f32,
    pub foreground: usize,
    pub background: usize,
}

/// Draws an image's attributes (the draws come first in `rng`, then the pixel noise).
pub(crate) fn draw(class: usize, size: usize, rng: &mut ChaCha8Rng) -> Drawn {
    let s = size as f32;
    let scale = rng.random_range(0.22..0.42) * s;
    let cx = rng.random_range(scale * 0.7..s - scale * 0.7);
    let cy = rng.random_range(scale * 0.7..s - scale * 0.7);
    let angle: f32 = rng.random_range(-0.3..0.3);
    let foreground = rng.random_range(0..PALETTE.len());
    let mut background = rng.random_range(0..PALETTE.len());
    while background == foreground {
        background = rng.random_range(0..PALETTE.len());
    }
    Drawn {
        class,
        scale,
        centre: (cx, cy),
        angle,
        foreground,
        background,
    }
}

/// The pixels (`3 × size × size`) of `drawn`, with noise from `rng`.
pub(crate) fn render(drawn: &Drawn, size: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let (sin, cos) = drawn.angle.sin_cos();
    let (fg, bg) = (PALETTE[drawn.foreground], PALETTE[drawn.background]);
    let (cx, cy) = drawn.centre;
    let mut out = vec![0.0; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let dx = (x as f32 + 0.5 - cx) / drawn.scale;
            let dy = (y as f32 + 0.5 - cy) / drawn.scale;
            let (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
            let colour = if inside(drawn.class, u, v) { fg } else { bg };
            for c in 0..3 {
                let noise: f32 = rng.random_range(-0.08..0.08);
                out[(c * size + y) * size + x] = (colour[c] + noise).clamp(0.0, 1.0);
            }
        }
    }
    out
}

/// The rng of image `i` of a split (`offset` tells splits apart).
pub(crate) fn image_rng(seed: u64, offset: u64, i: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (offset + i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn generate(n: usize, size: usize, seed: u64, offset: u64) -> Result<ImageDataset> {
    let images: Vec<(usize, Vec<f32>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = image_rng(seed, offset, i);
            let class = i % SHAPE_CLASSES.len();
            let drawn = draw(class, size, &mut rng);
            (class, render(&drawn, size, &mut rng))
        })
        .collect();
    let labels = images.iter().map(|(c, _)| *c).collect();
    let pixels = images.into_iter().flat_map(|(_, p)| p).collect();
    let mut data = ImageDataset::new(3, size, size, pixels, labels, SHAPE_CLASSES.len())?;
    data.class_names = SHAPE_CLASSES.iter().map(|s| s.to_string()).collect();
    Ok(data)
}

/// Ten classes of shapes (disk, ring, square, frame, triangle, plus, cross, horizontal
/// bars, vertical bars, diamond), each drawn at a random position, scale and small rotation
/// in one palette colour on another, with pixel noise.
///
/// Position and colour vary far more than shape, so nearest neighbours in raw pixel space
/// are a poor classifier, while an encoder trained to be invariant to crops and colour
/// jitter recognises the shape. Deterministic in `seed`; images are `3 × size × size`.
///
/// ```
/// let data = infonce::data::synthetic_shapes(100, 20, 16, 7).unwrap();
/// assert_eq!((data.train.len(), data.test.len(), data.train.num_classes), (100, 20, 10));
/// ```
///
/// # Errors
/// [`crate::Error::InvalidConfig`] for `size < 8` or `train == 0`.
pub fn synthetic_shapes(train: usize, test: usize, size: usize, seed: u64) -> Result<TrainTest> {
    if size < 8 || train == 0 {
        return Err(crate::Error::config(
            "synthetic_shapes",
            format!("size must be ≥ 8 and train ≥ 1 (got {size}, {train})"),
        ));
    }
    Ok(TrainTest {
        train: generate(train, size, seed, 0)?,
        test: generate(test, size, seed, 1 << 40)?,
    })
}
