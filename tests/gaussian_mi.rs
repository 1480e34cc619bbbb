//! The Gaussian mutual-information benchmark (Poole et al. 2019) as a test of the whole
//! stack: with batch 128 and the separable critic, the estimate at 2 nats is within 0.3
//! nats of the truth, and every estimate stays below ln 128.

use infonce::backend::BackendKind;
use infonce::eval::{GaussianBenchmark, GaussianCritic};

fn benchmark(steps: usize) -> GaussianBenchmark {
    GaussianBenchmark {
        steps,
        eval_batches: 20,
        seed: 7,
        critic: GaussianCritic::Separable,
        ..GaussianBenchmark::default()
    }
}

fn separable_critic_tracks_two_nats(backend: BackendKind) {
    let level = infonce::launch::gaussian_level(backend, &benchmark(600), 2.0).unwrap();
    assert!((level.true_mi - 2.0).abs() < 1e-9);
    assert!((level.log_n - 128f64.ln()).abs() < 1e-6);
    assert!(
        (level.estimate - 2.0).abs() < 0.3,
        "estimate {:.3} nats for a true MI of 2",
        level.estimate
    );
    assert!(level.estimate < level.log_n);
}

fn estimate_saturates_below_log_n(backend: BackendKind) {
    // 10 nats is far above ln 128 ≈ 4.85: the bound must stay below its cap.
    let level = infonce::launch::gaussian_level(backend, &benchmark(300), 10.0).unwrap();
    assert!(
        level.estimate < level.log_n,
        "estimate {:.3} ≥ ln 128",
        level.estimate
    );
    assert!(
        level.estimate > 2.5,
        "a 10-nat source should still give a large bound, got {:.3}",
        level.estimate
    );
}

#[test]
fn unknown_critic_names_are_refused() {
    assert!(matches!(
        "mine".parse::<GaussianCritic>(),
        Err(infonce::Error::InvalidConfig { .. })
    ));
    assert_eq!(
        "concat".parse::<GaussianCritic>().unwrap(),
        GaussianCritic::Concat
    );
}

backend_kind_tests!(
    separable_critic_tracks_two_nats,
    estimate_saturates_below_log_n
);
