//! Serdes turn keys and values into bytes and back. They are needed only at topic boundaries:
//! inside a sub-topology records pass between nodes as Rust values.
//!
//! Fixed-width numbers are big-endian, as Kafka's `IntegerSerde`, `LongSerde` and `DoubleSerde`
//! write them, so topics are readable by Java applications.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::SerdeError;

/// Converts `T` to and from bytes.
///
/// `serialize` appends to a buffer the caller reuses, so a sink does not allocate per record.
/// Kafka's null payloads are handled by [`Serde::is_null`] and [`Serde::deserialize_null`]:
/// by default a type has no null representation and a null payload is an error.
pub trait Serde<T>: Send + Sync + 'static {
    /// Appends the bytes of `value` to `out`.
    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<(), SerdeError>;
    /// Reads a value from `data`.
    fn deserialize(&self, data: &[u8]) -> Result<T, SerdeError>;
    /// Reads a value from a null payload (a missing key or a tombstone).
    fn deserialize_null(&self) -> Result<T, SerdeError> {
        Err(SerdeError::new(
            self.name(),
            "the payload is null but this type has no null value (use `Nullable<_>` / `Option<T>` or the unit serde)",
        ))
    }
    /// True when `value` is written as a null payload.
    fn is_null(&self, _value: &T) -> bool {
        false
    }
    /// A short name for error messages.
    fn name(&self) -> String;
}

/// Reads an optional payload with `serde`.
pub(crate) fn deserialize_opt<T: 'static>(
    serde: &dyn Serde<T>,
    data: Option<&[u8]>,
) -> Result<T, SerdeError> {
    match data {
        Some(d) => serde.deserialize(d),
        None => serde.deserialize_null(),
    }
}

/// Writes `value` into `buf` (cleared first); `false` when the payload is null.
pub(crate) fn serialize_into<T: 'static>(
    serde: &dyn Serde<T>,
    value: &T,
    buf: &mut Vec<u8>,
) -> Result<bool, SerdeError> {
    buf.clear();
    if serde.is_null(value) {
        return Ok(false);
    }
    serde.serialize(value, buf)?;
    Ok(true)
}

/// UTF-8 strings.
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerde;

impl Serde<String> for StringSerde {
    fn serialize(&self, value: &String, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        out.extend_from_slice(value.as_bytes());
        Ok(())
    }
    fn deserialize(&self, data: &[u8]) -> Result<String, SerdeError> {
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(|e| SerdeError::new("String", format!("not valid UTF-8: {e}")))
    }
    fn name(&self) -> String {
        "String".into()
    }
}

/// Raw bytes, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerde;

impl Serde<Vec<u8>> for BytesSerde {
    fn serialize(&self, value: &Vec<u8>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        out.extend_from_slice(value);
        Ok(())
    }
    fn deserialize(&self, data: &[u8]) -> Result<Vec<u8>, SerdeError> {
        Ok(data.to_vec())
    }
    fn name(&self) -> String {
        "Bytes".into()
    }
}

macro_rules! fixed_width_serde {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Serde<$ty> for $name {
            fn serialize(&self, value: &$ty, out: &mut Vec<u8>) -> Result<(), SerdeError> {
                out.extend_from_slice(&value.to_be_bytes());
                Ok(())
            }
            fn deserialize(&self, data: &[u8]) -> Result<$ty, SerdeError> {
                let bytes: [u8; std::mem::size_of::<$ty>()] = data.try_into().map_err(|_| {
                    SerdeError::new(
                        $label,
                        format!(
                            "expected {} bytes, got {}",
                            std::mem::size_of::<$ty>(),
                            data.len()
                        ),
                    )
                })?;
                Ok(<$ty>::from_be_bytes(bytes))
            }
            fn name(&self) -> String {
                $label.into()
            }
        }
    };
}

fixed_width_serde!(
    /// `i32`, 4 bytes big-endian (Kafka's `IntegerSerde`).
    I32Serde, i32, "i32");
fixed_width_serde!(
    /// `i64`, 8 bytes big-endian (Kafka's `LongSerde`).
    I64Serde, i64, "i64");
fixed_width_serde!(
    /// `u32`, 4 bytes big-endian.
    U32Serde, u32, "u32");
fixed_width_serde!(
    /// `u64`, 8 bytes big-endian.
    U64Serde, u64, "u64");
fixed_width_serde!(
    /// `f64`, 8 bytes big-endian IEEE 754 (Kafka's `DoubleSerde`).
    F64Serde, f64, "f64");

