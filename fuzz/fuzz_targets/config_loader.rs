//! The config loaders on arbitrary text: a valid config or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = infonce::trainer::TrainerConfig::from_json(text, "fuzz.json") {
        config.validate().expect("a loaded config is valid");
    }
    let _ = infonce::recipes::SimclrConfig::from_json(text, "fuzz.json");
});
