//! Reading any topic and printing its records: decoding keys and values (strings, JSON,
//! 8-byte counts, windowed keys) and formatting them as text or JSON lines.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::{kafka_error, partitions_of, standalone_consumer};
use crate::ExampleError;

/// How to decode record keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyFormat {
    /// UTF-8 text (other bytes are shown as hex).
    #[default]
    String,
    /// A time-windowed string key (Kafka's `TimeWindowedSerializer` layout: the key, then the
    /// window start as 8 bytes big-endian), as written by `ride-count-windowed`; the window end
    /// is the start plus the window size.
    WindowedString,
    /// A session-windowed string key (the key, then the session end and start, 8 bytes each).
    SessionWindowedString,
    /// An 8-byte big-endian signed integer (Kafka's `LongSerializer`).
    I64,
    /// Raw bytes, shown as hex.
    Bytes,
}

/// How to decode record values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ValueFormat {
    /// JSON if the value parses as JSON, else text if it is printable UTF-8, else an 8-byte
    /// big-endian integer if it has 8 bytes, else hex.
    #[default]
    Auto,
    /// UTF-8 text (other bytes are shown as hex).
    String,
    /// JSON (a value that does not parse is shown as text).
    Json,
    /// An 8-byte big-endian signed integer (Kafka's `LongSerializer`), as the counts.
    I64,
    /// Raw bytes, shown as hex.
    Bytes,
}

/// The output line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// `partition=0 offset=5 timestamp=2020-07-01T00:25:32.000Z key=238 value=...`
    #[default]
    Text,
    /// One JSON object per line: `{"partition":0,"offset":5,"timestamp":1593563132000,
    /// "key":"238","value":...}`; windowed keys are `{"key":..,"start":..,"end":..}`.
    Json,
}

/// One record as read from a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Record timestamp (ms since the epoch), if any.
    pub timestamp: Option<i64>,
    /// Key bytes (`None`: null key).
    pub key: Option<&'a [u8]>,
    /// Value bytes (`None`: null value, a tombstone).
    pub value: Option<&'a [u8]>,
}

/// A decoded key or value.
#[derive(Debug, Clone, PartialEq)]
enum Decoded {
    Null,
    Text(String),
    Hex(String),
    Int(i64),
    Json(serde_json::Value),
    Windowed {
        key: Box<Decoded>,
        start: i64,
        end: i64,
    },
    /// A key or value that does not fit its format: shown as hex with the reason.
    Invalid {
        hex: String,
        reason: String,
    },
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn printable(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn text(bytes: &[u8]) -> Decoded {
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded::Text(s.to_string()),
        Err(_) => Decoded::Hex(hex(bytes)),
    }
}

fn int(bytes: &[u8]) -> Decoded {
    match <[u8; 8]>::try_from(bytes) {
        Ok(b) => Decoded::Int(i64::from_be_bytes(b)),
        Err(_) => Decoded::Invalid {
            hex: hex(bytes),
            reason: format!("{} bytes, not an 8-byte integer", bytes.len()),
        },
    }
}

fn read_i64(bytes: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(b)
}

/// Turns records into printable lines.
///
/// ```
/// use streams_examples::*;
/// let f = RecordFormatter::new(KeyFormat::String, ValueFormat::Auto, OutputFormat::Text, 60_000);
/// let count = 5i64.to_be_bytes();
/// let line = f.format(&RawRecord {
///     partition: 1,
///     offset: 7,
///     timestamp: Some(1_593_563_132_000),
///     key: Some(b"238"),
///     value: Some(&count),
/// });
/// assert_eq!(line, "partition=1 offset=7 timestamp=2020-07-01T00:25:32.000Z key=238 value=5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFormatter {
    key: KeyFormat,
    value: ValueFormat,
    output: OutputFormat,
    window_size_ms: i64,
}

impl RecordFormatter {
    /// A formatter; `window_size_ms` gives the window end of [`KeyFormat::WindowedString`] keys.
    pub fn new(
        key: KeyFormat,
        value: ValueFormat,
        output: OutputFormat,
        window_size_ms: i64,
    ) -> Self {
        RecordFormatter {
            key,
            value,
            output,
            window_size_ms,
        }
    }

    fn decode_key(&self, bytes: &[u8]) -> Decoded {
        match self.key {
            KeyFormat::String => text(bytes),
            KeyFormat::I64 => int(bytes),
            KeyFormat::Bytes => Decoded::Hex(hex(bytes)),
            KeyFormat::WindowedString if bytes.len() >= 8 => {
                let split = bytes.len() - 8;
                let start = read_i64(&bytes[split..]);
                Decoded::Windowed {
                    key: Box::new(text(&bytes[..split])),
                    start,
                    end: start.saturating_add(self.window_size_ms),
                }
            }
            KeyFormat::SessionWindowedString if bytes.len() >= 16 => {
                let split = bytes.len() - 16;
                Decoded::Windowed {
                    key: Box::new(text(&bytes[..split])),
                    start: read_i64(&bytes[split + 8..]),
                    end: read_i64(&bytes[split..split + 8]),
                }
            }
            KeyFormat::WindowedString | KeyFormat::SessionWindowedString => Decoded::Invalid {
                hex: hex(bytes),
                reason: format!("{} bytes, too short for a windowed key", bytes.len()),
            },
        }
    }