/// The unit type, Kafka's `Void`: written as a null payload, reads any payload as `()`.
/// Use it for keys you do not care about.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitSerde;

impl Serde<()> for UnitSerde {
    fn serialize(&self, _value: &(), _out: &mut Vec<u8>) -> Result<(), SerdeError> {
        Ok(())
    }
    fn deserialize(&self, _data: &[u8]) -> Result<(), SerdeError> {
        Ok(())
    }
    fn deserialize_null(&self) -> Result<(), SerdeError> {
        Ok(())
    }
    fn is_null(&self, _value: &()) -> bool {
        true
    }
    fn name(&self) -> String {
        "Unit".into()
    }
}

/// Makes any serde nullable: `None` is a null payload and a null payload reads as `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nullable<S>(pub S);

impl<T, S: Serde<T>> Serde<Option<T>> for Nullable<S> {
    fn serialize(&self, value: &Option<T>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        match value {
            Some(v) => self.0.serialize(v, out),
            None => Ok(()),
        }
    }
    fn deserialize(&self, data: &[u8]) -> Result<Option<T>, SerdeError> {
        self.0.deserialize(data).map(Some)
    }
    fn deserialize_null(&self) -> Result<Option<T>, SerdeError> {
        Ok(None)
    }
    fn is_null(&self, value: &Option<T>) -> bool {
        value.is_none()
    }
    fn name(&self) -> String {
        format!("Nullable<{}>", self.0.name())
    }
}

/// JSON over serde for any `Serialize + DeserializeOwned` type.
///
/// ```
/// use streams_core::{Json, Serde};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Ride { vendor: String, passengers: u8 }
///
/// let serde = Json::<Ride>::new();
/// let mut buf = Vec::new();
/// serde.serialize(&Ride { vendor: "1".into(), passengers: 2 }, &mut buf).unwrap();
/// assert_eq!(buf, br#"{"vendor":"1","passengers":2}"#);
/// assert_eq!(serde.deserialize(&buf).unwrap().passengers, 2);
/// assert!(serde.deserialize(b"not json").is_err());
/// ```
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T> Json<T> {
    /// A JSON serde for `T`.
    pub const fn new() -> Self {
        Json(PhantomData)
    }
}

impl<T> Default for Json<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Json<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Json<T> {}

impl<T> std::fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Json<{}>", std::any::type_name::<T>())
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<T> for Json<T> {
    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        serde_json::to_writer(out, value).map_err(|e| SerdeError::new(self.name(), e.to_string()))
    }
    fn deserialize(&self, data: &[u8]) -> Result<T, SerdeError> {
        serde_json::from_slice(data).map_err(|e| SerdeError::new(self.name(), e.to_string()))
    }
    fn name(&self) -> String {
        format!("Json<{}>", std::any::type_name::<T>())
    }
}

/// Types with a natural serde, so `Consumed::default()` and friends need no arguments.
pub trait DefaultSerde: Sized + 'static {
    /// The serde used when none is given.
    fn default_serde() -> std::sync::Arc<dyn Serde<Self>>;
}

macro_rules! default_serde {
    ($($ty:ty => $serde:expr),* $(,)?) => {$(
        impl DefaultSerde for $ty {
            fn default_serde() -> std::sync::Arc<dyn Serde<Self>> { std::sync::Arc::new($serde) }
        }
    )*};
}

default_serde!(
    String => StringSerde,
    Vec<u8> => BytesSerde,
    i32 => I32Serde,
    i64 => I64Serde,
    u32 => U32Serde,
    u64 => U64Serde,
    f64 => F64Serde,
    () => UnitSerde,
);

impl<T: DefaultSerde> DefaultSerde for Option<T> {
    fn default_serde() -> std::sync::Arc<dyn Serde<Self>> {
        std::sync::Arc::new(Nullable(DynSerde(T::default_serde())))
    }
}

