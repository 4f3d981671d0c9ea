//! `StreamsConfig`: application settings under Kafka Streams' key names.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::timestamp::InvalidTimestampPolicy;

/// What to do with a record that cannot be deserialized
/// (`default.deserialization.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeserializationHandler {
    /// Stop with [`StreamsError::Deserialization`] naming topic, partition, offset and serde.
    #[default]
    LogAndFail,
    /// Log the record's location at warn level, count it in `dropped-records` and go on.
    LogAndContinue,
}

/// Application configuration. Keys follow Kafka Streams where they apply.
///
/// ```
/// use streams_core::StreamsConfig;
/// let config = StreamsConfig::new("ride-counts")
///     .with("default.deserialization.exception.handler", "LogAndContinue");
/// assert_eq!(config.application_id(), "ride-counts");
/// assert!(StreamsConfig::new("x").with("commit.interval.ms", "soon").validate().is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StreamsConfig {
    props: BTreeMap<String, String>,
}

/// `application.id`
pub const APPLICATION_ID: &str = "application.id";
/// `default.deserialization.exception.handler`: `LogAndFail` (default) or `LogAndContinue`.
pub const DESERIALIZATION_HANDLER: &str = "default.deserialization.exception.handler";
/// `default.timestamp.extractor`: the policy for invalid timestamps, by Kafka's class names
/// `FailOnInvalidTimestamp` (default), `LogAndSkipOnInvalidTimestamp`,
/// `UsePartitionTimeOnInvalidTimestamp`.
pub const TIMESTAMP_POLICY: &str = "default.timestamp.extractor";
/// `commit.interval.ms`
pub const COMMIT_INTERVAL_MS: &str = "commit.interval.ms";
/// `state.dir`
pub const STATE_DIR: &str = "state.dir";
/// `statestore.cache.max.bytes`: record cache size per stream thread (0 disables caching).
pub const CACHE_MAX_BYTES: &str = "statestore.cache.max.bytes";
/// `rocksdb.total.memory.bytes`: block cache plus write buffers shared by every RocksDB store
/// of the process.
pub const ROCKSDB_TOTAL_MEMORY_BYTES: &str = "rocksdb.total.memory.bytes";

impl StreamsConfig {
    /// A config with the given `application.id` and defaults for everything else.
    pub fn new(application_id: impl Into<String>) -> Self {
        let mut props = BTreeMap::new();
        props.insert(APPLICATION_ID.to_string(), application_id.into());
        StreamsConfig { props }
    }

    /// Sets a key (builder style). Values are checked by [`StreamsConfig::validate`] and when
    /// the application starts.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets a key.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.props.insert(key.into(), value.into());
    }

    /// The raw value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// `application.id` (empty if unset; [`StreamsConfig::validate`] rejects that).
    pub fn application_id(&self) -> &str {
        self.get(APPLICATION_ID).unwrap_or("")
    }

    /// Checks every known key.
    pub fn validate(&self) -> Result<()> {
        let id = self.application_id();
        if id.is_empty() {
            return Err(StreamsError::config(APPLICATION_ID, "must be set"));
        }
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(StreamsError::config(
                APPLICATION_ID,
                format!("`{id}` may only contain ASCII letters, digits, '.', '_' and '-' (it prefixes topic names)"),
            ));
        }
        self.deserialization_handler()?;
        self.timestamp_policy()?;
        self.commit_interval()?;
        self.cache_max_bytes()?;
        self.rocksdb_total_memory_bytes()?;
        Ok(())
    }

    /// `statestore.cache.max.bytes` (default 10 MiB, as Kafka Streams).
    pub fn cache_max_bytes(&self) -> Result<usize> {
        self.bytes(CACHE_MAX_BYTES, 10 << 20)
    }

    /// `rocksdb.total.memory.bytes` (default 64 MiB).
    pub fn rocksdb_total_memory_bytes(&self) -> Result<usize> {
        self.bytes(ROCKSDB_TOTAL_MEMORY_BYTES, 64 << 20)
    }

    /// `state.dir`, if set.
    pub fn state_dir(&self) -> Option<std::path::PathBuf> {
        self.get(STATE_DIR).map(std::path::PathBuf::from)
    }

    fn bytes(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                StreamsError::config(key, format!("`{v}` is not a whole number of bytes"))
            }),
        }
    }

    /// `default.deserialization.exception.handler`.
    pub fn deserialization_handler(&self) -> Result<DeserializationHandler> {
        match self.get(DESERIALIZATION_HANDLER) {
            None | Some("LogAndFail") | Some("LogAndFailExceptionHandler") => {
                Ok(DeserializationHandler::LogAndFail)
            }
            Some("LogAndContinue") | Some("LogAndContinueExceptionHandler") => {
                Ok(DeserializationHandler::LogAndContinue)
            }
            Some(other) => Err(StreamsError::config(
                DESERIALIZATION_HANDLER,
                format!("`{other}` is not one of LogAndFail, LogAndContinue"),
            )),
        }
    }

    /// `default.timestamp.extractor` as an invalid-timestamp policy.
    pub fn timestamp_policy(&self) -> Result<InvalidTimestampPolicy> {
        match self.get(TIMESTAMP_POLICY) {
            None => Ok(InvalidTimestampPolicy::Fail),
            Some(v) => InvalidTimestampPolicy::parse(v).ok_or_else(|| {
                StreamsError::config(
                    TIMESTAMP_POLICY,
                    format!("`{v}` is not one of FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp, UsePartitionTimeOnInvalidTimestamp"),
                )
            }),
        }
    }

    /// `commit.interval.ms` (default 30 s, as Kafka Streams under at-least-once).
    pub fn commit_interval(&self) -> Result<Duration> {
        self.millis(COMMIT_INTERVAL_MS, 30_000)
    }

    fn millis(&self, key: &str, default: u64) -> Result<Duration> {
        match self.get(key) {
            None => Ok(Duration::from_millis(default)),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| {
                    StreamsError::config(
                        key,
                        format!("`{v}` is not a whole number of milliseconds"),
                    )
                }),
        }
    }
}