    fn decode_value(&self, bytes: &[u8]) -> Decoded {
        match self.value {
            ValueFormat::String => text(bytes),
            ValueFormat::I64 => int(bytes),
            ValueFormat::Bytes => Decoded::Hex(hex(bytes)),
            ValueFormat::Json => match serde_json::from_slice(bytes) {
                Ok(v) => Decoded::Json(v),
                Err(_) => text(bytes),
            },
            ValueFormat::Auto => {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
                    return Decoded::Json(v);
                }
                match std::str::from_utf8(bytes) {
                    Ok(s) if printable(s) => Decoded::Text(s.to_string()),
                    _ if bytes.len() == 8 => int(bytes),
                    _ => Decoded::Hex(hex(bytes)),
                }
            }
        }
    }

    /// The line for `record` (without a newline).
    pub fn format(&self, record: &RawRecord<'_>) -> String {
        let key = record.key.map_or(Decoded::Null, |k| self.decode_key(k));
        let value = record.value.map_or(Decoded::Null, |v| self.decode_value(v));
        match self.output {
            OutputFormat::Text => {
                let mut line = format!(
                    "partition={} offset={} timestamp=",
                    record.partition, record.offset
                );
                match record.timestamp {
                    Some(ms) => write_instant(&mut line, ms),
                    None => line.push_str("none"),
                }
                line.push_str(" key=");
                write_text(&mut line, &key);
                line.push_str(" value=");
                write_text(&mut line, &value);
                line
            }
            OutputFormat::Json => serde_json::json!({
                "partition": record.partition,
                "offset": record.offset,
                "timestamp": record.timestamp,
                "key": to_json(key),
                "value": to_json(value),
            })
            .to_string(),
        }
    }
}

/// `ms` as `2020-07-01T00:25:32.000Z`, or the number when out of range.
fn write_instant(out: &mut String, ms: i64) {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => {
            let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        }
        None => {
            let _ = write!(out, "{ms}");
        }
    }
}

fn write_text(out: &mut String, d: &Decoded) {
    match d {
        Decoded::Null => out.push_str("null"),
        Decoded::Text(s) if printable(s) => out.push_str(s),
        Decoded::Text(s) => {
            let _ = write!(out, "{:?}", s);
        }
        Decoded::Hex(h) => out.push_str(h),
        Decoded::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Decoded::Json(v) => {
            let _ = write!(out, "{v}");
        }
        Decoded::Windowed { key, start, end } => {
            write_text(out, key);
            out.push_str("@[");
            write_instant(out, *start);
            out.push(',');
            write_instant(out, *end);
            out.push(')');
        }
        Decoded::Invalid { hex, reason } => {
            let _ = write!(out, "{hex}({reason})");
        }
    }
}

fn to_json(d: Decoded) -> serde_json::Value {
    use serde_json::Value;
    match d {
        Decoded::Null => Value::Null,
        Decoded::Text(s) | Decoded::Hex(s) => Value::String(s),
        Decoded::Int(n) => Value::from(n),
        Decoded::Json(v) => v,
        Decoded::Windowed { key, start, end } => {
            serde_json::json!({ "key": to_json(*key), "start": start, "end": end })
        }
        Decoded::Invalid { hex, reason } => serde_json::json!({ "hex": hex, "error": reason }),
    }
}

/// What [`consume`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumeOptions {
    /// The cluster (`bootstrap.servers`).
    pub bootstrap: String,
    /// The topic.
    pub topic: String,
    /// Read from the first offset of every partition (else only records that arrive later).
    pub from_beginning: bool,
    /// Stop after this many records.
    pub max: Option<u64>,
    /// Stop when no record arrived for this long (also while waiting for the topic to exist).
    pub idle_timeout: Option<Duration>,
}

/// Why [`consume`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeEnd {
    /// `max` records were read.
    Max,
    /// No record for `idle_timeout`.
    Idle,
    /// The stop flag was set.
    Stopped,
}

