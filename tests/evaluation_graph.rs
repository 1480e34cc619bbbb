//! Evaluation runs the model without recording an autodiff graph. A forward pass of a
//! model that tracks gradients, with no backward pass after it, leaves its graph in Burn's
//! process-wide autodiff state, and every later backward pass walks what is left of it: a
//! CPC run's context probe, which trains a classifier after 24 such passes, took 14 times
//! as long. Each test wraps an encoder so that it counts the calls whose output tracks
//! gradients, then runs an evaluation function on an autodiff backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use infonce::backend::NdArrayAutodiff;
use infonce::cpc::{
    CpcModel, CpcModelConfig, MarkovSequences, ProbeSplit, SequenceNegatives, SequenceSampler,
    context_probe, evaluate_steps,
};
use infonce::critic::DotProductCritic;
use infonce::data::CorrelatedGaussian;
use infonce::encoder::{Mlp, MlpConfig};
use infonce::eval::estimate_mi;
use infonce::model::SharedEncoderModel;
use infonce::sampler::InBatchSampler;
use infonce::{ContrastiveModel, Encoder};

type B = NdArrayAutodiff;

/// An encoder that counts its calls (`calls`) and those made with parameters that require
/// gradients (`tracked`), whose outputs record a graph.
#[derive(Module, Debug)]
struct Counting<B: Backend> {
    inner: Mlp<B>,
    #[module(skip)]
    calls: Arc<AtomicUsize>,
    #[module(skip)]
    tracked: Arc<AtomicUsize>,
}

impl<B: Backend> Encoder<B> for Counting<B> {
    type Input = Tensor<B, 2>;

    fn encode(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut tracking = TracksGradients(false);
        self.inner.visit(&mut tracking);
        if tracking.0 {
            self.tracked.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.encode(input)
    }
}

/// Whether any parameter of a module requires a gradient (then its outputs record a graph).
struct TracksGradients(bool);

impl<B: Backend> ModuleVisitor<B> for TracksGradients {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0 |= param.val().is_require_grad();
    }
}

impl<B: Backend> Counting<B> {
    fn wrap(inner: Mlp<B>) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            tracked: Arc::default(),
        }
    }

    /// `(calls, calls whose output tracked gradients)`.
    fn counts(&self) -> (usize, usize) {
        (
            self.calls.load(Ordering::Relaxed),
            self.tracked.load(Ordering::Relaxed),
        )
    }
}

fn cpc_model(data: &MarkovSequences) -> CpcModel<B, Counting<B>> {
    let config = CpcModelConfig {
        d_input: data.states,
        hidden: vec![8],
        d_embedding: 4,
        d_context: 4,
        steps_ahead: 2,
    };
    let model = config.init::<B>(&Default::default()).unwrap();
    CpcModel::new(
        Counting::wrap(model.frame_encoder),
        data.states,
        model.context_model,
        model.critics,
    )
}

fn markov(directions: usize) -> MarkovSequences {
    MarkovSequences {
        batch_size: 8,
        length: 5,
        directions,
        ..MarkovSequences::default()
    }
}

/// The wrapped encoder does count tracked calls: the trained model's forward pass is one.
#[test]
fn the_counting_encoder_sees_a_tracked_forward_pass() {
    let data = markov(1);
    let model = cpc_model(&data);
    let batch = infonce::trainer::BatchSource::<B>::batch(
        &data,
        &infonce::trainer::StepContext::fresh(0, 0),
        &Default::default(),
    )
    .unwrap();
    let _ = model.embed(batch).unwrap();
    assert_eq!(model.frame_encoder.counts(), (1, 1));
}

#[test]
fn cpc_evaluation_and_probe_record_no_graph() {
    let device = Default::default();
    let data = markov(2);
    let model = cpc_model(&data);
    let sampler = SequenceSampler::new(2, SequenceNegatives::SameStep);
    evaluate_steps(&model, &mut sampler.clone(), &data, 2, 3, 1, &device).unwrap();
    assert_eq!(model.frame_encoder.counts(), (3, 0), "evaluate_steps");
    let split = ProbeSplit {
        train_batches: 2,
        test_batches: 2,
        seed: 5,
    };
    context_probe(&model, &data, split, &device).unwrap();
    assert_eq!(model.frame_encoder.counts(), (7, 0), "context_probe");
}

#[test]
fn mi_estimation_records_no_graph() {
    let device = Default::default();
    let mlp = MlpConfig::new(4, vec![8], 4).init::<B>(&device).unwrap();
    let model = SharedEncoderModel::new(Counting::wrap(mlp), DotProductCritic::new());
    let data = CorrelatedGaussian::new(4, 0.5, 16, 4).unwrap();
    estimate_mi(&model, &mut InBatchSampler, &data, 3, 9, &device).unwrap();
    let (calls, tracked) = model.encoder.counts();
    assert!(calls >= 3, "{calls} calls");
    assert_eq!(tracked, 0);
}
