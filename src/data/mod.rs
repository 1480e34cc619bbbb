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
    caption_text, caption_vocabulary, captioned_shapes, class_prompt, Caption, CaptionedImages,
    CaptionedSplits, CAPTION_SLOTS, PAD, SHAPE_SLOT,
};
pub use data_spec::DataSpec;
pub use gaussian::CorrelatedGaussian;
pub use image_dataset::{ImageDataset, TrainTest};
pub use synthetic_shapes::{synthetic_shapes, SHAPE_CLASSES};
pub use two_view_images::TwoViewImages;
