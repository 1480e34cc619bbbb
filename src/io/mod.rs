//! Files: atomic writes, the output-folder lock, and the JSON documents the crate reads
//! and writes.

mod atomic_write;
mod folder_lock;
mod json;
mod record_bytes;
mod record_value;

pub use atomic_write::{remove_stale_temporaries, write_atomic};
pub use folder_lock::{FolderLock, LOCK_FILE};
pub use json::{read_json, write_json};
pub(crate) use record_bytes::RecordBytes;
