//! The flag catalogue: every example refuses every out-of-range flag with one line on
//! stderr naming the flag and what it accepts, exit status 2 (a usage error) and no panic;
//! a resume with other settings is refused field by field, also with status 2.

use std::path::Path;
use std::process::Command;

use super::example_errors::{example, idx_header};
use super::trainer::temp_dir;

/// One example run: its exit status and its stderr.
pub(super) fn run<S: AsRef<str>>(name: &str, args: &[S]) -> (Option<i32>, String) {
    let out = Command::new(example(name))
        .args(args.iter().map(AsRef::as_ref))
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts a usage error: status 2, one line on stderr, `flag` named, no panic.
pub(super) fn refused<S: AsRef<str>>(name: &str, args: &[S], flag: &str) -> String {
    let (code, stderr) = run(name, args);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let words: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let case = format!("{name} {}", words.join(" "));
    assert_eq!(code, Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    assert_eq!(lines.len(), 1, "{case}: one line expected, got:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "{case}: {stderr}");
    assert!(
        lines[0].contains(flag),
        "{case}: `{flag}` not named in: {stderr}"
    );
    stderr
}

/// (example, arguments, the flag the message must name).
const CATALOGUE: &[(&str, &[&str], &str)] = &[
    ("simclr", &["--batch-size", "0"], "--batch-size"),
    ("simclr", &["--batch-size", "1"], "--batch-size"),
    ("simclr", &["--batch-size", "two"], "--batch-size"),
    ("simclr", &["--epochs", "0"], "--epochs"),
    ("simclr", &["--temperature", "0"], "--temperature"),
    ("simclr", &["--temperature", "-0.5"], "--temperature"),
    ("simclr", &["--temperature", "nan"], "--temperature"),
    ("simclr", &["--temperature", "inf"], "--temperature"),
    ("simclr", &["--lr", "0"], "--lr"),
    ("simclr", &["--lr", "-1"], "--lr"),
    ("simclr", &["--lr", "NaN"], "--lr"),
    ("simclr", &["--crop-min", "0"], "--crop-min"),
    ("simclr", &["--crop-min", "1.5"], "--crop-min"),
    ("simclr", &["--flip-probability", "2"], "--flip-probability"),
    ("simclr", &["--image-size", "4"], "--image-size"),
    ("simclr", &["--image-size", "100000"], "--image-size"),
    ("simclr", &["--width", "0"], "--width"),
    ("simclr", &["--stages", "0"], "--stages"),
    ("simclr", &["--stages", "9"], "--stages"),
    ("simclr", &["--synthetic-images", "1"], "--synthetic-images"),
    ("simclr", &["--backend", "tpu"], "--backend"),
    (
        "simclr",
        &["--validation-fraction", "2"],
        "--validation-fraction",
    ),
    (
        "simclr",
        &["--validation-fraction", "0.7"],
        "--validation-fraction",
    ),
    ("simclr", &["--data", "mnist:/x"], "--data"),
    ("simclr", &["--no-such-flag"], "--no-such-flag"),
    ("simclr", &["--method", "byol"], "--method"),
    (
        "simclr",
        &["--method", "moco", "--momentum", "1.5"],
        "--momentum",
    ),
    (
        "simclr",
        &["--method", "moco", "--queue-size", "0"],
        "--queue-size",
    ),
    (
        "simclr",
        &["--method", "hard-negative", "--beta", "-1"],
        "--beta",
    ),
    (
        "simclr",
        &["--method", "debiased", "--tau-plus", "2"],
        "--tau-plus",
    ),
    // Found after parsing: τ⁺ must stay below 1; options of another method.
    (
        "simclr",
        &["--method", "debiased", "--tau-plus", "1"],
        "--tau-plus",
    ),
    ("simclr", &["--momentum", "0.9"], "--momentum"),
    ("simclr", &["--method", "supcon", "--beta", "1"], "--beta"),
    (
        "simclr",
        &["--method", "debiased", "--cosine-momentum"],
        "--cosine-momentum",
    ),
    (
        "simclr",
        &["--method", "moco", "--tau-plus", "0.1"],
        "--tau-plus",
    ),
    // Found after the data is read: the batch cannot fill from 16 images.
    (
        "simclr",
        &["--synthetic-images", "16", "--batch-size", "64"],
        "--batch-size",
    ),
    ("gaussian_mi", &["--batch-size", "1"], "--batch-size"),
    ("gaussian_mi", &["--steps", "0"], "--steps"),
    ("gaussian_mi", &["--lr", "0"], "--lr"),
    ("gaussian_mi", &["--mi", "2,-1"], "--mi"),
    ("gaussian_mi", &["--eval-batches", "0"], "--eval-batches"),
    ("gaussian_mi", &["--critic", "psychic"], "--critic"),
    ("gaussian_mi", &["--backend", "tpu"], "--backend"),
    ("custom_critic", &["--mi", "-1"], "--mi"),
    ("custom_critic", &["--steps", "0"], "--steps"),
    ("custom_critic", &["--backend", "tpu"], "--backend"),
    ("cpc", &["--states", "1"], "--states"),
    ("cpc", &["--lambda", "1.5"], "--lambda"),
    ("cpc", &["--lambda", "nan"], "--lambda"),
    ("cpc", &["--noise", "-0.1"], "--noise"),
    ("cpc", &["--noise", "inf"], "--noise"),
    ("cpc", &["--directions", "3"], "--directions"),
    ("cpc", &["--batch-size", "0"], "--batch-size"),
    ("cpc", &["--length", "1"], "--length"),
    ("cpc", &["--steps-ahead", "0"], "--steps-ahead"),
    ("cpc", &["--negatives", "sideways"], "--negatives"),
    ("cpc", &["--epochs", "0"], "--epochs"),
    ("cpc", &["--steps-per-epoch", "0"], "--steps-per-epoch"),
    ("cpc", &["--lr", "0"], "--lr"),
    ("cpc", &["--eval-batches", "0"], "--eval-batches"),
    ("cpc", &["--backend", "tpu"], "--backend"),
    // Found after parsing: settings that do not fit together.
    ("cpc", &["--steps-ahead", "12"], "--steps-ahead"),
    ("cpc", &["--batch-size", "1"], "--batch-size"),
    (
        "cpc",
        &["--negatives", "same-sequence", "--length", "4"],
        "--length",
    ),
    ("bench", &["--workload", "nope"], "--workload"),
    ("bench", &["--repeats", "0"], "--repeats"),
    ("bench", &["--backend", "tpu"], "--backend"),
];

#[test]
fn every_example_refuses_every_bad_flag_by_name_with_status_2() {
    let out = temp_dir("flags");
    let out_arg = out.to_str().unwrap();
    for (name, args, flag) in CATALOGUE {
        let mut args = args.to_vec();
        if *name == "simclr" {
            args.extend(["--out", out_arg]);
        }
        refused(name, &args, flag);
    }
    // A backend this build lacks is named with the feature that adds it.
    for (backend, compiled) in [
        ("flex", cfg!(feature = "flex")),
        ("wgpu", cfg!(feature = "wgpu")),
    ] {
        if !compiled {
            let msg = refused(
                "simclr",
                &["--backend", backend, "--out", out_arg],
                "--backend",
            );
            assert!(msg.contains("--features"), "{msg}");
        }
    }
    assert!(
        !out.join("checkpoints").exists(),
        "a refused run wrote nothing"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// A tiny MNIST-format folder of 4×4 images.
fn tiny_mnist(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut images = idx_header(0x0803, &[4, 4, 4]);
    images.extend([7u8; 64]);
    let mut labels = idx_header(0x0801, &[4]);
    labels.extend([0u8, 1, 0, 1]);
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), &images).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), &labels).unwrap();
    }
}

