//! Typed errors. Every error says what failed, where (topic/partition/offset, node, store or
//! config key) and, where there is one, what to do about it.

use std::fmt;

/// Which half of a record a serde worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPart {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl fmt::Display for RecordPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordPart::Key => "key",
            RecordPart::Value => "value",
        })
    }
}

/// A serde failed to turn bytes into a value or a value into bytes.
#[derive(Debug, thiserror::Error)]
#[error("serde `{serde}` failed: {reason}")]
pub struct SerdeError {
    /// Name of the serde (e.g. `String`, `Json<taxi::Ride>`).
    pub serde: String,
    /// What went wrong, in words.
    pub reason: String,
}

impl SerdeError {
    /// A new error for the serde named `serde`.
    pub fn new(serde: impl Into<String>, reason: impl Into<String>) -> Self {
        SerdeError {
            serde: serde.into(),
            reason: reason.into(),
        }
    }
}

/// Source location of a record: topic, partition and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLocation {
    /// Topic the record was read from.
    pub topic: String,
    /// Partition the record was read from.
    pub partition: i32,
    /// Offset of the record in its partition.
    pub offset: i64,
}

impl fmt::Display for RecordLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}@{}", self.topic, self.partition, self.offset)
    }
}

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// A record read from a topic could not be deserialized.
    #[error(
        "cannot deserialize the {part} of record {location}: {source}. Fix the producer, \
         use a serde that matches the data, or set `default.deserialization.exception.handler` \
         to `LogAndContinue` to skip such records"
    )]
    Deserialization {
        /// Where the record came from.
        location: RecordLocation,
        /// Key or value.
        part: RecordPart,
        /// The serde's own error.
        #[source]
        source: SerdeError,
    },
    /// A value could not be serialized for a sink or internal topic.
    #[error("cannot serialize the {part} for topic `{topic}` in node `{node}`: {source}")]
    Serialization {
        /// Destination topic.
        topic: String,
        /// The sink node that serialized.
        node: String,
        /// Key or value.
        part: RecordPart,
        /// The serde's own error.
        #[source]
        source: SerdeError,
    },
    /// The timestamp extractor returned a negative timestamp and the policy is to fail.
    #[error(
        "record {location} has invalid (negative) timestamp {timestamp}; the timestamp \
         extractor must return epoch milliseconds >= 0. Use `InvalidTimestampPolicy::Skip` or \
         `UsePreviousTime` (config `default.timestamp.extractor`) to tolerate such records"
    )]
    InvalidTimestamp {
        /// Where the record came from.
        location: RecordLocation,
        /// The extracted timestamp.
        timestamp: i64,
    },
    /// The topology cannot be built or run as described.
    #[error("invalid topology: {0}")]
    InvalidTopology(String),
    /// A window definition (`TimeWindows`, `SlidingWindows`, `SessionWindows`) was given a size,
    /// advance, gap or grace period that Kafka Streams rejects.
    #[error("invalid window definition: {0}")]
    InvalidWindow(String),
    /// A configuration value is missing or wrong.
    #[error("invalid config `{key}`: {reason}")]
    Config {
        /// The config key.
        key: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A processor asked for a state store it may not use or that has another type.
    #[error("processor `{node}` cannot use state store `{store}`: {reason}")]
    StoreAccess {
        /// The processor node.
        node: String,
        /// The store name.
        store: String,
        /// Why.
        reason: String,
    },
    /// A state store operation failed.
    #[error("state store `{store}` failed: {reason}")]
    Store {
        /// The store name.
        store: String,
        /// What failed.
        reason: String,
        /// The underlying error (RocksDB's, a serde's), when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A store's local directory exists but cannot be opened: corrupt files, not a RocksDB
    /// directory, unreadable. The data is a cache of the changelog, so deleting it is safe.
    #[error(
        "state store `{store}` cannot open its local state in `{}`: {reason}. Stop the \
         application, delete the directory; the store will be restored from its changelog",
        path.display()
    )]
    CorruptState {
        /// The store's directory.
        path: std::path::PathBuf,
        /// The store name.
        store: String,
        /// What RocksDB (or the file system) reported.
        reason: String,
        /// RocksDB's (or the file system's) error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A task's `.checkpoint` file cannot be parsed.
    #[error(
        "checkpoint file `{}` is malformed at line {line}: {reason}. Stop the application and \
         delete the task directory that holds it; its stores will be restored from their \
         changelogs",
        path.display()
    )]
    CorruptCheckpoint {
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// 1-based line number of the first bad line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Another client holds the application's state directory: two instances of one
    /// application on one machine need a `state.dir` each.
    #[error(
        "the state directory `{}` is in use by another instance of this application (in this \
         process or another); give each instance on this machine its own `state.dir`, or stop \
         the other one",
        path.display()
    )]
    StateDirectoryLocked {
        /// `<state.dir>/<application.id>`.
        path: std::path::PathBuf,
    },
    /// Reading or writing a file of the local state (state directory, checkpoint) failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    StateIo {
        /// What was being done (e.g. `write checkpoint file`).
        action: String,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// User code (a processor, a mapper) returned an error.
    #[error("processor `{node}` failed on {}: {source}", location.as_ref().map_or_else(|| "a punctuation".to_string(), |l| format!("record {l}")))]
    Processor {
        /// The node whose code failed.
        node: String,
        /// The record being processed, if any.
        location: Option<RecordLocation>,
        /// The user's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// User code (a processor, a mapper, an aggregator, a punctuator) panicked on a stream
    /// thread. The thread's tasks are dropped without committing, so their input is processed
    /// again from the last committed offsets; the uncaught-error handler decides what follows.
    #[error(
        "user code panicked on stream thread `{thread}`: {message}. The thread's tasks were \
         closed without committing; fix the code (or catch the failure in it and return an error)"
    )]
    Panic {
        /// The stream thread's name (`<application.id>-StreamThread-<n>`).
        thread: String,
        /// The panic's message.
        message: String,
    },
    /// A user error not yet attributed to a node (wrapped into [`StreamsError::Processor`]
    /// by the engine).
    #[error("{0}")]
    User(Box<dyn std::error::Error + Send + Sync>),
    /// The producer rejected a record for an output topic (too large, unknown topic, not
    /// authorized, ...). `default.production.exception.handler` decides whether it stops the
    /// application (default) or is skipped.
    #[error(
        "the producer rejected a record for topic `{topic}`: {source}. Fix the record or the \
         topic, or set `default.production.exception.handler` to `LogAndContinue` to skip such \
         records"
    )]
    Production {
        /// The output topic.
        topic: String,
        /// The producer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The Kafka cluster refused or failed an operation: what was attempted, on which topic or
    /// partition when there is one, and the client's error.
    #[error("Kafka: cannot {action}: {reason}")]
    Broker {
        /// What was attempted, with its topic/partition.
        action: String,
        /// The broker's or client's error, with a hint where one helps.
        reason: String,
        /// The client's error (an `rdkafka::error::KafkaError`), when one caused this; match on
        /// it with `downcast_ref`.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An instance of the application answered a stream thread's error with
    /// `ShutdownApplication`: every instance shuts down.
    #[error("application shutdown requested by instance `{requested_by}`: {reason}")]
    ApplicationShutdown {
        /// The requesting instance's `client.id` prefix and process.
        requested_by: String,
        /// The error that made it ask.
        reason: String,
    },
    /// The test driver was used in a way it cannot honour (unknown topic, empty output, ...).
    #[error("test driver: {0}")]
    Driver(String),
    /// A broken invariant inside the library: please report it.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl StreamsError {
    /// Wraps any error raised by user code inside a processor.
    pub fn user(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StreamsError::User(err.into())
    }

    /// A broker failure described in words (no client error caused it).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn broker(action: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        StreamsError::Broker {
            action: action.into(),
            reason: reason.to_string(),
            source: None,
        }
    }

    /// A broker failure caused by the client's error `source`, which is kept.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn kafka(
        action: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StreamsError::Broker {
            action: action.into(),
            reason: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// A store failure described in words.
    pub(crate) fn store(store: impl Into<String>, reason: impl Into<String>) -> Self {
        StreamsError::Store {
            store: store.into(),
            reason: reason.into(),
            source: None,
        }
    }

    /// A store failure caused by `source` (RocksDB's or a serde's error), which is kept; the
    /// message says `what` failed, then the cause.
    pub(crate) fn store_caused(
        store: impl Into<String>,
        what: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StreamsError::Store {
            store: store.into(),
            reason: format!("{what}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn config(key: &str, reason: impl Into<String>) -> Self {
        StreamsError::Config {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

impl StreamsError {
    /// The variant's name, for the dead-letter queue's `__streams.errors.exception` header.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            StreamsError::Deserialization { .. } => "Deserialization",
            StreamsError::Serialization { .. } => "Serialization",
            StreamsError::InvalidTimestamp { .. } => "InvalidTimestamp",
            StreamsError::InvalidTopology(_) => "InvalidTopology",
            StreamsError::InvalidWindow(_) => "InvalidWindow",
            StreamsError::Config { .. } => "Config",
            StreamsError::StoreAccess { .. } => "StoreAccess",
            StreamsError::Store { .. } => "Store",
            StreamsError::CorruptState { .. } => "CorruptState",
            StreamsError::CorruptCheckpoint { .. } => "CorruptCheckpoint",
            StreamsError::StateDirectoryLocked { .. } => "StateDirectoryLocked",
            StreamsError::StateIo { .. } => "StateIo",
            StreamsError::Processor { .. } => "Processor",
            StreamsError::Panic { .. } => "Panic",
            StreamsError::User(_) => "User",
            StreamsError::Production { .. } => "Production",
            StreamsError::Broker { .. } => "Broker",
            StreamsError::ApplicationShutdown { .. } => "ApplicationShutdown",
            StreamsError::Driver(_) => "Driver",
            StreamsError::Internal(_) => "Internal",
        }
    }
}

/// A panic in user code, as the cause of a [`StreamsError::Processor`] when the processing
/// handler continues past it.
#[derive(Debug, thiserror::Error)]
#[error("panicked: {0}")]
pub(crate) struct UserPanic(pub String);

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Result alias used across the crate.
pub type Result<T, E = StreamsError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn store_and_broker_errors_keep_their_cause() {
        let serde = SerdeError::new("String", "not UTF-8");
        let err = StreamsError::store_caused("counts", "cannot serialize a key", serde);
        assert_eq!(
            err.to_string(),
            "state store `counts` failed: cannot serialize a key: serde `String` failed: not UTF-8"
        );
        let cause = err.source().expect("the serde error is kept");
        assert_eq!(
            cause
                .downcast_ref::<SerdeError>()
                .map(|e| e.reason.as_str()),
            Some("not UTF-8")
        );
        assert!(StreamsError::store("counts", "closed").source().is_none());

        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = StreamsError::kafka("create the consumer", io);
        assert_eq!(
            err.to_string(),
            "Kafka: cannot create the consumer: refused"
        );
        let cause = err.source().expect("the client error is kept");
        assert_eq!(
            cause.downcast_ref::<std::io::Error>().map(|e| e.kind()),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        assert!(StreamsError::broker("close the client", "timed out")
            .source()
            .is_none());
    }
}
