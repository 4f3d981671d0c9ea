//! The application's control topic, `<application.id>-control` (one partition): how one
//! instance asks every instance of the application to shut down
//! ([`super::StreamThreadExceptionResponse::ShutdownApplication`]). Kafka Streams sends this
//! request through its own partition assignor; librdkafka's assignors carry no user data, so a
//! topic does the job here. Each client watches it from the end with a small consumer thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::{Result, StreamsError};
use crate::kafka::shared::Shared;

/// The value of a shutdown request; the key names the requester, header `reason` the error.
const SHUTDOWN: &[u8] = b"shutdown-application";

pub(crate) fn topic(application_id: &str) -> String {
    format!("{application_id}-control")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Starts the thread that watches the control topic; it ends when the client shuts down.
pub(crate) fn watch(
    application_id: &str,
    mut config: ClientConfig,
    shared: Arc<Shared>,
) -> Result<JoinHandle<()>> {
    let topic = topic(application_id);
    config
        .set("group.id", format!("{application_id}-control-reader"))
        .set("enable.auto.commit", "false")
        .set("fetch.queue.backoff.ms", "10");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| StreamsError::kafka(format!("create the consumer of `{topic}`"), e))?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::End)
        .and_then(|()| consumer.assign(&tpl))
        .map_err(|e| StreamsError::kafka(format!("read `{topic}`"), e))?;
    // Requests older than this client are not for it (some brokers answer "end" with an
    // offset before the last batch, so old records may be read again).
    let started = now_ms();
    std::thread::Builder::new()
        .name(format!("{application_id}-control"))
        .spawn(move || {
            while !shared.shutdown.load(Ordering::Relaxed) {
                let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) else {
                    continue;
                };
                let fresh = m.timestamp().to_millis().is_some_and(|t| t >= started);
                if m.payload() != Some(SHUTDOWN) || !fresh {
                    continue;
                }
                let requested_by = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                let reason = m
                    .headers()
                    .and_then(|h| h.iter().find(|h| h.key == "reason").and_then(|h| h.value))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default();
                tracing::error!(%requested_by, %reason, "application shutdown requested: shutting down this client");
                shared.fail(
                    usize::MAX,
                    StreamsError::ApplicationShutdown {
                        requested_by,
                        reason,
                    },
                );
            }
        })
        .map_err(|e| StreamsError::Internal(format!("cannot spawn the control thread: {e}")))
}

/// Asks every instance of the application to shut down.
pub(crate) fn request_shutdown(
    application_id: &str,
    config: &ClientConfig,
    requested_by: &str,
    reason: &str,
) -> Result<()> {
    let topic = topic(application_id);
    let producer: BaseProducer = config
        .create()
        .map_err(|e| StreamsError::kafka(format!("create a producer for `{topic}`"), e))?;
    let headers = OwnedHeaders::new().insert(Header {
        key: "reason",
        value: Some(reason.as_bytes()),
    });
    producer
        .send(
            BaseRecord::to(&topic)
                .key(requested_by.as_bytes())
                .payload(SHUTDOWN)
                .headers(headers)
                .timestamp(now_ms()),
        )
        .map_err(|(e, _)| {
            StreamsError::kafka(format!("request an application shutdown on `{topic}`"), e)
        })?;
    producer.flush(Duration::from_secs(30)).map_err(|e| {
        StreamsError::kafka(format!("request an application shutdown on `{topic}`"), e)
    })
}
