//! A peer's own rows of a gathered candidate set (open_clip's local loss).

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use super::Peer;
use crate::sampler::CandidateSet;
use crate::{Error, Result};

/// The rows of `set` whose [`crate::sampler::Rows::owner`] is this peer, against all of
/// its columns: what a peer's loss covers when the objective's rows are independent.
/// `None` when the set's rows carry no owner (a sampler that built its own row identity):
/// the caller then computes the whole loss, which is also exact, only not shared out.
///
/// # Errors
/// [`Error::EmptyBatch`] when no row belongs to this peer; those of
/// [`crate::loss::Mask::select_rows`].
pub fn select_local_rows<B: Backend>(
    set: CandidateSet<B>,
    peer: &Peer,
) -> Result<Option<CandidateSet<B>>> {
    let Some(owner) = set.context_rows.owner.clone() else {
        return Ok(None);
    };
    let owners: Vec<i64> = owner
        .to_data()
        .convert::<i64>()
        .to_vec()
        .unwrap_or_default();
    let mine: Vec<usize> = (0..owners.len())
        .filter(|&i| owners[i] == peer.rank() as i64)
        .collect();
    if mine.is_empty() {
        return Err(Error::EmptyBatch {
            what: format!("rows of data-parallel peer {}", peer.rank()),
        });
    }
    let dims = set.dims();
    let device = set.context.device();
    let index = || -> Tensor<B, 1, Int> {
        let v: Vec<i64> = mine.iter().map(|&r| r as i64).collect();
        Tensor::from_data(TensorData::new(v, [mine.len()]), &device)
    };
    Ok(Some(CandidateSet {
        context: set.context.select(0, index()),
        context_rows: set.context_rows.select(index()),
        positives: set.positives.select_rows(&mine, dims, &device)?,
        valid: set
            .valid
            .map(|v| v.select_rows(&mine, dims, &device))
            .transpose()?,
        log_weights: set.log_weights.map(|w| w.select(0, index())),
        ..set
    }))
}
