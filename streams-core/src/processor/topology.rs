//! `Topology`: the graph of sources, processors, sinks and stores, built by hand (Processor API)
//! or by [`crate::StreamsBuilder`].

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::processor::api::Processor;
use crate::processor::endpoints::{Consumed, Produced};
use crate::processor::internals::node::{NodeInstance, NodeWiring};
use crate::processor::internals::plan::{
    InternalTopicDef, NodeDef, NodeKind, NullValues, SourceTopic, SubtopologyPlan, TopicName,
    TopologyPlan, TypeSig,
};
use crate::processor::internals::processor_node::ProcessorNode;
use crate::processor::internals::sink::{SinkNode, SinkTopic};
use crate::processor::internals::source::SourceNode;
use crate::state::store::StoreBuilder;

struct StoreDef {
    builder: Arc<dyn StoreBuilder>,
    processors: Vec<usize>,
}

/// A processing graph. Build one with [`crate::StreamsBuilder`] (the DSL) or by hand:
///
/// ```
/// use streams_core::{Consumed, Produced, Processor, ProcessorContext, Record, Result, StringSerde, Topology};
///
/// struct Upper;
/// impl Processor<String, String> for Upper {
///     fn process(&mut self, r: Record<String, String>, ctx: &mut ProcessorContext<'_, String, String>) -> Result<()> {
///         let v = r.value.to_uppercase();
///         ctx.forward(r.with_value(v))
///     }
/// }
///
/// let mut topology = Topology::new();
/// topology.add_source("in", Consumed::with(StringSerde, StringSerde), &["words"])?;
/// topology.add_processor("upper", || Upper, &["in"])?;
/// topology.add_sink("out", "shouted", Produced::with(StringSerde, StringSerde), &["upper"])?;
/// assert!(topology.describe().to_string().contains("Processor: upper (stores: [])"));
/// # Ok::<(), streams_core::StreamsError>(())
/// ```
#[derive(Default)]
pub struct Topology {
    pub(crate) nodes: Vec<NodeDef>,
    stores: Vec<StoreDef>,
    pub(crate) internal_topics: Vec<InternalTopicDef>,
    /// Global stores (filled from a whole topic, read by every task).
    pub(crate) global_stores: Vec<crate::state::global::GlobalStoreDef>,
    /// First error met while the DSL built this topology; reported by `build()`.
    pub(crate) deferred_error: Option<StreamsError>,
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source node reading `topics` with the serdes and timestamp extractor of
    /// `consumed`.
    pub fn add_source<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        name: &str,
        consumed: Consumed<K, V>,
        topics: &[&str],
    ) -> Result<&mut Self> {
        let topics = topics
            .iter()
            .map(|t| TopicName::User((*t).to_string()))
            .collect();
        self.add_source_node(name, consumed, topics)?;
        Ok(self)
    }

    /// Adds a source node reading every topic whose whole name matches the regular expression
    /// `pattern` (Kafka Streams' `addSource(name, Pattern)`). The Kafka runtime subscribes to
    /// the topics that match when it starts; the `TopologyTestDriver` feeds the source
    /// whatever is piped into a matching topic. A pattern may not match a topic another source
    /// reads.
    ///
    /// ```
    /// use streams_core::{Consumed, Produced, StreamsConfig, StringSerde, Topology, TopologyTestDriver};
    ///
    /// let mut topology = Topology::new();
    /// topology.add_source_pattern("rides", Consumed::with(StringSerde, StringSerde), "rides-.*")?;
    /// topology.add_sink("out", "all-rides", Produced::with(StringSerde, StringSerde), &["rides"])?;
    /// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("patterns"))?;
    /// driver.input_topic("rides-2024", StringSerde, StringSerde).pipe_input("k".into(), "a".into())?;
    /// driver.input_topic("rides-2025", StringSerde, StringSerde).pipe_input("k".into(), "b".into())?;
    /// let out = driver.output_topic("all-rides", StringSerde, StringSerde);
    /// assert_eq!(out.read_values_to_list()?, ["a", "b"]);
    /// # Ok::<(), streams_core::StreamsError>(())
    /// ```
    pub fn add_source_pattern<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        name: &str,
        consumed: Consumed<K, V>,
        pattern: &str,
    ) -> Result<&mut Self> {
        self.add_source_node(
            name,
            consumed,
            vec![TopicName::Pattern(pattern.to_string())],
        )?;
        Ok(self)
    }

    /// A topic (or pattern) `t` would be read twice: by a source already added, or by a source
    /// whose pattern overlaps it, as Kafka Streams' topology builder checks.
    fn check_source_topic(&self, name: &str, t: &TopicName) -> Result<()> {
        let new_regex = match t {
            TopicName::Pattern(p) => Some(crate::processor::internals::plan::topic_regex(p)?),
            _ => None,
        };
        for node in &self.nodes {
            let NodeKind::Source { topics } = &node.kind else {
                continue;
            };
            for other in topics {
                // Internal topics are named by this application; patterns are not checked
                // against them here (the runtime never lets a pattern match them).
                let clash = match (t, other, &new_regex) {
                    (TopicName::Pattern(_), TopicName::User(topic), Some(re)) => re.is_match(topic),
                    (TopicName::User(topic), TopicName::Pattern(p), _) => {
                        crate::processor::internals::plan::topic_regex(p)?.is_match(topic)
                    }
                    _ => t == other,
                };
                if clash && t == other {
                    return Err(StreamsError::InvalidTopology(format!(
                        "topic `{}` is already read by source `{}`; read a topic once and \
                         branch the resulting stream instead",
                        t.display(),
                        node.name
                    )));
                }
                if clash {
                    return Err(StreamsError::InvalidTopology(format!(
                        "topic `{}` of source `{name}` overlaps topic `{}` already read by \
                         source `{}`; read a topic once and branch the resulting stream instead",
                        t.display(),
                        other.display(),
                        node.name
                    )));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn add_source_node<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        name: &str,
        consumed: Consumed<K, V>,
        topics: Vec<TopicName>,
    ) -> Result<usize> {
        if topics.is_empty() {
            return Err(StreamsError::InvalidTopology(format!(
                "source `{name}` has no topic"
            )));
        }
        for t in &topics {
            if t.display().is_empty() {
                return Err(StreamsError::InvalidTopology(format!(
                    "source `{name}` has an empty topic name"
                )));
            }
            if let Some(g) = self
                .global_stores
                .iter()
                .find(|g| TopicName::User(g.topic.clone()) == *t)
            {
                return Err(StreamsError::InvalidTopology(format!(
                    "topic `{}` is already read by global store `{}`; a global table needs a \
                     topic of its own",
                    t.display(),
                    g.name
                )));
            }
            self.check_source_topic(name, t)?;
        }
        let n_topics = topics.len();
        let drop_null_values = Arc::new(AtomicBool::new(false));
        let flag = drop_null_values.clone();
        let Consumed {
            key_serde,
            value_serde,
            extractor,
            policy,
            ..
        } = consumed;
        self.add_node(NodeDef {
            name: name.to_string(),
            kind: NodeKind::Source { topics },
            parents: Vec::new(),
            children: Vec::new(),
            stores: Vec::new(),
            input: None,
            output: Some(TypeSig::of::<K, V>()),
            factory: Arc::new(move || -> Box<dyn NodeInstance> {
                Box::new(SourceNode::new(
                    key_serde.clone(),
                    value_serde.clone(),
                    extractor.clone(),
                    policy,
                    n_topics,
                    flag.clone(),
                ))
            }),
            null_values: NullValues::Source(drop_null_values),
        })
    }

    /// Adds a processor fed by the nodes named in `parents`. `supplier` creates one instance per
    /// task.
    pub fn add_processor<KIn, VIn, KOut, VOut, P, F>(
        &mut self,
        name: &str,
        supplier: F,
        parents: &[&str],
    ) -> Result<&mut Self>
    where
        KIn: 'static,
        VIn: 'static,
        KOut: 'static,
        VOut: 'static,
        P: Processor<KIn, VIn, KOut, VOut>,
        F: Fn() -> P + Send + Sync + 'static,
    {
        let parents = self.parent_indices(name, parents)?;
        self.add_processor_node::<KIn, VIn, KOut, VOut, P, F>(name, supplier, parents)?;
        Ok(self)
    }

    pub(crate) fn add_processor_node<KIn, VIn, KOut, VOut, P, F>(
        &mut self,
        name: &str,
        supplier: F,
        parents: Vec<usize>,
    ) -> Result<usize>
    where
        KIn: 'static,
        VIn: 'static,
        KOut: 'static,
        VOut: 'static,
        P: Processor<KIn, VIn, KOut, VOut>,
        F: Fn() -> P + Send + Sync + 'static,
    {
        self.add_node(NodeDef {
            name: name.to_string(),
            kind: NodeKind::Processor,
            parents,
            children: Vec::new(),
            stores: Vec::new(),
            input: Some(TypeSig::of::<KIn, VIn>()),
            output: Some(TypeSig::of::<KOut, VOut>()),
            factory: Arc::new(move || -> Box<dyn NodeInstance> {
                Box::new(ProcessorNode::<P, KIn, VIn, KOut, VOut>::new(supplier()))
            }),
            null_values: NullValues::Observes,
        })
    }

    /// Adds a sink writing what `parents` forward to `topic`. `produced` must carry serdes.
    pub fn add_sink<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        topic: &str,
        produced: Produced<K, V>,
        parents: &[&str],
    ) -> Result<&mut Self> {
        let parents = self.parent_indices(name, parents)?;
        let (Some(k), Some(v)) = (produced.key_serde.clone(), produced.value_serde.clone()) else {
            return Err(StreamsError::InvalidTopology(format!(
                "sink `{name}` needs serdes: use Produced::with(key_serde, value_serde)"
            )));
        };
        self.add_sink_node(
            name,
            SinkTopic::Named(TopicName::User(topic.to_string())),
            k,
            v,
            produced.partitioner,
            parents,
        )?;
        Ok(self)
    }

    pub(crate) fn add_sink_node<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        topic: SinkTopic<K, V>,
        key_serde: Arc<dyn crate::serdes::Serde<K>>,
        value_serde: Arc<dyn crate::serdes::Serde<V>>,
        partitioner: Option<Arc<dyn crate::processor::partitioner::StreamPartitioner<K, V>>>,
        parents: Vec<usize>,
    ) -> Result<usize> {
        let described = match &topic {
            SinkTopic::Named(t) => {
                if t.display().is_empty() {
                    return Err(StreamsError::InvalidTopology(format!(
                        "sink `{name}` has no topic"
                    )));
                }
                Some(t.clone())
            }
            SinkTopic::Dynamic(_) => None,
        };
        let topic = Arc::new(topic);
        self.add_node(NodeDef {
            name: name.to_string(),
            kind: NodeKind::Sink { topic: described },
            parents,
            children: Vec::new(),
            stores: Vec::new(),
            input: Some(TypeSig::of::<K, V>()),
            output: None,
            factory: Arc::new(move || -> Box<dyn NodeInstance> {
                let topic = match &*topic {
                    SinkTopic::Named(t) => SinkTopic::Named(t.clone()),
                    SinkTopic::Dynamic(f) => SinkTopic::Dynamic(f.clone()),
                };
                Box::new(SinkNode::new(
                    topic,
                    key_serde.clone(),
                    value_serde.clone(),
                    partitioner.clone(),
                ))
            }),
            null_values: NullValues::Observes,
        })
    }

    /// Adds a state store and connects it to the named processors.
    pub fn add_state_store(
        &mut self,
        builder: impl StoreBuilder,
        processors: &[&str],
    ) -> Result<&mut Self> {
        let name = builder.name().to_string();
        if self.stores.iter().any(|s| s.builder.name() == name) {
            return Err(StreamsError::InvalidTopology(format!(
                "state store `{name}` is added twice"
            )));
        }
        self.stores.push(StoreDef {
            builder: Arc::new(builder),
            processors: Vec::new(),
        });
        self.connect_processor_and_state_stores_inner(processors, &[name.as_str()])?;
        Ok(self)
    }

    /// Gives the named processors access to already added stores.
    pub fn connect_processor_and_state_stores(
        &mut self,
        processor: &str,
        stores: &[&str],
    ) -> Result<&mut Self> {
        self.connect_processor_and_state_stores_inner(&[processor], stores)?;
        Ok(self)
    }

    fn connect_processor_and_state_stores_inner(
        &mut self,
        processors: &[&str],
        stores: &[&str],
    ) -> Result<()> {
        for p in processors {
            let idx = self.index_of(p).ok_or_else(|| {
                StreamsError::InvalidTopology(format!(
                    "cannot connect stores to `{p}`: no such processor"
                ))
            })?;
            if self.nodes[idx].kind != NodeKind::Processor {
                return Err(StreamsError::InvalidTopology(format!(
                    "`{p}` is not a processor; only processors use state stores"
                )));
            }
            for s in stores {
                if self.global_stores.iter().any(|g| g.name == *s) {
                    // Read-only and shared by every task: connects no sub-topologies.
                    if !self.nodes[idx].stores.iter().any(|x| x == s) {
                        self.nodes[idx].stores.push((*s).to_string());
                    }
                    continue;
                }
                let store = self
                    .stores
                    .iter_mut()
                    .find(|d| d.builder.name() == *s)
                    .ok_or_else(|| {
                        StreamsError::InvalidTopology(format!(
                            "state store `{s}` does not exist; add it with add_state_store"
                        ))
                    })?;
                if !store.processors.contains(&idx) {
                    store.processors.push(idx);
                    self.nodes[idx].stores.push((*s).to_string());
                }
            }
        }
        Ok(())
    }

    /// True if the store `name` is a versioned key-value store.
    pub(crate) fn store_is_versioned(&self, name: &str) -> bool {
        self.stores
            .iter()
            .any(|s| s.builder.name() == name && s.builder.versioned())
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    fn parent_indices(&self, name: &str, parents: &[&str]) -> Result<Vec<usize>> {
        parents
            .iter()
            .map(|p| {
                self.index_of(p).ok_or_else(|| {
                    StreamsError::InvalidTopology(format!(
                        "parent `{p}` of `{name}` does not exist (add parents first)"
                    ))
                })
            })
            .collect()
    }

    /// Declares what the processor `node` does with a null value (see [`NullValues`]).
    pub(crate) fn set_null_values(&mut self, node: usize, null_values: NullValues) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.null_values = null_values;
        }
    }

    /// True when every path from `node`'s children reaches a node that drops null values
    /// before one that observes them.
    fn children_drop_null_values(&self, node: usize) -> bool {
        let mut seen = vec![false; self.nodes.len()];
        let mut todo = self.nodes[node].children.clone();
        if todo.is_empty() {
            return false;
        }
        while let Some(c) = todo.pop() {
            if std::mem::replace(&mut seen[c], true) {
                continue;
            }
            match &self.nodes[c].null_values {
                NullValues::Drops => {}
                NullValues::PassesOn => todo.extend(self.nodes[c].children.iter().copied()),
                NullValues::Observes | NullValues::Source(_) => return false,
            }
        }
        true
    }

    pub(crate) fn add_node(&mut self, def: NodeDef) -> Result<usize> {
        if def.name.is_empty() {
            return Err(StreamsError::InvalidTopology("a node name is empty".into()));
        }
        if self.index_of(&def.name).is_some() {
            return Err(StreamsError::InvalidTopology(format!(
                "node name `{}` is used twice; names must be unique",
                def.name
            )));
        }
        if def.input.is_some() && def.parents.is_empty() {
            return Err(StreamsError::InvalidTopology(format!(
                "`{}` has no parent",
                def.name
            )));
        }
        for &p in &def.parents {
            let parent = &self.nodes[p];
            match (&parent.output, &def.input) {
                (None, _) => {
                    return Err(StreamsError::InvalidTopology(format!(
                        "`{}` cannot be a parent of `{}`: sinks have no children",
                        parent.name, def.name
                    )))
                }
                (Some(out), Some(input)) if !out.same(input) => {
                    return Err(StreamsError::InvalidTopology(format!(
                        "`{}` forwards records of type {out} but its child `{}` expects {input}",
                        parent.name, def.name
                    )))
                }
                _ => {}
            }
        }
        let idx = self.nodes.len();
        for &p in &def.parents {
            self.nodes[p].children.push(idx);
        }
        self.nodes.push(def);
        Ok(idx)
    }

    /// Declares a global store filled from `def.topic`.
    pub(crate) fn add_global_store_def(
        &mut self,
        def: crate::state::global::GlobalStoreDef,
    ) -> Result<()> {
        if self.stores.iter().any(|s| s.builder.name() == def.name)
            || self.global_stores.iter().any(|g| g.name == def.name)
        {
            return Err(StreamsError::InvalidTopology(format!(
                "state store `{}` is added twice",
                def.name
            )));
        }
        let topic = TopicName::User(def.topic.clone());
        let read_by_source = self
            .nodes
            .iter()
            .any(|n| matches!(&n.kind, NodeKind::Source { topics } if topics.contains(&topic)));
        if read_by_source || self.global_stores.iter().any(|g| g.topic == def.topic) {
            return Err(StreamsError::InvalidTopology(format!(
                "topic `{}` is already read by the topology; a global table needs a topic of \
                 its own",
                def.topic
            )));
        }
        self.global_stores.push(def);
        Ok(())
    }

    pub(crate) fn add_internal_topic(&mut self, name: &str, partitions: Option<i32>) {
        self.internal_topics.push(InternalTopicDef {
            name: name.to_string(),
            partitions,
        });
    }

    /// Node indices of each sub-topology, in sub-topology order. Nodes are connected by their
    /// edges and by shared state stores; repartition topics separate sub-topologies.
    fn groups(&self) -> Vec<Vec<usize>> {
        let n = self.nodes.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let union = |a: usize, b: usize, parent: &mut Vec<usize>| {
            let (ra, rb) = (find(parent, a), find(parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        };
        for (i, node) in self.nodes.iter().enumerate() {
            for &p in &node.parents {
                union(i, p, &mut parent);
            }
        }
        for s in &self.stores {
            for w in s.processors.windows(2) {
                union(w[0], w[1], &mut parent);
            }
        }
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for i in 0..n {
            let root = find(&mut parent, i);
            match groups.iter_mut().find(|(r, _)| *r == root) {
                Some((_, g)) => g.push(i),
                None => groups.push((root, vec![i])),
            }
        }
        groups.into_iter().map(|(_, g)| g).collect()
    }

    /// Checks the topology and turns it into its executable form.
    pub(crate) fn plan(&self) -> Result<TopologyPlan> {
        if let Some(err) = &self.deferred_error {
            return Err(StreamsError::InvalidTopology(err.to_string()));
        }
        if !self
            .nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::Source { .. }))
        {
            return Err(StreamsError::InvalidTopology(
                "the topology has no source; read a topic with StreamsBuilder::stream or Topology::add_source".into(),
            ));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let NullValues::Source(flag) = &node.null_values {
                flag.store(self.children_drop_null_values(i), Ordering::Relaxed);
            }
        }
        let mut subtopologies = Vec::new();
        for (id, group) in self.groups().into_iter().enumerate() {
            let local = |global: usize| group.iter().position(|&g| g == global);
            let mut sources = Vec::new();
            let mut sink_topics = Vec::new();
            for (l, &g) in group.iter().enumerate() {
                match &self.nodes[g].kind {
                    NodeKind::Source { topics } => {
                        for (slot, t) in topics.iter().enumerate() {
                            sources.push(SourceTopic {
                                topic: t.clone(),
                                node: l,
                                slot,
                            });
                        }
                    }
                    NodeKind::Sink { topic: Some(t) } => sink_topics.push(t.clone()),
                    _ => {}
                }
            }
            if sources.is_empty() {
                return Err(StreamsError::InvalidTopology(format!(
                    "nodes {} are not connected to any source",
                    group
                        .iter()
                        .map(|&g| self.nodes[g].name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let stores = self
                .stores
                .iter()
                .filter(|s| s.processors.iter().any(|p| group.contains(p)))
                .map(|s| s.builder.clone())
                .collect();
            subtopologies.push(SubtopologyPlan {
                id: id as u32,
                wiring: NodeWiring {
                    names: group.iter().map(|&g| self.nodes[g].name.clone()).collect(),
                    children: group
                        .iter()
                        .map(|&g| {
                            self.nodes[g]
                                .children
                                .iter()
                                .filter_map(|&c| local(c))
                                .collect()
                        })
                        .collect(),
                    node_stores: group
                        .iter()
                        .map(|&g| self.nodes[g].stores.clone())
                        .collect(),
                },
                factories: group
                    .iter()
                    .map(|&g| self.nodes[g].factory.clone())
                    .collect(),
                sources,
                sink_topics,
                stores,
            });
        }
        Ok(TopologyPlan {
            subtopologies,
            internal_topics: self.internal_topics.clone(),
            global_stores: self.global_stores.iter().map(|g| g.plan()).collect(),
        })
    }

    /// The topology's structure, printed in Kafka Streams' `TopologyDescription` format.
    pub fn describe(&self) -> TopologyDescription {
        let names = |ids: &[usize]| -> Vec<String> {
            ids.iter().map(|&i| self.nodes[i].name.clone()).collect()
        };
        // Size of the sub-tree below a node (Kafka orders nodes by it, then by name).
        let mut size = vec![1usize; self.nodes.len()];
        for i in (0..self.nodes.len()).rev() {
            size[i] = 1 + self.nodes[i]
                .children
                .iter()
                .map(|&c| size[c])
                .sum::<usize>();
        }
        let subtopologies = self
            .groups()
            .into_iter()
            .enumerate()
            .map(|(id, mut group)| {
                group.sort_by(|&a, &b| {
                    size[b]
                        .cmp(&size[a])
                        .then_with(|| self.nodes[a].name.cmp(&self.nodes[b].name))
                });
                SubtopologyDescription {
                    id: id as u32,
                    nodes: group
                        .iter()
                        .map(|&i| {
                            let n = &self.nodes[i];
                            NodeDescription {
                                name: n.name.clone(),
                                kind: match &n.kind {
                                    NodeKind::Source { topics } => NodeKindDescription::Source {
                                        topics: topics
                                            .iter()
                                            .filter(|t| !matches!(t, TopicName::Pattern(_)))
                                            .map(|t| t.display().to_string())
                                            .collect(),
                                        pattern: topics.iter().find_map(|t| match t {
                                            TopicName::Pattern(p) => Some(p.clone()),
                                            _ => None,
                                        }),
                                    },
                                    NodeKind::Processor => NodeKindDescription::Processor {
                                        stores: n.stores.iter().cloned().collect(),
                                    },
                                    NodeKind::Sink { topic } => NodeKindDescription::Sink {
                                        topic: topic.as_ref().map(|t| t.display().to_string()),
                                    },
                                },
                                predecessors: names(&n.parents),
                                successors: names(&n.children),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        TopologyDescription { subtopologies }
    }
}

/// What [`Topology::describe`] returns. `Display` prints Kafka Streams' format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyDescription {
    /// Sub-topologies in id order.
    pub subtopologies: Vec<SubtopologyDescription>,
}

/// One sub-topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtopologyDescription {
    /// Its id (the first half of its task ids).
    pub id: u32,
    /// Its nodes, ordered as Kafka Streams orders them.
    pub nodes: Vec<NodeDescription>,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// Node name.
    pub name: String,
    /// Source, processor or sink, with topics or stores.
    pub kind: NodeKindDescription,
    /// Parent node names.
    pub predecessors: Vec<String>,
    /// Child node names.
    pub successors: Vec<String>,
}

/// The kind of a described node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKindDescription {
    /// Reads topics.
    Source {
        /// Topic names (internal topics without the application prefix); empty for a pattern
        /// source.
        topics: Vec<String>,
        /// The regular expression of a pattern source ([`Topology::add_source_pattern`]).
        pattern: Option<String>,
    },
    /// Runs code, may use stores.
    Processor {
        /// Connected store names.
        stores: BTreeSet<String>,
    },
    /// Writes a topic.
    Sink {
        /// The topic, `None` when chosen per record.
        topic: Option<String>,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl fmt::Display for NodeDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeKindDescription::Source { topics, pattern } => {
                // Kafka shows a pattern source's pattern in place of the topic list.
                match pattern {
                    Some(p) => write!(f, "Source: {} (topics: {p})", self.name)?,
                    None => write!(f, "Source: {} (topics: [{}])", self.name, topics.join(", "))?,
                }
                write!(f, "\n      --> {}", list(&self.successors))
            }
            NodeKindDescription::Processor { stores } => {
                let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
                write!(
                    f,
                    "Processor: {} (stores: [{}])",
                    self.name,
                    stores.join(", ")
                )?;
                write!(f, "\n      --> {}", list(&self.successors))?;
                write!(f, "\n      <-- {}", list(&self.predecessors))
            }
            NodeKindDescription::Sink { topic } => {
                match topic {
                    Some(t) => write!(f, "Sink: {} (topic: {t})", self.name)?,
                    None => write!(f, "Sink: {} (extractor: per-record topic)", self.name)?,
                }
                write!(f, "\n      <-- {}", list(&self.predecessors))
            }
        }
    }
}

impl fmt::Display for SubtopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sub-topology: {}", self.id)?;
        for n in &self.nodes {
            writeln!(f, "    {n}")?;
        }
        writeln!(f)
    }
}

impl fmt::Display for TopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topologies:\n ")?;
        for s in &self.subtopologies {
            write!(f, "  {s}")?;
        }
        Ok(())
    }
}
