//! A folder of images, one sub-folder per class.

use std::path::Path;

use image::imageops::FilterType;

use crate::data::{ImageDataset, TrainTest};
use crate::{Error, Result};

/// Reads `dir/<class>/<image>` (PNG or JPEG), resizing every image to `size × size` and
/// keeping colour (`channels = 3`) or converting to grayscale (`channels = 1`). Classes
/// are the sub-folder names in sorted order. Every `test_every`-th image of each class
/// (in sorted file order) goes to the test split.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder; [`Error::CorruptFile`] naming an image that does
/// not decode; [`Error::InvalidConfig`] when there are no classes or no images.
pub fn read_image_folder(
    dir: &Path,
    size: usize,
    channels: usize,
    test_every: usize,
) -> Result<TrainTest> {
    if size == 0 || test_every < 2 {
        return Err(Error::config(
            "image folder",
            "size must be ≥ 1 and test_every ≥ 2",
        ));
    }
    let mut classes: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    classes.sort();
    if classes.is_empty() {
        return Err(Error::config(
            "image folder",
            format!("{} has no class sub-folders", dir.display()),
        ));
    }
    let (mut train_px, mut train_lb, mut test_px, mut test_lb) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (label, class) in classes.iter().enumerate() {
        let class_dir = dir.join(class);
        let mut files: Vec<_> = std::fs::read_dir(&class_dir)
            .map_err(|e| Error::io(&class_dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg")
                })
            })
            .collect();
        files.sort();
        for (k, path) in files.iter().enumerate() {
            let img = image::open(path).map_err(|e| Error::CorruptFile {
                path: path.clone(),
                reason: format!("cannot decode image: {e}"),
            })?;
            let img = img.resize_exact(size as u32, size as u32, FilterType::Triangle);
            let (px, lb) = if k % test_every == test_every - 1 {
                (&mut test_px, &mut test_lb)
            } else {
                (&mut train_px, &mut train_lb)
            };
            if channels == 1 {
                px.extend(img.to_luma32f().into_raw());
            } else {
                let rgb = img.to_rgb32f();
                for c in 0..3 {
                    px.extend(rgb.pixels().map(|p| p.0[c]));
                }
            }
            lb.push(label);
        }
    }
    if train_lb.is_empty() {
        return Err(Error::config(
            "image folder",
            format!("{} holds no PNG or JPEG images", dir.display()),
        ));
    }
    let mut train = ImageDataset::new(channels, size, size, train_px, train_lb, classes.len())?;
    let mut test = ImageDataset::new(channels, size, size, test_px, test_lb, classes.len())?;
    train.class_names = classes.clone();
    test.class_names = classes;
    Ok(TrainTest { train, test })
}
