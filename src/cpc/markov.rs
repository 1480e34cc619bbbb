//! A sequence source with a known answer: a lazy walk on a cycle of states.

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::SequenceBatch;
use crate::trainer::{BatchSource, StepContext};
use crate::{Error, Result};

/// Random stream of the sequences (see [`StepContext::rng`]).
const DATA_STREAM: u64 = 0xC9C0;

/// Sequences of a hidden state `s_t` on a cycle of `states` states: with probability
/// `lambda` it moves one step in the sequence's direction `d`
/// (`s_{t+1} = s_t + d mod S`), otherwise it jumps to a uniformly drawn state; `d = +1`
/// for every sequence when `directions == 1`, `±1` with equal odds when it is 2. The
/// emission is `x_t = onehot(s_t) + noise·ε`, `ε ~ N(0, I)`, and `s_0` is uniform.
///
/// The transition matrix is `T = λΠ + (1 − λ)U` (Π the shift, U uniform), so
/// `Tᵏ = λᵏΠᵏ + (1 − λᵏ)U`: the `k`-step future is known in closed form and so is the best
/// InfoNCE any critic can reach ([`super::markov_optimum`]). The chain is doubly
/// stochastic, so every `s_t` is uniform and another sequence's state at the same step is
/// an independent draw from the marginal `p(x)`.
///
/// # Example
/// ```
/// use infonce::cpc::MarkovSequences;
///
/// let source = MarkovSequences { states: 4, lambda: 1.0, ..MarkovSequences::default() };
/// source.validate().unwrap();
/// let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
/// let (states, directions) = source.sample_states(&mut rng, 2);
/// // λ = 1: every step moves by the direction, +1 with one direction.
/// assert!(directions.iter().all(|&d| d == 0));
/// assert_eq!(states[1], (states[0] + 1) % 4);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkovSequences {
    /// Number of states `S` on the cycle (≥ 2).
    pub states: usize,
    /// Probability `λ ∈ [0, 1]` of a regular move.
    pub lambda: f64,
    /// Standard deviation `σ ≥ 0` of the emission noise.
    pub noise: f64,
    /// 1 (every sequence moves +1) or 2 (each sequence draws +1 or −1).
    pub directions: usize,
    /// Steps per sequence.
    pub length: usize,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Batches per epoch.
    pub steps_per_epoch: usize,
}

impl Default for MarkovSequences {
    fn default() -> Self {
        Self {
            states: 8,
            lambda: 0.8,
            noise: 0.0,
            directions: 1,
            length: 12,
            batch_size: 64,
            steps_per_epoch: 100,
        }
    }
}

impl MarkovSequences {
    /// Checks every field is in range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: String| Err(Error::config(field, why));
        if self.states < 2 {
            return bad("states", format!("must be ≥ 2, got {}", self.states));
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return bad("lambda", format!("must lie in [0, 1], got {}", self.lambda));
        }
        if !self.noise.is_finite() || self.noise < 0.0 {
            return bad(
                "noise",
                format!("must be finite and ≥ 0, got {}", self.noise),
            );
        }
        if !(1..=2).contains(&self.directions) {
            return bad(
                "directions",
                format!("must be 1 or 2, got {}", self.directions),
            );
        }
        if self.length < 2 {
            return bad("length", format!("must be ≥ 2, got {}", self.length));
        }
        if self.batch_size < 1 {
            return bad("batch_size", "must be ≥ 1".into());
        }
        if self.steps_per_epoch < 1 {
            return bad("steps_per_epoch", "must be ≥ 1".into());
        }
        Ok(())
    }

    /// Draws `n` hidden paths: the states, row-major `n × length`, and each sequence's
    /// direction class (0 for +1, 1 for −1).
    pub fn sample_states(&self, rng: &mut impl Rng, n: usize) -> (Vec<usize>, Vec<usize>) {
        let s = self.states;
        let mut states = Vec::with_capacity(n * self.length);
        let mut directions = Vec::with_capacity(n);
        for _ in 0..n {
            let class = if self.directions == 2 {
                rng.random_range(0..2)
            } else {
                0
            };
            let step = if class == 0 { 1 } else { s - 1 };
            let mut state = rng.random_range(0..s);
            for t in 0..self.length {
                if t > 0 {
                    state = if rng.random_bool(self.lambda) {
                        (state + step) % s
                    } else {
                        rng.random_range(0..s)
                    };
                }
                states.push(state);
            }
            directions.push(class);
        }
        (states, directions)
    }

    /// The emissions of `states`: one-hot rows plus noise, row-major `states.len() × S`.
    pub fn emit(&self, rng: &mut impl Rng, states: &[usize]) -> Vec<f32> {
        let s = self.states;
        let mut frames = vec![0.0f32; states.len() * s];
        for (row, &state) in frames.chunks_mut(s).zip(states) {
            row[state] = 1.0;
            if self.noise > 0.0 {
                for v in row.iter_mut() {
                    let e: f64 = rng.sample(StandardNormal);
                    *v += (self.noise * e) as f32;
                }
            }
        }
        frames
    }
}

impl<B: Backend> BatchSource<B> for MarkovSequences {
    type Batch = SequenceBatch<B>;

    fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    fn batch(&self, ctx: &StepContext, device: &B::Device) -> Result<SequenceBatch<B>> {
        self.validate()?;
        let mut rng = ctx.rng(DATA_STREAM);
        let n = self.batch_size;
        let (states, directions) = self.sample_states(&mut rng, n);
        let frames = self.emit(&mut rng, &states);
        let shape = [n, self.length, self.states];
        let first = ctx.step as i64 * n as i64;
        Ok(SequenceBatch {
            frames: Tensor::from_data(TensorData::new(frames, shape), device),
            sequence_ids: (first..first + n as i64).collect(),
            labels: Some(directions),
        })
    }
}
