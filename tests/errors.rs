//! Bad input gets a typed `infonce::Error` naming what was wrong, never a panic.

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use infonce::critic::{
    BilinearCriticConfig, CosineCriticConfig, DotProductCritic, SeparableCriticConfig,
};
use infonce::loss::{self, PairMask};
use infonce::{Critic, Error};

fn zeros<B: AutodiffBackend>(shape: [usize; 2], device: &B::Device) -> Tensor<B, 2> {
    Tensor::zeros(shape, device)
}

fn losses_refuse_bad_shapes<B: AutodiffBackend>(device: &B::Device) {
    let idx = |v: &[i64]| Tensor::<B, 1, Int>::from_ints(v, device);
    // Fewer than two candidates.
    match loss::info_nce(zeros::<B>([3, 1], device), idx(&[0, 0, 0])) {
        Err(Error::TooFewCandidates { got: 1, .. }) => {}
        other => panic!("expected TooFewCandidates, got {other:?}"),
    }
    // Empty batch.
    assert!(matches!(
        loss::info_nce(zeros::<B>([0, 4], device), idx(&[])),
        Err(Error::EmptyBatch { .. })
    ));
    // Positives of the wrong length.
    let err = loss::info_nce(zeros::<B>([3, 4], device), idx(&[0, 1])).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    assert!(
        err.to_string().contains("[3]") && err.to_string().contains("[2]"),
        "{err}"
    );
    // Views of different shapes.
    assert!(matches!(
        loss::nt_xent(zeros::<B>([4, 8], device), zeros::<B>([4, 7], device), 0.5),
        Err(Error::ShapeMismatch { .. })
    ));
    // A batch of one pair has no negative.
    assert!(matches!(
        loss::nt_xent(zeros::<B>([1, 8], device), zeros::<B>([1, 8], device), 0.5),
        Err(Error::TooFewCandidates { .. })
    ));
    assert!(matches!(
        loss::nt_xent(zeros::<B>([0, 8], device), zeros::<B>([0, 8], device), 0.5),
        Err(Error::EmptyBatch { .. })
    ));
    // Non-square symmetric scores.
    assert!(matches!(
        loss::symmetric_info_nce(zeros::<B>([3, 4], device)),
        Err(Error::ShapeMismatch { .. })
    ));
    // Masks of the wrong shape, rows without positives, rows left with one candidate.
    let s = zeros::<B>([2, 3], device);
    assert!(matches!(
        loss::masked_info_nce(s.clone(), &PairMask::diagonal(3), None),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        loss::masked_info_nce(
            s.clone(),
            &PairMask::from_fn(2, 3, |i, j| i == 0 && j == 0),
            None
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    let only_positive = PairMask::from_fn(2, 3, |i, j| i == j);
    assert!(matches!(
        loss::masked_info_nce(
            s,
            &PairMask::from_fn(2, 3, |i, j| i == j),
            Some(&only_positive)
        ),
        Err(Error::TooFewCandidates { got: 1, .. })
    ));
}

fn temperatures_must_be_positive_and_finite<B: AutodiffBackend>(device: &B::Device) {
    for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        match loss::nt_xent(zeros::<B>([4, 8], device), zeros::<B>([4, 8], device), tau) {
            Err(Error::InvalidTemperature(t)) => assert!(t.is_nan() || t == tau),
            other => panic!("τ = {tau}: expected InvalidTemperature, got {other:?}"),
        }
        assert!(matches!(
            CosineCriticConfig::new()
                .with_temperature(tau)
                .init::<B>(device),
            Err(Error::InvalidTemperature(_))
        ));
    }
}

fn critics_refuse_mismatched_widths<B: AutodiffBackend>(device: &B::Device) {
    let dot = DotProductCritic::<B>::new();
    let err = dot
        .try_log_scores(zeros::<B>([2, 4], device), zeros::<B>([3, 5], device))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    let bilinear = BilinearCriticConfig::new(4, 6).init::<B>(device).unwrap();
    assert!(
        bilinear
            .try_log_scores(zeros::<B>([2, 4], device), zeros::<B>([3, 6], device))
            .is_ok()
    );
    assert!(matches!(
        bilinear.try_log_scores(zeros::<B>([2, 4], device), zeros::<B>([3, 4], device)),
        Err(Error::ShapeMismatch { .. })
    ));
    let separable = SeparableCriticConfig::new().init::<B>(device).unwrap();
    assert!(matches!(
        separable.try_log_scores(zeros::<B>([2, 19], device), zeros::<B>([3, 20], device)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        dot.try_log_scores(zeros::<B>([0, 4], device), zeros::<B>([3, 4], device)),
        Err(Error::EmptyBatch { .. })
    ));
    assert!(matches!(
        SeparableCriticConfig::new()
            .with_d_embedding(0)
            .init::<B>(device),
        Err(Error::InvalidConfig { .. })
    ));
}

backend_tests!(
    losses_refuse_bad_shapes,
    temperatures_must_be_positive_and_finite,
    critics_refuse_mismatched_widths,
);

#[test]
fn configs_are_validated() {
    use infonce::data::CorrelatedGaussian;
    use infonce::trainer::TrainerConfig;
    assert!(matches!(
        TrainerConfig::new().with_learning_rate(0.0).validate(),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        TrainerConfig::new().with_epochs(0).validate(),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        TrainerConfig::new().with_momentum(1.0).validate(),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        TrainerConfig::new()
            .with_grad_clip_norm(Some(f64::NAN))
            .validate(),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        TrainerConfig::new()
            .with_checkpoint_every(Some(0))
            .validate(),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        CorrelatedGaussian::new(20, 1.0, 64, 10),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        CorrelatedGaussian::with_mi(20, -1.0, 64, 10),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        CorrelatedGaussian::new(20, 0.5, 0, 10),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn config_file_errors_name_the_file_and_the_field() {
    use infonce::trainer::TrainerConfig;
    let dir = std::env::temp_dir().join(format!("infonce-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trainer.json");
    std::fs::write(&path, r#"{"epochs": "ten"}"#).unwrap();
    let err = TrainerConfig::from_file(&path).unwrap_err();
    assert!(matches!(err, Error::Json { .. }));
    assert!(err.to_string().contains("trainer.json"), "{err}");
    std::fs::write(&path, r#"{"epochs": 0}"#).unwrap();
    assert!(matches!(
        TrainerConfig::from_file(&path),
        Err(Error::InvalidConfig { .. })
    ));
    std::fs::write(&path, r#"{"epochs": 3, "learning_rat": 0.1}"#).unwrap();
    let err = TrainerConfig::from_file(&path).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `learning_rat`"),
        "{err}"
    );
    std::fs::write(&path, r#"{"epochs": 3, "optimizer": "adamw"}"#).unwrap();
    let config = TrainerConfig::from_file(&path).unwrap();
    assert_eq!(
        (config.epochs, config.optimizer),
        (3, infonce::trainer::OptimizerKind::AdamW)
    );
    assert_eq!(
        config.learning_rate,
        TrainerConfig::default().learning_rate,
        "missing fields take defaults"
    );
    assert!(matches!(
        TrainerConfig::from_file(&dir.join("missing.json")),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_backend_names_are_refused() {
    use infonce::backend::BackendKind;
    assert!(matches!(
        "tpu".parse::<BackendKind>(),
        Err(Error::InvalidConfig { .. })
    ));
    assert_eq!(
        "ndarray".parse::<BackendKind>().unwrap(),
        BackendKind::NdArray
    );
}

#[test]
fn pair_mask_refuses_bad_indices() {
    assert!(matches!(
        PairMask::from_indices(3, &[0, 3]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        PairMask::from_bits(2, 2, vec![true; 3]),
        Err(Error::ShapeMismatch { .. })
    ));
}
