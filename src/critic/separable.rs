//! The separable critic: two MLPs, then a dot product.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::Critic;
use crate::encoder::{Mlp, MlpConfig};

/// Configuration of a [`SeparableCritic`]; the defaults are Poole et al. 2019's
/// (20 → 256 → 256 → 32, ReLU).
#[derive(Config, Debug)]
pub struct SeparableCriticConfig {
    /// Width of the context.
    #[config(default = 20)]
    pub d_context: usize,
    /// Width of the candidates.
    #[config(default = 20)]
    pub d_candidate: usize,
    /// Hidden widths of both MLPs.
    #[config(default = "vec![256, 256]")]
    pub hidden: Vec<usize>,
    /// Width of the space the dot product is taken in.
    #[config(default = 32)]
    pub d_embedding: usize,
}

impl SeparableCriticConfig {
    /// Builds the two MLPs.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] when a width is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<SeparableCritic<B>> {
        Ok(SeparableCritic {
            context_net: MlpConfig::new(self.d_context, self.hidden.clone(), self.d_embedding)
                .init(device)?,
            candidate_net: MlpConfig::new(self.d_candidate, self.hidden.clone(), self.d_embedding)
                .init(device)?,
        })
    }
}

/// `log f(x, c) = g(c)ᵀ h(x)` with `g`, `h` MLPs (Poole et al. 2019, §2.2, "separable
/// critic"). Costs `n + m` network evaluations for `n × m` scores.
///
/// # Shapes
/// - `context`: `[n, d_context]`, `candidates`: `[m, d_candidate]` → `[n, m]`
#[derive(Module, Debug)]
pub struct SeparableCritic<B: Backend> {
    context_net: Mlp<B>,
    candidate_net: Mlp<B>,
}

impl<B: Backend> Critic<B> for SeparableCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let g = self.context_net.forward(context);
        let h = self.candidate_net.forward(candidates);
        crate::loss::scaled_product_unchecked(g, h, 1.0)
    }

    fn input_dims(&self) -> (Option<usize>, Option<usize>) {
        (
            Some(self.context_net.d_input()),
            Some(self.candidate_net.d_input()),
        )
    }
}
