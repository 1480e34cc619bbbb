//! The IDX reader on arbitrary bytes: every input is a dataset or a typed error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes split the input into an image file and a label file.
    let split = match data {
        [a, b, ..] => (usize::from(*a) << 8 | usize::from(*b)).min(data.len() - 2),
        _ => return,
    };
    let (images, labels) = data[2..].split_at(split);
    let _ = infonce::data::readers::parse_idx_images(images, Path::new("images"));
    let _ = infonce::data::readers::parse_idx_labels(labels, Path::new("labels"));
    let _ = infonce::data::readers::idx_dataset(
        images,
        Path::new("images"),
        labels,
        Path::new("labels"),
    );
});
