//! Packing a step's embeddings into one row per peer for a single gather, and gathering
//! the row ids beside it.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};

use super::Peer;
use super::collective_ops::gather_detached;
use crate::sampler::{Embeddings, ExplicitNegatives, Rows};
use crate::{Error, Result};

/// Ids travel as two exact `f32` halves: `id = hi·2¹⁶ + lo`, `0 ≤ lo < 2¹⁶`.
const HALF: i64 = 1 << 16;

/// What [`pack_embeddings`] flattened, to cut the gathered rows apart again.
pub(crate) struct Layout<B: Backend> {
    context_width: usize,
    sample_width: usize,
    negatives: Option<NegativesLayout>,
    rows: Rows<B>,
}

#[derive(Clone, Copy)]
enum NegativesLayout {
    Paired { per_row: usize, width: usize },
    Unpaired { count: usize, width: usize },
}

/// Contexts, samples and explicit negatives of one peer as a single `[1, total]` row.
pub(crate) fn pack_embeddings<B: Backend>(e: Embeddings<B>) -> (Tensor<B, 2>, Layout<B>) {
    let Embeddings {
        context,
        samples,
        negatives,
        rows,
    } = e;
    let (context_width, sample_width) = (context.dims()[1], samples.dims()[1]);
    let mut parts = vec![flat(context), flat(samples)];
    let negatives = negatives.map(|neg| match neg {
        ExplicitNegatives::Paired(t) => {
            let [_, per_row, width] = t.dims();
            parts.push(t.flatten::<1>(0, 2).unsqueeze());
            NegativesLayout::Paired { per_row, width }
        }
        ExplicitNegatives::Unpaired(t) => {
            let [count, width] = t.dims();
            parts.push(flat(t));
            NegativesLayout::Unpaired { count, width }
        }
    });
    let layout = Layout {
        context_width,
        sample_width,
        negatives,
        rows,
    };
    (Tensor::cat(parts, 1), layout)
}

fn flat<B: Backend>(t: Tensor<B, 2>) -> Tensor<B, 2> {
    t.flatten::<1>(0, 1).unsqueeze()
}

/// The gathered `[world, total]` rows cut back into embeddings of `world·n` rows.
pub(crate) fn unpack_embeddings<B: AutodiffBackend>(
    peer: &Peer,
    gathered: Tensor<B, 2>,
    layout: Layout<B>,
    n: usize,
) -> Result<Embeddings<B>> {
    let w = peer.world();
    let mut at = 0;
    let mut take = |len: usize| {
        let part = gathered.clone().slice([0..w, at..at + len]);
        at += len;
        part
    };
    let context = take(n * layout.context_width).reshape([w * n, layout.context_width]);
    let samples = take(n * layout.sample_width).reshape([w * n, layout.sample_width]);
    let negatives = layout.negatives.map(|neg| match neg {
        NegativesLayout::Paired { per_row, width } => {
            ExplicitNegatives::Paired(take(n * per_row * width).reshape([w * n, per_row, width]))
        }
        NegativesLayout::Unpaired { count, width } => {
            ExplicitNegatives::Unpaired(take(count * width).reshape([w * count, width]))
        }
    });
    let rows = gather_row_ids(peer, &layout.rows, n, &gathered.device())?;
    let mut e = Embeddings::new(context, samples).with_rows(rows);
    e.negatives = negatives;
    Ok(e)
}

/// Every peer's row ids in rank order, and each row's owner.
fn gather_row_ids<B: AutodiffBackend>(
    peer: &Peer,
    rows: &Rows<B>,
    n: usize,
    device: &B::Device,
) -> Result<Rows<B>> {
    let fields = [&rows.instance, &rows.label, &rows.sequence, &rows.position];
    let present: Vec<&Tensor<B, 1, Int>> = fields.iter().filter_map(|f| f.as_ref()).collect();
    let mut gathered = Vec::new();
    if !present.is_empty() {
        let halves = present
            .iter()
            .map(|t| encode_ids::<B::InnerBackend>(t.to_data(), device))
            .collect::<Result<Vec<_>>>()?;
        let packed = Tensor::cat(halves, 1);
        let all = gather_detached(peer, "row-id gather", packed)?;
        gathered = decode_ids::<B>(all, present.len(), n, device);
    }
    let mut next = gathered.into_iter();
    let mut pick = |f: &Option<Tensor<B, 1, Int>>| f.as_ref().and_then(|_| next.next());
    let owner: Vec<i64> = (0..peer.world() * n).map(|i| (i / n) as i64).collect();
    Ok(Rows {
        instance: pick(&rows.instance),
        label: pick(&rows.label),
        sequence: pick(&rows.sequence),
        position: pick(&rows.position),
        owner: Some(Tensor::from_data(
            TensorData::new(owner.clone(), [owner.len()]),
            device,
        )),
    })
}

/// `[1, 2n]`: the ids' high halves, then their low halves.
fn encode_ids<B: Backend>(ids: TensorData, device: &B::Device) -> Result<Tensor<B, 2>> {
    let ids: Vec<i64> = ids.convert::<i64>().to_vec().unwrap_or_default();
    if let Some(bad) = ids.iter().find(|&&id| i32::try_from(id).is_err()) {
        return Err(Error::config(
            "row ids of a data-parallel batch",
            format!("id {bad} is outside the 32-bit range the gather carries exactly"),
        ));
    }
    let hi = ids.iter().map(|id| id.div_euclid(HALF) as f32);
    let lo = ids.iter().map(|id| id.rem_euclid(HALF) as f32);
    let values: Vec<f32> = hi.chain(lo).collect();
    Ok(Tensor::from_data(
        TensorData::new(values, [1, 2 * ids.len()]),
        device,
    ))
}

/// The gathered `[world, fields·2n]` halves back into one `[world·n]` id vector per field.
fn decode_ids<B: AutodiffBackend>(
    all: Tensor<B::InnerBackend, 2>,
    fields: usize,
    n: usize,
    device: &B::Device,
) -> Vec<Tensor<B, 1, Int>> {
    let values: Vec<f32> = all.to_data().convert::<f32>().to_vec().unwrap_or_default();
    let width = fields * 2 * n;
    let world = values.len() / width.max(1);
    (0..fields)
        .map(|f| {
            let ids: Vec<i64> = (0..world * n)
                .map(|i| {
                    let row = &values[(i / n) * width + f * 2 * n..];
                    let (hi, lo) = (row[i % n] as i64, row[n + i % n] as i64);
                    hi * HALF + lo
                })
                .collect();
            Tensor::from_data(TensorData::new(ids, [world * n]), device)
        })
        .collect()
}
