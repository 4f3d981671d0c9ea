//! Topic metadata and internal topic creation: through the Admin API on a real cluster (and
//! Tansu), through the mock cluster's own call when embedded (its Admin API does not work).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::error::{Result, StreamsError};
use crate::kafka::embedded::EmbeddedCluster;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// An internal topic to create.
#[derive(Debug, Clone)]
pub(crate) struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub configs: Vec<(String, String)>,
}

pub(crate) struct Topics<'a> {
    metadata: BaseConsumer,
    admin_config: ClientConfig,
    embedded: Option<&'a EmbeddedCluster>,
    replication: i32,
}

impl<'a> Topics<'a> {
    pub(crate) fn new(
        consumer_config: &ClientConfig,
        admin_config: ClientConfig,
        embedded: Option<&'a EmbeddedCluster>,
        replication: i32,
    ) -> Result<Self> {
        let mut config = consumer_config.clone();
        config.remove("group.id");
        config.set("allow.auto.create.topics", "false");
        let metadata: BaseConsumer = config
            .create()
            .map_err(|e| StreamsError::kafka("create a metadata client", e))?;
        Ok(Topics {
            metadata,
            admin_config,
            embedded,
            replication,
        })
    }

    /// Names of every topic of the cluster (with at least one partition), for pattern
    /// subscriptions.
    pub(crate) fn topic_names(&self) -> Result<Vec<String>> {
        let md = self.metadata()?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.name().to_string())
            .collect())
    }

    fn metadata(&self) -> Result<rdkafka::metadata::Metadata> {
        self.metadata
            .fetch_metadata(None, METADATA_TIMEOUT)
            .map_err(|e| StreamsError::Broker {
                action: "read cluster metadata".into(),
                reason: format!("{e} (is `bootstrap.servers` right and the cluster up?)"),
                source: Some(Box::new(e)),
            })
    }

    /// Partition counts of existing topics among `topics` (missing ones are absent).
    pub(crate) fn partition_counts(&self, topics: &[String]) -> Result<HashMap<String, i32>> {
        let md = self.metadata()?;
        let mut out = HashMap::new();
        for t in md.topics() {
            if t.error().is_none()
                && !t.partitions().is_empty()
                && topics.iter().any(|x| x == t.name())
            {
                out.insert(t.name().to_string(), t.partitions().len() as i32);
            }
        }
        Ok(out)
    }

    /// Creates the missing topics; checks that existing ones have the expected partition count.
    pub(crate) fn ensure(&self, specs: &[TopicSpec]) -> Result<()> {
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let existing = self.partition_counts(&names)?;
        let mut missing = Vec::new();
        for spec in specs {
            match existing.get(&spec.name) {
                Some(&n) if n == spec.partitions => {}
                Some(&n) => {
                    return Err(StreamsError::broker(
                        format!("use internal topic `{}`", spec.name),
                        format!(
                            "it has {n} partitions but the topology needs {}; delete it (and \
                             reset the application) or restore the old partition count of the \
                             source topics",
                            spec.partitions
                        ),
                    ))
                }
                None => missing.push(spec),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        match self.embedded {
            Some(cluster) => {
                for spec in &missing {
                    cluster.create_topic(&spec.name, spec.partitions)?;
                }
            }
            None => self.create_with_admin(&missing)?,
        }
        // Metadata propagates asynchronously: wait (bounded) until every topic is visible.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let counts = self.partition_counts(&names)?;
            let absent: Vec<&str> = missing
                .iter()
                .filter(|s| counts.get(&s.name) != Some(&s.partitions))
                .map(|s| s.name.as_str())
                .collect();
            if absent.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StreamsError::broker(
                    "create internal topics",
                    format!("still not visible after 30 s: {absent:?}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn create_with_admin(&self, specs: &[&TopicSpec]) -> Result<()> {
        let admin: AdminClient<DefaultClientContext> = self
            .admin_config
            .create()
            .map_err(|e| StreamsError::kafka("create an admin client", e))?;
        let new_topics: Vec<NewTopic<'_>> = specs
            .iter()
            .map(|s| {
                let mut t = NewTopic::new(
                    &s.name,
                    s.partitions,
                    TopicReplication::Fixed(self.replication),
                );
                for (k, v) in &s.configs {
                    t = t.set(k, v);
                }
                t
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = futures::executor::block_on(admin.create_topics(&new_topics, &options))
            .map_err(|e| StreamsError::kafka("create internal topics", e))?;
        for r in results {
            if let Err((name, code)) = r {
                if code != RDKafkaErrorCode::TopicAlreadyExists {
                    return Err(StreamsError::kafka(
                        format!("create internal topic `{name}`"),
                        code,
                    ));
                }
            }
        }
        Ok(())
    }
}
