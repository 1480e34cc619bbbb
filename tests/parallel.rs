//! Data-parallel training: the differentiable all-gather, the shard-equivalence kit on
//! every built-in objective and both model shapes, the bugs it must catch, step-by-step
//! agreement of a run on one device and on two peers, and the row selection of masks.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use infonce::loss::{Mask, PairMask};

use crate::common::values;

/// `select_rows` of every mask shape equals the rows of the mask built in full.
fn mask_row_selection_matches_dense<B: Backend>(device: &B::Device) {
    let (n, m) = (6, 9);
    let ids =
        |v: Vec<i64>| Tensor::<B, 1, Int>::from_data(TensorData::new(v.clone(), [v.len()]), device);
    let host = PairMask::from_fn(n, m, |i, j| (i * 7 + j * 3) % 4 == 0);
    let masks: Vec<(Mask<B>, [usize; 2])> = vec![
        (Mask::Diagonal { offset: 2 }, [n, m]),
        (Mask::TwoView { batch: 3 }, [n, n]),
        (Mask::RowBlocks { per_row: 1 }, [n, n]),
        (Mask::RowBlocks { per_row: 2 }, [n, 2 * n]),
        (
            Mask::Equal {
                rows: ids(vec![0, 1, 0, 2, 1, 0]),
                cols: ids(vec![1, 0, 2, 2, 0, 1, 1, 0, 2]),
            },
            [n, m],
        ),
        (Mask::Host(host.clone()), [n, m]),
        (Mask::Columns { start: 2, end: 5 }, [n, m]),
        (Mask::Diagonal { offset: 0 }.not(), [n, n]),
        (
            Mask::Diagonal { offset: 1 }.or(Mask::Host(host.clone())),
            [n, m],
        ),
        (
            Mask::Concat(vec![
                (Mask::TwoView { batch: 3 }, n),
                (Mask::RowBlocks { per_row: 1 }, n),
            ]),
            [n, 2 * n],
        ),
    ];
    let rows = [4usize, 0, 5];
    let index = ids(rows.iter().map(|&r| r as i64).collect());
    for (mask, dims) in masks {
        let full = mask
            .to_tensor(dims, device)
            .unwrap()
            .select(0, index.clone());
        let picked = mask
            .select_rows(&rows, dims, device)
            .unwrap()
            .to_tensor([rows.len(), dims[1]], device)
            .unwrap();
        assert_eq!(values(full.float()), values(picked.float()), "{mask:?}");
    }
}

backend_tests!(mask_row_selection_matches_dense);

#[cfg(feature = "collective")]
mod with_peers {
    use super::*;
    use crate::common::small_models::{
        B, Batch, D_IN, OBJECTIVES, flat_params, shared_model, two_tower_model,
    };
    use crate::common::{assert_close, random_vec, tensor2};
    use infonce::critic::CosineCriticConfig;
    use infonce::encoder::MlpConfig;
    use infonce::model::{MomentumEncoderModel, MomentumSchedule, PairBatch};
    use infonce::objective::ObjectiveKind;
    use infonce::parallel::{
        GatherBackend, GatherFault, Peer, ShardCheck, all_gather, check_shard_equivalence,
        run_peers,
    };
    use infonce::sampler::{InBatchSampler, MemoryQueueSampler, RowIds, TwoViewSampler};
    use infonce::trainer::{Trainer, TrainerConfig};
    use infonce::{ContrastiveModel, Error};

    /// Gathered rows are every peer's in rank order; each peer's rows receive the sum over
    /// peers of the gradient that reached their slot.
    fn gather_forward_and_backward<B: GatherBackend>(device: &B::Device) {
        let (k, n, d) = (3, 2, 3);
        let own = |p: usize| random_vec(n * d, 1.0, 10 + p as u64);
        let weight = |p: usize| random_vec(k * n * d, 1.0, 20 + p as u64);
        let out = run_peers::<B, _>(vec![device.clone(); k], |peer, device| {
            let x = tensor2::<B>(&own(peer.rank()), n, d, &device).require_grad();
            let all = all_gather(&peer, x.clone())?;
            let w = tensor2::<B>(&weight(peer.rank()), k * n, d, &device);
            let grads = (all.clone() * w).sum().backward();
            let g = x.grad(&grads).expect("own rows get a gradient");
            Ok((values(all.inner()), values(g)))
        })
        .unwrap();
        let expected_all: Vec<f64> = (0..k).flat_map(own).collect();
        for (p, (all, grad)) in out.iter().enumerate() {
            assert_close(all, &expected_all, 1e-6, 0.0, "gathered rows");
            let want: Vec<f64> = (0..n * d)
                .map(|i| (0..k).map(|q| weight(q)[p * n * d + i]).sum())
                .collect();
            assert_close(grad, &want, 1e-5, 0.0, "gradient summed over peers");
        }
    }

