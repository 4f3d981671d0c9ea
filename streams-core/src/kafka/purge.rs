//! The repartition purge: each stream thread deletes the records of its repartition topics
//! below the offsets it committed.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::processor::internals::task_manager::InputOffset;

/// How long a DeleteRecords request may take.
const PURGE_TIMEOUT: Duration = Duration::from_secs(30);

type DeleteRecords = Pin<Box<dyn Future<Output = KafkaResult<TopicPartitionList>>>>;

/// Deletes repartition records below the committed offsets (DeleteRecords), every
/// `repartition.purge.interval.ms`, as Kafka Streams does: a repartition topic only carries
/// records from one sub-topology to the next, and without the purge it grows until retention.
/// The request runs on the admin client's own thread; its outcome is collected at the next
/// commit. A broker that refuses it (librdkafka's mock cluster does not implement it) costs a
/// warning, once, and the records stay until retention.
pub(crate) struct Purger {
    admin: Option<AdminClient<DefaultClientContext>>,
    pending: Option<DeleteRecords>,
    last: Instant,
    warned: bool,
}

impl Purger {
    pub(crate) fn new() -> Purger {
        Purger {
            admin: None,
            pending: None,
            last: Instant::now(),
            warned: false,
        }
    }

    /// After a commit: collects the last request's outcome, and sends the next one when the
    /// interval has passed.
    pub(crate) fn after_commit(
        &mut self,
        admin: &ClientConfig,
        repartition_topics: &HashSet<String>,
        interval: Duration,
        thread: usize,
        committed: &[InputOffset],
    ) {
        self.collect(thread);
        if self.pending.is_some() || self.last.elapsed() < interval {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for o in committed
            .iter()
            .filter(|o| repartition_topics.contains(&o.topic))
        {
            if tpl
                .add_partition_offset(&o.topic, o.partition, Offset::Offset(o.offset))
                .is_err()
            {
                return;
            }
        }
        if tpl.count() == 0 {
            return;
        }
        self.last = Instant::now();
        if self.admin.is_none() {
            match admin.create() {
                Ok(admin) => self.admin = Some(admin),
                Err(e) => {
                    self.warn(thread, &e.to_string());
                    return;
                }
            }
        }
        if let Some(admin) = &self.admin {
            let options = AdminOptions::new().request_timeout(Some(PURGE_TIMEOUT));
            self.pending = Some(Box::pin(admin.delete_records(&tpl, &options)));
        }
    }

    fn collect(&mut self, thread: usize) {
        let Some(request) = &mut self.pending else {
            return;
        };
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let std::task::Poll::Ready(outcome) = request.as_mut().poll(&mut cx) else {
            return;
        };
        self.pending = None;
        match outcome {
            Ok(tpl) => {
                let failed: Vec<String> = tpl
                    .elements()
                    .iter()
                    .filter_map(|e| {
                        e.error().err().map(|err| {
                            format!("`{}` partition {}: {err}", e.topic(), e.partition())
                        })
                    })
                    .collect();
                if failed.is_empty() {
                    tracing::debug!(
                        thread,
                        partitions = tpl.count(),
                        "repartition topics purged"
                    );
                } else {
                    self.warn(thread, &failed.join(", "));
                }
            }
            Err(e) => self.warn(thread, &e.to_string()),
        }
    }

    fn warn(&mut self, thread: usize, why: &str) {
        if std::mem::replace(&mut self.warned, true) {
            tracing::debug!(thread, error = why, "cannot purge repartition topics");
        } else {
            tracing::warn!(thread, error = why, "cannot purge repartition topics (DeleteRecords); their records stay until retention deletes them (further failures are logged at DEBUG)");
        }
    }
}
