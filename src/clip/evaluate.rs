//! What a CLIP-style model is judged by: zero-shot classification from one prompt per
//! class, and retrieval recall in both directions.

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};

use super::ClipModel;
use crate::data::{CAPTION_SLOTS, Caption, CaptionedImages, class_prompt};
use crate::eval::{image_features, normalize_rows};
use crate::readback::read_back;
use crate::{Encoder, Result};

/// Image and caption embeddings of a split (L2-normalised rows), and their width.
pub(super) struct Embedded {
    pub images: Vec<f32>,
    pub captions: Vec<f32>,
    pub prompts: Vec<f32>,
    pub dim: usize,
}

fn caption_tensor<B: Backend>(captions: &[Caption], device: &B::Device) -> Tensor<B, 2, Int> {
    let tokens: Vec<i64> = captions.iter().flatten().map(|&t| t as i64).collect();
    Tensor::from_data(
        TensorData::new(tokens, [captions.len(), CAPTION_SLOTS]),
        device,
    )
}

fn host<B: Backend>(t: Tensor<B, 2>) -> Vec<f32> {
    read_back(t).into_iter().map(|v| v as f32).collect()
}

/// Embeds `data`'s images and captions and the class prompts, in evaluation mode, in
/// chunks of 256.
pub(super) fn embed_split<B: AutodiffBackend>(
    model: &ClipModel<B>,
    data: &CaptionedImages,
    num_classes: usize,
    device: &B::Device,
) -> Result<Embedded> {
    let model = model.valid();
    let (img, dim) = image_features::<B::InnerBackend>(&data.images, 256, device, |x| {
        model.context_encoder.encode(x)
    })?;
    let text = |captions: &[Caption]| {
        let t = caption_tensor::<B::InnerBackend>(captions, device);
        host(model.sample_encoder.encode(t))
    };
    let cap: Vec<f32> = data.captions.chunks(256).flat_map(text).collect();
    let prompts: Vec<Caption> = (0..num_classes).map(class_prompt).collect();
    let p = text(&prompts);
    Ok(Embedded {
        images: normalize_rows(&img, dim),
        captions: normalize_rows(&cap, dim),
        prompts: normalize_rows(&p, dim),
        dim,
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Index of the largest score (the first on ties).
fn argmax(scores: impl Iterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, s) in scores.enumerate() {
        if s > best.1 {
            best = (i, s);
        }
    }
    best.0
}

/// Top-1 of classifying each image as the class whose prompt it scores highest (CLIP's
/// zero-shot transfer, Radford et al. 2021, §3.1.2).
pub(super) fn zero_shot_top1(e: &Embedded, labels: &[usize]) -> f64 {
    let d = e.dim;
    let classes = e.prompts.len() / d;
    let correct = labels
        .iter()
        .enumerate()
        .filter(|&(i, &label)| {
            let image = &e.images[i * d..(i + 1) * d];
            argmax((0..classes).map(|c| dot(image, &e.prompts[c * d..(c + 1) * d]))) == label
        })
        .count();
    correct as f64 / labels.len().max(1) as f64
}

/// Recall@k of retrieving row i's partner among all of `keys` from `queries`: the share of
/// queries whose partner is among the k highest scores (strictly higher scores count
/// against it; ties are broken in the partner's favour).
pub(super) fn recall_at(queries: &[f32], keys: &[f32], dim: usize, k: usize) -> f64 {
    let n = queries.len() / dim;
    let hits = (0..n)
        .filter(|&i| {
            let q = &queries[i * dim..(i + 1) * dim];
            let own = dot(q, &keys[i * dim..(i + 1) * dim]);
            let above = (0..n)
                .filter(|&j| j != i && dot(q, &keys[j * dim..(j + 1) * dim]) > own)
                .count();
            above < k
        })
        .count();
    hits as f64 / n.max(1) as f64
}
