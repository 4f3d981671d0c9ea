//! `StreamsConfig`: application settings under Kafka Streams' key names.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::timestamp::InvalidTimestampPolicy;

/// What to do with a record that cannot be deserialized
/// (`default.deserialization.exception.handler`), whose processing failed
/// (`processing.exception.handler`) or that the producer rejected
/// (`default.production.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExceptionHandler {
    /// Stop with the error, which names the record (topic, partition, offset) and the cause.
    #[default]
    LogAndFail,
    /// Log the record's location at warn level, count it in `dropped-records`, send it to the
    /// dead-letter queue when `errors.dead.letter.queue.topic.name` is set, and go on.
    LogAndContinue,
}

/// The deserialization handler's policy (the name it had before the other handlers).
pub type DeserializationHandler = ExceptionHandler;

/// Settings a task takes from the application config.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskConfig {
    pub handler: DeserializationHandler,
    pub timestamp_policy: InvalidTimestampPolicy,
    /// `processing.exception.handler`.
    pub processing: ExceptionHandler,
    /// `default.production.exception.handler`.
    pub production: ExceptionHandler,
    /// `errors.dead.letter.queue.topic.name`.
    pub dead_letter_queue: Option<Arc<str>>,
}

impl TaskConfig {
    pub(crate) fn from_config(config: &StreamsConfig) -> Result<TaskConfig> {
        Ok(TaskConfig {
            handler: config.deserialization_handler()?,
            timestamp_policy: config.timestamp_policy()?,
            processing: config.processing_handler()?,
            production: config.production_handler()?,
            dead_letter_queue: config.dead_letter_queue_topic()?.map(Arc::from),
        })
    }
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
/// `processing.exception.handler` (KIP-1033): `LogAndFail` (default) or `LogAndContinue`, for an
/// error returned or a panic raised by user code (a processor, a DSL closure, a punctuator).
pub const PROCESSING_HANDLER: &str = "processing.exception.handler";
/// `default.production.exception.handler`: `LogAndFail` (default) or `LogAndContinue`, for a
/// record the producer rejects (too large, invalid topic, ...) on its way to an output topic.
/// Records of internal topics (changelogs, repartition topics) always fail: skipping one would
/// corrupt state or lose input.
pub const PRODUCTION_HANDLER: &str = "default.production.exception.handler";
/// `errors.dead.letter.queue.topic.name` (KIP-1034): where a handler that continues sends the
/// record it skipped (its original key and value, with headers naming the error), unset: none.
pub const DEAD_LETTER_QUEUE_TOPIC: &str = "errors.dead.letter.queue.topic.name";
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

/// `bootstrap.servers`: the Kafka cluster; unset or `embedded` starts librdkafka's mock cluster
/// in-process.
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
/// `num.stream.threads` (default 1).
pub const NUM_STREAM_THREADS: &str = "num.stream.threads";
/// `processing.guarantee`: `at_least_once` (default) or `exactly_once_v2`.
pub const PROCESSING_GUARANTEE: &str = "processing.guarantee";
/// `replication.factor` of internal topics: -1 (the default, as Kafka Streams) takes the
/// broker's `default.replication.factor`; a number >= 1 sets it.
pub const REPLICATION_FACTOR: &str = "replication.factor";
/// `buffered.records.per.partition`: records queued per input partition before the consumer
/// pauses it (default 1000).
pub const BUFFERED_RECORDS_PER_PARTITION: &str = "buffered.records.per.partition";
/// `max.task.idle.ms`: how long a task with several inputs waits for an empty one before it
/// processes anyway (default 0).
pub const MAX_TASK_IDLE_MS: &str = "max.task.idle.ms";
/// `repartition.purge.interval.ms`: how often each stream thread deletes the records of its
/// repartition topics below the committed offsets (DeleteRecords; default 30000, as Kafka
/// Streams).
pub const REPARTITION_PURGE_INTERVAL_MS: &str = "repartition.purge.interval.ms";
/// `state.cleanup.delay.ms`: how long a task directory no task of this instance uses is kept
/// before it is deleted (default 600000, as Kafka Streams).
pub const STATE_CLEANUP_DELAY_MS: &str = "state.cleanup.delay.ms";
/// `task.timeout.ms`: how long a retriable failure (an offset commit the cluster refuses) may
/// last before the stream thread gives up with an error (default 300000, as Kafka Streams; 0:
/// no retry).
pub const TASK_TIMEOUT_MS: &str = "task.timeout.ms";

/// Every key the library reads itself (without a client prefix).
const KNOWN_KEYS: &[&str] = &[
    APPLICATION_ID,
    BOOTSTRAP_SERVERS,
    NUM_STREAM_THREADS,
    PROCESSING_GUARANTEE,
    COMMIT_INTERVAL_MS,
    STATE_DIR,
    CACHE_MAX_BYTES,
    ROCKSDB_TOTAL_MEMORY_BYTES,
    REPLICATION_FACTOR,
    BUFFERED_RECORDS_PER_PARTITION,
    MAX_TASK_IDLE_MS,
    TASK_TIMEOUT_MS,
    STATE_CLEANUP_DELAY_MS,
    REPARTITION_PURGE_INTERVAL_MS,
    DESERIALIZATION_HANDLER,
    PROCESSING_HANDLER,
    PRODUCTION_HANDLER,
    DEAD_LETTER_QUEUE_TOPIC,
    TIMESTAMP_POLICY,
];

/// Prefixes of keys passed to one kind of librdkafka client, prefix removed.
const CLIENT_PREFIXES: &[&str] = &[
    "consumer.",
    "producer.",
    "admin.",
    "restore.consumer.",
    "global.consumer.",
    "control.",
];

/// Prefixes of keys passed unchanged to every client.
const ALL_CLIENTS_PREFIXES: &[&str] = &["security.", "sasl.", "ssl."];

/// The processing guarantee (`processing.guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessingGuarantee {
    /// Records may be processed again after a failure; nothing acknowledged is lost.
    #[default]
    AtLeastOnce,
    /// Transactions tie outputs, changelogs and input offsets together.
    ExactlyOnceV2,
}

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
        self.check_keys()?;
        self.check_client_overrides()?;
        self.deserialization_handler()?;
        self.processing_handler()?;
        self.production_handler()?;
        self.dead_letter_queue_topic()?;
        self.timestamp_policy()?;
        self.commit_interval()?;
        self.cache_max_bytes()?;
        self.rocksdb_total_memory_bytes()?;
        self.num_stream_threads()?;
        self.processing_guarantee()?;
        self.replication_factor()?;
        self.buffered_records_per_partition()?;
        self.max_task_idle()?;
        self.task_timeout()?;
        self.state_cleanup_delay()?;
        self.repartition_purge_interval()?;
        Ok(())
    }

    /// Every key must be one the library reads, or carry a client prefix: a typo (or a client
    /// setting without its prefix) would otherwise be ignored without a word.
    fn check_keys(&self) -> Result<()> {
        for key in self.props.keys() {
            let known = KNOWN_KEYS.contains(&key.as_str())
                || CLIENT_PREFIXES
                    .iter()
                    .chain(ALL_CLIENTS_PREFIXES)
                    .any(|p| key.len() > p.len() && key.starts_with(p));
            if known {
                continue;
            }
            let hint = match nearest_known_key(key) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!(
                    "settings of the Kafka clients need a prefix saying which client they are for \
                     (`{}`), e.g. `producer.{key}`; `security.*`, `sasl.*` and `ssl.*` go to every \
                     client",
                    CLIENT_PREFIXES.join("`, `")
                ),
            };
            return Err(StreamsError::config(key, format!("unknown key; {hint}")));
        }
        Ok(())
    }

    /// Client settings that would break what the runtime guarantees are refused rather than
    /// applied: offsets are committed by the runtime only after the results they cover were
    /// produced, rebalancing is eager, and exactly-once needs idempotent transactional
    /// producers and `read_committed` consumers that the runtime configures itself.
    fn check_client_overrides(&self) -> Result<()> {
        let exactly_once = self.processing_guarantee()? == ProcessingGuarantee::ExactlyOnceV2;
        let refuse = |key: &str, why: &str| Err(StreamsError::config(key, why.to_string()));
        for (key, value) in &self.props {
            let value = value.trim();
            let Some((client, setting)) = CLIENT_PREFIXES
                .iter()
                .filter(|p| key.starts_with(*p))
                .max_by_key(|p| p.len())
                .map(|p| (&p[..p.len() - 1], &key[p.len()..]))
            else {
                continue;
            };
            let consumer = client.ends_with("consumer");
            match setting {
                "enable.auto.commit" if consumer && value.eq_ignore_ascii_case("true") => {
                    return refuse(
                        key,
                        "auto-commit would commit offsets of records whose results are not yet \
                         produced (lost on a crash); the runtime commits offsets itself",
                    );
                }
                "group.id" if client == "consumer" => {
                    return refuse(
                        key,
                        "the consumer group is the `application.id`; set that instead",
                    );
                }
                "partition.assignment.strategy"
                    if client == "consumer" && value.contains("cooperative") =>
                {
                    return refuse(
                        key,
                        "rebalancing here is eager: a cooperative assignor is not supported \
                         (use `range`, the default, which keeps co-partitioned topics together)",
                    );
                }
                "enable.idempotence" if exactly_once && !value.eq_ignore_ascii_case("true") => {
                    return refuse(
                        key,
                        "exactly_once_v2 needs idempotent producers; remove the override",
                    );
                }
                "transactional.id" if exactly_once => {
                    return refuse(
                        key,
                        "under exactly_once_v2 the runtime sets each thread's transactional.id \
                         (from application.id and the process id); remove the override",
                    );
                }
                "isolation.level" if exactly_once && consumer && value != "read_committed" => {
                    return refuse(
                        key,
                        "exactly_once_v2 reads committed data only (`read_committed`); remove \
                         the override",
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `bootstrap.servers`, or `None` for the embedded cluster (unset or `embedded`).
    pub fn bootstrap_servers(&self) -> Option<&str> {
        match self.get(BOOTSTRAP_SERVERS).map(str::trim) {
            None | Some("") | Some("embedded") => None,
            Some(s) => Some(s),
        }
    }

    /// `num.stream.threads` (default 1, at least 1).
    pub fn num_stream_threads(&self) -> Result<usize> {
        self.count(NUM_STREAM_THREADS, 1, 1)
    }

    /// `replication.factor` of internal topics (default 1).
    pub fn replication_factor(&self) -> Result<i32> {
        match self.get(REPLICATION_FACTOR).map(str::trim) {
            None | Some("-1") => Ok(-1),
            Some(v) => match v.parse::<i32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(StreamsError::config(
                    REPLICATION_FACTOR,
                    format!("`{v}` is neither -1 (the broker's default) nor a whole number >= 1"),
                )),
            },
        }
    }

    /// `buffered.records.per.partition` (default 1000, at least 1).
    pub fn buffered_records_per_partition(&self) -> Result<usize> {
        self.count(BUFFERED_RECORDS_PER_PARTITION, 1000, 1)
    }

    /// `max.task.idle.ms` (default 0): how long a task with several input partitions waits
    /// while some of them have no buffered records before it processes the others anyway, so
    /// that records are taken in timestamp order across partitions. 0 and -1 do not wait.
    pub fn max_task_idle(&self) -> Result<Duration> {
        if self.get(MAX_TASK_IDLE_MS).map(str::trim) == Some("-1") {
            return Ok(Duration::ZERO);
        }
        self.millis(MAX_TASK_IDLE_MS, 0)
    }

    /// `task.timeout.ms` (default 300 s): how long a retriable failure may last before the
    /// stream thread gives up with an error that says what was being retried.
    pub fn task_timeout(&self) -> Result<Duration> {
        self.millis(TASK_TIMEOUT_MS, 300_000)
    }

    /// `state.cleanup.delay.ms`.
    pub fn state_cleanup_delay(&self) -> Result<Duration> {
        self.millis(STATE_CLEANUP_DELAY_MS, 600_000)
    }

    /// `repartition.purge.interval.ms`.
    pub fn repartition_purge_interval(&self) -> Result<Duration> {
        self.millis(REPARTITION_PURGE_INTERVAL_MS, 30_000)
    }

    /// `processing.guarantee`.
    pub fn processing_guarantee(&self) -> Result<ProcessingGuarantee> {
        match self.get(PROCESSING_GUARANTEE).map(str::trim) {
            None | Some("at_least_once") => Ok(ProcessingGuarantee::AtLeastOnce),
            Some("exactly_once_v2") | Some("exactly_once_beta") => {
                Ok(ProcessingGuarantee::ExactlyOnceV2)
            }
            Some(other) => Err(StreamsError::config(
                PROCESSING_GUARANTEE,
                format!("`{other}` is not one of at_least_once, exactly_once_v2"),
            )),
        }
    }

    /// Client properties for one client kind: every `<prefix>.` key with the prefix removed
    /// (`consumer.`, `producer.`, `admin.`), plus unprefixed `security.*`, `sasl.*`, `ssl.*`.
    pub fn client_properties(&self, prefix: &str) -> Vec<(String, String)> {
        let dotted = format!("{prefix}.");
        self.props
            .iter()
            .filter_map(|(k, v)| {
                if let Some(rest) = k.strip_prefix(&dotted) {
                    Some((rest.to_string(), v.clone()))
                } else if ["security.", "sasl.", "ssl."]
                    .iter()
                    .any(|p| k.starts_with(p))
                {
                    Some((k.clone(), v.clone()))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Reads `KEY=VALUE` lines (Java properties style; `#` and `!` start comments) from a file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| StreamsError::StateIo {
            action: "read the config file".into(),
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut config = StreamsConfig::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
                return Err(StreamsError::config(
                    line,
                    format!("{}:{}: expected KEY=VALUE", path.display(), n + 1),
                ));
            };
            config.set(k.trim(), v.trim());
        }
        if config.get(APPLICATION_ID).is_none() {
            return Err(StreamsError::config(
                APPLICATION_ID,
                format!("not set in {}", path.display()),
            ));
        }
        Ok(config)
    }

    /// Overrides keys from the environment: `KSTREAMS_BOOTSTRAP_SERVERS` sets
    /// `bootstrap.servers` (upper case, `.` as `_`, prefix `KSTREAMS_`).
    pub fn with_env_overrides(mut self) -> Self {
        for (k, v) in std::env::vars() {
            if let Some(rest) = k.strip_prefix("KSTREAMS_") {
                let key = rest.to_ascii_lowercase().replace('_', ".");
                self.set(key, v);
            }
        }
        self
    }

    fn count(&self, key: &str, default: usize, min: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(StreamsError::config(
                    key,
                    format!("`{v}` is not a whole number >= {min}"),
                )),
            },
        }
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
        self.exception_handler(
            DESERIALIZATION_HANDLER,
            &["LogAndFailExceptionHandler"],
            &["LogAndContinueExceptionHandler"],
        )
    }

    /// `processing.exception.handler`.
    pub fn processing_handler(&self) -> Result<ExceptionHandler> {
        self.exception_handler(
            PROCESSING_HANDLER,
            &["LogAndFailProcessingExceptionHandler"],
            &["LogAndContinueProcessingExceptionHandler"],
        )
    }

    /// `default.production.exception.handler`.
    pub fn production_handler(&self) -> Result<ExceptionHandler> {
        self.exception_handler(
            PRODUCTION_HANDLER,
            &["DefaultProductionExceptionHandler"],
            &["LogAndContinueProductionExceptionHandler"],
        )
    }

    /// A handler's policy: `LogAndFail`, `LogAndContinue`, or the Kafka class names given (with
    /// or without their Java package).
    fn exception_handler(
        &self,
        key: &str,
        fail: &[&str],
        continue_: &[&str],
    ) -> Result<ExceptionHandler> {
        let Some(value) = self.get(key) else {
            return Ok(ExceptionHandler::LogAndFail);
        };
        let name = value.trim().rsplit('.').next().unwrap_or_default();
        if name == "LogAndFail" || fail.contains(&name) {
            Ok(ExceptionHandler::LogAndFail)
        } else if name == "LogAndContinue" || continue_.contains(&name) {
            Ok(ExceptionHandler::LogAndContinue)
        } else {
            let mut accepted = vec!["LogAndFail", "LogAndContinue"];
            accepted.extend(fail);
            accepted.extend(continue_);
            Err(StreamsError::config(
                key,
                format!("`{value}` is not one of {}", accepted.join(", ")),
            ))
        }
    }

    /// `errors.dead.letter.queue.topic.name`, if set.
    pub fn dead_letter_queue_topic(&self) -> Result<Option<&str>> {
        match self.get(DEAD_LETTER_QUEUE_TOPIC).map(str::trim) {
            None => Ok(None),
            Some("") => Err(StreamsError::config(
                DEAD_LETTER_QUEUE_TOPIC,
                "the topic name is empty; remove the key to have no dead-letter queue",
            )),
            Some(t) => Ok(Some(t)),
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

    /// `commit.interval.ms`; as in Kafka Streams the default is 30 s under at-least-once and
    /// 100 ms under exactly-once (results become visible to `read_committed` readers only when
    /// their transaction commits).
    pub fn commit_interval(&self) -> Result<Duration> {
        let default = match self.processing_guarantee()? {
            ProcessingGuarantee::AtLeastOnce => 30_000,
            ProcessingGuarantee::ExactlyOnceV2 => 100,
        };
        self.millis(COMMIT_INTERVAL_MS, default)
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

/// The known key nearest to `key` (a typo of it), if one is within a few edits.
fn nearest_known_key(key: &str) -> Option<&'static str> {
    KNOWN_KEYS
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 5))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(config: StreamsConfig) -> (String, String) {
        match config.validate() {
            Err(StreamsError::Config { key, reason }) => (key, reason),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    // Unknown keys used to be ignored, so a typo changed nothing without a word.
    #[test]
    fn a_misspelt_key_is_refused_with_the_key_it_resembles() {
        let (key, reason) = error_of(StreamsConfig::new("app").with("comit.interval.ms", "100"));
        assert_eq!(key, "comit.interval.ms");
        assert!(
            reason.contains("did you mean `commit.interval.ms`?"),
            "{reason}"
        );
        let (_, reason) = error_of(StreamsConfig::new("app").with("num.streams.threads", "2"));
        assert!(reason.contains("`num.stream.threads`"), "{reason}");
    }

    #[test]
    fn a_client_setting_without_its_prefix_is_refused_with_the_prefixes() {
        let (key, reason) = error_of(StreamsConfig::new("app").with("max.poll.interval.ms", "1"));
        assert_eq!(key, "max.poll.interval.ms");
        assert!(
            reason.contains("`producer.max.poll.interval.ms`"),
            "{reason}"
        );
        assert!(reason.contains("`consumer.`"), "{reason}");
    }

    #[test]
    fn known_keys_and_prefixed_client_settings_are_accepted() {
        StreamsConfig::new("app")
            .with("commit.interval.ms", "100")
            .with("state.dir", "/tmp/x")
            .with("consumer.fetch.wait.max.ms", "10")
            .with("producer.linger.ms", "20")
            .with("restore.consumer.fetch.min.bytes", "1")
            .with("security.protocol", "SASL_SSL")
            .with("sasl.mechanism", "PLAIN")
            .with("producer.enable.idempotence", "false")
            .validate()
            .unwrap();
    }

    // These overrides were applied silently and broke the guarantees.
    #[test]
    fn dangerous_client_overrides_are_refused() {
        let eos = || StreamsConfig::new("app").with(PROCESSING_GUARANTEE, "exactly_once_v2");
        for (config, bad) in [
            (
                StreamsConfig::new("app"),
                ("consumer.enable.auto.commit", "true"),
            ),
            (
                StreamsConfig::new("app"),
                ("restore.consumer.enable.auto.commit", "true"),
            ),
            (StreamsConfig::new("app"), ("consumer.group.id", "other")),
            (
                StreamsConfig::new("app"),
                (
                    "consumer.partition.assignment.strategy",
                    "cooperative-sticky",
                ),
            ),
            (eos(), ("producer.enable.idempotence", "false")),
            (eos(), ("producer.transactional.id", "mine")),
            (eos(), ("consumer.isolation.level", "read_uncommitted")),
            (
                eos(),
                ("global.consumer.isolation.level", "read_uncommitted"),
            ),
        ] {
            let (key, reason) = error_of(config.with(bad.0, bad.1));
            assert_eq!(key, bad.0, "{reason}");
        }
        eos()
            .with("consumer.isolation.level", "read_committed")
            .with("consumer.enable.auto.commit", "false")
            .validate()
            .unwrap();
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("state.dir", "state.dir"), 0);
        assert_eq!(edit_distance("statedir", "state.dir"), 1);
    }

    #[test]
    fn replication_factor_defaults_to_the_brokers_default() {
        let rf = |v: Option<&str>| {
            let mut c = StreamsConfig::new("x");
            if let Some(v) = v {
                c.set(REPLICATION_FACTOR, v);
            }
            c.replication_factor()
        };
        assert_eq!(rf(None).unwrap(), -1);
        assert_eq!(rf(Some("-1")).unwrap(), -1);
        assert_eq!(rf(Some("3")).unwrap(), 3);
        for bad in ["0", "-2", "two"] {
            let err = rf(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("replication.factor"), "{err}");
        }
    }
}
