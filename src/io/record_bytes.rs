//! Records (model, optimiser and queue state) to and from bytes, in the format of Burn's
//! `NamedMpkBytesRecorder` at full precision: named MessagePack, so that checkpoints
//! written before this recorder, and by Burn's, load with either.
//!
//! Loading goes through a [`Value`] tree (see [`super::record_value`]), which compiles the
//! MessagePack decoder once instead of once per record type.

use burn::record::{FullPrecisionSettings, Recorder, RecorderError};
use burn::tensor::backend::Backend;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::record_value::Value;

/// Burn's named-MessagePack bytes recorder, decoding through a value tree.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RecordBytes;

impl<B: Backend> Recorder<B> for RecordBytes {
    type Settings = FullPrecisionSettings;
    type RecordArgs = ();
    type RecordOutput = Vec<u8>;
    type LoadArgs = Vec<u8>;

    fn save_item<I: Serialize>(&self, item: I, _: ()) -> Result<Vec<u8>, RecorderError> {
        rmp_serde::encode::to_vec_named(&item).map_err(|e| RecorderError::Unknown(e.to_string()))
    }

    fn load_item<I: DeserializeOwned>(&self, bytes: &mut Vec<u8>) -> Result<I, RecorderError> {
        let tree: Value = rmp_serde::decode::from_slice(bytes)
            .map_err(|e| RecorderError::Unknown(e.to_string()))?;
        I::deserialize(tree).map_err(|e| RecorderError::Unknown(e.to_string()))
    }
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};

    use super::RecordBytes;

    type B = crate::backend::PrebuiltNdArray;
    type Burns = NamedMpkBytesRecorder<FullPrecisionSettings>;

    fn weights(layer: &Linear<B>) -> Vec<f32> {
        let mut out = layer.weight.val().into_data().to_vec::<f32>().unwrap();
        let bias = layer.bias.as_ref().expect("a bias").val();
        out.extend(bias.into_data().to_vec::<f32>().unwrap());
        out
    }

    #[test]
    fn burns_recorder_and_ours_read_each_others_bytes() {
        let device = Default::default();
        let saved = LinearConfig::new(3, 2).init::<B>(&device);
        let fresh = || LinearConfig::new(3, 2).init::<B>(&device);
        assert_ne!(weights(&fresh()), weights(&saved), "fresh layers differ");

        let burns = Recorder::<B>::record(&Burns::default(), saved.clone().into_record(), ());
        let record = Recorder::<B>::load(&RecordBytes, burns.unwrap(), &device).unwrap();
        assert_eq!(weights(&fresh().load_record(record)), weights(&saved));

        let ours = Recorder::<B>::record(&RecordBytes, saved.clone().into_record(), ());
        let record = Recorder::<B>::load(&Burns::default(), ours.unwrap(), &device).unwrap();
        assert_eq!(weights(&fresh().load_record(record)), weights(&saved));
    }

    #[test]
    fn cut_bytes_are_an_error() {
        let device = Default::default();
        let layer = LinearConfig::new(3, 2).init::<B>(&device);
        let mut bytes = Recorder::<B>::record(&RecordBytes, layer.into_record(), ()).unwrap();
        bytes.truncate(bytes.len() - 5);
        let loaded =
            Recorder::<B>::load::<<Linear<B> as Module<B>>::Record>(&RecordBytes, bytes, &device);
        assert!(loaded.is_err());
    }
}
