//! `examples/cpc.rs`: its JSON, its flags, and the same run on wgpu.

use super::super::example_flags::run;
use super::super::trainer::temp_dir;

/// A run of a few seconds.
const SHORT: &[&str] = &[
    "--batch-size",
    "8",
    "--length",
    "5",
    "--steps-ahead",
    "2",
    "--epochs",
    "1",
    "--steps-per-epoch",
    "10",
    "--eval-batches",
    "2",
];

fn run_json(name: &str, extra: &[&str]) -> serde_json::Value {
    let dir = temp_dir(name);
    let json = dir.join("cpc.json");
    let mut args: Vec<String> = SHORT.iter().map(|s| s.to_string()).collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--json".into(),
        json.display().to_string(),
        "--out".into(),
        dir.join("run").display().to_string(),
    ]);
    let (code, stderr) = run("cpc", &args);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        dir.join("run").join("history.json").exists(),
        "history beside the JSON"
    );
    let value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    value
}

#[test]
fn the_json_has_every_step_with_its_optimum_where_one_exists() {
    let v = run_json("cpc-json", &[]);
    assert_eq!(v["batch_size"], 8);
    assert!(
        (v["log_n"].as_f64().unwrap() - 8f64.ln()).abs() < 1e-6,
        "{v}"
    );
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["k"], i + 1);
        for key in ["top1", "mi_bound", "optimal_top1", "optimal_bound"] {
            assert!(s[key].as_f64().is_some_and(f64::is_finite), "{key} in {s}");
        }
    }
    assert!(v["probe_top1"].is_null(), "one direction: nothing to probe");

    let v = run_json(
        "cpc-json-seq",
        &["--negatives", "same-sequence", "--directions", "2"],
    );
    assert_eq!(v["is_bound"], false);
    let steps = v["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s["optimal_bound"].is_null() && s["optimal_top1"].is_null())
    );
    assert!(
        (v["log_n"].as_f64().unwrap() - 3f64.ln()).abs() < 1e-6,
        "N = L − K = 3: {v}"
    );
    assert!(
        v["probe_top1"].as_f64().is_some(),
        "two directions are probed"
    );
}

#[cfg(feature = "wgpu")]
#[test]
fn the_example_runs_on_wgpu() {
    let v = run_json("cpc-wgpu", &["--backend", "wgpu"]);
    let steps = v["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s["mi_bound"].as_f64().is_some_and(f64::is_finite)),
        "{v}"
    );
}
