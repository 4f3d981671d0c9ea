//! The executable form of a topology: sub-topologies with local node indices, node factories,
//! source queues and the internal topics with their partition counts.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::processor::internals::node::{NodeInstance, NodeWiring};
use crate::state::store::StoreBuilder;

/// A topic as the topology names it: a user topic, an internal one whose real name is
/// `<application.id>-<name>`, or the regular expression of a pattern-subscribed source.
///
/// The Kafka runtime replaces each pattern by the topics it matches before it plans tasks
/// ([`TopologyPlan::expand_patterns`]); the `TopologyTestDriver` keeps it as one input that
/// every matching topic is piped into, as Kafka's driver does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TopicName {
    User(String),
    Internal(String),
    Pattern(String),
}

impl TopicName {
    pub(crate) fn resolve(&self, application_id: &str) -> String {
        match self {
            TopicName::User(t) | TopicName::Pattern(t) => t.clone(),
            TopicName::Internal(base) => format!("{application_id}-{base}"),
        }
    }
    /// The name shown by `describe()` (internal topics without the application prefix).
    pub(crate) fn display(&self) -> &str {
        match self {
            TopicName::User(t) | TopicName::Internal(t) | TopicName::Pattern(t) => t,
        }
    }
}

/// The regular expression of a topic pattern, anchored: like Java's `Matcher::matches`, a
/// pattern must match a topic's whole name.
pub(crate) fn topic_regex(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        StreamsError::InvalidTopology(format!(
            "topic pattern `{pattern}` is not a valid regular expression: {e}"
        ))
    })
}

pub(crate) type NodeFactory = Arc<dyn Fn() -> Box<dyn NodeInstance> + Send + Sync>;

/// Key and value types of records on an edge, for checks at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeSig {
    key: TypeId,
    value: TypeId,
    key_name: &'static str,
    value_name: &'static str,
}

impl TypeSig {
    pub(crate) fn of<K: 'static, V: 'static>() -> Self {
        TypeSig {
            key: TypeId::of::<K>(),
            value: TypeId::of::<V>(),
            key_name: std::any::type_name::<K>(),
            value_name: std::any::type_name::<V>(),
        }
    }
    pub(crate) fn same(&self, other: &TypeSig) -> bool {
        self.key == other.key && self.value == other.value
    }
}

impl std::fmt::Display for TypeSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}, {})", self.key_name, self.value_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Source { topics: Vec<TopicName> },
    Processor,
    Sink { topic: Option<TopicName> },
}

/// What a node does with a record whose value is null (Kafka's `null`), for sources whose
/// value type has no null: such a source drops a null-value record (counted and logged) only
/// when every operation it reaches drops it too, as Kafka Streams' would; otherwise the record
/// is undecodable and the deserialization handler decides.
#[derive(Debug, Clone)]
pub(crate) enum NullValues {
    /// Hands the value to user code or writes it out (the default).
    Observes,
    /// Drops a record with a null value (aggregations).
    Drops,
    /// Forwards the value unchanged to its children (merge).
    PassesOn,
    /// A source: set by `Topology::plan` when every path from it drops null values.
    Source(Arc<AtomicBool>),
}

