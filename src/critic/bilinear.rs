//! The bilinear critic of CPC.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Distribution, Tensor, backend::Backend};

use super::Critic;
use crate::Error;

/// Configuration of a [`BilinearCritic`].
#[derive(Config, Debug)]
pub struct BilinearCriticConfig {
    /// Width of the context embeddings.
    pub d_context: usize,
    /// Width of the candidate embeddings.
    pub d_candidate: usize,
}

impl BilinearCriticConfig {
    /// Builds the critic with `W` initialised as the (rectangular) identity plus
    /// `N(0, 0.01/d)` noise, so it starts as a dot product.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a width is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<BilinearCritic<B>> {
        let (dc, dx) = (self.d_context, self.d_candidate);
        if dc == 0 || dx == 0 {
            return Err(Error::config("BilinearCriticConfig", "widths must be ≥ 1"));
        }
        let eye: Vec<f32> = (0..dc * dx)
            .map(|k| if k / dx == k % dx { 1.0 } else { 0.0 })
            .collect();
        let eye = Tensor::<B, 1>::from_floats(eye.as_slice(), device).reshape([dc, dx]);
        let std = (0.01 / dc.max(dx) as f64).sqrt();
        let noise = Tensor::random([dc, dx], Distribution::Normal(0.0, std), device);
        Ok(BilinearCritic {
            weight: Param::from_tensor(eye + noise),
        })
    }
}

/// `log f(x, c) = cᵀ W x` (CPC, van den Oord et al. 2018, eq. 3: `f_k = exp(z_{t+k}ᵀ W_k c_t)`;
/// one `BilinearCritic` per prediction step k).
///
/// # Shapes
/// - `context`: `[n, d_c]`, `candidates`: `[m, d_x]` → `[n, m]`
#[derive(Module, Debug)]
pub struct BilinearCritic<B: Backend> {
    /// `W`, `[d_c, d_x]`.
    pub weight: Param<Tensor<B, 2>>,
}

impl<B: Backend> Critic<B> for BilinearCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let projected = context.matmul(self.weight.val());
        crate::loss::scaled_product_unchecked(projected, candidates, 1.0)
    }

    fn input_dims(&self) -> (Option<usize>, Option<usize>) {
        let [dc, dx] = self.weight.val().dims();
        (Some(dc), Some(dx))
    }
}
