//! The model's row layout and the sampler's negatives, checked entry by entry against
//! what the rows' (sequence, position) say; and the typed errors of bad input.

use burn::tensor::{Tensor, TensorData};
use infonce::backend::PrebuiltNdArray as NdArray;
use infonce::cpc::{
    CpcConfig, CpcModel, CpcModelConfig, SequenceBatch, SequenceNegatives, SequenceSampler,
};
use infonce::encoder::Mlp;
use infonce::loss::{BoundKind, PairMask};
use infonce::sampler::{Embeddings, ExplicitNegatives, RowIds};
use infonce::{ContrastiveModel, Error, NegativeSampler};

use crate::common::{random_vec, values};

type Nd = NdArray;
const SEQUENCES: usize = 3;
const LENGTH: usize = 5;
const K: usize = 2;
const P: usize = LENGTH - K;

fn model() -> CpcModel<Nd, Mlp<Nd>> {
    let config = CpcModelConfig {
        d_input: 2,
        hidden: vec![4],
        d_embedding: 3,
        d_context: 4,
        steps_ahead: K,
    };
    config.init(&Default::default()).unwrap()
}

fn batch() -> SequenceBatch<Nd> {
    let x: Vec<f32> = random_vec(SEQUENCES * LENGTH * 2, 1.0, 4)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let frames = Tensor::from_data(
        TensorData::new(x, [SEQUENCES, LENGTH, 2]),
        &Default::default(),
    );
    SequenceBatch {
        frames,
        sequence_ids: vec![10, 11, 12],
        labels: None,
    }
}

fn ids(v: Option<Tensor<Nd, 1, burn::tensor::Int>>) -> Vec<i64> {
    v.unwrap().into_data().convert::<i64>().to_vec().unwrap()
}

#[test]
fn rows_pair_each_context_with_the_frame_k_steps_ahead() {
    let model = model();
    let e = model.embed(batch()).unwrap();
    let n = K * SEQUENCES * P;
    assert_eq!(e.context.dims(), [n, 4]);
    assert_eq!(e.samples.dims(), [n, 3]);
    let (seq, pos) = (ids(e.rows.sequence.clone()), ids(e.rows.position.clone()));
    let z = values(model.encode_frames(batch().frames)); // [b, L, 3]
    let c = values(model.contexts(&batch()).unwrap()); // [b, L, 4]
    let (context, samples) = (values(e.context), values(e.samples));
    for k in 1..=K {
        for b in 0..SEQUENCES {
            for t in 0..P {
                let i = (k - 1) * SEQUENCES * P + b * P + t;
                assert_eq!((seq[i], pos[i]), (10 + b as i64, (t + k) as i64), "row {i}");
                let zi = (b * LENGTH + t + k) * 3;
                assert_eq!(
                    &samples[i * 3..i * 3 + 3],
                    &z[zi..zi + 3],
                    "positive of row {i}"
                );
                let ci = (b * LENGTH + t) * 4;
                assert_eq!(
                    &context[i * 4..i * 4 + 4],
                    &c[ci..ci + 4],
                    "context of row {i}"
                );
            }
        }
    }
}

#[test]
fn negatives_are_chosen_by_step_and_sequence_and_never_repeat_the_positive() {
    let device = Default::default();
    let e = model().embed(batch()).unwrap();
    let (seq, pos) = (ids(e.rows.sequence.clone()), ids(e.rows.position.clone()));
    let n = seq.len();
    let block = |i: usize| i / (n / K);
    for (mode, bound) in [
        (SequenceNegatives::SameStep, BoundKind::Bound),
        (
            SequenceNegatives::SameSequence,
            BoundKind::DependentNegatives,
        ),
        (SequenceNegatives::Both, BoundKind::DependentNegatives),
    ] {
        let set = SequenceSampler::new(K, mode).candidates(e.clone()).unwrap();
        assert_eq!(set.bound, bound);
        let valid = set.valid.unwrap().to_pair_mask([n, n], &device).unwrap();
        let positives = set.positives.to_pair_mask([n, n], &device).unwrap();
        assert_eq!(positives, PairMask::diagonal(n));
        let want = PairMask::from_fn(n, n, |i, j| {
            let step = pos[i] == pos[j];
            let same = seq[i] == seq[j];
            block(i) == block(j)
                && match mode {
                    SequenceNegatives::SameStep => step,
                    SequenceNegatives::SameSequence => same,
                    SequenceNegatives::Both => step || same,
                }
        });
        assert_eq!(valid, want, "{mode}");
        for i in 0..n {
            let copies =
                (0..n).filter(|&j| valid.get(i, j) && seq[j] == seq[i] && pos[j] == pos[i]);
            assert_eq!(
                copies.collect::<Vec<_>>(),
                vec![i],
                "{mode}: row {i}'s positive appears once"
            );
        }
        let expected = mode.candidates(SEQUENCES, P);
        assert!(
            valid.row_counts().iter().all(|&c| c == expected),
            "{mode}: {:?}",
            valid.row_counts()
        );
    }
}