pub(crate) struct NodeDef {
    pub name: String,
    pub kind: NodeKind,
    pub parents: Vec<usize>,
    pub children: Vec<usize>,
    pub stores: Vec<String>,
    pub input: Option<TypeSig>,
    pub output: Option<TypeSig>,
    pub factory: NodeFactory,
    pub null_values: NullValues,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InternalTopicDef {
    pub name: String,
    pub partitions: Option<i32>,
}

/// One source queue of a sub-topology: a topic read by a source node (slot = the topic's index
/// among that node's topics).
#[derive(Debug, Clone)]
pub(crate) struct SourceTopic {
    pub topic: TopicName,
    pub node: usize,
    pub slot: usize,
}

#[derive(Clone)]
pub(crate) struct SubtopologyPlan {
    pub id: u32,
    pub wiring: NodeWiring,
    pub factories: Vec<NodeFactory>,
    pub sources: Vec<SourceTopic>,
    pub sink_topics: Vec<TopicName>,
    pub stores: Vec<Arc<dyn StoreBuilder>>,
}

#[derive(Clone)]
pub(crate) struct TopologyPlan {
    pub subtopologies: Vec<SubtopologyPlan>,
    pub internal_topics: Vec<InternalTopicDef>,
    /// Global stores with their shared instances (opened by the driver or the global thread).
    pub global_stores: Vec<crate::state::global::GlobalStorePlan>,
}

impl TopologyPlan {
    /// Whether a source subscribes by pattern (the runtime must expand it before planning
    /// tasks).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn has_patterns(&self) -> bool {
        self.subtopologies
            .iter()
            .flat_map(|s| &s.sources)
            .any(|s| matches!(s.topic, TopicName::Pattern(_)))
    }

