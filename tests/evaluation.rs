//! kNN, linear probe, alignment and uniformity on hand-built features, and a SimCLR run end
//! to end.

use infonce::Error;
use infonce::eval::{LinearProbeConfig, alignment, knn_accuracy, linear_probe, uniformity};

use crate::common::*;

#[test]
fn knn_on_hand_built_features() {
    // Class 0 around (1, 0), class 1 around (0, 1); test point (0.6, 0.4) is class 0.
    let train = [1.0, 0.0, 0.9, 0.2, 0.0, 1.0, 0.2, 0.9, 0.1, 1.0];
    let labels = [0, 0, 1, 1, 1];
    assert_eq!(
        knn_accuracy(&train, &labels, &[0.6, 0.4], &[0], 2, 2, 2, 0.07).unwrap(),
        1.0
    );
    // With k = 5 the three class-1 points outvote the two class-0 ones at a high temperature…
    assert_eq!(
        knn_accuracy(&train, &labels, &[0.6, 0.4], &[0], 2, 2, 5, 100.0).unwrap(),
        0.0
    );
    // …but the exp(s/τ) weighting of a low temperature lets the two close ones win.
    assert_eq!(
        knn_accuracy(&train, &labels, &[0.6, 0.4], &[0], 2, 2, 5, 0.05).unwrap(),
        1.0
    );
    // Cosine: scale does not matter.
    assert_eq!(
        knn_accuracy(&train, &labels, &[60.0, 40.0], &[0], 2, 2, 2, 0.07).unwrap(),
        1.0
    );
    assert!(matches!(
        knn_accuracy(&train, &labels, &[0.6], &[0], 2, 2, 2, 0.07),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        knn_accuracy(&train, &labels, &[0.6, 0.4], &[0], 2, 2, 0, 0.07),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        knn_accuracy(&train, &labels, &[0.6, 0.4], &[5], 2, 2, 2, 0.07),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn linear_probe_separates_separable_features() {
    type B = infonce::backend::NdArrayAutodiff;
    let x = random_vec(200 * 3, 1.0, 61);
    let label = |r: &[f64]| usize::from(r[0] + 0.5 * r[1] > 0.1);
    let labels: Vec<usize> = x.chunks(3).map(label).collect();
    let feats: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (train, test) = feats.split_at(150 * 3);
    let acc = linear_probe::<B>(
        train,
        &labels[..150],
        test,
        &labels[150..],
        3,
        2,
        LinearProbeConfig::default(),
        &Default::default(),
    )
    .unwrap();
    assert!(
        acc >= 0.95,
        "linear probe accuracy {acc} on linearly separable data"
    );
    // Pure noise labels cannot be predicted above chance by much.
    let noise: Vec<usize> = random_vec(200, 1.0, 62)
        .iter()
        .map(|&v| usize::from(v > 0.0))
        .collect();
    let acc = linear_probe::<B>(
        train,
        &noise[..150],
        test,
        &noise[150..],
        3,
        2,
        LinearProbeConfig::default(),
        &Default::default(),
    )
    .unwrap();
    assert!(acc < 0.8, "accuracy {acc} on noise labels");
}

#[test]
fn alignment_and_uniformity_closed_forms() {
    let a = [1.0, 0.0, 0.0, 1.0];
    assert_eq!(alignment(&a, &a, 2, 2.0).unwrap(), 0.0);
    // Orthogonal unit vectors: ‖x − y‖² = 2.
    assert!((alignment(&[1.0, 0.0], &[0.0, 3.0], 2, 2.0).unwrap() - 2.0).abs() < 1e-9);
    // Antipodal pair: log exp(−2 · 4) = −8.
    assert!((uniformity(&[1.0, 0.0, -2.0, 0.0], 2, 2.0).unwrap() + 8.0).abs() < 1e-9);
    // Identical points: log exp(0) = 0, the worst value.
    assert!(uniformity(&[1.0, 1.0, 2.0, 2.0], 2, 2.0).unwrap().abs() < 1e-9);
    assert!(matches!(
        uniformity(&[1.0, 0.0], 2, 2.0),
        Err(Error::EmptyBatch { .. })
    ));
    assert!(matches!(
        alignment(&[1.0], &[1.0, 2.0], 1, 2.0),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn simclr_recipe_end_to_end_writes_report_plot_and_checkpoint() {
    use infonce::data::synthetic_shapes;
    use infonce::recipes::{SimclrConfig, SimclrReport};
    let dir = std::env::temp_dir().join(format!("infonce-simclr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = SimclrConfig {
        epochs: 2,
        batch_size: 32,
        width: 8,
        stages: 2,
        knn_every: 1,
        out_dir: Some(dir.clone()),
        progress: false,
        ..SimclrConfig::default()
    };
    let data = synthetic_shapes(128, 40, 12, 5).unwrap();
    let report =
        infonce::launch::simclr(infonce::backend::BackendKind::NdArray, &config, data).unwrap();
    assert_eq!(report.epochs, 2);
    for acc in [
        report.knn_top1.learned,
        report.knn_top1.random_init,
        report.knn_top1.raw_pixels,
        report.linear_probe_top1.learned,
    ] {
        assert!((0.0..=1.0).contains(&acc));
    }
    let written: SimclrReport = infonce::io::read_json(&dir.join("report.json")).unwrap();
    assert_eq!(written.knn_top1, report.knn_top1);
    let history: Vec<infonce::trainer::EpochRecord> =
        infonce::io::read_json(&dir.join("history.json")).unwrap();
    assert_eq!(history.len(), 2);
    // The epoch metric is measured on the validation split, carved out of (and held out
    // of) the 128 training images; no metric is computed on the test split.
    assert!(
        history
            .iter()
            .all(|r| r.metrics.keys().eq(["val_knn_top1"]))
    );
    let selection = &report.model_selection;
    assert_eq!(
        (selection.split.as_str(), selection.validation_images),
        ("validation", 13)
    );
    assert_eq!(report.train_images, 128 - 13);
    let best = history
        .iter()
        .max_by(|a, b| a.metrics["val_knn_top1"].total_cmp(&b.metrics["val_knn_top1"]))
        .unwrap();
    assert_eq!(selection.best_value, Some(best.metrics["val_knn_top1"]));
    let best_ckpt = infonce::trainer::Checkpoint::read(&dir.join("checkpoints/best.ckpt")).unwrap();
    assert_eq!(best_ckpt.meta.best_value, selection.best_value);
    let svg = std::fs::read_to_string(dir.join("curves.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("polyline"),
        "not an SVG plot"
    );
    assert!(infonce::trainer::Checkpoint::latest_in(&dir.join("checkpoints")).is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_validation_split_is_carved_reproducibly_and_disjointly() {
    use infonce::data::ImageDataset;
    // Image i holds the value i, so a split can be traced back.
    let n = 50;
    let data =
        ImageDataset::new(1, 1, 1, (0..n).map(|i| i as f32).collect(), vec![0; n], 1).unwrap();
    let (rest, validation) = data.split_validation(0.1, 3).unwrap();
    assert_eq!((rest.len(), validation.len()), (45, 5));
    let mut all: Vec<f32> = rest
        .pixels
        .iter()
        .chain(&validation.pixels)
        .copied()
        .collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, data.pixels, "disjoint, and together the whole set");
    assert!(
        rest.pixels.windows(2).all(|w| w[0] < w[1]),
        "original order kept"
    );
    assert_eq!(
        data.split_validation(0.1, 3).unwrap().1,
        validation,
        "same seed, same split"
    );
    assert_ne!(
        data.split_validation(0.1, 4).unwrap().1,
        validation,
        "another seed, another split"
    );
    assert_eq!(data.split_validation(0.0, 3).unwrap().1.len(), 0);
    assert_eq!(
        data.split_validation(0.001, 3).unwrap().1.len(),
        1,
        "at least one image"
    );
    for bad in [-0.1, 1.0, f64::NAN] {
        assert!(matches!(
            data.split_validation(bad, 3),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
