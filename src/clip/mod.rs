//! CLIP-style two towers (Radford et al. 2021) on captioned synthetic shapes.
//!
//! Images of [`crate::data::captioned_shapes`] come with captions naming what was drawn
//! ("large cyan ring black bottom left": size, colour, shape, background, position). An
//! image tower (ResNet + projection head) and a text tower ([`crate::encoder::CaptionEncoder`])
//! map both into one space; a cosine critic with a learnable scale `exp(t)`, clamped to at
//! most 100 after each step as CLIP does, scores every image against every caption of the
//! batch; the symmetric objective averages InfoNCE over images (each picks its caption) and
//! over captions (each picks its image).
//!
//! During training every caption slot but the shape's is blanked with probability
//! `caption_dropout`, so captions of every level of detail occur, down to the bare shape
//! name. Zero-shot classification then asks, for each test image, which of the ten prompts
//! "disk", "ring", ... it scores highest, without any classifier trained on labels.
//!
//! ```no_run
//! use infonce::backend::NdArrayAutodiff;
//! use infonce::clip::{train_clip, ClipConfig};
//! use infonce::data::captioned_shapes;
//!
//! let data = captioned_shapes(2000, 500, 16, 0)?;
//! let report = train_clip::<NdArrayAutodiff>(&ClipConfig::default(), data, &Default::default())?;
//! println!("zero-shot {:.3} vs chance {:.3}", report.zero_shot_top1, report.chance);
//! # Ok::<(), infonce::Error>(())
//! ```

mod evaluate;
mod model;
mod recipe;
mod report;
mod source;

pub use model::{ClipModel, ImageTower, clip_model};
pub use recipe::{ClipConfig, TEMPERATURE_METRIC, train_clip};
pub use report::{ClipReport, DirectionScores, TemperatureTrajectory};
pub use source::{CaptionPairs, ClipBatch};
