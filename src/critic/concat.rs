//! The concat (joint) critic: one MLP on `[c; x]`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::Critic;
use crate::encoder::{Mlp, MlpConfig};

/// Configuration of a [`ConcatCritic`]; the defaults are Poole et al. 2019's
/// (40 → 256 → 256 → 1, ReLU).
#[derive(Config, Debug)]
pub struct ConcatCriticConfig {
    /// Width of the context.
    #[config(default = 20)]
    pub d_context: usize,
    /// Width of the candidates.
    #[config(default = 20)]
    pub d_candidate: usize,
    /// Hidden widths of the MLP.
    #[config(default = "vec![256, 256]")]
    pub hidden: Vec<usize>,
}

impl ConcatCriticConfig {
    /// Builds the MLP.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] when a width is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<ConcatCritic<B>> {
        Ok(ConcatCritic {
            net: MlpConfig::new(self.d_context + self.d_candidate, self.hidden.clone(), 1)
                .init(device)?,
            d_context: self.d_context,
            d_candidate: self.d_candidate,
        })
    }
}

/// `log f(x, c) = MLP([c; x])` evaluated on every pair (Poole et al. 2019, §2.2, "concat
/// critic"; Belghazi et al. 2018). The most expressive critic and the most expensive:
/// `n · m` network evaluations and `n · m · (d_c + d_x)` memory.
///
/// # Shapes
/// - `context`: `[n, d_context]`, `candidates`: `[m, d_candidate]` → `[n, m]`
#[derive(Module, Debug)]
pub struct ConcatCritic<B: Backend> {
    net: Mlp<B>,
    d_context: usize,
    d_candidate: usize,
}

impl<B: Backend> Critic<B> for ConcatCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, dc] = context.dims();
        let [m, dx] = candidates.dims();
        let c = context.unsqueeze_dim::<3>(1).expand([n, m, dc]);
        let x = candidates.unsqueeze_dim::<3>(0).expand([n, m, dx]);
        let pairs = Tensor::cat(vec![c, x], 2).reshape([n * m, dc + dx]);
        self.net.forward(pairs).reshape([n, m])
    }

    fn input_dims(&self) -> (Option<usize>, Option<usize>) {
        (Some(self.d_context), Some(self.d_candidate))
    }
}