/// Reads `options.topic` from every partition (without joining a consumer group or committing
/// offsets, like `kafka-console-consumer` with no group) and calls `on_record` for each record,
/// in arrival order (offset order within a partition). Waits for the topic to exist. Returns
/// the number of records read and why it stopped; an error from `on_record` stops reading and
/// is returned.
pub fn consume(
    options: &ConsumeOptions,
    stop: &AtomicBool,
    mut on_record: impl FnMut(&RawRecord<'_>) -> Result<(), ExampleError>,
) -> Result<(u64, ConsumeEnd), ExampleError> {
    let consumer = standalone_consumer(&options.bootstrap, "consume")?;
    let mut last_activity = Instant::now();
    let idle = |since: Instant| options.idle_timeout.is_some_and(|t| since.elapsed() >= t);
    let partitions = loop {
        if let Some(n) = partitions_of(&consumer, &options.bootstrap, &options.topic)? {
            break n;
        }
        if stop.load(Ordering::Relaxed) {
            return Ok((0, ConsumeEnd::Stopped));
        }
        if idle(last_activity) {
            return Ok((0, ConsumeEnd::Idle));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let offset = if options.from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(&options.topic, p, offset)
            .map_err(kafka_error(format!(
                "assign partition {p} of `{}`",
                options.topic
            )))?;
    }
    consumer.assign(&assignment).map_err(kafka_error(format!(
        "assign the partitions of `{}`",
        options.topic
    )))?;
    let mut read = 0u64;
    last_activity = Instant::now();
    loop {
        if options.max.is_some_and(|m| read >= m) {
            return Ok((read, ConsumeEnd::Max));
        }
        if stop.load(Ordering::Relaxed) {
            return Ok((read, ConsumeEnd::Stopped));
        }
        if idle(last_activity) {
            return Ok((read, ConsumeEnd::Idle));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => {
                read += 1;
                last_activity = Instant::now();
                on_record(&RawRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    timestamp: m.timestamp().to_millis(),
                    key: m.key(),
                    value: m.payload(),
                })?;
            }
            Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => {
                return Err(kafka_error(format!("read topic `{}`", options.topic))(e));
            }
            // Transient errors (broker restarts, leader moves): librdkafka retries.
            Some(Err(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(key: Option<&'a [u8]>, value: Option<&'a [u8]>) -> RawRecord<'a> {
        RawRecord {
            partition: 0,
            offset: 3,
            timestamp: Some(1_593_561_660_000),
            key,
            value,
        }
    }

    #[test]
    fn text_lines_decode_counts_json_and_windowed_keys() {
        let text = |k, v| RecordFormatter::new(k, v, OutputFormat::Text, 60_000);
        let count = 42i64.to_be_bytes();
        let mut windowed = b"238".to_vec();
        windowed.extend_from_slice(&1_593_561_600_000i64.to_be_bytes());
        assert_eq!(
            text(KeyFormat::WindowedString, ValueFormat::Auto)
                .format(&record(Some(&windowed), Some(&count))),
            "partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z \
             key=238@[2020-07-01T00:00:00.000Z,2020-07-01T00:01:00.000Z) value=42"
        );
        assert_eq!(
            text(KeyFormat::String, ValueFormat::Auto)
                .format(&record(Some(b"238"), Some(br#"{"a":1}"#))),
            r#"partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z key=238 value={"a":1}"#
        );
        assert_eq!(
            text(KeyFormat::String, ValueFormat::String).format(&record(None, Some(b"hi there"))),
            "partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z key=null value=hi there"
        );
        assert_eq!(
            text(KeyFormat::Bytes, ValueFormat::I64).format(&record(Some(b"\x01\xff"), None)),
            "partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z key=0x01ff value=null"
        );
        assert_eq!(
            text(KeyFormat::I64, ValueFormat::I64).format(&record(Some(&count), Some(b"abc"))),
            "partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z key=42 \
             value=0x616263(3 bytes, not an 8-byte integer)"
        );
        // Auto: an 8-byte count is not printable text, so it is read as an integer; a
        // 3-byte binary value is hex.
        assert_eq!(
            text(KeyFormat::String, ValueFormat::Auto)
                .format(&record(Some(b"k"), Some(&[0, 1, 2]))),
            "partition=0 offset=3 timestamp=2020-07-01T00:01:00.000Z key=k value=0x000102"
        );
    }

    #[test]
    fn session_windowed_keys_have_end_then_start() {
        let mut key = b"75".to_vec();
        key.extend_from_slice(&5_000i64.to_be_bytes()); // end
        key.extend_from_slice(&1_000i64.to_be_bytes()); // start
        let f = RecordFormatter::new(
            KeyFormat::SessionWindowedString,
            ValueFormat::I64,
            OutputFormat::Json,
            0,
        );
        let count = 2i64.to_be_bytes();
        assert_eq!(
            f.format(&record(Some(&key), Some(&count))),
            r#"{"key":{"end":5000,"key":"75","start":1000},"offset":3,"partition":0,"timestamp":1593561660000,"value":2}"#
        );
    }

    #[test]
    fn json_lines_embed_json_values() {
        let f = RecordFormatter::new(KeyFormat::String, ValueFormat::Json, OutputFormat::Json, 0);
        assert_eq!(
            f.format(&record(Some(b"238"), Some(br#"{"PULocationID":238}"#))),
            r#"{"key":"238","offset":3,"partition":0,"timestamp":1593561660000,"value":{"PULocationID":238}}"#
        );
        assert_eq!(
            f.format(&RawRecord {
                timestamp: None,
                ..record(None, Some(b"not json"))
            }),
            r#"{"key":null,"offset":3,"partition":0,"timestamp":null,"value":"not json"}"#
        );
    }
}
