//! Windows and windowed keys: the [`Window`] a result was aggregated in, the [`Windowed`] key
//! type of windowed results, and their serdes ([`TimeWindowedSerde`], [`SessionWindowedSerde`]),
//! whose bytes match Kafka's `TimeWindowedSerializer` and `SessionWindowedSerializer`, plus the
//! key layout of window stores.
//!
//! These sit below the state stores (which key by window) and the DSL (whose window
//! definitions, `crate::kstream::windows`, decide which windows a record goes to).

use std::fmt;

use crate::error::SerdeError;
use crate::serdes::Serde;

/// Size in bytes of a timestamp in a windowed key (Kafka's `StateSerdes.TIMESTAMP_SIZE`).
const TIMESTAMP_SIZE: usize = 8;

// ---------------------------------------------------------------------------------------------
// Window and Windowed
// ---------------------------------------------------------------------------------------------

/// A time window, in epoch milliseconds.
///
/// What `end` means depends on the window kind, as in Kafka:
/// - [`TimeWindows`](crate::kstream::windows::TimeWindows) (tumbling, hopping): `[start, end)`, end **exclusive** (Kafka's `TimeWindow`).
/// - [`SlidingWindows`](crate::kstream::windows::SlidingWindows): `[start, end]`, end **inclusive**, with `end = start + time difference`
///   (Kafka builds them as `TimeWindow(start, start + timeDifferenceMs)` but a record at `end`
///   belongs to the window).
/// - [`SessionWindows`](crate::kstream::windows::SessionWindows): `[start, end]`, both inclusive; a single-record session has
///   `start == end` (Kafka's `SessionWindow`).
///
/// `Display` prints `[start,end)` whatever the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    /// Start timestamp (inclusive).
    pub start: i64,
    /// End timestamp: exclusive for time windows, inclusive for sliding and session windows.
    pub end: i64,
}

impl Window {
    /// A window from `start` to `end`.
    pub const fn new(start: i64, end: i64) -> Self {
        Window { start, end }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{},{})", self.start, self.end)
    }
}

/// A key and the window it was aggregated in: the key type of windowed aggregation results
/// (Kafka's `Windowed<K>`).
///
/// `Display` prints `key@[2020-07-01T00:00:00Z, 2020-07-01T00:01:00Z)` (UTC, milliseconds shown
/// only when not zero).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: Window,
}

impl<K> Windowed<K> {
    /// `key` in `window`.
    pub fn new(key: K, window: Window) -> Self {
        Windowed { key, window }
    }
}

/// Writes `ms` as an RFC 3339 UTC timestamp, or as a plain number when out of chrono's range.
fn write_instant(f: &mut fmt::Formatter<'_>, ms: i64) -> fmt::Result {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        None => write!(f, "{ms}"),
    }
}

impl<K: fmt::Display> fmt::Display for Windowed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@[", self.key)?;
        write_instant(f, self.window.start)?;
        f.write_str(", ")?;
        write_instant(f, self.window.end)?;
        f.write_str(")")
    }
}

// ---------------------------------------------------------------------------------------------
// Serdes
// ---------------------------------------------------------------------------------------------

/// Reads the big-endian `i64` at `data[at..at + 8]` (the caller checked the length).
fn read_i64(data: &[u8], at: usize) -> i64 {
    let mut bytes = [0u8; TIMESTAMP_SIZE];
    bytes.copy_from_slice(&data[at..at + TIMESTAMP_SIZE]);
    i64::from_be_bytes(bytes)
}

/// Serde for keys of time (tumbling, hopping, sliding) window results, byte-compatible with
/// Kafka's `TimeWindowedSerializer` / `TimeWindowedDeserializer` (`WindowKeySchema.toBinary`):
/// the inner key bytes followed by the window start as 8 bytes big-endian. The end is not
/// written: reading derives it as `start + window_size_ms` (saturating to `i64::MAX` on
/// overflow, as Kafka's `timeWindowForSize`), so the serde must be given the window size
/// (for sliding windows, the time difference).
#[derive(Debug, Clone, Copy)]
pub struct TimeWindowedSerde<S> {
    inner: S,
    window_size_ms: i64,
}

impl<S> TimeWindowedSerde<S> {
    /// Windowed keys whose key is written by `inner`, for windows of `window_size_ms`.
    pub fn new(inner: S, window_size_ms: i64) -> Self {
        TimeWindowedSerde {
            inner,
            window_size_ms,
        }
    }

    /// The key serde.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The window size used to derive window ends.
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }
}

impl<K, S: Serde<K>> Serde<Windowed<K>> for TimeWindowedSerde<S> {
    fn serialize(&self, value: &Windowed<K>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        self.inner.serialize(&value.key, out)?;
        out.extend_from_slice(&value.window.start.to_be_bytes());
        Ok(())
    }

