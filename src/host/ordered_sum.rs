//! Sums over many rows computed in parallel yet added in a fixed order, so that a gradient
//! has the same bits on any number of threads.

use rayon::prelude::*;

/// Most groups a sum is cut into.
const GROUPS: usize = 16;

/// `Σ` over `items` rows of `width`-wide contributions: the rows are cut into at most
/// [`GROUPS`] contiguous groups of whole `unit`s, `add(range, partial)` accumulates one
/// group's rows into its zeroed partial sum (groups run in parallel), and the partials are
/// added in group order.
pub(crate) fn ordered_sum(
    items: usize,
    unit: usize,
    width: usize,
    add: impl Fn(std::ops::Range<usize>, &mut [f32]) + Sync,
) -> Vec<f32> {
    let units = items.div_ceil(unit.max(1));
    let groups = units.clamp(1, GROUPS);
    let per_group = units.div_ceil(groups) * unit.max(1);
    let partials: Vec<Vec<f32>> = (0..groups)
        .into_par_iter()
        .map(|group| {
            let mut partial = vec![0.0f32; width];
            let first = (group * per_group).min(items);
            add(first..((group + 1) * per_group).min(items), &mut partial);
            partial
        })
        .collect();
    let mut total = vec![0.0f32; width];
    for partial in partials {
        total.iter_mut().zip(partial).for_each(|(t, p)| *t += p);
    }
    total
}