    /// Replaces every pattern source by the topics of `topics` it matches (sorted by name,
    /// one queue each), as Kafka Streams' pattern subscription does: the topic of another
    /// source or of a global store, and this application's own repartition and changelog
    /// topics, are never matched; a topic matched by two patterns is an error, and so is a
    /// pattern matching no topic (the sub-topology would have no task; create the topics
    /// first). The runtime leaves its other own topics (the control topic) out of `topics`.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn expand_patterns(
        &mut self,
        application_id: &str,
        topics: &[String],
    ) -> Result<()> {
        // Who reads a topic already: `None` for a named source, a global store or an internal
        // topic of this application (skipped), `Some(pattern)` for a pattern (a clash).
        let mut taken: HashMap<String, Option<String>> = HashMap::new();
        for sub in &self.subtopologies {
            for s in &sub.sources {
                if !matches!(s.topic, TopicName::Pattern(_)) {
                    taken.insert(s.topic.resolve(application_id), None);
                }
            }
            for b in sub.stores.iter().filter(|b| b.logged()) {
                taken.insert(
                    crate::state::store::changelog_topic(application_id, b.name()),
                    None,
                );
            }
        }
        for t in &self.internal_topics {
            taken.insert(
                TopicName::Internal(t.name.clone()).resolve(application_id),
                None,
            );
        }
        for g in &self.global_stores {
            taken.insert(g.topic.clone(), None);
        }
        let mut sorted: Vec<&String> = topics.iter().collect();
        sorted.sort();
        for sub in &mut self.subtopologies {
            let mut expanded = Vec::with_capacity(sub.sources.len());
            for source in std::mem::take(&mut sub.sources) {
                let TopicName::Pattern(pattern) = &source.topic else {
                    expanded.push(source);
                    continue;
                };
                let regex = topic_regex(pattern)?;
                let mut slot = 0;
                for topic in sorted.iter().filter(|t| regex.is_match(t)) {
                    match taken.get(*topic) {
                        Some(Some(other)) => {
                            return Err(StreamsError::InvalidTopology(format!(
                                "topic `{topic}` matches both pattern `{other}` and pattern \
                                 `{pattern}` of source `{}`; make the patterns disjoint",
                                sub.wiring.names[source.node]
                            )))
                        }
                        Some(None) => continue,
                        None => {}
                    }
                    taken.insert((*topic).clone(), Some(pattern.clone()));
                    expanded.push(SourceTopic {
                        topic: TopicName::User((*topic).clone()),
                        node: source.node,
                        slot,
                    });
                    slot += 1;
                }
                if slot == 0 {
                    return Err(StreamsError::InvalidTopology(format!(
                        "topic pattern `{pattern}` of source `{}` matches no topic of the \
                         cluster; create a matching topic first",
                        sub.wiring.names[source.node]
                    )));
                }
            }
            sub.sources = expanded;
        }
        Ok(())
    }

    /// Partition counts of every topic the topology reads, with internal topics resolved to
    /// their full names. `user_topic` gives the count of a user topic (`None`: it does not
    /// exist). An internal topic without an explicit count gets the count of the topics read
    /// with it (a join's other side, which it must be co-partitioned with), else the largest
    /// count among the source topics of the sub-topologies that write to it, as in Kafka
    /// Streams.
    pub(crate) fn partition_counts(
        &self,
        application_id: &str,
        user_topic: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<HashMap<TopicName, i32>> {
        let mut counts: HashMap<TopicName, i32> = HashMap::new();
        for sub in &self.subtopologies {
            for s in &sub.sources {
                if let TopicName::User(t) | TopicName::Pattern(t) = &s.topic {
                    let n = user_topic(t).ok_or_else(|| {
                        StreamsError::InvalidTopology(format!(
                            "source topic `{t}` of sub-topology {} does not exist; create it first",
                            sub.id
                        ))
                    })?;
                    counts.insert(s.topic.clone(), n);
                }
            }
        }
        for t in &self.internal_topics {
            if let Some(n) = t.partitions {
                counts.insert(TopicName::Internal(t.name.clone()), n);
            }
        }
        for _ in 0..=self.internal_topics.len() {
            for t in &self.internal_topics {
                let name = TopicName::Internal(t.name.clone());
                if counts.contains_key(&name) {
                    continue;
                }
                // Read together with topics of known counts (a join's other side): it must
                // match them (Kafka's co-partitioning of repartition topics).
                let together = self
                    .subtopologies
                    .iter()
                    .filter(|s| s.sources.iter().any(|x| x.topic == name))
                    .flat_map(|s| s.sources.iter())
                    .filter_map(|x| counts.get(&x.topic).copied())
                    .max();
                if let Some(n) = together {
                    counts.insert(name, n);
                    continue;
                }
                let mut max = None;
                let mut complete = true;
                for sub in self
                    .subtopologies
                    .iter()
                    .filter(|s| s.sink_topics.contains(&name))
                {
                    for s in &sub.sources {
                        match counts.get(&s.topic) {
                            Some(&n) => max = Some(max.map_or(n, |m: i32| m.max(n))),
                            None => complete = false,
                        }
                    }
                }
                if let (true, Some(n)) = (complete, max) {
                    counts.insert(name, n);
                }
            }
        }
        for t in &self.internal_topics {
            if !counts.contains_key(&TopicName::Internal(t.name.clone())) {
                return Err(StreamsError::InvalidTopology(format!(
                    "cannot infer the partition count of internal topic `{}-{}`; set it with Repartitioned::with_number_of_partitions",
                    application_id, t.name
                )));
            }
        }
        Ok(counts)
    }

    /// The number of tasks of each sub-topology; checks that its source topics are
    /// co-partitioned.
    pub(crate) fn task_counts(
        &self,
        application_id: &str,
        counts: &HashMap<TopicName, i32>,
    ) -> Result<Vec<i32>> {
        self.subtopologies
            .iter()
            .map(|sub| {
                let mut n = None;
                for s in &sub.sources {
                    let c = counts.get(&s.topic).copied().unwrap_or(0);
                    match n {
                        None => n = Some(c),
                        Some(m) if m != c => {
                            let list = sub
                                .sources
                                .iter()
                                .map(|s| {
                                    format!(
                                        "{} ({} partitions)",
                                        s.topic.resolve(application_id),
                                        counts.get(&s.topic).copied().unwrap_or(0)
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join(", ");
                            return Err(StreamsError::InvalidTopology(format!(
                                "sub-topology {} reads topics that are not co-partitioned: {list}. \
                                 Topics joined or merged in one sub-topology need the same partition count; \
                                 repartition one side (KStream::repartition) or recreate the topic",
                                sub.id
                            )));
                        }
                        _ => {}
                    }
                }
                Ok(n.unwrap_or(0))
            })
            .collect()
    }
}
