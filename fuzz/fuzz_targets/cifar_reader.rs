//! The CIFAR-10 batch reader on arbitrary bytes: pixels and labels or a typed error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((pixels, labels)) =
        infonce::data::readers::parse_cifar10_batch(data, Path::new("batch.bin"))
    {
        assert_eq!(pixels.len(), labels.len() * 3 * 32 * 32);
        assert!(labels.iter().all(|&l| l < 10));
    }
});