#[test]
fn bad_sequence_input_gets_typed_errors() {
    let model = model();
    let device = Default::default();
    let wide = SequenceBatch::<Nd>::new(Tensor::zeros([2, LENGTH, 3], &device));
    assert!(matches!(
        model.embed(wide),
        Err(Error::ShapeMismatch { .. })
    ));
    let short = SequenceBatch::<Nd>::new(Tensor::zeros([2, K, 2], &device));
    assert!(matches!(
        model.embed(short),
        Err(Error::ShapeMismatch { .. })
    ));
    let empty = SequenceBatch::<Nd>::new(Tensor::zeros([0, LENGTH, 2], &device));
    assert!(matches!(model.embed(empty), Err(Error::EmptyBatch { .. })));
    let mut ids_wrong = batch();
    ids_wrong.sequence_ids.pop();
    assert!(matches!(
        model.embed(ids_wrong),
        Err(Error::ShapeMismatch { .. })
    ));
    let mut labels_wrong = batch();
    labels_wrong.labels = Some(vec![0]);
    assert!(matches!(
        model.embed(labels_wrong),
        Err(Error::ShapeMismatch { .. })
    ));

    let mut sampler = SequenceSampler::new(K, SequenceNegatives::SameStep);
    let bare = Embeddings::<Nd>::new(
        Tensor::zeros([4, 3], &device),
        Tensor::zeros([4, 3], &device),
    );
    assert!(matches!(
        sampler.candidates(bare.clone()),
        Err(Error::InvalidConfig { .. })
    ));
    let rows = RowIds::default().with_sequence_position(vec![0, 0, 1], vec![1, 2, 1]);
    let odd = Embeddings::<Nd>::new(
        Tensor::zeros([3, 3], &device),
        Tensor::zeros([3, 3], &device),
    )
    .with_rows(rows.to_device(&device));
    assert!(matches!(
        sampler.candidates(odd),
        Err(Error::ShapeMismatch { .. })
    ));
    let rows = RowIds::default().with_sequence_position(vec![0, 0, 1, 1], vec![1, 2, 1, 2]);
    let explicit = bare
        .with_rows(rows.to_device(&device))
        .with_negatives(ExplicitNegatives::Unpaired(Tensor::zeros([2, 3], &device)));
    assert!(matches!(
        sampler.candidates(explicit),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn settings_that_do_not_fit_are_named() {
    let field = |c: CpcConfig| match c.validate() {
        Err(Error::InvalidConfig { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    let mut c = CpcConfig::default();
    c.model.steps_ahead = c.data.length;
    assert_eq!(field(c), "steps_ahead");
    let mut c = CpcConfig::default();
    c.data.batch_size = 1;
    assert_eq!(field(c), "batch_size");
    let mut c = CpcConfig {
        negatives: SequenceNegatives::SameSequence,
        ..CpcConfig::default()
    };
    c.data.length = c.model.steps_ahead + 1;
    assert_eq!(field(c), "length");
    assert_eq!(
        field(CpcConfig {
            learning_rate: f64::NAN,
            ..CpcConfig::default()
        }),
        "learning_rate"
    );
    assert_eq!(
        field(CpcConfig {
            epochs: 0,
            ..CpcConfig::default()
        }),
        "epochs"
    );
    CpcConfig::default().validate().unwrap();
    assert!("sideways".parse::<SequenceNegatives>().is_err());
    assert_eq!(
        "both".parse::<SequenceNegatives>().unwrap(),
        SequenceNegatives::Both
    );
}
