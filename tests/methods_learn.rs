//! Each method learns: trained on real handwritten digits (`tests/data/digits`) in a run
//! small enough for CI, the learned backbone's kNN top-1 on the test digits beats the same
//! backbone at its random initialisation by a margin. With the loss's sign flipped, these
//! tests fail (the learned features fall below the random ones).

use std::path::PathBuf;

use infonce::backend::BackendKind;
use infonce::data::TrainTest;
use infonce::data::augment::AugmentConfig;
use infonce::data::readers::read_mnist;
use infonce::recipes::{Method, MocoSettings, SimclrConfig, SimclrReport};

/// kNN top-1 the learned features must gain over the random initialisation's.
const MARGIN: f64 = 0.05;

fn digits() -> TrainTest {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits");
    read_mnist(&dir).unwrap()
}

/// A short run on 8×8 digits: no flips (digits are not mirror-symmetric), no validation
/// split (nothing is selected; the test split only measures).
fn short_run(method: Method, epochs: usize) -> SimclrReport {
    let config = SimclrConfig {
        method,
        epochs,
        batch_size: 64,
        learning_rate: 3e-3,
        width: 8,
        stages: 2,
        augment: AugmentConfig {
            flip_probability: 0.0,
            ..SimclrConfig::default().augment
        },
        knn_every: epochs,
        validation_fraction: 0.0,
        progress: false,
        ..SimclrConfig::default()
    };
    let report = infonce::launch::simclr(BackendKind::NdArray, &config, digits()).unwrap();
    eprintln!(
        "{}: kNN learned {:.3} vs random init {:.3} (raw {:.3}), {:.0} s",
        report.method,
        report.knn_top1.learned,
        report.knn_top1.random_init,
        report.knn_top1.raw_pixels,
        report.seconds
    );
    assert_eq!(report.method, method.name());
    report
}

fn assert_learns(report: &SimclrReport) {
    let knn = report.knn_top1;
    assert!(
        knn.learned > knn.random_init + MARGIN,
        "{}: learned kNN {:.3} does not beat random init {:.3} by {MARGIN}",
        report.method,
        knn.learned,
        knn.random_init
    );
}

#[test]
fn simclr_beats_its_random_initialisation() {
    assert_learns(&short_run(Method::Simclr, 8));
}

#[test]
fn moco_beats_its_random_initialisation() {
    let moco = Method::Moco(MocoSettings {
        momentum: 0.99,
        cosine_momentum: false,
        queue_size: 512,
    });
    assert_learns(&short_run(moco, 15));
}

#[test]
fn supcon_beats_its_random_initialisation() {
    assert_learns(&short_run(Method::Supcon, 10));
}
