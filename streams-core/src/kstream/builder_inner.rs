//! The state every DSL handle of one builder shares: the topology being built, the counter of
//! generated names, default serdes, and what later operations look up (repartition topics,
//! shared sources, tables without a store).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::kstream::data::Data;
use crate::processor::endpoints::Consumed;
use crate::processor::internals::plan::TopicName;
use crate::processor::internals::sink::SinkTopic;
use crate::processor::partitioner::StreamPartitioner;
use crate::processor::topology::Topology;
use crate::serdes::{builtin_default, Serde};
use crate::timestamp::RecordTimestamp;

pub(super) const INVALID: usize = usize::MAX;

pub(super) struct BuilderInner {
    pub(super) topology: Topology,
    pub(super) index: usize,
    pub(super) defaults: HashMap<TypeId, Box<dyn Any>>,
    /// Repartition topic (without the application id) -> (the node written into it, the
    /// source node reading it back): a named grouping reuses its repartition.
    pub(super) repartitions: HashMap<String, (usize, usize)>,
    /// Source nodes of `stream` / `stream_from` with their topics: streaming the same topics
    /// again shares the node.
    pub(super) shared_sources: Vec<(Vec<TopicName>, usize)>,
    /// Tables without a store of their own (Kafka's not-materialized `KTable`s), by node: the
    /// "send old values" flags of the filters up to the nearest store, which a downstream
    /// operation that needs old values sets. A table node not listed has a store.
    pub(super) unmaterialized: HashMap<usize, Vec<Arc<AtomicBool>>>,
}

impl BuilderInner {
    /// The serde to use for `T`: the one given, else the one the stream knows, else a default
    /// registered with [`StreamsBuilder::default_serde`], else the built-in one for `T`.
    pub(super) fn serde_for<T: 'static>(
        &self,
        given: Option<Arc<dyn Serde<T>>>,
        known: &Option<Arc<dyn Serde<T>>>,
    ) -> Option<Arc<dyn Serde<T>>> {
        given
            .or_else(|| known.clone())
            .or_else(|| {
                self.defaults
                    .get(&TypeId::of::<T>())
                    .and_then(|d| d.downcast_ref::<Arc<dyn Serde<T>>>())
                    .cloned()
            })
            .or_else(builtin_default::<T>)
    }

    pub(super) fn new_name(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}{:010}", self.index);
        self.index += 1;
        name
    }
    pub(super) fn fail(&mut self, err: StreamsError) {
        self.topology.deferred_error.get_or_insert(err);
    }
    /// Adds a sink writing what `parents` forward to the internal topic
    /// `<application.id>-<hop.topic>` and a source reading it back (the two halves of a
    /// repartition); returns the source node, or `INVALID` (the error is recorded).
    pub(super) fn through_internal_topic<K: Data, V: Data>(
        &mut self,
        parents: Vec<usize>,
        hop: InternalHop<'_>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    ) -> usize {
        if parents.contains(&INVALID) {
            return INVALID;
        }
        let topic = TopicName::Internal(hop.topic.to_string());
        let sink = self.try_add(|t| {
            t.add_sink_node(
                &hop.sink_name,
                SinkTopic::Named(topic.clone()),
                key_serde.clone(),
                value_serde.clone(),
                partitioner,
                parents,
            )
        });
        if sink == INVALID {
            return INVALID;
        }
        self.topology.add_internal_topic(hop.topic, hop.partitions);
        let consumed = Consumed {
            key_serde,
            value_serde,
            extractor: Arc::new(RecordTimestamp),
            policy: None,
            name: None,
        };
        self.try_add(|t| t.add_source_node(&hop.source_name, consumed, vec![topic]))
    }
    /// Adds a node with `add`, recording the error (reported by `build`) on failure.
    pub(super) fn try_add(&mut self, add: impl FnOnce(&mut Topology) -> Result<usize>) -> usize {
        match add(&mut self.topology) {
            Ok(i) => i,
            Err(e) => {
                self.fail(e);
                INVALID
            }
        }
    }
}

/// An internal topic between two sub-topologies, with its sink and source node names.
pub(super) struct InternalHop<'a> {
    /// The topic without the `<application.id>-` prefix.
    pub(super) topic: &'a str,
    pub(super) partitions: Option<i32>,
    pub(super) sink_name: String,
    pub(super) source_name: String,
}
