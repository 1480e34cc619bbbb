//! Encoders: the networks that turn a batch of inputs into embeddings.

mod caption;
mod channels_last;
mod conv3x3;
mod dense;
mod identity;
mod mlp;
mod projection_head;
mod reference_cnn;
mod resnet;
mod traits;
mod with_head;

pub use caption::{CaptionEncoder, CaptionEncoderConfig};
pub use channels_last::{batch_norm_nhwc, bias_relu_nhwc, max_pool2_nhwc};
pub use conv3x3::{Conv3x3, ConvPath};
pub use dense::{linear, linear_relu};
pub use identity::IdentityEncoder;
pub use mlp::{Mlp, MlpConfig};
pub use projection_head::{ProjectionHead, ProjectionHeadConfig};
pub use reference_cnn::ReferenceCnn;
pub use resnet::{BasicBlock, ResNetEncoder, ResNetEncoderConfig};
pub use traits::Encoder;
pub use with_head::EncoderWithHead;
