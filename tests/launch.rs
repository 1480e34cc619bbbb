//! The run-time entry points (`infonce::launch`) and the benchmark workloads
//! (`infonce::bench`): names round-trip, bad settings and missing backends are typed errors,
//! and a timed workload reports ordered, positive times.

use infonce::Error;
use infonce::backend::BackendKind;
use infonce::bench::{Workload, WorkloadOptions};
use infonce::recipes::SimclrConfig;

#[test]
fn every_workload_name_parses_back_to_itself() {
    for w in Workload::ALL {
        assert_eq!(w.name().parse::<Workload>().unwrap(), w);
        assert_eq!(w.to_string(), w.name());
    }
    assert!(matches!(
        "loss_n3".parse::<Workload>(),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn zero_timed_iterations_are_refused() {
    let options = WorkloadOptions {
        repeats: 0,
        ..WorkloadOptions::default()
    };
    let result = infonce::launch::bench(BackendKind::NdArray, Workload::LossN256, &options);
    assert!(matches!(result, Err(Error::InvalidConfig { ref name, .. }) if name == "repeats"));
}

fn quick() -> WorkloadOptions {
    WorkloadOptions {
        warmup: 0,
        repeats: 3,
        ..WorkloadOptions::default()
    }
}

#[test]
fn a_loss_workload_reports_ordered_times_and_its_flop_rate() {
    let t = infonce::launch::bench(BackendKind::NdArray, Workload::LossN256, &quick()).unwrap();
    assert_eq!(t.repeats, 3);
    assert!(0.0 < t.min_ms && t.min_ms <= t.median_ms && t.median_ms <= t.max_ms);
    let expected = 6.0 * 256.0 * 256.0 * 128.0 / (t.median_ms * 1e6);
    assert!((t.gflops.unwrap() - expected).abs() < 1e-9 * expected);
}

#[test]
fn a_training_step_workload_runs_and_has_no_flop_count() {
    let t = infonce::launch::bench(BackendKind::NdArray, Workload::MiStepB128, &quick()).unwrap();
    assert!(t.median_ms > 0.0);
    assert_eq!(t.gflops, None);
}

#[cfg(not(feature = "flex"))]
#[test]
fn a_backend_not_built_in_is_a_typed_error() {
    let config = SimclrConfig::default();
    let data = infonce::data::synthetic_shapes(20, 10, 8, 0).unwrap();
    let result = infonce::launch::simclr(BackendKind::Flex, &config, data);
    assert!(matches!(result, Err(Error::BackendUnavailable(_))));
}

#[test]
fn invalid_settings_come_back_as_errors_through_the_entry_point() {
    let config = SimclrConfig {
        temperature: 0.0,
        ..SimclrConfig::default()
    };
    let data = infonce::data::synthetic_shapes(20, 10, 8, 0).unwrap();
    let result = infonce::launch::simclr(BackendKind::NdArray, &config, data);
    assert!(matches!(result, Err(Error::InvalidTemperature(t)) if t == 0.0));
}

/// `--backend cuda` names the feature to rebuild with when it is not compiled in.
#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_not_built_in_names_its_feature() {
    let result = "cuda".parse::<BackendKind>();
    assert!(
        matches!(result, Err(Error::BackendUnavailable(ref m)) if m.contains("--features cuda")),
        "{result:?}"
    );
}
