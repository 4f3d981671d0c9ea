//! Global tables: [`StreamsBuilder::global_table`], [`GlobalKTable`], and the stream joins with
//! them ([`KStream::join_global`], [`KStream::left_join_global`]).

use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::{RecordPart, Result, StreamsError};
use crate::kstream::builder::StreamsBuilder;
use crate::kstream::data::Data;
use crate::kstream::join::drop_record;
use crate::kstream::ktable::Materialized;
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::processor::endpoints::Consumed;
use crate::record::Record;
use crate::serdes::{deserialize_opt, Serde};
use crate::state::global::GlobalKeyValueStore;
use crate::state::global::{GlobalStoreCell, GlobalStoreDef, RecordCheck};
use crate::state::store::StateStore;

/// A table replicated in full to every application instance: its store is filled from all
/// partitions of its topic (the topic is its changelog), restored completely before any task
/// processes, and kept up to date while the application runs. Streams join it by any key they
/// compute from their records ([`KStream::join_global`]), without co-partitioning.
///
/// ```
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// let zones = builder.global_table(
///     "zones",
///     Consumed::with(I64Serde, StringSerde),
///     Materialized::named("zones-store"),
/// );
/// builder
///     .stream("rides", Consumed::with(StringSerde, I64Serde)) // ride id -> pickup zone id
///     .left_join_global(&zones, |_, zone_id| *zone_id, |zone_id, borough: Option<String>| {
///         format!("{zone_id}:{}", borough.unwrap_or_else(|| "Unknown".into()))
///     })
///     .to("rides-with-borough", Produced::new());
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("enrich"))?;
/// driver.input_topic("zones", I64Serde, StringSerde).pipe_input(4, "Manhattan".into())?;
/// let rides = driver.input_topic("rides", StringSerde, I64Serde);
/// rides.pipe_input("r1".into(), 4)?;
/// rides.pipe_input("r2".into(), 999)?;
/// let out = driver.output_topic("rides-with-borough", StringSerde, StringSerde);
/// assert_eq!(
///     out.read_key_values_to_list()?,
///     vec![("r1".into(), "4:Manhattan".into()), ("r2".into(), "999:Unknown".into())]
/// );
/// let store: GlobalKeyValueStore<i64, String> = driver.get_state_store("zones-store")?;
/// assert_eq!(store.get(&4)?, Some("Manhattan".to_string()));
/// # Ok::<(), StreamsError>(())
/// ```
pub struct GlobalKTable<K, V> {
    store_name: String,
    /// Tells a null key (a join's key selector may compute one).
    key_serde: Arc<dyn Serde<K>>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for GlobalKTable<K, V> {
    fn clone(&self) -> Self {
        GlobalKTable {
            store_name: self.store_name.clone(),
            key_serde: self.key_serde.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> GlobalKTable<K, V> {
    /// The name of the global store holding the table.
    pub fn store_name(&self) -> &str {
        &self.store_name
    }
}

impl StreamsBuilder {
    /// A [`GlobalKTable`] of the latest value per key of `topic`, read from all its
    /// partitions; null values (tombstones) delete. The store keeps the topic's bytes, so it
    /// uses `consumed`'s serdes; from `materialized` the store name and type (RocksDB or
    /// memory) apply. Records that do not decode follow
    /// `default.deserialization.exception.handler`.
    pub fn global_table<K: Data, V: Data>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> GlobalKTable<K, V> {
        let mut b = self.inner.borrow_mut();
        // Numbered as Kafka numbers the global source and its store.
        let _source = b.new_name("KSTREAM-SOURCE-");
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => b.new_name(&format!("{topic}-STATE-STORE-")),
        };
        if materialized.versioned_retention_ms.is_some() {
            // As Kafka: a global table cannot be versioned.
            b.fail(StreamsError::InvalidTopology(format!(
                "global table `{store_name}`: a global table cannot be materialized in a \
                 versioned store"
            )));
        }
        let (ks, vs) = (consumed.key_serde.clone(), consumed.value_serde.clone());
        let key_serde = ks.clone();
        let (ks2, vs2) = (ks.clone(), vs.clone());
        let check: RecordCheck = Arc::new(move |key, value| {
            if let Err(e) = deserialize_opt::<K>(&*ks2, key) {
                return Some((RecordPart::Key, e));
            }
            match value {
                Some(v) => vs2.deserialize(v).err().map(|e| (RecordPart::Value, e)),
                None => None,
            }
        });
        let def = GlobalStoreDef {
            name: store_name.clone(),
            topic: topic.to_string(),
            store_type: materialized.store_type,
            handle: Arc::new(move |cell: &Arc<GlobalStoreCell>| -> Box<dyn StateStore> {
                Box::new(GlobalKeyValueStore::new(
                    cell.clone(),
                    ks.clone(),
                    vs.clone(),
                ))
            }),
            check,
        };
        if let Err(e) = b.topology.add_global_store_def(def) {
            b.fail(e);
        }
        GlobalKTable {
            store_name,
            key_serde,
            _types: PhantomData,
        }
    }
}

type GlobalJoiner<V, VG, VR> = Arc<dyn Fn(V, Option<VG>) -> Option<VR> + Send + Sync>;
type KeySelector<K, V, KG> = Arc<dyn Fn(&K, &V) -> KG + Send + Sync>;

/// Joins each stream record with the global table's row for the key computed from it
/// (Kafka's `KStreamGlobalKTableJoin`). As in Kafka, a record with a null value or whose
/// computed key is null is dropped (counted in `dropped_records`), except that a left join
/// joins a record with a null key (and a value) with `None` whatever key it computes.
struct GlobalJoin<K, V, KG, VG, VR> {
    store_name: String,
    store: Option<GlobalKeyValueStore<KG, VG>>,
    selector: KeySelector<K, V, KG>,
    joiner: GlobalJoiner<V, VG, VR>,
    left: bool,
    key_serde: Option<Arc<dyn Serde<K>>>,
    value_serde: Option<Arc<dyn Serde<V>>>,
    table_key_serde: Arc<dyn Serde<KG>>,
}

impl<K: Data, V: Data, KG: Data, VG: Data, VR: Data> Processor<K, V, K, VR>
    for GlobalJoin<K, V, KG, VG, VR>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<()> {
        self.store = Some(ctx.get_state_store::<GlobalKeyValueStore<KG, VG>>(&self.store_name)?);
        Ok(())
    }

    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| super::ktable::not_initialized(&self.store_name))?;
        let value_null = self
            .value_serde
            .as_ref()
            .is_some_and(|s| s.is_null(&r.value));
        let key_null = self.key_serde.as_ref().is_some_and(|s| s.is_null(&r.key));
        let table_key = (self.selector)(&r.key, &r.value);
        let table_key_null = self.table_key_serde.is_null(&table_key);
        let kept = self.left && key_null && !value_null;
        if !kept && (table_key_null || value_null) {
            drop_record(
                ctx,
                "null join key or value in a stream-global table join",
                r.timestamp,
            );
            return Ok(());
        }
        let row = if table_key_null {
            None
        } else {
            store.get(&table_key)?
        };
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        match (self.joiner)(value, row) {
            Some(v) => ctx.forward(Record {
                key,
                value: v,
                timestamp,
                headers,
            }),
            None => Ok(()),
        }
    }
}

