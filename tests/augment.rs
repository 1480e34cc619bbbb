//! Two-view augmentation: shapes, ranges, determinism, and each transform's effect on a
//! known image.

use std::sync::Arc;

use burn::tensor::backend::Backend;
use infonce::data::augment::{AugmentConfig, augment};
use infonce::data::{ImageDataset, TwoViewImages, synthetic_shapes};
use infonce::trainer::{BatchSource, StepContext};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::common::*;

/// A 3 × 8 × 8 image with distinct values everywhere.
fn test_image() -> Vec<f32> {
    (0..3 * 64)
        .map(|k| ((k * 37) % 101) as f32 / 100.0)
        .collect()
}

/// Everything off: crop of the whole image, no flip, no colour, no blur.
fn identity_config(size: usize) -> AugmentConfig {
    AugmentConfig {
        output_size: size,
        crop_scale: (1.0, 1.0),
        crop_ratio: (1.0, 1.0),
        flip_probability: 0.0,
        jitter_probability: 0.0,
        grayscale_probability: 0.0,
        blur_probability: 0.0,
        ..AugmentConfig::default()
    }
}

fn as_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[test]
fn shapes_ranges_and_determinism() {
    let img = test_image();
    let config = AugmentConfig {
        output_size: 6,
        blur_probability: 0.5,
        ..AugmentConfig::default()
    };
    let a = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(1));
    let b = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(1));
    let c = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(2));
    assert_eq!(a.len(), 3 * 36);
    assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(a, b, "same seed, same view");
    assert_ne!(a, c, "another seed, another view");
    let gray = augment(
        &img[..64],
        1,
        8,
        8,
        &config,
        &mut ChaCha8Rng::seed_from_u64(3),
    );
    assert_eq!(gray.len(), 36);
}

#[test]
fn a_crop_of_scale_one_keeps_the_image() {
    let img = test_image();
    let out = augment(
        &img,
        3,
        8,
        8,
        &identity_config(8),
        &mut ChaCha8Rng::seed_from_u64(4),
    );
    assert_close(&as_f64(&out), &as_f64(&img), 1e-5, 0.0, "identity crop");
}

#[test]
fn a_flip_mirrors() {
    let img = test_image();
    let config = AugmentConfig {
        flip_probability: 1.0,
        ..identity_config(8)
    };
    let out = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(5));
    let mirrored: Vec<f32> = (0..3 * 64).map(|k| img[k - k % 8 + (7 - k % 8)]).collect();
    assert_close(&as_f64(&out), &as_f64(&mirrored), 1e-5, 0.0, "flipped");
}

#[test]
fn grayscale_equalises_channels() {
    let img = test_image();
    let config = AugmentConfig {
        grayscale_probability: 1.0,
        ..identity_config(8)
    };
    let out = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(6));
    for i in 0..64 {
        let want = 0.299 * img[i] + 0.587 * img[64 + i] + 0.114 * img[128 + i];
        for c in 0..3 {
            assert!(
                (out[c * 64 + i] - want).abs() < 1e-5,
                "pixel {i} channel {c}"
            );
        }
    }
}

