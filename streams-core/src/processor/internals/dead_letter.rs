//! The dead-letter queue (`errors.dead.letter.queue.topic.name`, Kafka's KIP-1034): a record
//! that an error handler skips (`LogAndContinue`) is written there as it was read, with its own
//! headers and these, which say what went wrong where:
//!
//! | header | value |
//! |---|---|
//! | `__streams.errors.exception` | the error's kind (`Deserialization`, `Processor`, `Production`) |
//! | `__streams.errors.message` | the error's message |
//! | `__streams.errors.stacktrace` | the error's cause chain, one cause per line (Rust errors carry no stack trace) |
//! | `__streams.errors.topic` | the input topic |
//! | `__streams.errors.partition` | the input partition |
//! | `__streams.errors.offset` | the input offset |
//! | `__streams.errors.processor` | the node whose code failed (processing errors) |

use crate::collector::OutRecord;
use crate::error::{RecordLocation, Result, StreamsError};
use crate::processor::internals::node::TaskState;
use crate::record::RawCopy;

pub(crate) const EXCEPTION: &str = "__streams.errors.exception";
pub(crate) const MESSAGE: &str = "__streams.errors.message";
pub(crate) const STACKTRACE: &str = "__streams.errors.stacktrace";
pub(crate) const TOPIC: &str = "__streams.errors.topic";
pub(crate) const PARTITION: &str = "__streams.errors.partition";
pub(crate) const OFFSET: &str = "__streams.errors.offset";
pub(crate) const PROCESSOR: &str = "__streams.errors.processor";

/// Sends a skipped input record to the dead-letter queue, if one is configured.
pub(crate) fn dead_letter(
    task: &TaskState,
    raw: &RawCopy,
    error: &StreamsError,
    processor: Option<&str>,
    location: &RecordLocation,
) -> Result<()> {
    let Some(topic) = &task.config.dead_letter_queue else {
        return Ok(());
    };
    let mut causes = Vec::new();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        causes.push(c.to_string());
        cause = c.source();
    }
    let mut headers = raw.headers.clone();
    headers
        .add(EXCEPTION, Some(error.kind().as_bytes().to_vec()))
        .add(MESSAGE, Some(error.to_string().into_bytes()))
        .add(STACKTRACE, Some(causes.join("\n").into_bytes()))
        .add(TOPIC, Some(location.topic.as_bytes().to_vec()))
        .add(PARTITION, Some(location.partition.to_string().into_bytes()))
        .add(OFFSET, Some(location.offset.to_string().into_bytes()));
    if let Some(node) = processor {
        headers.add(PROCESSOR, Some(node.as_bytes().to_vec()));
    }
    task.collector.borrow_mut().send(OutRecord {
        topic,
        partition: None,
        key: raw.key.as_deref(),
        value: raw.value.as_deref(),
        timestamp: raw.timestamp,
        headers: &headers,
    })
}
