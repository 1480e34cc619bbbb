//! Colour jitter and grayscale on channels-first RGB in `[0, 1]`, following torchvision's
//! `adjust_brightness`, `adjust_contrast`, `adjust_saturation` and `adjust_hue`.

/// ITU-R 601 luma weights, as torchvision's `rgb_to_grayscale`.
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

fn gray_at(px: &[f32], plane: usize, i: usize) -> f32 {
    LUMA[0] * px[i] + LUMA[1] * px[plane + i] + LUMA[2] * px[2 * plane + i]
}

/// Multiplies every value by `factor`.
pub(crate) fn brightness(px: &mut [f32], factor: f32) {
    px.iter_mut()
        .for_each(|v| *v = (*v * factor).clamp(0.0, 1.0));
}

/// Blends with the mean gray level: `(x − m)·factor + m`.
pub(crate) fn contrast(px: &mut [f32], plane: usize, factor: f32) {
    let mean = if px.len() == 3 * plane {
        (0..plane).map(|i| gray_at(px, plane, i)).sum::<f32>() / plane as f32
    } else {
        px.iter().sum::<f32>() / px.len() as f32
    };
    px.iter_mut()
        .for_each(|v| *v = ((*v - mean) * factor + mean).clamp(0.0, 1.0));
}

/// Blends each pixel with its own gray level: `(x − g)·factor + g` (RGB only).
pub(crate) fn saturation(px: &mut [f32], plane: usize, factor: f32) {
    if px.len() != 3 * plane {
        return;
    }
    for i in 0..plane {
        let g = gray_at(px, plane, i);
        for c in 0..3 {
            let v = &mut px[c * plane + i];
            *v = ((*v - g) * factor + g).clamp(0.0, 1.0);
        }
    }
}

/// Rotates the hue by `shift` of a full turn through HSV (RGB only).
pub(crate) fn hue(px: &mut [f32], plane: usize, shift: f32) {
    if px.len() != 3 * plane {
        return;
    }
    for i in 0..plane {
        let (r, g, b) = (px[i], px[plane + i], px[2 * plane + i]);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let delta = max - min;
        let mut h = if delta <= 0.0 {
            0.0
        } else if max == r {
            ((g - b) / delta).rem_euclid(6.0)
        } else if max == g {
            (b - r) / delta + 2.0
        } else {
            (r - g) / delta + 4.0
        } / 6.0;
        let s = if max <= 0.0 { 0.0 } else { delta / max };
        h = (h + shift).rem_euclid(1.0);
        let (r, g, b) = hsv_to_rgb(h, s, max);
        px[i] = r;
        px[plane + i] = g;
        px[2 * plane + i] = b;
    }
}

fn hsv_to_rgb(h: f32, s: f32, v: f32) -> (f32, f32, f32) {
    let h6 = h * 6.0;
    let sector = h6.floor() as i32 % 6;
    let f = h6 - h6.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match sector {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    }
}

/// Replaces every channel by the luma (RGB only).
pub(crate) fn grayscale(px: &mut [f32], plane: usize) {
    if px.len() != 3 * plane {
        return;
    }
    for i in 0..plane {
        let g = gray_at(px, plane, i);
        px[i] = g;
        px[plane + i] = g;
        px[2 * plane + i] = g;
    }
}
