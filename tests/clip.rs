//! CLIP-style two towers: captions describe what was drawn (and the images are those of
//! the synthetic shapes); the caption encoder reads slot order and refuses bad tokens;
//! caption dropout keeps the shape; a short run classifies zero-shot well above chance,
//! its temperature moves and stays inside CLIP's clamp (a flipped loss fails this); the
//! example writes its JSON on ndarray and on wgpu and refuses bad flags by name.

use std::sync::Arc;

use burn::tensor::{Int, Tensor};
use infonce::clip::{CaptionPairs, ClipConfig};
use infonce::data::{
    PAD, SHAPE_CLASSES, SHAPE_SLOT, caption_text, caption_vocabulary, captioned_shapes,
    class_prompt, synthetic_shapes,
};
use infonce::encoder::CaptionEncoderConfig;
use infonce::trainer::{BatchSource, StepContext};
use infonce::{Encoder, Error};

use super::common::*;
use super::example_flags::{refused, run};
use super::trainer::temp_dir;
use rusty_fork::rusty_fork_test;

type B = infonce::backend::NdArrayAutodiff;

#[test]
fn captions_name_what_was_drawn_on_the_synthetic_shapes() {
    let captioned = captioned_shapes(30, 10, 12, 5).unwrap();
    let plain = synthetic_shapes(30, 10, 12, 5).unwrap();
    assert_eq!(captioned.train.images.pixels, plain.train.pixels);
    assert_eq!(captioned.test.images.pixels, plain.test.pixels);
    let vocabulary = caption_vocabulary();
    for (i, caption) in captioned.train.captions.iter().enumerate() {
        let class = captioned.train.images.labels[i];
        assert_eq!(caption[SHAPE_SLOT], class_prompt(class)[SHAPE_SLOT]);
        assert!(
            caption
                .iter()
                .all(|&t| t != PAD && (t as usize) < vocabulary.len())
        );
        let text = caption_text(caption);
        assert_eq!(text.split(' ').count(), 6, "{text}");
        assert!(text.contains(SHAPE_CLASSES[class]), "{text}");
    }
    assert_eq!(caption_text(&class_prompt(1)), "ring");
    assert!(captioned_shapes(10, 2, 4, 0).is_err());
}

