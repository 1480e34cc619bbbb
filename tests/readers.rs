//! Dataset readers on small files written here, and their errors on damaged ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use infonce::Error;
use infonce::data::readers::{
    read_cifar10, read_idx_images, read_idx_labels, read_image_folder, read_mnist,
};
use infonce::data::{DataSpec, synthetic_shapes};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infonce-readers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for v in [n, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend((0..n * rows * cols).map(|k| (k % 256) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn mnist_plain_and_gzipped_of_any_size() {
    let dir = temp_dir("mnist");
    write(&dir, "train-images-idx3-ubyte", &idx_images(3, 5, 7));
    write(
        &dir,
        "train-labels-idx1-ubyte.gz",
        &gz(&idx_labels(&[1, 2, 9])),
    );
    write(&dir, "t10k-images-idx3-ubyte.gz", &gz(&idx_images(2, 5, 7)));
    write(&dir, "t10k-labels-idx1-ubyte", &idx_labels(&[0, 4]));
    let data = read_mnist(&dir).unwrap();
    assert_eq!(
        (
            data.train.len(),
            data.train.height,
            data.train.width,
            data.train.channels
        ),
        (3, 5, 7, 1)
    );
    assert_eq!(data.train.labels, vec![1, 2, 9]);
    assert_eq!(data.test.labels, vec![0, 4]);
    assert_eq!(data.train.image(1)[0], 35.0 / 255.0);
    let spec: DataSpec = format!("idx:{}", dir.display()).parse().unwrap();
    assert_eq!(spec.load(10, 16, 0).unwrap().train.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn idx_errors_name_the_file_and_the_reason() {
    let dir = temp_dir("idx-bad");
    let good = idx_images(2, 3, 3);
    let truncated = write(&dir, "truncated", &good[..good.len() - 1]);
    let magic = write(&dir, "magic", &[&[0u8, 0, 8, 1][..], &good[4..]].concat());
    let short = write(&dir, "short", &good[..10]);
    for (path, reason) in [
        (&truncated, "truncated"),
        (&magic, "magic"),
        (&short, "truncated"),
    ] {
        match read_idx_images(path) {
            Err(Error::CorruptFile { path: p, reason: r }) => {
                assert_eq!(&p, path);
                assert!(r.contains(reason), "{r}");
            }
            other => panic!("{path:?}: expected CorruptFile, got {other:?}"),
        }
    }
    let bad_labels = write(&dir, "labels", &idx_labels(&[1, 2])[..9]);
    assert!(matches!(
        read_idx_labels(&bad_labels),
        Err(Error::CorruptFile { .. })
    ));
    let not_gz = write(&dir, "x.gz", b"plain bytes");
    assert!(matches!(
        read_idx_labels(&not_gz),
        Err(Error::CorruptFile { .. })
    ));
    // Label count that does not match the image count.
    write(&dir, "train-images-idx3-ubyte", &idx_images(3, 2, 2));
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&[1, 2]));
    write(&dir, "t10k-images-idx3-ubyte", &idx_images(1, 2, 2));
    write(&dir, "t10k-labels-idx1-ubyte", &idx_labels(&[1]));
    match read_mnist(&dir) {
        Err(Error::CorruptFile { reason, .. }) => {
            assert!(reason.contains("2 labels for the 3 images"), "{reason}")
        }
        other => panic!("expected CorruptFile, got {other:?}"),
    }
    assert!(matches!(
        read_mnist(&dir.join("missing")),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cifar10_batches() {
    let dir = temp_dir("cifar");
    let record = |label: u8, fill: u8| [vec![label], vec![fill; 3072]].concat();
    write(
        &dir,
        "data_batch_1.bin",
        &[record(3, 10), record(7, 20)].concat(),
    );
    write(&dir, "data_batch_2.bin.gz", &gz(&record(1, 30)));
    write(&dir, "test_batch.bin", &record(9, 255));
    let data = read_cifar10(&dir).unwrap();
    assert_eq!(data.train.labels, vec![3, 7, 1]);
    assert_eq!((data.train.channels, data.train.height), (3, 32));
    assert_eq!(data.test.image(0)[3071], 1.0);
    assert_eq!(data.train.class_names[3], "cat");
    write(&dir, "test_batch.bin", &record(9, 1)[..3000]);
    assert!(matches!(read_cifar10(&dir), Err(Error::CorruptFile { .. })));
    write(&dir, "test_batch.bin", &record(12, 1));
    match read_cifar10(&dir) {
        Err(Error::CorruptFile { reason, .. }) => assert!(reason.contains("label 12"), "{reason}"),
        other => panic!("expected CorruptFile, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn image_folder_of_pngs() {
    let dir = temp_dir("folder");
    for (class, value) in [("cats", 40u8), ("dogs", 200u8)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for k in 0..5 {
            let img = image::RgbImage::from_pixel(10 + k, 12, image::Rgb([value, value / 2, 7]));
            img.save(dir.join(class).join(format!("{k}.png"))).unwrap();
        }
    }
    let data = read_image_folder(&dir, 8, 3, 5).unwrap();
    assert_eq!(data.train.class_names, vec!["cats", "dogs"]);
    assert_eq!((data.train.len(), data.test.len()), (8, 2));
    assert_eq!(data.test.labels, vec![0, 1]);
    assert!((data.train.image(0)[0] - 40.0 / 255.0).abs() < 1e-3);
    std::fs::write(dir.join("dogs").join("broken.png"), b"not a png").unwrap();
    match read_image_folder(&dir, 8, 3, 5) {
        Err(Error::CorruptFile { path, .. }) => assert!(path.ends_with("broken.png")),
        other => panic!("expected CorruptFile, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn synthetic_shapes_are_deterministic_and_balanced() {
    let a = synthetic_shapes(50, 10, 16, 1).unwrap();
    let b = synthetic_shapes(50, 10, 16, 1).unwrap();
    let c = synthetic_shapes(50, 10, 16, 2).unwrap();
    assert_eq!(a.train, b.train);
    assert_ne!(a.train.pixels, c.train.pixels);
    assert_eq!(
        (0..10)
            .map(|k| a.train.labels.iter().filter(|&&l| l == k).count())
            .collect::<Vec<_>>(),
        vec![5; 10]
    );
    assert!(a.train.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_ne!(
        a.train.image(0),
        a.test.image(0),
        "test images are not training images"
    );
    assert!(matches!(
        synthetic_shapes(10, 2, 4, 0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        "pngs:/x".parse::<DataSpec>(),
        Err(Error::InvalidConfig { .. })
    ));
}
