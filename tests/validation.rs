//! Input validation at the public entry points the other modules do not already cover:
//! empty datasets, labels out of range, an image smaller than the crop, SimCLR settings and
//! config text. Each case must come back as a typed error, not a panic.

use std::path::Path;
use std::sync::Arc;

use infonce::Error;
use infonce::data::augment::AugmentConfig;
use infonce::data::readers::{idx_dataset, parse_cifar10_batch};
use infonce::data::{ImageDataset, TwoViewImages, synthetic_shapes};
use infonce::eval::{LinearProbeConfig, knn_accuracy, linear_probe};
use infonce::recipes::SimclrConfig;
use infonce::trainer::TrainerConfig;

type B = infonce::backend::NdArrayAutodiff;

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = [0x0803u32, n, rows, cols]
        .iter()
        .flat_map(|x| x.to_be_bytes())
        .collect::<Vec<u8>>();
    v.resize(16 + (n * rows * cols) as usize, 7);
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = [0x0801u32, labels.len() as u32]
        .iter()
        .flat_map(|x| x.to_be_bytes())
        .collect();
    v.extend_from_slice(labels);
    v
}

#[test]
fn empty_datasets_are_refused() {
    let empty = ImageDataset::new(1, 8, 8, vec![], vec![], 10).unwrap();
    assert!(matches!(
        empty.require_non_empty("training set"),
        Err(Error::EmptyBatch { .. })
    ));
    match TwoViewImages::new(Arc::new(empty), AugmentConfig::default(), 4) {
        Err(Error::EmptyBatch { what }) => assert!(what.contains("0 images"), "{what}"),
        other => panic!("expected EmptyBatch, got {other:?}"),
    }
    match idx_dataset(
        &idx_images(0, 28, 28),
        Path::new("imgs"),
        &idx_labels(&[]),
        Path::new("lbls"),
    ) {
        Err(Error::EmptyBatch { what }) => assert!(what.contains("imgs"), "{what}"),
        other => panic!("expected EmptyBatch, got {other:?}"),
    }
    assert!(matches!(
        parse_cifar10_batch(&[], Path::new("b.bin")),
        Err(Error::CorruptFile { .. })
    ));
    assert!(matches!(
        synthetic_shapes(0, 10, 16, 0),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn labels_out_of_range_are_refused() {
    match ImageDataset::new(1, 2, 2, vec![0.0; 8], vec![1, 10], 10) {
        Err(Error::InvalidConfig { name, reason }) => {
            assert_eq!(name, "labels");
            assert!(reason.contains("label 10 of image 1"), "{reason}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let features = [1.0f32, 0.0, 0.0, 1.0];
    assert!(matches!(
        knn_accuracy(&features, &[0, 5], &features, &[0, 1], 2, 2, 1, 0.07),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(
        linear_probe::<B>(
            &features,
            &[0, 1],
            &features,
            &[0, 7],
            2,
            2,
            LinearProbeConfig::default(),
            &Default::default(),
        )
        .is_err()
    );
}

#[test]
fn an_image_smaller_than_the_crop_is_refused() {
    let data = synthetic_shapes(16, 4, 12, 0).unwrap();
    let config = AugmentConfig {
        output_size: 16,
        ..AugmentConfig::default()
    };
    match TwoViewImages::new(Arc::new(data.train), config, 4) {
        Err(Error::InvalidConfig { name, reason }) => {
            assert_eq!(name, "output_size");
            assert!(reason.contains("12×12"), "{reason}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn simclr_settings_are_validated() {
    let bad = [
        SimclrConfig {
            temperature: 0.0,
            ..SimclrConfig::default()
        },
        SimclrConfig {
            temperature: f64::NAN,
            ..SimclrConfig::default()
        },
        SimclrConfig {
            batch_size: 1,
            ..SimclrConfig::default()
        },
        SimclrConfig {
            learning_rate: -1.0,
            ..SimclrConfig::default()
        },
        SimclrConfig {
            knn_k: 0,
            ..SimclrConfig::default()
        },
    ];
    for config in bad {
        let err = config.validate().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidTemperature(_) | Error::InvalidConfig { .. }
            ),
            "{err:?}"
        );
        // The recipe refuses before doing any work.
        let data = synthetic_shapes(32, 8, 16, 0).unwrap();
        assert!(
            infonce::launch::simclr(infonce::backend::BackendKind::NdArray, &config, data).is_err()
        );
    }
    SimclrConfig::default().validate().unwrap();
}

#[test]
fn config_text_errors_are_typed_and_name_the_source() {
    for (text, needle) in [
        (
            r#"{"epochs": 3, "learning_rat": 0.1}"#,
            "unknown field `learning_rat`",
        ),
        (r#"{"epochs": "three"}"#, "invalid type"),
        (r#"{"epochs": 3"#, "EOF"),
    ] {
        match TrainerConfig::from_json(text, "run.json") {
            Err(e @ Error::Json { .. }) => {
                let msg = e.to_string();
                assert!(msg.starts_with("run.json") && msg.contains(needle), "{msg}");
            }
            other => panic!("{text}: expected Json error, got {other:?}"),
        }
        assert!(matches!(
            SimclrConfig::from_json(text, "simclr.json"),
            Err(Error::Json { .. })
        ));
    }
    assert!(matches!(
        TrainerConfig::from_json(r#"{"keep_checkpoints": 0}"#, "run.json"),
        Err(Error::InvalidConfig { .. })
    ));
    match SimclrConfig::from_json(r#"{"temperature": -0.5}"#, "simclr.json") {
        Err(Error::InvalidTemperature(t)) => assert_eq!(t, -0.5),
        other => panic!("expected InvalidTemperature, got {other:?}"),
    }
    let ok = SimclrConfig::from_json(r#"{"epochs": 2, "batch_size": 32}"#, "simclr.json").unwrap();
    assert_eq!((ok.epochs, ok.batch_size, ok.width), (2, 32, 16));
}