#[test]
fn the_caption_encoder_reads_slot_order_and_refuses_bad_tokens() {
    let device = Default::default();
    let text = CaptionEncoderConfig::new(caption_vocabulary().len(), 6)
        .init::<B>(&device)
        .unwrap();
    let encode = |c: [i64; 6]| values(text.encode(Tensor::<B, 2, Int>::from_ints([c], &device)));
    let (a, b) = (encode([1, 3, 11, 4, 0, 0]), encode([1, 4, 11, 3, 0, 0]));
    assert!(
        a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-4),
        "red on green must differ from green on red"
    );
    assert!(matches!(
        text.check_tokens(&[[1u32, 2, 3]]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        text.check_tokens(&[[1u32, 2, 3, 4, 5, 99]]),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(CaptionEncoderConfig::new(0, 6).init::<B>(&device).is_err());
}

#[test]
fn caption_dropout_keeps_the_shape_and_blanks_about_its_share() {
    let data = Arc::new(captioned_shapes(64, 10, 8, 1).unwrap().train);
    let ctx = StepContext::fresh(3, 0);
    let device = Default::default();
    let tokens = |dropout: f64| {
        let source = CaptionPairs::new(Arc::clone(&data), 64, dropout).unwrap();
        let batch = BatchSource::<B>::batch(&source, &ctx, &device).unwrap();
        let ids: Vec<i64> = batch.ids.instance.clone().unwrap();
        let t: Vec<f64> = values(batch.positive.float());
        (ids, t)
    };
    let (ids, full) = tokens(0.0);
    for (row, &i) in ids.iter().enumerate() {
        let want: Vec<f64> = data.captions[i as usize]
            .iter()
            .map(|&t| t as f64)
            .collect();
        assert_eq!(
            &full[row * 6..row * 6 + 6],
            &want[..],
            "no dropout: full caption"
        );
    }
    let (_, dropped) = tokens(0.5);
    let blank = dropped.iter().filter(|&&t| t == PAD as f64).count() as f64;
    let share = blank / (64.0 * 5.0);
    assert!((0.35..0.65).contains(&share), "blanked share {share}");
    assert!(dropped.chunks(6).all(|c| c[SHAPE_SLOT] != PAD as f64));
    assert!(CaptionPairs::new(Arc::clone(&data), 65, 0.5).is_err());
    assert!(CaptionPairs::new(Arc::clone(&data), 8, 1.5).is_err());
}

// Runs in its own process (rusty-fork): the assertions hold for the recipe's seed, and
// Burn's backend RNG is process-wide, so tests running beside it in this process would
// draw from it and change the run's initialisation.
rusty_fork_test! {
    /// A short run on 1 000 pairs of 12×12: zero-shot top-1 at least twice chance (0.30 when
    /// tuned, 0.42 and 0.30 with seeds 1 and 2; 0.10 with the loss's sign flipped), the
    /// temperature moved and inside the clamp [1/100, 1].
    #[test]
    fn a_short_clip_run_classifies_zero_shot_well_above_chance() {
        let config = ClipConfig {
            epochs: 20,
            batch_size: 64,
            caption_dropout: 0.7,
            width: 8,
            embed_dim: 32,
            progress: false,
            ..ClipConfig::default()
        };
        let data = captioned_shapes(1000, 250, 12, 0).unwrap();
        let report =
            infonce::launch::clip(infonce::backend::BackendKind::NdArray, &config, data).unwrap();
        eprintln!("{report:?}");
        assert!(
            report.zero_shot_top1 > 2.0 * report.chance,
            "zero-shot {:.3} vs chance {:.3}",
            report.zero_shot_top1,
            report.chance
        );
        assert!(report.recall_at_5.image_to_text > report.recall_at_1.image_to_text);
        let t = report.temperature;
        assert!(
            (t.end - t.start).abs() > 1e-4,
            "the temperature moves: {t:?}"
        );
        assert!(
            (0.01 - 1e-9..=1.0).contains(&t.end),
            "inside the clamp: {t:?}"
        );
        assert!(matches!(
            ClipConfig {
                initial_temperature: 2.0,
                ..ClipConfig::default()
            }
            .validate(),
            Err(Error::InvalidConfig { .. })
        ));
    }
}

fn clip_json(name: &str, extra: &[&str]) -> serde_json::Value {
    let dir = temp_dir(name);
    let json = dir.join("clip.json");
    let mut args: Vec<String> = [
        "--train-pairs",
        "64",
        "--batch-size",
        "16",
        "--image-size",
        "8",
        "--width",
        "4",
        "--epochs",
        "1",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    args.extend([
        "--json".into(),
        json.display().to_string(),
        "--out".into(),
        dir.join("run").display().to_string(),
    ]);
    let (code, stderr) = run("clip", &args);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(dir.join("run/history.json").exists() && dir.join("run/curves.svg").exists());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for key in ["zero_shot_top1", "chance"] {
        assert!(value[key].is_f64(), "{key}: {value}");
    }
    for key in ["recall_at_1", "recall_at_5"] {
        for side in ["image_to_text", "text_to_image"] {
            assert!(value[key][side].is_f64(), "{key}.{side}: {value}");
        }
    }
    assert!(value["temperature"]["start"].is_f64() && value["temperature"]["end"].is_f64());
    value
}

#[test]
fn the_example_writes_its_json() {
    clip_json("clip-example", &[]);
}

#[cfg(feature = "wgpu")]
#[test]
fn the_example_runs_on_wgpu() {
    clip_json("clip-wgpu", &["--backend", "wgpu"]);
}

#[test]
fn the_example_refuses_bad_flags_by_name() {
    let out = temp_dir("clip-flags");
    let out = out.to_str().unwrap();
    for (args, flag) in [
        (&["--batch-size", "1"][..], "--batch-size"),
        (&["--epochs", "0"][..], "--epochs"),
        (&["--temperature", "0"][..], "--temperature"),
        (&["--temperature", "5"][..], "--temperature"),
        (&["--caption-dropout", "2"][..], "--caption-dropout"),
        (&["--image-size", "4"][..], "--image-size"),
        (
            &["--train-pairs", "10", "--batch-size", "16"][..],
            "--batch-size",
        ),
        (&["--backend", "tpu"][..], "--backend"),
    ] {
        let mut args = args.to_vec();
        args.extend(["--out", out]);
        refused("clip", &args, flag);
    }
}
