//! The arithmetic of the tiled losses on a backend without autodiff: the loss and its
//! gradients with respect to both embedding matrices, computed over column tiles so that no
//! `n × m` matrix is ever held.
//!
//! With scores `s_ij = scale · q_i · k_j` (excluded pairs at [`MASKED_LOG_SCORE`]) and
//! positive column `p(i)`, `J = mean_i [lse_i − s_{i,p(i)}]`, and
//! `∂J/∂s_ij = (softmax_ij − [j = p(i)]) / n` (the InfoNCE gradient, van den Oord et al.
//! 2018), so
//! `∂J/∂q_i = scale/n · (Σ_j softmax_ij k_j − k_{p(i)})` and
//! `∂J/∂k_j = scale/n · (Σ_i softmax_ij q_i − Σ_{i: p(i) = j} q_i)`.
//! Pass one keeps a running maximum and sum per row (the online log-sum-exp of Milakov and
//! Gimelshein 2018); pass two recomputes each tile's scores and accumulates both products.

use burn::tensor::{Int, Tensor, backend::Backend};

use super::MASKED_LOG_SCORE;

/// Which candidate is each row's positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TiledLayout {
    /// Row `i`'s positive is candidate `i` (`m ≥ n`; candidates `n..m` are negatives for
    /// every row): InfoNCE with in-batch negatives.
    Diagonal,
    /// Rows and candidates are the same `2B` two-view rows (view a, then view b): row `k`'s
    /// positive is `k ± B` and its own column is left out: NT-Xent.
    TwoView,
}

/// The loss `[1]` and the gradients of the mean loss with respect to the rows and the
/// candidates.
pub(super) struct LossAndGradients<B: Backend> {
    pub loss: Tensor<B, 1>,
    pub d_rows: Tensor<B, 2>,
    pub d_candidates: Tensor<B, 2>,
}

/// The loss and both gradients, `tile` candidate columns at a time. Shapes are checked by
/// the caller: `rows` `[n, d]`, `candidates` `[m, d]` (`m ≥ n` for `Diagonal`, `m = n`
/// even for `TwoView`), `tile ≥ 1`.
pub(super) fn loss_and_gradients<B: Backend>(
    rows: Tensor<B, 2>,
    candidates: Tensor<B, 2>,
    scale: f64,
    layout: TiledLayout,
    tile: usize,
) -> LossAndGradients<B> {
    let tiles = Tiles {
        rows: rows.clone(),
        candidates: candidates.clone(),
        scale,
        layout,
        tile,
    };
    let lse = tiles.log_sum_exp();
    let (positive_candidates, positive_rows) = positive_partners(&rows, &candidates, layout);
    let positive_scores = (rows.clone() * positive_candidates.clone())
        .sum_dim(1)
        .mul_scalar(scale);
    let loss = (lse.clone() - positive_scores).mean().reshape([1]);
    let (softmax_k, softmax_q) = tiles.softmax_products(lse);
    let factor = scale / rows.dims()[0] as f64;
    LossAndGradients {
        loss,
        d_rows: (softmax_k - positive_candidates).mul_scalar(factor),
        d_candidates: (softmax_q - positive_rows).mul_scalar(factor),
    }
}

/// For each row, its positive candidate (`[n, d]`); for each candidate, the sum of the rows
/// whose positive it is (`[m, d]`).
fn positive_partners<B: Backend>(
    rows: &Tensor<B, 2>,
    candidates: &Tensor<B, 2>,
    layout: TiledLayout,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let [n, d] = rows.dims();
    let m = candidates.dims()[0];
    match layout {
        TiledLayout::Diagonal => {
            let own = candidates.clone().slice([0..n, 0..d]);
            let padded = if m > n {
                let zeros = Tensor::zeros([m - n, d], &rows.device());
                Tensor::cat(vec![rows.clone(), zeros], 0)
            } else {
                rows.clone()
            };
            (own, padded)
        }
        // k ↔ k ± B is its own inverse, so both directions swap the two halves.
        TiledLayout::TwoView => (swap_halves(candidates), swap_halves(rows)),
    }
}

