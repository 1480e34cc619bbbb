//! Encoders: the networks that turn a batch of inputs into embeddings.

mod identity;
mod mlp;
mod projection_head;
mod traits;

pub use identity::IdentityEncoder;
pub use mlp::{Mlp, MlpConfig};
pub use projection_head::{ProjectionHead, ProjectionHeadConfig};
pub use traits::Encoder;
