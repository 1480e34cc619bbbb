//! A MessagePack document as a tree of values, and serde's `Deserializer` over the tree.
//!
//! Records are decoded in two steps: `rmp_serde` reads the bytes into a [`Value`] (one
//! instance of its decoder, for this one type), then each record type reads itself from
//! the tree. Decoding a record straight from `rmp_serde` compiles its decoder again for
//! every struct and field visitor of every record type: about a tenth of the library's
//! machine code, and of every program that loads a checkpoint.
//!
//! The tree reads what `rmp_serde::to_vec_named` writes (Burn's `NamedMpkBytesRecorder`):
//! structs as maps or arrays, a unit variant as its name, a variant with data as a
//! one-entry map from its name, `None` as nil, and a unit struct as nil or an empty array.

use serde::de::value::Error;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

/// One MessagePack value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from whatever the decoder finds.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a MessagePack value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::F32(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Nil => visitor.visit_unit(),
            Value::Bool(v) => visitor.visit_bool(v),
            Value::Int(v) => visitor.visit_i64(v),
            Value::UInt(v) => visitor.visit_u64(v),
            Value::F32(v) => visitor.visit_f32(v),
            Value::F64(v) => visitor.visit_f64(v),
            Value::Str(v) => visitor.visit_string(v),
            Value::Bytes(v) => visitor.visit_byte_buf(v),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Map(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Nil => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Nil => visitor.visit_unit(),
            Value::Array(items) if items.is_empty() => visitor.visit_unit(),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::Map(entries) if entries.len() == 1 => {
                let (variant, value) = entries.into_iter().next().expect("one entry");
                visitor.visit_enum(Variant {
                    variant,
                    value: Some(value),
                })
            }
            variant => visitor.visit_enum(Variant {
                variant,
                value: None,
            }),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The elements of an array.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of a map; `value` holds the value of the key last read.
struct Entries {
    entries: std::vec::IntoIter<(Value, Value)>,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a map value read twice")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum variant: its name (or index), and its data unless it is a unit variant.
struct Variant {
    variant: Value,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = VariantData;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, VariantData), Error> {
        let name = seed.deserialize(self.variant)?;
        Ok((name, VariantData(self.value)))
    }
}

/// A variant's data.
struct VariantData(Option<Value>);

impl<'de> VariantAccess<'de> for VariantData {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Value::Nil) => Ok(()),
            Some(Value::Array(items)) if items.is_empty() => Ok(()),
            Some(_) => Err(de::Error::custom("data given for a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.0.unwrap_or(Value::Nil))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.0.unwrap_or(Value::Nil).deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.unwrap_or(Value::Nil).deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::Value;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Kind {
        Plain,
        Scaled(f32),
        Shaped { dims: Vec<usize>, name: String },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Newtype(u64);

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Everything {
        flag: bool,
        small: i8,
        big: u64,
        negative: i64,
        single: f32,
        double: f64,
        text: String,
        #[serde(with = "serde_bytes_like")]
        bytes: Vec<u8>,
        missing: Option<u32>,
        present: Option<Vec<f32>>,
        unit: Unit,
        kinds: Vec<Kind>,
        id: Newtype,
        pair: (u8, String),
        table: BTreeMap<String, i32>,
    }

    /// `Vec<u8>` as MessagePack binary (as Burn writes tensor bytes), read only as bytes.
    mod serde_bytes_like {
        use serde::{Deserializer, Serializer, de};

        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            struct Binary;
            impl de::Visitor<'_> for Binary {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("binary data")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(v)
                }
            }
            d.deserialize_byte_buf(Binary)
        }
    }

    fn everything() -> Everything {
        Everything {
            flag: true,
            small: -7,
            big: u64::MAX - 3,
            negative: i64::MIN + 1,
            single: 0.1,
            double: -1e-300,
            text: "naïve".into(),
            bytes: vec![0, 1, 254, 255],
            missing: None,
            present: Some(vec![1.5, f32::MIN_POSITIVE, -0.0]),
            unit: Unit,
            kinds: vec![
                Kind::Plain,
                Kind::Scaled(2.5),
                Kind::Shaped {
                    dims: vec![3, 4],
                    name: "w".into(),
                },
            ],
            id: Newtype(42),
            pair: (9, "nine".into()),
            table: [("a".to_string(), -1), ("b".to_string(), 2)].into(),
        }
    }

    fn through_the_tree<T: Serialize + for<'de> Deserialize<'de>>(value: &T) -> T {
        let bytes = rmp_serde::encode::to_vec_named(value).unwrap();
        let tree: Value = rmp_serde::decode::from_slice(&bytes).unwrap();
        T::deserialize(tree).unwrap()
    }

    #[test]
    fn what_rmp_serde_writes_reads_back_through_the_tree() {
        let want = everything();
        let direct: Everything =
            rmp_serde::decode::from_slice(&rmp_serde::encode::to_vec_named(&want).unwrap())
                .unwrap();
        assert_eq!(
            direct, want,
            "the fixture itself round-trips through rmp_serde"
        );
        assert_eq!(through_the_tree(&want), want);
    }

    #[test]
    fn a_truncated_or_mistyped_document_is_an_error() {
        let bytes = rmp_serde::encode::to_vec_named(&everything()).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        assert!(rmp_serde::decode::from_slice::<Value>(cut).is_err());
        let tree: Value = rmp_serde::decode::from_slice(&bytes).unwrap();
        assert!(Vec::<f32>::deserialize(tree.clone()).is_err());
        let Value::Map(entries) = tree else {
            panic!("a struct is written as a map")
        };
        let without_flag = Value::Map(entries.into_iter().skip(1).collect());
        let err = Everything::deserialize(without_flag).unwrap_err();
        assert!(err.to_string().contains("flag"), "{err}");
    }
}