#[test]
fn zero_strength_jitter_changes_nothing_and_full_strength_does() {
    let img = test_image();
    let off = AugmentConfig {
        jitter_probability: 1.0,
        brightness: 0.0,
        contrast: 0.0,
        saturation: 0.0,
        hue: 0.0,
        ..identity_config(8)
    };
    let out = augment(&img, 3, 8, 8, &off, &mut ChaCha8Rng::seed_from_u64(7));
    assert_close(
        &as_f64(&out),
        &as_f64(&img),
        1e-5,
        0.0,
        "zero-strength jitter",
    );
    let on = AugmentConfig {
        brightness: 0.8,
        contrast: 0.8,
        saturation: 0.8,
        hue: 0.4,
        ..off
    };
    let out = augment(&img, 3, 8, 8, &on, &mut ChaCha8Rng::seed_from_u64(7));
    assert!(out.iter().zip(&img).any(|(a, b)| (a - b).abs() > 1e-3));
    assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn blur_smooths() {
    let img = test_image();
    let config = AugmentConfig {
        blur_probability: 1.0,
        blur_sigma: (1.5, 1.5),
        ..identity_config(8)
    };
    let out = augment(&img, 3, 8, 8, &config, &mut ChaCha8Rng::seed_from_u64(8));
    let variance = |v: &[f32]| {
        let m = v.iter().sum::<f32>() / v.len() as f32;
        v.iter().map(|x| (x - m).powi(2)).sum::<f32>() / v.len() as f32
    };
    assert!(
        variance(&out[..64]) < 0.5 * variance(&img[..64]),
        "blur should halve the variance at σ = 1.5"
    );
}

#[test]
fn invalid_configs_are_refused() {
    for bad in [
        AugmentConfig {
            crop_scale: (0.0, 1.0),
            ..AugmentConfig::default()
        },
        AugmentConfig {
            crop_scale: (0.5, 0.2),
            ..AugmentConfig::default()
        },
        AugmentConfig {
            flip_probability: 1.5,
            ..AugmentConfig::default()
        },
        AugmentConfig {
            hue: 0.7,
            ..AugmentConfig::default()
        },
        AugmentConfig {
            output_size: 0,
            ..AugmentConfig::default()
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(infonce::Error::InvalidConfig { .. })),
            "{bad:?}"
        );
    }
    let err = serde_json::from_str::<AugmentConfig>(r#"{"flip_prob": 0.5}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn two_view_batches_are_deterministic_and_prefetched() {
    type B = infonce::backend::PrebuiltNdArray;
    let device = Default::default();
    let data = Arc::new(synthetic_shapes(40, 10, 12, 3).unwrap().train);
    let source = TwoViewImages::new(
        Arc::clone(&data),
        AugmentConfig {
            output_size: 12,
            ..AugmentConfig::default()
        },
        8,
    )
    .unwrap();
    assert_eq!(BatchSource::<B>::steps_per_epoch(&source), 5);
    let ctx = |step: u64| StepContext {
        seed: 9,
        step,
        epoch: step / 5,
        index_in_epoch: step % 5,
    };
    let first = BatchSource::<B>::batch(&source, &ctx(0), &device).unwrap();
    let second = BatchSource::<B>::batch(&source, &ctx(1), &device).unwrap(); // prefetched
    let again = BatchSource::<B>::batch(&source, &ctx(0), &device).unwrap(); // recomputed
    assert_eq!(first.context.dims(), [8, 3, 12, 12]);
    assert_eq!(values(first.context.clone()), values(again.context));
    assert_eq!(values(first.positive.clone()), values(again.positive));
    assert_ne!(
        values(first.context.clone()),
        values(first.positive),
        "two different views"
    );
    assert_ne!(values(first.context), values(second.context));
    // A fresh source gives the prefetched step the same batch.
    let fresh = TwoViewImages::new(
        data,
        AugmentConfig {
            output_size: 12,
            ..AugmentConfig::default()
        },
        8,
    )
    .unwrap();
    let second_fresh = BatchSource::<B>::batch(&fresh, &ctx(1), &device).unwrap();
    assert_eq!(values(second.positive), values(second_fresh.positive));
    let _ = <B as Backend>::name(&device);
}

#[test]
fn two_view_source_refuses_tiny_datasets() {
    let data = Arc::new(ImageDataset::new(1, 4, 4, vec![0.0; 16 * 3], vec![0, 1, 0], 2).unwrap());
    assert!(matches!(
        TwoViewImages::new(Arc::clone(&data), AugmentConfig::default(), 4),
        Err(infonce::Error::InvalidConfig { name, .. }) if name == "batch_size"
    ));
    assert!(matches!(
        TwoViewImages::new(data, AugmentConfig::default(), 1),
        Err(infonce::Error::InvalidConfig { .. })
    ));
}