    fn deserialize(&self, data: &[u8]) -> Result<Windowed<K>, SerdeError> {
        if data.len() < TIMESTAMP_SIZE {
            return Err(SerdeError::new(
                self.name(),
                format!(
                    "expected at least {TIMESTAMP_SIZE} bytes (key, then the 8-byte window \
                     start), got {}",
                    data.len()
                ),
            ));
        }
        let split = data.len() - TIMESTAMP_SIZE;
        let start = read_i64(data, split);
        if start < 0 {
            return Err(SerdeError::new(
                self.name(),
                format!("window start {start} is negative"),
            ));
        }
        // Kafka's WindowKeySchema.timeWindowForSize: an overflowing end becomes Long.MAX_VALUE.
        let end = match start.wrapping_add(self.window_size_ms) {
            e if e < 0 => i64::MAX,
            e => e,
        };
        if end <= start {
            return Err(SerdeError::new(
                self.name(),
                format!(
                    "window size {} ms gives window end {end} <= start {start}",
                    self.window_size_ms
                ),
            ));
        }
        let key = self.inner.deserialize(&data[..split])?;
        Ok(Windowed::new(key, Window::new(start, end)))
    }

    fn name(&self) -> String {
        format!("TimeWindowed<{}>", self.inner.name())
    }
}

/// Serde for keys of session window results, byte-compatible with Kafka's
/// `SessionWindowedSerializer` / `SessionWindowedDeserializer` (`SessionKeySchema.toBinary`):
/// the inner key bytes, then the session **end**, then its **start**, each 8 bytes
/// big-endian.
#[derive(Debug, Clone, Copy)]
pub struct SessionWindowedSerde<S> {
    inner: S,
}

impl<S> SessionWindowedSerde<S> {
    /// Session-windowed keys whose key is written by `inner`.
    pub fn new(inner: S) -> Self {
        SessionWindowedSerde { inner }
    }

    /// The key serde.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<K, S: Serde<K>> Serde<Windowed<K>> for SessionWindowedSerde<S> {
    fn serialize(&self, value: &Windowed<K>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        self.inner.serialize(&value.key, out)?;
        out.extend_from_slice(&value.window.end.to_be_bytes());
        out.extend_from_slice(&value.window.start.to_be_bytes());
        Ok(())
    }

    fn deserialize(&self, data: &[u8]) -> Result<Windowed<K>, SerdeError> {
        if data.len() < 2 * TIMESTAMP_SIZE {
            return Err(SerdeError::new(
                self.name(),
                format!(
                    "expected at least {} bytes (key, then the 8-byte session end and start), \
                     got {}",
                    2 * TIMESTAMP_SIZE,
                    data.len()
                ),
            ));
        }
        let split = data.len() - 2 * TIMESTAMP_SIZE;
        let end = read_i64(data, split);
        let start = read_i64(data, split + TIMESTAMP_SIZE);
        if start < 0 || end < start {
            return Err(SerdeError::new(
                self.name(),
                format!("invalid session [{start}, {end}]: start must be >= 0 and <= end"),
            ));
        }
        let key = self.inner.deserialize(&data[..split])?;
        Ok(Windowed::new(key, Window::new(start, end)))
    }

    fn name(&self) -> String {
        format!("SessionWindowed<{}>", self.inner.name())
    }
}

/// Appends a window store key to `out`: the serialized record key, then the window start as 8
/// bytes big-endian (Kafka's `WindowKeySchema.toStoreKeyBinary` without the sequence number).
/// For non-negative starts the bytes of one key sort by start.
#[cfg_attr(not(test), allow(dead_code))] // the layout window stores use; kept with its test
pub(crate) fn window_store_key(key_bytes: &[u8], start: i64, out: &mut Vec<u8>) {
    out.reserve(key_bytes.len() + TIMESTAMP_SIZE);
    out.extend_from_slice(key_bytes);
    out.extend_from_slice(&start.to_be_bytes());
}

