//! How a SimCLR encoder is judged: weighted kNN and a linear probe on frozen backbone
//! features, alignment and uniformity on two views.

use std::collections::BTreeMap;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::SeedableRng;

use super::SimclrConfig;
use super::simclr_report::VALIDATION_METRIC;
use crate::Result;
use crate::data::ImageDataset;
use crate::data::augment::{AugmentConfig, augment};
use crate::encoder::ResNetEncoder;
use crate::eval::{
    LinearProbeConfig, alignment, image_features, knn_accuracy, linear_probe, uniformity,
};
use crate::trainer::EpochRecord;

/// An evenly spread subset of at most `limit` images.
pub(super) fn subset(data: &ImageDataset, limit: usize) -> ImageDataset {
    if data.len() <= limit {
        return data.clone();
    }
    let step = data.len() as f64 / limit as f64;
    let indices: Vec<usize> = (0..limit).map(|k| (k as f64 * step) as usize).collect();
    data.select(&indices)
}

/// The evaluation sets of a run and the classifiers' settings.
pub(super) struct Evaluator<'a, B: AutodiffBackend> {
    /// kNN memory bank and probe training set (training images, validation excluded).
    pub train: ImageDataset,
    /// Test images, classified once, after training.
    pub test: ImageDataset,
    /// Held-out training images that choose the epoch (may be empty).
    pub validation: ImageDataset,
    pub num_classes: usize,
    pub config: &'a SimclrConfig,
    pub device: B::Device,
}

impl<B: AutodiffBackend> Evaluator<'_, B> {
    /// Features of `data` through the evaluation-mode backbone.
    pub fn features(
        &self,
        backbone: &ResNetEncoder<B>,
        data: &ImageDataset,
    ) -> Result<(Vec<f32>, usize)>
    where
        B::InnerBackend: Backend,
    {
        let eval = backbone.valid();
        image_features::<B::InnerBackend>(data, 256, &self.device, |x| eval.forward(x))
    }

    /// Weighted kNN (τ = 0.07, as InstDisc) of `queries` against the training features.
    fn knn(&self, train: &[f32], queries: &[f32], labels: &[usize], dim: usize) -> Result<f64> {
        let k = self.config.knn_k;
        knn_accuracy(
            train,
            &self.train.labels,
            queries,
            labels,
            dim,
            self.num_classes,
            k,
            0.07,
        )
    }

    /// The epoch's validation kNN, every `knn_every` epochs and after the last; nothing
    /// without a validation split.
    pub fn epoch_metrics(
        &self,
        backbone: &ResNetEncoder<B>,
        record: &EpochRecord,
    ) -> Result<BTreeMap<String, f64>> {
        let mut metrics = BTreeMap::new();
        let epoch = record.epoch as usize;
        let due = epoch.is_multiple_of(self.config.knn_every) || epoch == self.config.epochs;
        if due && !self.validation.is_empty() {
            let (train, dim) = self.features(backbone, &self.train)?;
            let (val, _) = self.features(backbone, &self.validation)?;
            metrics.insert(
                VALIDATION_METRIC.to_string(),
                self.knn(&train, &val, &self.validation.labels, dim)?,
            );
        }
        Ok(metrics)
    }

    /// Test kNN and linear-probe top-1 of features given as (train, test, width).
    pub fn test_scores(&self, train: &[f32], test: &[f32], dim: usize) -> Result<(f64, f64)> {
        let knn = self.knn(train, test, &self.test.labels, dim)?;
        let probe = linear_probe::<B>(
            train,
            &self.train.labels,
            test,
            &self.test.labels,
            dim,
            self.num_classes,
            LinearProbeConfig::default(),
            &self.device,
        )?;
        Ok((knn, probe))
    }

    /// Test kNN and linear-probe top-1 of a backbone's features.
    pub fn model_scores(&self, backbone: &ResNetEncoder<B>) -> Result<(f64, f64)> {
        let (train, dim) = self.features(backbone, &self.train)?;
        let (test, _) = self.features(backbone, &self.test)?;
        self.test_scores(&train, &test, dim)
    }

    /// Alignment and uniformity (Wang & Isola 2020) of the features of two augmented views
    /// of (at most 512) test images.
    pub fn alignment_uniformity(
        &self,
        backbone: &ResNetEncoder<B>,
        augment_config: &AugmentConfig,
    ) -> Result<(f64, f64)> {
        let few = subset(&self.test, 512);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.config.seed ^ 0xA11C);
        let mut view = |img: &[f32]| {
            augment(
                img,
                few.channels,
                few.height,
                few.width,
                augment_config,
                &mut rng,
            )
        };
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        for i in 0..few.len() {
            va.extend(view(few.image(i)));
            vb.extend(view(few.image(i)));
        }
        let s = augment_config.output_size;
        let as_set = |px: Vec<f32>| {
            ImageDataset::new(few.channels, s, s, px, few.labels.clone(), few.num_classes)
        };
        let (fa, dim) = self.features(backbone, &as_set(va)?)?;
        let (fb, _) = self.features(backbone, &as_set(vb)?)?;
        let (ff, _) = self.features(backbone, &few)?;
        Ok((alignment(&fa, &fb, dim, 2.0)?, uniformity(&ff, dim, 2.0)?))
    }
}
