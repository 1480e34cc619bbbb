//! The `Encoder` trait.

use burn::module::{Module, ModuleDisplay};
use burn::tensor::{Tensor, backend::Backend};

/// Maps a batch of inputs to one embedding per example.
///
/// An encoder is a Burn [`Module`], so its parameters are saved, loaded and optimised like
/// any other. `Input` is the batch type: images `Tensor<B, 4>`, sequences `Tensor<B, 3>`,
/// feature vectors `Tensor<B, 2>`.
///
/// # Shapes
/// - output: `[batch, dim]`
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::encoder::MlpConfig;
/// use infonce::Encoder;
///
/// let device = Default::default();
/// let mlp = MlpConfig::new(4, vec![16], 8).init::<PrebuiltNdArray>(&device).unwrap();
/// let z = mlp.encode(Tensor::zeros([3, 4], &device));
/// assert_eq!(z.dims(), [3, 8]);
/// ```
pub trait Encoder<B: Backend>: Module<B> + ModuleDisplay {
    /// The batch type this encoder reads.
    type Input;

    /// Embeds a batch: `[batch, dim]`.
    fn encode(&self, input: Self::Input) -> Tensor<B, 2>;
}