/// Splits a key written by [`window_store_key`] into the record key bytes and the window start;
/// `None` when it is shorter than 8 bytes.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn parse_window_store_key(bytes: &[u8]) -> Option<(&[u8], i64)> {
    let split = bytes.len().checked_sub(TIMESTAMP_SIZE)?;
    Some((&bytes[..split], read_i64(bytes, split)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::{I64Serde, StringSerde};
    use proptest::prelude::*;

    fn w(start: i64, end: i64) -> Window {
        Window::new(start, end)
    }

    #[test]
    fn window_display_and_order() {
        assert_eq!(w(10_000, 20_000).to_string(), "[10000,20000)");
        let mut v = vec![w(5, 9), w(1, 10), w(1, 3)];
        v.sort();
        assert_eq!(v, [w(1, 3), w(1, 10), w(5, 9)]);
    }

    // --- Serdes ------------------------------------------------------------------------------

    #[test]
    fn windowed_display_uses_utc_instants() {
        let k = Windowed::new("sensor-1", w(1_593_561_600_000, 1_593_561_660_000));
        assert_eq!(
            k.to_string(),
            "sensor-1@[2020-07-01T00:00:00Z, 2020-07-01T00:01:00Z)"
        );
        let k = Windowed::new(7, w(12_345, i64::MAX));
        assert_eq!(
            k.to_string(),
            format!("7@[1970-01-01T00:00:12.345Z, {})", i64::MAX)
        );
    }

    // --- TimeWindows -------------------------------------------------------------------------

    #[test]
    fn time_windowed_serde_layout() {
        let serde = TimeWindowedSerde::new(StringSerde, 10_000);
        let mut buf = vec![0xAA]; // serialize appends
        serde
            .serialize(&Windowed::new("k".to_string(), w(10_000, 20_000)), &mut buf)
            .unwrap();
        assert_eq!(buf, [0xAA, b'k', 0, 0, 0, 0, 0, 0, 0x27, 0x10]);
        let back = serde.deserialize(&buf[1..]).unwrap();
        assert_eq!(back, Windowed::new("k".to_string(), w(10_000, 20_000)));
        let err = serde.deserialize(&[1, 2, 3]).unwrap_err();
        assert_eq!(err.serde, "TimeWindowed<String>");
        assert!(err.reason.contains("got 3"), "{err}");
        let err = serde.deserialize(&(-1i64).to_be_bytes()).unwrap_err();
        assert!(err.reason.contains("negative"), "{err}");
        // End overflow saturates as in Kafka's timeWindowForSize.
        let big = TimeWindowedSerde::new(I64Serde, i64::MAX);
        let mut buf = Vec::new();
        big.serialize(&Windowed::new(1, w(5, 0)), &mut buf).unwrap();
        assert_eq!(big.deserialize(&buf).unwrap().window, w(5, i64::MAX));
        assert!(TimeWindowedSerde::new(I64Serde, 0)
            .deserialize(&buf)
            .is_err());
    }

    #[test]
    fn session_windowed_serde_layout_is_end_then_start() {
        let serde = SessionWindowedSerde::new(StringSerde);
        let mut buf = Vec::new();
        serde
            .serialize(&Windowed::new("k".to_string(), w(1, 2)), &mut buf)
            .unwrap();
        assert_eq!(buf, [b'k', 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(serde.deserialize(&buf).unwrap().window, w(1, 2));
        let err = serde.deserialize(&buf[..15]).unwrap_err();
        assert_eq!(err.serde, "SessionWindowed<String>");
        assert!(err.reason.contains("got 15"), "{err}");
        // end < start is not a session.
        let mut bad = Vec::new();
        serde
            .serialize(&Windowed::new("k".to_string(), w(2, 1)), &mut bad)
            .unwrap();
        assert!(serde.deserialize(&bad).is_err());
    }

    #[test]
    fn window_store_keys() {
        let mut out = vec![9];
        window_store_key(b"key", 258, &mut out);
        assert_eq!(out, [9, b'k', b'e', b'y', 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(parse_window_store_key(&out[1..]), Some((&b"key"[..], 258)));
        assert_eq!(parse_window_store_key(&[1, 2]), None);
        assert_eq!(parse_window_store_key(&[0; 8]), Some((&b""[..], 0)));
    }

    proptest! {
        #[test]
        fn time_windowed_serde_round_trips(
            key in ".*",
            start in 0i64..=i64::MAX,
            size in 1i64..=i64::MAX,
        ) {
            let serde = TimeWindowedSerde::new(StringSerde, size);
            let end = start.checked_add(size).unwrap_or(i64::MAX);
            let value = Windowed::new(key, w(start, end));
            let mut buf = Vec::new();
            serde.serialize(&value, &mut buf).unwrap();
            prop_assert_eq!(buf.len(), value.key.len() + 8);
            prop_assert_eq!(serde.deserialize(&buf).unwrap(), value);
        }

        #[test]
        fn session_windowed_serde_round_trips(
            key in ".*",
            start in 0i64..=i64::MAX,
            len in 0i64..=i64::MAX,
        ) {
            let serde = SessionWindowedSerde::new(StringSerde);
            let value = Windowed::new(key, w(start, start.saturating_add(len)));
            let mut buf = Vec::new();
            serde.serialize(&value, &mut buf).unwrap();
            prop_assert_eq!(buf.len(), value.key.len() + 16);
            prop_assert_eq!(serde.deserialize(&buf).unwrap(), value);
        }
    }
}
