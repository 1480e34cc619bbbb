//! Naming a dataset on the command line.

use std::path::PathBuf;
use std::str::FromStr;

use super::readers::{read_cifar10, read_image_folder, read_mnist};
use super::{TrainTest, synthetic_shapes};
use crate::{Error, Result};

/// `synthetic`, `idx:DIR` (MNIST-format files), `cifar10:DIR` (binary batches) or
/// `folder:DIR` (one sub-folder per class).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DataSpec {
    /// The embedded procedural shapes ([`synthetic_shapes`]).
    Synthetic,
    /// MNIST IDX files in a folder.
    Idx(PathBuf),
    /// CIFAR-10 binary batches in a folder.
    Cifar10(PathBuf),
    /// An image folder.
    Folder(PathBuf),
}

impl FromStr for DataSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s == "synthetic" {
            return Ok(Self::Synthetic);
        }
        let bad = || {
            Error::config(
                "data",
                format!("`{s}`: expected synthetic, idx:DIR, cifar10:DIR or folder:DIR"),
            )
        };
        let (kind, dir) = s.split_once(':').ok_or_else(bad)?;
        if dir.is_empty() {
            return Err(bad());
        }
        let dir = PathBuf::from(dir);
        match kind {
            "idx" => Ok(Self::Idx(dir)),
            "cifar10" => Ok(Self::Cifar10(dir)),
            "folder" => Ok(Self::Folder(dir)),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Synthetic => write!(f, "synthetic"),
            Self::Idx(d) => write!(f, "idx:{}", d.display()),
            Self::Cifar10(d) => write!(f, "cifar10:{}", d.display()),
            Self::Folder(d) => write!(f, "folder:{}", d.display()),
        }
    }
}

impl DataSpec {
    /// Loads the dataset. `synthetic` makes `synthetic_train` + `synthetic_train / 5`
    /// images of `size × size` from `seed`; image folders are resized to `size × size` RGB
    /// with every fifth image held out. MNIST and CIFAR-10 keep their own size.
    ///
    /// # Errors
    /// Those of the readers: missing or corrupt files name the file.
    pub fn load(&self, synthetic_train: usize, size: usize, seed: u64) -> Result<TrainTest> {
        match self {
            Self::Synthetic => {
                synthetic_shapes(synthetic_train, (synthetic_train / 5).max(10), size, seed)
            }
            Self::Idx(d) => read_mnist(d),
            Self::Cifar10(d) => read_cifar10(d),
            Self::Folder(d) => read_image_folder(d, size, 3, 5),
        }
    }
}
