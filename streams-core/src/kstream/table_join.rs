//! Table-table joins: [`KTable::join`], [`KTable::left_join`], [`KTable::outer_join`].
//!
//! As in Kafka Streams (`KTableKTableJoin` and friends), both tables are materialized; an update
//! of either side looks up the other side's store and emits the joined row as a [`Change`]
//! (new and old joined values), so downstream aggregations subtract correctly and `to_stream`
//! sees tombstones. Both sides' join processors share the two stores, so they run in one
//! sub-topology: the tables' topics must be co-partitioned.

use std::sync::Arc;

use crate::error::Result;
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::ktable::{names, not_initialized, upsert_row};
use crate::kstream::ktable::{Change, KTable, Materialized};
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::key_value::KeyValueStore;

/// A joiner normalized to optional sides: `(this, other)`; `None` where the join mode has no
/// row for that combination.
type SideJoiner<VS, VO, VR> = Arc<dyn Fn(Option<&VS>, Option<&VO>) -> Option<VR> + Send + Sync>;

/// Which sides must be present for a joined row.
#[derive(Debug, Clone, Copy)]
struct Required {
    this: bool,
    other: bool,
}

/// One side of a table-table join: joins each change of this side with the other side's
/// current value (Kafka's `KTableKTableJoinProcessor` family).
struct JoinSide<K, VS, VO, VR> {
    other_store: String,
    store: Option<KeyValueStore<K, VO>>,
    joiner: SideJoiner<VS, VO, VR>,
    required: Required,
}

impl<K: Data, VS: Data, VO: Data, VR: Data> Processor<K, Change<VS>, K, Change<VR>>
    for JoinSide<K, VS, VO, VR>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VR>>) -> Result<()> {
        self.store = Some(ctx.get_state_store::<KeyValueStore<K, VO>>(&self.other_store)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<VS>>,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.other_store))?;
        let other = store.get_with_timestamp(&r.key)?;
        if other.is_none() && self.required.other {
            return Ok(());
        }
        let (other, timestamp) = match &other {
            Some((v, ts)) => (Some(v), r.timestamp.max(*ts)),
            None => (None, r.timestamp),
        };
        let join = |this: Option<&VS>| -> Option<VR> {
            if this.is_none() && (self.required.this || other.is_none()) {
                None
            } else {
                (self.joiner)(this, other)
            }
        };
        let new = join(r.value.new.as_ref());
        let old = join(r.value.old.as_ref());
        if new.is_none() && old.is_none() {
            // No joined row before or after (Kafka with `sendOldValues`): nothing to delete.
            return Ok(());
        }
        ctx.forward(Record {
            key: r.key,
            value: Change { new, old },
            timestamp,
            headers: r.headers,
        })
    }
}

/// Keeps a table's rows in a store and forwards each change with the stored old value: forces
/// materialization where a join needs a store, and materializes join results.
pub(super) struct TableMaterialize<K, V> {
    pub(super) store_name: String,
    pub(super) store: Option<KeyValueStore<K, V>>,
}

impl<K: Data, V: Data> Processor<K, Change<V>> for TableMaterialize<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        self.store = Some(ctx.get_state_store::<KeyValueStore<K, V>>(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let row = Record {
            key: r.key,
            value: (),
            timestamp: r.timestamp,
            headers: r.headers,
        };
        upsert_row(store, ctx, row, r.value.new, true)
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        match &self.store {
            Some(s) => crate::kstream::ktable::emit_cached(s, ctx),
            None => Ok(()),
        }
    }
}

impl<K: Data, V: Data> KTable<K, V> {
    /// This table with a store: itself if it is materialized, else the table materialized in
    /// `materialized`'s store (default: a generated name, no caching so every change passes
    /// through at once).
    pub(super) fn materialized_as(&self, materialized: Materialized<K, V>) -> KTable<K, V> {
        let mut m = materialized;
        if m.key_serde.is_none() {
            m.key_serde = self.key_serde.clone();
        }
        if m.value_serde.is_none() {
            m.value_serde = self.value_serde.clone();
        }
        let (store_name, node_name) = names(&self.stream, &m, "KTABLE-MATERIALIZED-");
        let sn = store_name.clone();
        let mut t = super::ktable::materialize(&self.stream, m, store_name, node_name, move || {
            TableMaterialize {
                store_name: sn.clone(),
                store: None,
            }
        });
        t.close_after_ms = self.close_after_ms;
        t
    }

    /// This table if it has a store, else a copy materialized for a join.
    pub(super) fn with_store(&self) -> KTable<K, V> {
        if self.store_name.is_some() {
            self.clone()
        } else {
            self.materialized_as(Materialized::new().with_caching_disabled())
        }
    }