    backend_tests!(gather_forward_and_backward);

    const N: usize = 8;

    /// A global batch of `N` pairs (labels in 3 classes) and its shards for `k` peers.
    fn batches(k: usize, seed: u64) -> (Batch, Vec<Batch>) {
        let device = Default::default();
        let x = random_vec(N * D_IN, 1.0, seed);
        let noise = random_vec(N * D_IN, 0.3, seed + 1);
        let y: Vec<f64> = x.iter().zip(&noise).map(|(a, b)| a + b).collect();
        let make = |rows: std::ops::Range<usize>| {
            let cut = |v: &[f64]| v[rows.start * D_IN..rows.end * D_IN].to_vec();
            let len = rows.len();
            let ids = RowIds::default()
                .with_instance(rows.clone().map(|i| i as i64).collect())
                .with_label(rows.clone().map(|i| (i % 3) as i64).collect());
            PairBatch::new(
                tensor2::<B>(&cut(&x), len, D_IN, &device),
                tensor2::<B>(&cut(&y), len, D_IN, &device),
            )
            .with_ids(ids)
        };
        let per = N / k;
        (
            make(0..N),
            (0..k).map(|p| make(p * per..(p + 1) * per)).collect(),
        )
    }

    fn objectives() -> Vec<ObjectiveKind> {
        OBJECTIVES.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn check<M>(
        model: &M,
        objective: ObjectiveKind,
        k: usize,
        two_view: bool,
        check: ShardCheck,
    ) -> infonce::Result<f64>
    where
        M: ContrastiveModel<B, Batch = Batch> + burn::module::AutodiffModule<B> + Send,
    {
        let (whole, shards) = batches(k, 40);
        let devices = vec![Default::default(); k];
        let report = if two_view {
            check_shard_equivalence(
                model,
                || TwoViewSampler,
                objective,
                whole,
                shards,
                devices,
                check,
            )
        } else {
            check_shard_equivalence(
                model,
                || InBatchSampler,
                objective,
                whole,
                shards,
                devices,
                check,
            )
        }?;
        Ok(report.max_abs_grad_diff)
    }

    /// The kit's guarantee for the crate's own objectives, both model shapes, 1, 2 and 4
    /// peers (the shared encoder in SimCLR's two-view layout, the two towers in CLIP's).
    #[test]
    fn built_in_objectives_are_shard_equivalent() {
        let (shared, towers) = (shared_model(), two_tower_model());
        for objective in objectives() {
            for k in [1, 2, 4] {
                let two_view = objective != ObjectiveKind::Symmetric;
                check(&shared, objective, k, two_view, ShardCheck::default())
                    .unwrap_or_else(|e| panic!("shared encoder, {objective:?}, {k} peers: {e}"));
                check(&towers, objective, k, false, ShardCheck::default())
                    .unwrap_or_else(|e| panic!("two towers, {objective:?}, {k} peers: {e}"));
            }
        }
    }

    /// The two bugs of the field fail the check: a backward without the sum over peers
    /// (lightly #1528), a gather whose copy carries no gradient (open_clip #1047).
    #[test]
    fn broken_gathers_fail_the_check() {
        let model = shared_model();
        for fault in [GatherFault::NoSum, GatherFault::NoGradient] {
            let bad = ShardCheck {
                fault,
                ..ShardCheck::default()
            };
            let result = check(&model, ObjectiveKind::InfoNce, 2, true, bad);
            assert!(
                matches!(result, Err(Error::ShardMismatch { max_abs_grad_diff, .. }) if max_abs_grad_diff > 1e-4),
                "{fault:?}: {result:?}"
            );
        }
    }

    /// Five Adam steps on one device with batch 8 and on two peers with 4 each: the same
    /// loss at every step, the same parameters at the end.
    /// The steps must move the parameters, so that agreement is not that of a no-op.
    fn curves_agree<M, S>(model: M, sampler: impl Fn() -> S + Sync)
    where
        M: ContrastiveModel<B, Batch = Batch> + burn::module::AutodiffModule<B> + Send + Sync,
        S: infonce::NegativeSampler<B> + Send,
    {
        let config = TrainerConfig {
            progress: false,
            ..TrainerConfig::default()
        };
        infonce::trainer::materialize_parameters::<B, _>(&model);
        let mut single =
            Trainer::new(config.clone(), model.clone(), sampler(), Default::default()).unwrap();
        let one: Vec<f64> = (0..5)
            .map(|s| single.train_step(batches(2, 50 + s).0, 1e-2).unwrap().loss)
            .collect();
        let peers = run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let rank = peer.rank();
            let mut t = Trainer::new_peer(config.clone(), model.clone(), sampler(), device, peer)?;
            let losses = (0..5)
                .map(|s| {
                    Ok(t.train_step(batches(2, 50 + s).1.swap_remove(rank), 1e-2)?
                        .loss)
                })
                .collect::<infonce::Result<Vec<f64>>>()?;
            Ok((losses, t.into_model()))
        })
        .unwrap();
        let moved = flat_params(single.model())
            .iter()
            .zip(&flat_params(&model))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(moved > 1e-3, "the steps changed the model: {moved}");
        for (losses, m) in peers {
            assert_close(&losses, &one, 1e-5, 0.0, "loss per step");
            assert_close(
                &flat_params(&m),
                &flat_params(single.model()),
                1e-5,
                0.0,
                "parameters after 5 steps",
            );
        }
    }

    #[test]
    fn loss_curves_of_one_device_and_two_peers_agree() {
        curves_agree(shared_model(), || TwoViewSampler);
    }

    /// MoCo's shape: a momentum encoder and a queue of 12 keys. The queue enqueues every
    /// peer's keys and the momentum copy follows identical updates, so the two peers stay on
    /// the one-device curve while the queue fills and wraps.
    #[test]
    fn queue_and_momentum_encoder_stay_consistent_across_peers() {
        let device = Default::default();
        let make = || MlpConfig::new(D_IN, vec![7], 4).init::<B>(&device).unwrap();
        let model = MomentumEncoderModel::new(
            make(),
            make(),
            CosineCriticConfig::new()
                .with_temperature(0.5)
                .init::<B>(&device)
                .unwrap(),
            MomentumSchedule::constant(0.9),
        )
        .unwrap();
        curves_agree(model, || MemoryQueueSampler::<B>::new(12).unwrap());
    }

    /// Two peers with `out_dir` set on both: only peer 0 writes. A run stopped after two
    /// steps and resumed by both peers from peer 0's checkpoint continues exactly as the
    /// run that never stopped; a resume on another number of peers is refused.
    #[test]
    fn peers_checkpoint_once_and_resume_exactly() {
        let dir = crate::trainer::temp_dir("parallel-resume");
        let config = TrainerConfig {
            progress: false,
            out_dir: Some(dir.to_string_lossy().into_owned()),
            ..TrainerConfig::default()
        };
        let model = shared_model();
        infonce::trainer::materialize_parameters::<B, _>(&model);
        let ckpt = dir.join("step2.ckpt");
        let steps =
            |t: &mut Trainer<B, _, TwoViewSampler>, rank: usize, range: std::ops::Range<u64>| {
                range
                    .map(|s| {
                        Ok(t.train_step(batches(2, 70 + s).1.swap_remove(rank), 1e-2)?
                            .loss)
                    })
                    .collect::<infonce::Result<Vec<f64>>>()
            };
        let through = run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let rank = peer.rank();
            let cfg = TrainerConfig {
                out_dir: None,
                ..config.clone()
            };
            let mut t = Trainer::new_peer(cfg, model.clone(), TwoViewSampler, device, peer)?;
            steps(&mut t, rank, 0..4)
        })
        .unwrap();
        run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let (rank, leader) = (peer.rank(), peer.is_leader());
            let mut t =
                Trainer::new_peer(config.clone(), model.clone(), TwoViewSampler, device, peer)?;
            steps(&mut t, rank, 0..2)?;
            if leader {
                t.save_checkpoint(&ckpt)?;
            }
            Ok(())
        })
        .unwrap();
        let resumed = run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let rank = peer.rank();
            let mut t = Trainer::resume_peer(
                config.clone(),
                model.clone(),
                TwoViewSampler,
                device,
                &ckpt,
                peer,
            )?;
            steps(&mut t, rank, 2..4)
        })
        .unwrap();
        for (r, t) in resumed.iter().zip(&through) {
            assert_close(r, &t[2..], 1e-6, 0.0, "resumed losses");
        }
        let alone = run_peers::<B, _>(vec![Default::default(); 1], |peer, device| {
            Trainer::resume_peer(
                config.clone(),
                model.clone(),
                TwoViewSampler,
                device,
                &ckpt,
                peer,
            )
            .map(|_| ())
        });
        assert!(
            matches!(alone, Err(Error::ResumeMismatch { .. })),
            "{alone:?}"
        );
        let written: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(written.iter().any(|f| f == "step2.ckpt"), "{written:?}");
    }

    /// The example writes the report the issue asks for, and refuses bad flags as a usage
    /// error.
    #[test]
    fn data_parallel_example_reports_and_refuses_bad_flags() {
        let dir = crate::trainer::temp_dir("data-parallel-example");
        let json = dir.join("report.json");
        let (code, stderr) = crate::example_flags::run(
            "data_parallel",
            &[
                "--peers",
                "4",
                "--steps",
                "3",
                "--batch-size",
                "16",
                "--json",
                json.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(0), "{stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["peers"], 4);
        assert_eq!(report["global_batch"], 16);
        assert_eq!(report["negatives_per_row"], 30);
        assert!(
            report["max_abs_grad_diff"].as_f64().unwrap() <= 1e-5,
            "{report}"
        );
        assert!(
            report["max_loss_diff"].as_f64().unwrap() <= 1e-5,
            "{report}"
        );
        assert!(report["bytes_per_step"].as_u64().unwrap() > 0);
        assert!(
            report["step_ms"]["1"].as_f64().is_some() && report["step_ms"]["k"].as_f64().is_some()
        );
        crate::example_flags::refused("data_parallel", &["--peers", "0"], "--peers");
        let (code, stderr) =
            crate::example_flags::run("data_parallel", &["--peers", "3", "--batch-size", "16"]);
        assert_eq!(
            code,
            Some(2),
            "16 pairs do not split over 3 peers: {stderr}"
        );
        assert!(
            stderr.contains("--batch-size") || stderr.contains("peers"),
            "{stderr}"
        );
    }

    /// Peers handed differently initialised models all start from peer 0's.
    #[test]
    fn peers_start_from_peer_zeros_parameters() {
        let out = run_peers::<B, _>(vec![Default::default(); 3], |peer, device| {
            let model = shared_model(); // a fresh draw on every peer
            infonce::trainer::materialize_parameters::<B, _>(&model);
            let given = flat_params(&model);
            let t = Trainer::new_peer(
                TrainerConfig::default().with_progress(false),
                model,
                TwoViewSampler,
                device,
                peer,
            )?;
            Ok((given, flat_params(t.model())))
        })
        .unwrap();
        assert_ne!(out[0].0, out[1].0, "the peers were given different models");
        for (_, started) in &out {
            assert_eq!(started, &out[0].0);
        }
    }

    /// Unequal shards are a typed error on every peer, not a hang or a wrong answer.
    #[test]
    fn unequal_shards_are_a_typed_error() {
        let model = shared_model();
        let (_, shards) = batches(2, 60);
        let (_, mut quarter) = batches(4, 60);
        let uneven = [shards[0].clone(), quarter.swap_remove(0)];
        let result = run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let rank = peer.rank();
            let mut t = Trainer::new_peer(
                TrainerConfig::default().with_progress(false),
                model.clone(),
                TwoViewSampler,
                device,
                peer,
            )?;
            t.train_step(uneven[rank].clone(), 1e-2).map(|_| ())
        });
        assert!(
            matches!(result, Err(Error::Collective { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_rank_outside_the_group_is_refused() {
        let device = Default::default();
        let config = burn::collective::CollectiveConfig::default().with_num_devices(2);
        let result = Peer::register::<B>(2, 2, &device, config);
        assert!(
            matches!(result, Err(Error::InvalidConfig { .. })),
            "{result:?}"
        );
    }
}

#[cfg(feature = "collective")]
mod local_rows {
    use super::*;
    use crate::common::{random_vec, tensor2};
    use infonce::parallel::{gather_embeddings, run_peers, select_local_rows};
    use infonce::sampler::{Embeddings, RowIds, two_view_set};

    type B = infonce::backend::NdArrayAutodiff;

    /// Two peers of 3 pairs each: the gathered two-view set has 12 rows, each peer keeps
    /// its 6 (both views of its own pairs) against all 12 columns, ids intact.
    #[test]
    fn a_peer_keeps_both_views_of_its_own_pairs() {
        let out = run_peers::<B, _>(vec![Default::default(); 2], |peer, device| {
            let r = peer.rank() as i64;
            let ids = RowIds::default().with_instance(vec![10 * r, 10 * r + 1, -7 - r]);
            let e = Embeddings::new(
                tensor2::<B>(&random_vec(6, 1.0, 1 + r as u64), 3, 2, &device),
                tensor2::<B>(&random_vec(6, 1.0, 3 + r as u64), 3, 2, &device),
            )
            .with_rows(ids.to_device(&device));
            let set = two_view_set(gather_embeddings(&peer, e)?)?;
            let local = select_local_rows(set, &peer)?.expect("gathered rows carry owners");
            let instance = local.context_rows.instance.clone().unwrap();
            Ok((local.dims(), values(instance.float())))
        })
        .unwrap();
        assert_eq!(out[0].0, [6, 12]);
        assert_eq!(out[1].0, [6, 12]);
        assert_eq!(out[0].1, vec![0.0, 1.0, -7.0, 0.0, 1.0, -7.0]);
        assert_eq!(out[1].1, vec![10.0, 11.0, -8.0, 10.0, 11.0, -8.0]);
    }
}
