//! The synthetic shapes with generated captions: image–text pairs for CLIP-style training.

use rayon::prelude::*;

use super::synthetic_shapes::{COLOUR_NAMES, Drawn, draw, image_rng, render};
use super::{ImageDataset, SHAPE_CLASSES};
use crate::{Error, Result};

/// Slots of a caption, in order: size, colour, shape, background, vertical and horizontal
/// position ("a small red disk on blue, top left").
pub const CAPTION_SLOTS: usize = 6;

/// The slot of the shape's name (the one slot a prompt fills).
pub const SHAPE_SLOT: usize = 2;

/// Token 0: an empty slot.
pub const PAD: u32 = 0;

/// A caption: one token per slot ([`PAD`] where the caption says nothing).
pub type Caption = [u32; CAPTION_SLOTS];

/// The caption vocabulary: `<pad>`, sizes, colours, shapes, positions.
pub fn caption_vocabulary() -> Vec<&'static str> {
    let mut words = vec!["<pad>", "small", "large"];
    words.extend(COLOUR_NAMES);
    words.extend(SHAPE_CLASSES);
    words.extend(["top", "bottom", "left", "right"]);
    words
}

/// Token of a word of [`caption_vocabulary`].
fn token(word: &str) -> u32 {
    caption_vocabulary()
        .iter()
        .position(|w| *w == word)
        .unwrap_or(0) as u32
}

/// The full caption of a drawn image.
fn describe(drawn: &Drawn, size: usize) -> Caption {
    let half = size as f32 / 2.0;
    let big = drawn.scale / size as f32 >= 0.32;
    let (cx, cy) = drawn.centre;
    [
        token(if big { "large" } else { "small" }),
        token(COLOUR_NAMES[drawn.foreground]),
        token(SHAPE_CLASSES[drawn.class]),
        token(COLOUR_NAMES[drawn.background]),
        token(if cy < half { "top" } else { "bottom" }),
        token(if cx < half { "left" } else { "right" }),
    ]
}

/// The zero-shot prompt of a class: its shape's name and nothing else.
pub fn class_prompt(class: usize) -> Caption {
    let mut prompt = [PAD; CAPTION_SLOTS];
    prompt[SHAPE_SLOT] = token(SHAPE_CLASSES[class % SHAPE_CLASSES.len()]);
    prompt
}

/// The words of a caption, empty slots left out.
pub fn caption_text(caption: &Caption) -> String {
    let words = caption_vocabulary();
    caption
        .iter()
        .filter(|&&t| t != PAD)
        .map(|&t| words.get(t as usize).copied().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Images and their captions, index by index.
#[derive(Debug, Clone)]
pub struct CaptionedImages {
    /// The images (labels: the shape's class).
    pub images: ImageDataset,
    /// The full caption of each image.
    pub captions: Vec<Caption>,
}

/// Train and test splits of captioned shapes.
#[derive(Debug, Clone)]
pub struct CaptionedSplits {
    /// Training pairs.
    pub train: CaptionedImages,
    /// Test pairs.
    pub test: CaptionedImages,
}

/// The images of [`super::synthetic_shapes`] (the same pixels for the same arguments),
/// each with the caption of what was drawn: size, colour, shape, background colour and
/// position, e.g. "large cyan ring black bottom left".
///
/// ```
/// use infonce::data::{caption_text, captioned_shapes};
///
/// let data = captioned_shapes(20, 10, 16, 7).unwrap();
/// assert_eq!(data.train.captions.len(), 20);
/// let text = caption_text(&data.train.captions[0]);
/// assert!(text.contains("disk"), "{text}"); // image 0 is of class 0, a disk
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `size < 8` or `train == 0`.
pub fn captioned_shapes(
    train: usize,
    test: usize,
    size: usize,
    seed: u64,
) -> Result<CaptionedSplits> {
    if size < 8 || train == 0 {
        return Err(Error::config(
            "captioned_shapes",
            format!("size must be ≥ 8 and train ≥ 1 (got {size}, {train})"),
        ));
    }
    Ok(CaptionedSplits {
        train: generate(train, size, seed, 0)?,
        test: generate(test, size, seed, 1 << 40)?,
    })
}

fn generate(n: usize, size: usize, seed: u64, offset: u64) -> Result<CaptionedImages> {
    let drawn: Vec<(Caption, Vec<f32>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = image_rng(seed, offset, i);
            let d = draw(i % SHAPE_CLASSES.len(), size, &mut rng);
            (describe(&d, size), render(&d, size, &mut rng))
        })
        .collect();
    let labels = (0..n).map(|i| i % SHAPE_CLASSES.len()).collect();
    let captions = drawn.iter().map(|(c, _)| *c).collect();
    let pixels = drawn.into_iter().flat_map(|(_, p)| p).collect();
    let mut images = ImageDataset::new(3, size, size, pixels, labels, SHAPE_CLASSES.len())?;
    images.class_names = SHAPE_CLASSES.iter().map(|s| s.to_string()).collect();
    Ok(CaptionedImages { images, captions })
}
