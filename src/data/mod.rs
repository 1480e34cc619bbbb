//! Data: sources of training batches, image datasets, readers and augmentation.

pub mod augment;
mod captions;
mod data_spec;
mod gaussian;
mod image_dataset;
pub mod readers;
mod synthetic_shapes;
mod two_view_images;

pub use captions::{
    CAPTION_SLOTS, Caption, CaptionedImages, CaptionedSplits, PAD, SHAPE_SLOT, caption_text,
    caption_vocabulary, captioned_shapes, class_prompt,
};
pub use data_spec::DataSpec;
pub use gaussian::CorrelatedGaussian;
pub use image_dataset::{ImageDataset, TrainTest};
pub use synthetic_shapes::{SHAPE_CLASSES, synthetic_shapes};
pub use two_view_images::TwoViewImages;
