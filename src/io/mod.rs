//! Files: atomic writes and the JSON documents the crate reads and writes.

mod atomic_write;
mod json;

pub use atomic_write::{remove_stale_temporaries, write_atomic};
pub use json::{read_json, write_json};
