//! CPC's per-step bilinear critics, one `W_k` per prediction step.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use crate::critic::{BilinearCritic, BilinearCriticConfig};
use crate::{Critic, Error};

/// Configuration of [`StepCritics`].
#[derive(Config, Debug)]
pub struct StepCriticsConfig {
    /// Prediction steps `K` (one critic each).
    pub steps: usize,
    /// Width of the contexts `c_t`.
    pub d_context: usize,
    /// Width of the frame embeddings `z_{t+k}`.
    pub d_candidate: usize,
}

impl StepCriticsConfig {
    /// `K` bilinear critics, each starting near the (rectangular) identity.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero steps or a zero width.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<StepCritics<B>> {
        if self.steps == 0 {
            return Err(Error::config("steps_ahead", "must be ≥ 1"));
        }
        let one = BilinearCriticConfig::new(self.d_context, self.d_candidate);
        let steps = (0..self.steps)
            .map(|_| one.init(device))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(StepCritics { steps })
    }
}

/// `log f_k(x, c) = cᵀ W_k x` for `k = 1..K` (CPC, van den Oord et al. 2018, eq. 3:
/// `f_k(x_{t+k}, c_t) = exp(z_{t+k}ᵀ W_k c_t)`).
///
/// The context rows come in `K` equal blocks, block `k − 1` holding the contexts that
/// predict `k` steps ahead (the layout of [`super::CpcModel`]): block `k − 1` is scored by
/// `W_k` against every candidate.
///
/// # Shapes
/// - `context`: `[K·r, d_c]`, `candidates`: `[m, d_x]` → `[K·r, m]`
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::cpc::StepCriticsConfig;
/// use infonce::Critic;
///
/// let device = Default::default();
/// let critics = StepCriticsConfig::new(3, 4, 5).init::<PrebuiltNdArray>(&device).unwrap();
/// let s = critics.try_log_scores(Tensor::ones([6, 4], &device), Tensor::ones([7, 5], &device));
/// assert_eq!(s.unwrap().dims(), [6, 7]); // 3 blocks of 2 rows
/// assert!(critics.try_log_scores(Tensor::ones([5, 4], &device), Tensor::ones([7, 5], &device)).is_err());
/// ```
#[derive(Module, Debug)]
pub struct StepCritics<B: Backend> {
    /// `W_1 … W_K`.
    pub steps: Vec<BilinearCritic<B>>,
}

impl<B: Backend> StepCritics<B> {
    /// The number of prediction steps `K`.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there is no critic (never true for one built by [`StepCriticsConfig`]).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl<B: Backend> Critic<B> for StepCritics<B> {
    /// Assumes `K` divides the number of rows; [`Critic::try_log_scores`] checks it.
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, _] = context.dims();
        let rows = n / self.steps.len();
        let blocks = context.split(rows, 0);
        let scored = self
            .steps
            .iter()
            .zip(blocks)
            .map(|(critic, block)| critic.log_scores(block, candidates.clone()))
            .collect();
        Tensor::cat(scored, 0)
    }

    fn input_dims(&self) -> (Option<usize>, Option<usize>) {
        self.steps
            .first()
            .map_or((None, None), |critic| critic.input_dims())
    }

    fn try_log_scores(
        &self,
        context: Tensor<B, 2>,
        candidates: Tensor<B, 2>,
    ) -> crate::Result<Tensor<B, 2>> {
        let n = context.dims()[0];
        let k = self.steps.len();
        if k == 0 || !n.is_multiple_of(k) {
            return Err(Error::shape(
                "context rows (K equal blocks, one per prediction step)",
                format!("a multiple of K = {k}"),
                n.to_string(),
            ));
        }
        let (want_c, want_x) = self.input_dims();
        let [_, d_c] = context.dims();
        let [m, d_x] = candidates.dims();
        if n == 0 || m == 0 {
            return Err(Error::EmptyBatch {
                what: "critic input".into(),
            });
        }
        for (what, want, got) in [("context", want_c, d_c), ("candidate", want_x, d_x)] {
            if let Some(w) = want.filter(|&w| w != got) {
                return Err(Error::shape(
                    format!("critic {what} width"),
                    w.to_string(),
                    got.to_string(),
                ));
            }
        }
        Ok(self.log_scores(context, candidates))
    }
}
