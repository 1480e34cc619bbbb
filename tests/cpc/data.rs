//! The lazy-cycle source: its chain, its emissions and its checks.

use infonce::Error;
use infonce::backend::PrebuiltNdArray as NdArray;
use infonce::cpc::{MarkovSequences, SequenceBatch};
use infonce::trainer::{BatchSource, StepContext};
use rand::SeedableRng;

use crate::common::values;

fn rng() -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(3)
}

#[test]
fn moves_follow_the_chain_and_its_direction() {
    let source = MarkovSequences {
        states: 8,
        lambda: 0.7,
        directions: 2,
        length: 50,
        ..MarkovSequences::default()
    };
    let (states, directions) = source.sample_states(&mut rng(), 400);
    assert!(directions.contains(&0) && directions.contains(&1));
    let (mut forward, mut total) = (0usize, 0usize);
    for (path, &d) in states.chunks(50).zip(&directions) {
        let step = if d == 0 { 1 } else { 7 };
        for w in path.windows(2) {
            forward += usize::from(w[1] == (w[0] + step) % 8);
            total += 1;
        }
    }
    // A regular move, or a jump that happens to land there: λ + (1 − λ)/S.
    let want = 0.7 + 0.3 / 8.0;
    let got = forward as f64 / total as f64;
    assert!(
        (got - want).abs() < 0.01,
        "moves in the direction: {got}, want {want}"
    );
}

#[test]
fn noise_free_frames_are_one_hot_and_batches_are_reproducible() {
    let source = MarkovSequences {
        states: 5,
        length: 6,
        batch_size: 3,
        ..MarkovSequences::default()
    };
    let ctx = StepContext {
        seed: 1,
        step: 4,
        epoch: 0,
        index_in_epoch: 4,
    };
    let device = Default::default();
    let batch: SequenceBatch<NdArray> = source.batch(&ctx, &device).unwrap();
    assert_eq!(batch.frames.dims(), [3, 6, 5]);
    assert_eq!(batch.sequence_ids, vec![12, 13, 14]);
    assert_eq!(batch.labels, Some(vec![0, 0, 0]));
    let v = values(batch.frames.clone());
    assert!(
        v.chunks(5)
            .all(|r| r.iter().sum::<f64>() == 1.0 && r.iter().all(|&x| x == 0.0 || x == 1.0))
    );
    let again: SequenceBatch<NdArray> = source.batch(&ctx, &device).unwrap();
    assert_eq!(values(again.frames), v);
    let noisy = MarkovSequences {
        noise: 0.5,
        ..source
    };
    let n: SequenceBatch<NdArray> = noisy.batch(&ctx, &device).unwrap();
    assert!(values(n.frames).iter().any(|&x| x != 0.0 && x != 1.0));
}

#[test]
fn out_of_range_settings_are_named() {
    let base = MarkovSequences::default();
    let cases = [
        (
            "states",
            MarkovSequences {
                states: 1,
                ..base.clone()
            },
        ),
        (
            "lambda",
            MarkovSequences {
                lambda: 1.5,
                ..base.clone()
            },
        ),
        (
            "lambda",
            MarkovSequences {
                lambda: f64::NAN,
                ..base.clone()
            },
        ),
        (
            "noise",
            MarkovSequences {
                noise: -0.1,
                ..base.clone()
            },
        ),
        (
            "noise",
            MarkovSequences {
                noise: f64::INFINITY,
                ..base.clone()
            },
        ),
        (
            "directions",
            MarkovSequences {
                directions: 3,
                ..base.clone()
            },
        ),
        (
            "length",
            MarkovSequences {
                length: 1,
                ..base.clone()
            },
        ),
        (
            "batch_size",
            MarkovSequences {
                batch_size: 0,
                ..base.clone()
            },
        ),
    ];
    for (field, source) in cases {
        match source.validate() {
            Err(Error::InvalidConfig { name, .. }) => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
