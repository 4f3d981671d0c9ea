//! Tables read from a topic ([`StreamsBuilder::table`](crate::kstream::StreamsBuilder::table))
//! or from a stream ([`KStream::to_table`]): plain or versioned.

use crate::error::Result;
use crate::kstream::data::Data;
use crate::kstream::ktable::{
    mark_unmaterialized, materialize, names, KTable, Materialized, TableSource,
};
use crate::kstream::stream::KStream;
use crate::kstream::versioned::versioned_table;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;

/// Tables from streams.
impl<K: Data, V: Data> KStream<K, V> {
    /// Reads the stream as a table: each record is the latest value of its key.
    pub fn to_table(&self, materialized: Materialized<K, V>) -> KTable<K, V> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = self.value_serde.clone();
        }
        let (store_name, node_name) = names(self, &m, "KSTREAM-TOTABLE-");
        let upserts = self.add(
            "KSTREAM-TOTABLE-VALUES-",
            || OptionalValues,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        );
        if let Some(retention_ms) = m.versioned_retention_ms {
            return super::versioned::versioned_table(
                &upserts,
                m,
                store_name,
                node_name,
                retention_ms,
            );
        }
        let sn = store_name.clone();
        let key_serde = m.key_serde.clone().or_else(|| self.key_serde.clone());
        let named = m.name.is_some();
        let table = materialize(&upserts, m, store_name, node_name, move || TableSource {
            store_name: sn.clone(),
            store: None,
            key_serde: key_serde.clone(),
        });
        if !named {
            mark_unmaterialized(&table.stream, Vec::new());
        }
        table
    }
}

/// Wraps values in `Some` (a stream's records are upserts, never deletions).
struct OptionalValues;

impl<K: Data, V: Data> Processor<K, V, K, Option<V>> for OptionalValues {
    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, Option<V>>,
    ) -> Result<()> {
        let v = Some(r.value);
        ctx.forward(Record {
            key: r.key,
            value: v,
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

pub(super) fn table_from_source<K: Data, V: Data>(
    source: &KStream<K, Option<V>>,
    materialized: Materialized<K, V>,
    generated_store: Option<String>,
) -> KTable<K, V> {
    let (store_name, node_name) = match generated_store {
        Some(store) => {
            let mut b = source.builder.borrow_mut();
            let node = match &source.next_name {
                Some(n) => n.clone(),
                None => b.new_name("KTABLE-SOURCE-"),
            };
            (store, node)
        }
        None => names(source, &materialized, "KTABLE-SOURCE-"),
    };
    if let Some(retention_ms) = materialized.versioned_retention_ms {
        return versioned_table(source, materialized, store_name, node_name, retention_ms);
    }
    let sn = store_name.clone();
    let key_serde = materialized
        .key_serde
        .clone()
        .or_else(|| source.key_serde.clone());
    let named = materialized.name.is_some();
    let table = materialize(source, materialized, store_name, node_name, move || {
        TableSource {
            store_name: sn.clone(),
            store: None,
            key_serde: key_serde.clone(),
        }
    });
    if !named {
        // Kafka's source table without a store name is not materialized: downstream filters
        // send tombstones unless something asks for old values.
        mark_unmaterialized(&table.stream, Vec::new());
    }
    table
}