/// `[a; b]` → `[b; a]` for two halves of equal height.
fn swap_halves<B: Backend>(x: &Tensor<B, 2>) -> Tensor<B, 2> {
    let [n, d] = x.dims();
    let half = n / 2;
    Tensor::cat(
        vec![
            x.clone().slice([half..n, 0..d]),
            x.clone().slice([0..half, 0..d]),
        ],
        0,
    )
}

/// The tiles of the score matrix `scale · rows · candidatesᵀ`.
struct Tiles<B: Backend> {
    rows: Tensor<B, 2>,
    candidates: Tensor<B, 2>,
    scale: f64,
    layout: TiledLayout,
    tile: usize,
}

impl<B: Backend> Tiles<B> {
    /// The column ranges of the tiles.
    fn ranges(&self) -> impl Iterator<Item = std::ops::Range<usize>> + use<B> {
        let (m, tile) = (self.candidates.dims()[0], self.tile);
        (0..m.div_ceil(tile)).map(move |t| t * tile..((t + 1) * tile).min(m))
    }

    /// The candidates of one column range, `[t, d]`.
    fn candidates_in(&self, cols: std::ops::Range<usize>) -> Tensor<B, 2> {
        let d = self.candidates.dims()[1];
        self.candidates.clone().slice([cols, 0..d])
    }

    /// Scores of one column range, `[n, t]`, with self-pairs masked for `TwoView`.
    fn scores(&self, cols: std::ops::Range<usize>) -> Tensor<B, 2> {
        let k = self.candidates_in(cols.clone());
        let s = self
            .rows
            .clone()
            .matmul(k.transpose())
            .mul_scalar(self.scale);
        if self.layout == TiledLayout::Diagonal {
            return s;
        }
        let n = self.rows.dims()[0];
        let t = cols.len();
        let device = s.device();
        let row_ids = Tensor::<B, 1, Int>::arange(0..n as i64, &device)
            .reshape([n, 1])
            .expand([n, t]);
        let col_ids = Tensor::<B, 1, Int>::arange(cols.start as i64..cols.end as i64, &device)
            .reshape([1, t])
            .expand([n, t]);
        s.mask_fill(row_ids.equal(col_ids), MASKED_LOG_SCORE)
    }

    /// Pass one: each row's log-sum-exp over all candidates, `[n, 1]`. The running maximum
    /// starts at the masked score, where a zero running sum rescales to zero.
    fn log_sum_exp(&self) -> Tensor<B, 2> {
        let (n, device) = (self.rows.dims()[0], self.rows.device());
        let mut max = Tensor::<B, 2>::full([n, 1], MASKED_LOG_SCORE, &device);
        let mut sum = Tensor::<B, 2>::zeros([n, 1], &device);
        for cols in self.ranges() {
            let s = self.scores(cols);
            let new_max = max.clone().max_pair(s.clone().max_dim(1));
            sum = sum * (max - new_max.clone()).exp() + (s - new_max.clone()).exp().sum_dim(1);
            max = new_max;
        }
        max + sum.log()
    }

    /// Pass two: `softmax · candidates` (`[n, d]`) and `softmaxᵀ · rows` (`[m, d]`).
    fn softmax_products(&self, lse: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let mut by_rows = Tensor::zeros(self.rows.dims(), &self.rows.device());
        let mut by_candidates = Vec::new();
        for cols in self.ranges() {
            let p = (self.scores(cols.clone()) - lse.clone()).exp();
            by_rows = by_rows + p.clone().matmul(self.candidates_in(cols));
            by_candidates.push(p.transpose().matmul(self.rows.clone()));
        }
        (by_rows, Tensor::cat(by_candidates, 0))
    }
}