/// Joins with global tables.
impl<K: Data, V: Data> KStream<K, V> {
    /// Inner join with a [`GlobalKTable`]: for each record, `key_selector(key, value)` gives
    /// the table key to look up; records with a row give `joiner(value, row)`, the others are
    /// dropped. Keys, partitions and timestamps stay the stream's. No co-partitioning is needed.
    /// As in Kafka, a record with a null value (see [`crate::Serde::is_null`]) or whose
    /// computed key is null is dropped and counted in `dropped_records`.
    pub fn join_global<KG: Data, VG: Data, VR: Data>(
        &self,
        table: &GlobalKTable<KG, VG>,
        key_selector: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(V, VG) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(
            table,
            Arc::new(key_selector),
            Arc::new(move |v, row: Option<VG>| row.map(|g| joiner(v, g))),
            false,
        )
    }

    /// Left join with a [`GlobalKTable`]: every record gives `joiner(value, row)`, with `None`
    /// where the table has no row for the computed key. Records with a null value or a null
    /// computed key are dropped (counted in `dropped_records`), except that a record with a
    /// null key and a value is joined with `None` (Kafka 3.7, KIP-962).
    pub fn left_join_global<KG: Data, VG: Data, VR: Data>(
        &self,
        table: &GlobalKTable<KG, VG>,
        key_selector: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(V, Option<VG>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(
            table,
            Arc::new(key_selector),
            Arc::new(move |v, row| Some(joiner(v, row))),
            true,
        )
    }

    fn global_join<KG: Data, VG: Data, VR: Data>(
        &self,
        table: &GlobalKTable<KG, VG>,
        selector: KeySelector<K, V, KG>,
        joiner: GlobalJoiner<V, VG, VR>,
        left: bool,
    ) -> KStream<K, VR> {
        let store = table.store_name.clone();
        let prefix = if left {
            "KSTREAM-LEFTJOIN-"
        } else {
            "KSTREAM-JOIN-"
        };
        let (key_serde, value_serde) = (self.key_serde.clone(), self.value_serde.clone());
        let table_key_serde = table.key_serde.clone();
        let node = self.add_node::<K, VR, _, _>(
            prefix,
            move || GlobalJoin {
                store_name: store.clone(),
                store: None,
                selector: selector.clone(),
                joiner: joiner.clone(),
                left,
                key_serde: key_serde.clone(),
                value_serde: value_serde.clone(),
                table_key_serde: table_key_serde.clone(),
            },
            &[table.store_name.as_str()],
        );
        self.derive(
            node,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }
}