/// The built-in default serde of `T` when `T` is one of the [`DefaultSerde`] types, looked up at
/// run time (the DSL uses it where a stream's serde is unknown, as Kafka falls back to
/// `default.key.serde` / `default.value.serde`).
pub(crate) fn builtin_default<T: 'static>() -> Option<std::sync::Arc<dyn Serde<T>>> {
    use std::any::{Any, TypeId};
    fn erased<U: DefaultSerde>() -> Box<dyn Any> {
        Box::new(U::default_serde())
    }
    let t = TypeId::of::<T>();
    let any = [
        (
            TypeId::of::<String>(),
            erased::<String> as fn() -> Box<dyn Any>,
        ),
        (TypeId::of::<Vec<u8>>(), erased::<Vec<u8>>),
        (TypeId::of::<i32>(), erased::<i32>),
        (TypeId::of::<i64>(), erased::<i64>),
        (TypeId::of::<u32>(), erased::<u32>),
        (TypeId::of::<u64>(), erased::<u64>),
        (TypeId::of::<f64>(), erased::<f64>),
        (TypeId::of::<()>(), erased::<()>),
        (TypeId::of::<Option<String>>(), erased::<Option<String>>),
        (TypeId::of::<Option<i64>>(), erased::<Option<i64>>),
    ]
    .into_iter()
    .find(|(id, _)| *id == t)
    .map(|(_, make)| make())?;
    any.downcast::<std::sync::Arc<dyn Serde<T>>>()
        .ok()
        .map(|b| *b)
}

/// A shared, type-erased serde (what the DSL keeps).
pub struct DynSerde<T>(pub std::sync::Arc<dyn Serde<T>>);

impl<T> Clone for DynSerde<T> {
    fn clone(&self) -> Self {
        DynSerde(self.0.clone())
    }
}

impl<T: 'static> Serde<T> for DynSerde<T> {
    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        self.0.serialize(value, out)
    }
    fn deserialize(&self, data: &[u8]) -> Result<T, SerdeError> {
        self.0.deserialize(data)
    }
    fn deserialize_null(&self) -> Result<T, SerdeError> {
        self.0.deserialize_null()
    }
    fn is_null(&self, value: &T) -> bool {
        self.0.is_null(value)
    }
    fn name(&self) -> String {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: PartialEq + std::fmt::Debug + 'static>(serde: &dyn Serde<T>, v: T) {
        let mut buf = Vec::new();
        assert!(serialize_into(serde, &v, &mut buf).unwrap());
        assert_eq!(serde.deserialize(&buf).unwrap(), v);
    }

    #[test]
    fn built_ins_round_trip() {
        round_trip(&StringSerde, "héllo".to_string());
        round_trip(&BytesSerde, vec![0, 1, 255]);
        round_trip(&I32Serde, -7);
        round_trip(&I64Serde, i64::MIN);
        round_trip(&U32Serde, u32::MAX);
        round_trip(&U64Serde, 42);
        round_trip(&F64Serde, 2.5);
    }

    #[test]
    fn numbers_are_big_endian_like_kafka() {
        let mut buf = Vec::new();
        I64Serde.serialize(&1, &mut buf).unwrap();
        assert_eq!(buf, [0, 0, 0, 0, 0, 0, 0, 1]);
        buf.clear();
        I32Serde.serialize(&256, &mut buf).unwrap();
        assert_eq!(buf, [0, 0, 1, 0]);
    }

    #[test]
    fn errors_say_what_failed() {
        let err = I64Serde.deserialize(&[1, 2, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "serde `i64` failed: expected 8 bytes, got 3"
        );
        let err = StringSerde.deserialize(&[0xff]).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        let err = deserialize_opt(&StringSerde, None).unwrap_err();
        assert!(err.to_string().contains("payload is null"), "{err}");
        let err = Json::<u32>::new().deserialize(b"\"x\"").unwrap_err();
        assert!(err.serde.starts_with("Json<u32>"), "{err}");
    }

    #[test]
    fn builtin_defaults_by_type() {
        let mut buf = Vec::new();
        builtin_default::<i64>()
            .unwrap()
            .serialize(&7, &mut buf)
            .unwrap();
        assert_eq!(buf.len(), 8);
        assert!(builtin_default::<String>().is_some());
        assert!(builtin_default::<(u8, u8)>().is_none());
    }

    #[test]
    fn null_handling() {
        let mut buf = Vec::new();
        assert!(!serialize_into(&UnitSerde, &(), &mut buf).unwrap());
        assert_eq!(deserialize_opt(&UnitSerde, None).unwrap(), ());
        let n = Nullable(StringSerde);
        assert!(!serialize_into(&n, &None, &mut buf).unwrap());
        assert_eq!(deserialize_opt(&n, None).unwrap(), None);
        round_trip(&n, Some("x".to_string()));
        let d = <Option<i64> as DefaultSerde>::default_serde();
        assert_eq!(deserialize_opt(&*d, None).unwrap(), None);
    }
}
