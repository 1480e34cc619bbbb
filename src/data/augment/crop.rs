//! Random resized crop (Szegedy et al. 2015, "Inception"; torchvision's `RandomResizedCrop`).

use rand::RngExt;

/// A crop window `(top, left, height, width)` of an `h × w` image with an area fraction
/// drawn from `scale` and a log-uniform aspect ratio from `ratio`; ten tries, then the
/// largest centred crop of a clamped ratio (torchvision's fallback).
pub(crate) fn crop_window(
    rng: &mut impl rand::Rng,
    h: usize,
    w: usize,
    scale: (f32, f32),
    ratio: (f32, f32),
) -> (usize, usize, usize, usize) {
    let area = (h * w) as f32;
    let (log_lo, log_hi) = (ratio.0.ln(), ratio.1.ln());
    for _ in 0..10 {
        let target = area * rng.random_range(scale.0..=scale.1);
        let aspect = if log_hi > log_lo {
            rng.random_range(log_lo..log_hi).exp()
        } else {
            ratio.0
        };
        let cw = (target * aspect).sqrt().round() as usize;
        let ch = (target / aspect).sqrt().round() as usize;
        if cw >= 1 && ch >= 1 && cw <= w && ch <= h {
            let top = rng.random_range(0..=h - ch);
            let left = rng.random_range(0..=w - cw);
            return (top, left, ch, cw);
        }
    }
    let in_ratio = w as f32 / h as f32;
    let (ch, cw) = if in_ratio < ratio.0 {
        (((w as f32 / ratio.0).round() as usize).clamp(1, h), w)
    } else if in_ratio > ratio.1 {
        (h, ((h as f32 * ratio.1).round() as usize).clamp(1, w))
    } else {
        (h, w)
    };
    ((h - ch) / 2, (w - cw) / 2, ch, cw)
}