#[test]
fn an_image_size_other_than_the_datasets_own_is_refused() {
    let dir = temp_dir("flags-image-size");
    tiny_mnist(&dir.join("mnist"));
    let data = format!("idx:{}", dir.join("mnist").display());
    let out = dir.join("out");
    let msg = refused(
        "simclr",
        &[
            "--data",
            &data,
            "--image-size",
            "8",
            "--batch-size",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        "--image-size",
    );
    assert!(msg.contains("4×4"), "{msg}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The settings of a small, quick SimCLR run writing to `out`: 72 images, of which 7 are
/// the validation split, leave 65 to train on, 4 steps of 16 per epoch.
pub(super) fn tiny_simclr(out: &Path, epochs: &str) -> Vec<String> {
    [
        "--synthetic-images",
        "72",
        "--batch-size",
        "16",
        "--width",
        "4",
        "--image-size",
        "8",
        "--stages",
        "1",
        "--epochs",
        epochs,
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// Every method trains through the example (with its own options) and names itself in
/// `report.json`; a resume with another method is refused by name.
#[test]
fn every_method_runs_and_is_recorded_in_the_report() {
    let out = temp_dir("flags-methods");
    for (method, options) in [
        ("simclr", &[][..]),
        (
            "moco",
            &[
                "--momentum",
                "0.9",
                "--cosine-momentum",
                "--queue-size",
                "24",
            ][..],
        ),
        ("supcon", &[][..]),
        ("decoupled", &[][..]),
        ("debiased", &["--tau-plus", "0.2"][..]),
        (
            "hard-negative",
            &["--beta", "0.5", "--tau-plus", "0.05"][..],
        ),
    ] {
        let dir = out.join(method);
        let mut args = tiny_simclr(&dir, "1");
        args.extend(
            ["--method", method]
                .iter()
                .chain(options)
                .map(|s| s.to_string()),
        );
        let (code, stderr) = run("simclr", &args);
        assert_eq!(code, Some(0), "{method}: {stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["method"], method);
        assert!(
            report["final_loss"].as_f64().unwrap().is_finite(),
            "{method}"
        );
    }
    let mut other = tiny_simclr(&out.join("moco"), "2");
    other.extend(["--resume", "--method", "simclr"].map(String::from));
    let msg = refused("simclr", &other, "method");
    assert!(msg.contains("run_settings.method"), "{msg}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn resume_with_other_settings_is_refused_field_by_field() {
    let out = temp_dir("flags-resume");
    let (code, stderr) = run("simclr", &tiny_simclr(&out, "1"));
    assert_eq!(code, Some(0), "{stderr}");

    let mut changed = tiny_simclr(&out, "2");
    changed.extend(["--resume", "--temperature", "0.5", "--crop-min", "0.6"].map(String::from));
    let msg = refused("simclr", &changed, "temperature");
    assert!(
        msg.contains("run_settings.temperature: 0.2 in the checkpoint, 0.5 now"),
        "{msg}"
    );
    assert!(msg.contains("run_settings.augment.crop_scale"), "{msg}");

    // More epochs is what a resume is for: accepted.
    let mut more = tiny_simclr(&out, "2");
    more.push("--resume".into());
    let (code, stderr) = run("simclr", &more);
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::remove_dir_all(&out).unwrap();
}
