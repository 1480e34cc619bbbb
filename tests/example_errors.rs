//! The examples, run as a user runs them, with a missing or corrupt input file: a non-zero
//! exit and one line on stderr, no panic.
//!
//! `cargo test` builds the examples before running tests; this module runs the binaries
//! it finds next to the test binary (`target/<profile>/examples/`).

use std::path::PathBuf;
use std::process::Command;

use super::trainer::temp_dir;

pub(super) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run the whole suite with `cargo test --release` (it builds the \
         examples), not `--test main` alone",
        path.display()
    );
    path
}

/// Runs `simclr` with `args` and checks it fails cleanly; returns its stderr.
/// The header of an IDX file: magic number, then each dimension (big-endian `u32`s).
pub(super) fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    std::iter::once(magic)
        .chain(dims.iter().copied())
        .flat_map(u32::to_be_bytes)
        .collect()
}

fn fails_cleanly(args: &[&str]) -> String {
    let out = Command::new(example("simclr"))
        .args(args)
        .args(["--epochs", "1"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one line expected, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn simclr_refuses_missing_and_corrupt_data_files() {
    let dir = temp_dir("example-errors");
    std::fs::create_dir_all(&dir).unwrap();

    let missing = dir.join("nowhere");
    let msg = fails_cleanly(&["--data", &format!("idx:{}", missing.display())]);
    assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");

    // MNIST files: a wrong magic number, then a truncated image file.
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let mut images = idx_header(0x0803, &[2, 4, 4]);
    images.extend([0u8; 32]);
    let mut labels = idx_header(0x0801, &[2]);
    labels.extend([0u8, 1]);
    for split in ["train", "t10k"] {
        std::fs::write(mnist.join(format!("{split}-images-idx3-ubyte")), &images).unwrap();
        std::fs::write(mnist.join(format!("{split}-labels-idx1-ubyte")), &labels).unwrap();
    }
    let mut wrong_magic = images.clone();
    wrong_magic[3] = 0x01;
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &wrong_magic).unwrap();
    let spec = format!("idx:{}", mnist.display());
    assert!(fails_cleanly(&["--data", &spec]).contains("magic"));
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &images[..40]).unwrap();
    assert!(fails_cleanly(&["--data", &spec]).contains("truncated"));

    // A CIFAR-10 batch cut short.
    let cifar = dir.join("cifar");
    std::fs::create_dir_all(&cifar).unwrap();
    std::fs::write(cifar.join("data_batch_1.bin"), vec![3u8; 3073 + 100]).unwrap();
    std::fs::write(cifar.join("test_batch.bin"), vec![3u8; 3073]).unwrap();
    let spec = format!("cifar10:{}", cifar.display());
    assert!(fails_cleanly(&["--data", &spec]).contains("truncated"));

    // A folder of images with an undecodable file.
    let folder = dir.join("folder/cats");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("broken.png"), b"\x89PNG not really").unwrap();
    let spec = format!("folder:{}", dir.join("folder").display());
    fails_cleanly(&["--data", &spec]);

    // A damaged checkpoint with --resume falls back; with none usable it says so.
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("checkpoints")).unwrap();
    std::fs::write(out.join("checkpoints/step-000000031.ckpt"), b"INFONCE\0cut").unwrap();
    let msg = fails_cleanly(&[
        "--synthetic-images",
        "128",
        "--out",
        out.to_str().unwrap(),
        "--resume",
    ]);
    assert!(msg.contains("no usable checkpoint"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}
