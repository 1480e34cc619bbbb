//! The `Critic` trait.

use burn::module::{Module, ModuleDisplay};
use burn::tensor::{Tensor, backend::Backend};

use crate::{Error, Result};

/// Scores every (context, candidate) pair: `log_scores[i][j] = log f(x_j, c_i)`.
///
/// A critic is a Burn [`Module`], so it may hold parameters (a learnable temperature, a
/// bilinear `W`, an MLP) that are trained with the encoders. InfoNCE is optimal when
/// `f(x, c) ∝ p(x|c) / p(x)` (van den Oord et al. 2018, eq. 3).
///
/// # Shapes
/// - `context`: `[n, d_c]`
/// - `candidates`: `[m, d_x]`
/// - output: `[n, m]`
///
/// # Example: a user-defined critic
/// ```
/// use burn::module::Module;
/// use burn::tensor::{backend::Backend, Tensor};
/// use infonce::Critic;
///
/// /// Negative squared Euclidean distance.
/// #[derive(Module, Debug)]
/// struct NegativeDistance<B: Backend> {
///     backend: core::marker::PhantomData<B>,
/// }
///
/// impl<B: Backend> Critic<B> for NegativeDistance<B> {
///     fn log_scores(&self, c: Tensor<B, 2>, x: Tensor<B, 2>) -> Tensor<B, 2> {
///         let c2 = c.clone().powi_scalar(2).sum_dim(1); // [n, 1]
///         let x2 = x.clone().powi_scalar(2).sum_dim(1).transpose(); // [1, m]
///         c.matmul(x.transpose()).mul_scalar(2.0) - c2 - x2
///     }
/// }
///
/// let device = Default::default();
/// let critic = NegativeDistance::<infonce::backend::PrebuiltNdArray> { backend: Default::default() };
/// let s = critic.log_scores(Tensor::ones([2, 3], &device), Tensor::ones([5, 3], &device));
/// assert_eq!(s.dims(), [2, 5]);
/// ```
pub trait Critic<B: Backend>: Module<B> + ModuleDisplay {
    /// `log f(x_j, c_i)` for all pairs, `[n, m]`.
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2>;

    /// The embedding widths this critic accepts, `(d_c, d_x)`; `None` accepts any width.
    /// The default accepts anything of equal width.
    fn input_dims(&self) -> (Option<usize>, Option<usize>) {
        (None, None)
    }

    /// Called after every optimiser step with the number of steps completed: a learnable
    /// temperature is clamped here rather than in the forward pass, where a clamp would stop
    /// its gradient for good. The default returns the critic unchanged.
    fn after_step(self, _step: u64) -> Self
    where
        Self: Sized,
    {
        self
    }

    /// Whether context and candidate widths must be equal (true for dot-product critics).
    fn requires_equal_dims(&self) -> bool {
        false
    }

    /// [`Critic::log_scores`] after checking the shapes on the host.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] for zero rows, [`Error::ShapeMismatch`] when a width differs
    /// from [`Critic::input_dims`] or, for dot-product critics, from the other side.
    fn try_log_scores(
        &self,
        context: Tensor<B, 2>,
        candidates: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>> {
        let [n, d_c] = context.dims();
        let [m, d_x] = candidates.dims();
        if n == 0 || m == 0 {
            return Err(Error::EmptyBatch {
                what: "critic input".into(),
            });
        }
        let (want_c, want_x) = self.input_dims();
        if let Some(w) = want_c.filter(|&w| w != d_c) {
            return Err(Error::shape(
                "critic context width",
                format!("{w}"),
                format!("{d_c}"),
            ));
        }
        if let Some(w) = want_x.filter(|&w| w != d_x) {
            return Err(Error::shape(
                "critic candidate width",
                format!("{w}"),
                format!("{d_x}"),
            ));
        }
        if self.requires_equal_dims() && d_c != d_x {
            return Err(Error::shape(
                "critic context vs candidate width",
                format!("{d_c}"),
                format!("{d_x}"),
            ));
        }
        Ok(self.log_scores(context, candidates))
    }
}
