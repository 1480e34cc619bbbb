//! JSON documents: configs, histories, reports.

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};

use super::write_atomic;
use crate::{Error, Result};

/// Serialises `value` as pretty JSON and writes it atomically ([`write_atomic`]).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        context: path.display().to_string(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSON document; serde's message (with line and column) and the file name make up
/// the error.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        context: path.display().to_string(),
        source,
    })
}