    /// Inner join with another table on the key: a row exists where both tables have one, with
    /// the value `joiner(this, other)`. Either side's update emits the new joined row with the
    /// old one; deleting either side deletes the joined row (a tombstone, if there was one).
    /// The record timestamp is the larger of the two rows' timestamps. Unmaterialized tables
    /// (after `filter`, `map_values`, ...) are materialized first.
    ///
    /// ```
    /// use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// let zones = builder.table("zones", Consumed::with(I64Serde, StringSerde), Materialized::new());
    /// let names = builder.table("zone-names", Consumed::with(I64Serde, StringSerde), Materialized::new());
    /// zones
    ///     .join(&names, |borough: &String, zone: &String| format!("{zone}, {borough}"))
    ///     .to_stream()
    ///     .to("zone-labels", Produced::new());
    /// let config = StreamsConfig::new("labels").with("statestore.cache.max.bytes", "0");
    /// let driver = TopologyTestDriver::new(builder.build()?, config)?;
    /// driver.input_topic("zones", I64Serde, StringSerde).pipe_input(4, "Manhattan".into())?;
    /// driver.input_topic("zone-names", I64Serde, StringSerde).pipe_input(4, "Alphabet City".into())?;
    /// let out = driver.output_topic("zone-labels", I64Serde, Nullable(StringSerde));
    /// assert_eq!(out.read_key_values_to_list()?, vec![(4, Some("Alphabet City, Manhattan".into()))]);
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        let j = Arc::new(joiner);
        self.join_with(
            other,
            Arc::new(move |a: Option<&V>, b: Option<&VO>| match (a, b) {
                (Some(a), Some(b)) => Some(j(a, b)),
                _ => None,
            }),
            Required {
                this: true,
                other: true,
            },
            ("KTABLE-JOINTHIS-", "KTABLE-JOINOTHER-", "KTABLE-MERGE-"),
        )
    }

    /// [`KTable::join`] with the result kept in a store (named, queryable, with a changelog).
    pub fn join_materialized<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        self.join(other, joiner).materialized_as(materialized)
    }

    /// Left join with another table: every row of this table gives a joined row
    /// `joiner(this, other)`, with `None` where the other table has no row. Deleting the other
    /// side's row updates the joined row to `joiner(this, None)`; deleting this side's row
    /// deletes the joined row.
    pub fn left_join<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        let j = Arc::new(joiner);
        self.join_with(
            other,
            Arc::new(move |a: Option<&V>, b: Option<&VO>| a.map(|a| j(a, b))),
            Required {
                this: true,
                other: false,
            },
            ("KTABLE-LEFTTHIS-", "KTABLE-LEFTOTHER-", "KTABLE-MERGE-"),
        )
    }

    /// [`KTable::left_join`] with the result kept in a store.
    pub fn left_join_materialized<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        self.left_join(other, joiner).materialized_as(materialized)
    }

    /// Outer join with another table: a joined row exists where either table has a row, with
    /// the value `joiner(this, other)` (`None` for the missing side). It is deleted when both
    /// sides are.
    pub fn outer_join<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        let j = Arc::new(joiner);
        self.join_with(
            other,
            Arc::new(move |a: Option<&V>, b: Option<&VO>| Some(j(a, b))),
            Required {
                this: false,
                other: false,
            },
            ("KTABLE-OUTERTHIS-", "KTABLE-OUTEROTHER-", "KTABLE-MERGE-"),
        )
    }

    /// [`KTable::outer_join`] with the result kept in a store.
    pub fn outer_join_materialized<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        self.outer_join(other, joiner).materialized_as(materialized)
    }

    /// Adds both join processors and their merge. `joiner` returns `None` only where the mode
    /// has no row (never called so by the processors).
    fn join_with<VO: Data, VR: Data>(
        &self,
        other: &KTable<K, VO>,
        joiner: SideJoiner<V, VO, VR>,
        required: Required,
        prefixes: (&str, &str, &str),
    ) -> KTable<K, VR> {
        // As Kafka: the outer side(s) of a join send old values (a left join this table, an
        // outer join both).
        if !required.other {
            self.enable_sending_old_values();
        }
        if !required.this {
            other.enable_sending_old_values();
        }
        let this = self.with_store();
        let other = other.with_store();
        let (Some(this_store), Some(other_store)) =
            (this.store_name.clone(), other.store_name.clone())
        else {
            // Materialization failed; the error is recorded for `build()`.
            return KTable {
                stream: self.stream.derive(INVALID, None, None, false),
                store_name: None,
                value_serde: None,
                key_serde: None,
                close_after_ms: None,
            };
        };
        let j = joiner.clone();
        let left = side::<K, V, VO, VR>(
            &this.stream,
            prefixes.0,
            &other_store,
            Arc::new(move |a: Option<&V>, b: Option<&VO>| j(a, b)),
            required,
        );
        let right = side::<K, VO, V, VR>(
            &other.stream,
            prefixes.1,
            &this_store,
            Arc::new(move |a: Option<&VO>, b: Option<&V>| joiner(b, a)),
            Required {
                this: required.other,
                other: required.this,
            },
        );
        let merge_name = self.stream.builder.borrow_mut().new_name(prefixes.2);
        let merged = left.named(merge_name).merge(&right);
        KTable {
            stream: merged,
            store_name: None,
            value_serde: None,
            key_serde: this.key_serde.clone(),
            close_after_ms: None,
        }
    }
}

/// Adds one side's join processor under `stream`, connected to the other side's store.
fn side<K: Data, VS: Data, VO: Data, VR: Data>(
    stream: &KStream<K, Change<VS>>,
    prefix: &str,
    other_store: &str,
    joiner: SideJoiner<VS, VO, VR>,
    required: Required,
) -> KStream<K, Change<VR>> {
    let store = other_store.to_string();
    let node = stream.add_node::<K, Change<VR>, _, _>(
        prefix,
        move || JoinSide {
            other_store: store.clone(),
            store: None,
            joiner: joiner.clone(),
            required,
        },
        &[other_store],
    );
    stream.derive(node, stream.key_serde.clone(), None, false)
}
