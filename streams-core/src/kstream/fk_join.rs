//! Foreign-key table joins: [`KTable::join_on_foreign_key`] and
//! [`KTable::left_join_on_foreign_key`], Kafka's KIP-213 design.
//!
//! The left table (key `K`, value `V`) joins the right table (key `KO`, value `VO`) on
//! `fk_extractor(left value)`. The two tables are not co-partitioned, so the join talks through
//! two internal topics:
//!
//! ```text
//!  left table ──SubscriptionSend──► <app>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic
//!      ▲                              (key: fk; value: pk, hash of the left value, instruction)
//!      │                                   │ partitions: the right table's
//!      │                                   ▼
//!      │                     SubscriptionReceive: subscription store (fk, pk) ← put/delete,
//!      │                     looks the fk up in the right store and responds
//!      │                     RightUpdate (right table changes): responds to every (fk, *)
//!      │                                   │
//!      │                                   ▼
//!  ResponseJoin ◄──────────── <app>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<n>-topic
//!  (drops stale responses,       (key: pk; value: hash, right value)
//!   joins, result store)         partitions: the left table's
//! ```
//!
//! A response carries the hash of the left value that asked for it; the left side drops it
//! when the left row has changed since (an answer for an older value, or an old foreign key).
//!
//! # Internal value layouts
//! Both are versionless and compact; the left value hash is 128-bit murmur3 (x64 variant, seed
//! 104729, as Kafka's `Murmur3.hash128`) of the left value's serialized bytes, written as the
//! two 64-bit halves big-endian.
//!
//! - Registration value (`Subscription`): 1 flags byte (bits 0-1: the instruction, bit 2: a hash
//!   follows; other bits 0), then the 16 hash bytes if present, then the primary key serialized
//!   with the left table's key serde (the rest of the value).
//! - Response value (`Response`): 1 flags byte (bit 0: a hash follows, bit 1: a right value
//!   follows; other bits 0), then the 16 hash bytes if present, then the right value serialized
//!   with the right table's value serde (the rest of the value).
//! - Subscription store key: the foreign key's serialized length as 4 bytes big-endian, the
//!   foreign key bytes, the primary key bytes (Kafka's `CombinedKeySchema`), so the
//!   subscribers of one foreign key are one prefix scan. The store value is the registration.

use std::sync::Arc;

use crate::error::{RecordPart, Result, SerdeError, StreamsError};
use crate::kstream::builder_inner::InternalHop;
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::ktable::{materialize, not_initialized};
use crate::kstream::ktable::{Change, KTable, Materialized};
use crate::kstream::stream::KStream;
use crate::kstream::table_join::TableMaterialize;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;
use crate::serdes::{BytesSerde, Serde};
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder};

/// Hash of a serialized left value (murmur3 x64 128).
type ValueHash = [u64; 2];

/// What a registration asks of the right side (Kafka's `SubscriptionWrapper.Instruction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instruction {
    /// Unsubscribe; respond nothing (the foreign key changed: the new one responds).
    DeleteKeyNoPropagate = 0,
    /// Unsubscribe and respond with no right value (the left row was deleted).
    DeleteKeyAndPropagate = 1,
    /// Subscribe and respond, with no right value if the foreign key has no row.
    PropagateNullIfNoFkValAvailable = 2,
    /// Subscribe; respond only if the foreign key has a row (first row of an inner join).
    PropagateOnlyIfFkValAvailable = 3,
}

impl Instruction {
    fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Instruction::DeleteKeyNoPropagate,
            1 => Instruction::DeleteKeyAndPropagate,
            2 => Instruction::PropagateNullIfNoFkValAvailable,
            _ => Instruction::PropagateOnlyIfFkValAvailable,
        }
    }
}

/// A registration: the value of the registration topic and of the subscription store.
#[derive(Debug, Clone, PartialEq)]
struct Subscription<K> {
    instruction: Instruction,
    /// Hash of the left value that sent it (`None` for a deleted row).
    hash: Option<ValueHash>,
    primary_key: K,
}

/// A response: the value of the response topic.
#[derive(Debug, Clone, PartialEq)]
struct Response<VO> {
    /// The hash of the registration this answers.
    hash: Option<ValueHash>,
    /// The right row of the foreign key, if any.
    value: Option<VO>,
}

const HASH_LEN: usize = 16;

fn write_hash(hash: &ValueHash, out: &mut Vec<u8>) {
    out.extend_from_slice(&hash[0].to_be_bytes());
    out.extend_from_slice(&hash[1].to_be_bytes());
}

fn read_hash(data: &[u8], serde: &str) -> std::result::Result<(ValueHash, usize), SerdeError> {
    let bytes: &[u8; HASH_LEN] = data
        .get(..HASH_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            SerdeError::new(
                serde,
                format!("{} bytes is too short for a value hash", data.len()),
            )
        })?;
    let mut h1 = [0u8; 8];
    let mut h2 = [0u8; 8];
    h1.copy_from_slice(&bytes[..8]);
    h2.copy_from_slice(&bytes[8..]);
    Ok(([u64::from_be_bytes(h1), u64::from_be_bytes(h2)], HASH_LEN))
}

/// The flags byte of an internal value: `data[0]`, checked against the bits in use.
fn flags(data: &[u8], used: u8, serde: &str) -> std::result::Result<u8, SerdeError> {
    let &f = data
        .first()
        .ok_or_else(|| SerdeError::new(serde, "an empty value"))?;
    if f & !used != 0 {
        return Err(SerdeError::new(
            serde,
            format!("unknown flags {f:#04x}: written by a newer version?"),
        ));
    }
    Ok(f)
}

/// Serde of [`Subscription`] (layout in the module docs).
struct SubscriptionSerde<K>(Arc<dyn Serde<K>>);

impl<K: 'static> Serde<Subscription<K>> for SubscriptionSerde<K> {
    fn serialize(
        &self,
        value: &Subscription<K>,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), SerdeError> {
        out.push(value.instruction as u8 | (u8::from(value.hash.is_some()) << 2));
        if let Some(h) = &value.hash {
            write_hash(h, out);
        }
        self.0.serialize(&value.primary_key, out)
    }
    fn deserialize(&self, data: &[u8]) -> std::result::Result<Subscription<K>, SerdeError> {
        let name = self.name();
        let f = flags(data, 0b111, &name)?;
        let mut rest = &data[1..];
        let hash = if f & 0b100 != 0 {
            let (h, n) = read_hash(rest, &name)?;
            rest = &rest[n..];
            Some(h)
        } else {
            None
        };
        Ok(Subscription {
            instruction: Instruction::from_bits(f),
            hash,
            primary_key: self.0.deserialize(rest)?,
        })
    }
    fn name(&self) -> String {
        format!("FkSubscription<{}>", self.0.name())
    }
}

/// Serde of [`Response`] (layout in the module docs).
struct ResponseSerde<VO>(Arc<dyn Serde<VO>>);

impl<VO: 'static> Serde<Response<VO>> for ResponseSerde<VO> {
    fn serialize(
        &self,
        value: &Response<VO>,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), SerdeError> {
        out.push(u8::from(value.hash.is_some()) | (u8::from(value.value.is_some()) << 1));
        if let Some(h) = &value.hash {
            write_hash(h, out);
        }
        match &value.value {
            Some(v) => self.0.serialize(v, out),
            None => Ok(()),
        }
    }
    fn deserialize(&self, data: &[u8]) -> std::result::Result<Response<VO>, SerdeError> {
        let name = self.name();
        let f = flags(data, 0b11, &name)?;
        let mut rest = &data[1..];
        let hash = if f & 1 != 0 {
            let (h, n) = read_hash(rest, &name)?;
            rest = &rest[n..];
            Some(h)
        } else {
            None
        };
        let value = if f & 0b10 != 0 {
            Some(self.0.deserialize(rest)?)
        } else {
            None
        };
        Ok(Response { hash, value })
    }
    fn name(&self) -> String {
        format!("FkResponse<{}>", self.0.name())
    }
}

/// Murmur3 x64 128-bit (Austin Appleby's `MurmurHash3_x64_128`), as Kafka's
/// `Murmur3.hash128` computes it with its default seed.
fn murmur3_128(data: &[u8], seed: u64) -> ValueHash {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    fn fmix(mut k: u64) -> u64 {
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
    let mix_k1 = |k: u64| k.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    let mix_k2 = |k: u64| k.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    let (mut h1, mut h2) = (seed, seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&block[..8]);
        b.copy_from_slice(&block[8..]);
        h1 ^= mix_k1(u64::from_le_bytes(a));
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(u64::from_le_bytes(b));
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let word = |bytes: &[u8]| {
        bytes
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &b)| acc | (u64::from(b) << (8 * i)))
    };
    if tail.len() > 8 {
        h2 ^= mix_k2(word(&tail[8..]));
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(word(&tail[..tail.len().min(8)]));
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    [h1, h2]
}

/// Kafka's `Murmur3.DEFAULT_SEED`.
const HASH_SEED: u64 = 104_729;

/// Hashes left values, reusing one buffer.
struct ValueHasher<V> {
    serde: Arc<dyn Serde<V>>,
    buf: Vec<u8>,
    /// Named in serialization errors: the registration topic.
    topic: String,
}

impl<V: 'static> ValueHasher<V> {
    fn new(serde: Arc<dyn Serde<V>>, topic: &str) -> Self {
        ValueHasher {
            serde,
            buf: Vec::new(),
            topic: topic.to_string(),
        }
    }
    fn hash(&mut self, value: Option<&V>, node: &str) -> Result<Option<ValueHash>> {
        let Some(v) = value else { return Ok(None) };
        self.buf.clear();
        self.serde
            .serialize(v, &mut self.buf)
            .map_err(|source| StreamsError::Serialization {
                topic: self.topic.clone(),
                node: node.to_string(),
                part: RecordPart::Value,
                source,
            })?;
        Ok(Some(murmur3_128(&self.buf, HASH_SEED)))
    }
}

/// Left side, on each left change: registers the row with its foreign key (Kafka's
/// `SubscriptionSendProcessorSupplier`). Output key: the foreign key.
struct SubscriptionSend<K, V, KO> {
    fk_extractor: Arc<dyn Fn(&V) -> KO + Send + Sync>,
    fk_serde: Arc<dyn Serde<KO>>,
    hasher: ValueHasher<V>,
    left_join: bool,
    old_fk: Vec<u8>,
    new_fk: Vec<u8>,
    _k: std::marker::PhantomData<fn() -> K>,
}

impl<K: Data, V: Data, KO: Data> SubscriptionSend<K, V, KO> {
    /// Serializes a foreign key into `out` (for comparing old and new keys, as Kafka does).
    fn fk_bytes(
        serde: &dyn Serde<KO>,
        fk: &KO,
        out: &mut Vec<u8>,
        topic: &str,
        node: &str,
    ) -> Result<()> {
        out.clear();
        serde
            .serialize(fk, out)
            .map_err(|source| StreamsError::Serialization {
                topic: topic.to_string(),
                node: node.to_string(),
                part: RecordPart::Key,
                source,
            })
    }
}

impl<K: Data, V: Data, KO: Data> Processor<K, Change<V>, KO, Subscription<K>>
    for SubscriptionSend<K, V, KO>
{
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, KO, Subscription<K>>,
    ) -> Result<()> {
        let node = ctx.node_name().to_string();
        let hash = self.hasher.hash(r.value.new.as_ref(), &node)?;
        let send = |ctx: &mut ProcessorContext<'_, KO, Subscription<K>>,
                    fk: KO,
                    instruction: Instruction| {
            ctx.forward(Record {
                key: fk,
                value: Subscription {
                    instruction,
                    hash,
                    primary_key: r.key.clone(),
                },
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })
        };
        if !self.left_join {
            // Kafka's inner join skips a row whose old or new foreign key is null (counted
            // and logged); the joined row, if any, stays as it was.
            let null_fk = |v: &Option<V>| {
                v.as_ref()
                    .is_some_and(|v| self.fk_serde.is_null(&(self.fk_extractor)(v)))
            };
            if null_fk(&r.value.old) || null_fk(&r.value.new) {
                crate::kstream::ktable::skip_null(ctx, "foreign key");
                return Ok(());
            }
        }
        match (&r.value.old, &r.value.new) {
            (Some(old), Some(new)) => {
                let (old_fk, new_fk) = ((self.fk_extractor)(old), (self.fk_extractor)(new));
                let topic = &self.hasher.topic;
                Self::fk_bytes(&*self.fk_serde, &old_fk, &mut self.old_fk, topic, &node)?;
                Self::fk_bytes(&*self.fk_serde, &new_fk, &mut self.new_fk, topic, &node)?;
                if self.old_fk != self.new_fk {
                    // Unsubscribe from the old key; the new key's answer replaces the result.
                    send(ctx, old_fk, Instruction::DeleteKeyNoPropagate)?;
                }
                // Even without a right row, the result must change (to a tombstone, in an
                // inner join): the old one is for another left value.
                send(ctx, new_fk, Instruction::PropagateNullIfNoFkValAvailable)
            }
            (Some(old), None) => send(
                ctx,
                (self.fk_extractor)(old),
                Instruction::DeleteKeyAndPropagate,
            ),
            (None, Some(new)) => {
                // A new row (or one deleted before): an inner join has nothing to delete.
                let instruction = if self.left_join {
                    Instruction::PropagateNullIfNoFkValAvailable
                } else {
                    Instruction::PropagateOnlyIfFkValAvailable
                };
                send(ctx, (self.fk_extractor)(new), instruction)
            }
            (None, None) => Ok(()),
        }
    }
}

/// Builds subscription store keys, `[fk length: 4 bytes BE][fk][pk]`, in one reused buffer.
struct CombinedKeys<K, KO> {
    fk_serde: Arc<dyn Serde<KO>>,
    pk_serde: Arc<dyn Serde<K>>,
    store: String,
    buf: Vec<u8>,
}

impl<K: 'static, KO: 'static> CombinedKeys<K, KO> {
    fn err(&self, what: &str, e: SerdeError) -> StreamsError {
        StreamsError::store_caused(
            self.store.clone(),
            format!("cannot serialize the {what} of a subscription key"),
            e,
        )
    }
    /// The prefix of every key of `fk`'s subscribers.
    fn prefix(&mut self, fk: &KO) -> Result<&Vec<u8>> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; 4]);
        if let Err(e) = self.fk_serde.serialize(fk, &mut self.buf) {
            return Err(self.err("foreign key", e));
        }
        let len = u32::try_from(self.buf.len() - 4).map_err(|_| {
            StreamsError::store(self.store.clone(), "a foreign key longer than 4 GiB")
        })?;
        self.buf[..4].copy_from_slice(&len.to_be_bytes());
        Ok(&self.buf)
    }
    /// The store key of `pk`'s subscription to `fk`.
    fn key(&mut self, fk: &KO, pk: &K) -> Result<&Vec<u8>> {
        self.prefix(fk)?;
        if let Err(e) = self.pk_serde.serialize(pk, &mut self.buf) {
            return Err(self.err("primary key", e));
        }
        Ok(&self.buf)
    }
}

/// Right side, on each registration: updates the subscription store and answers with the
/// foreign key's right row (Kafka's `SubscriptionReceiveProcessorSupplier` and
/// `SubscriptionJoinProcessorSupplier`). Output key: the primary key.
struct SubscriptionReceive<K, KO, VO> {
    keys: CombinedKeys<K, KO>,
    right_store_name: String,
    subscriptions: Option<KeyValueStore<Vec<u8>, Subscription<K>>>,
    right: Option<KeyValueStore<KO, VO>>,
}

impl<K: Data, KO: Data, VO: Data> Processor<KO, Subscription<K>, K, Response<VO>>
    for SubscriptionReceive<K, KO, VO>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Response<VO>>) -> Result<()> {
        self.subscriptions = Some(ctx.get_state_store(&self.keys.store)?);
        self.right = Some(ctx.get_state_store(&self.right_store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<KO, Subscription<K>>,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<()> {
        let (Some(subscriptions), Some(right)) = (&self.subscriptions, &self.right) else {
            return Err(not_initialized(&self.keys.store));
        };
        let key = self.keys.key(&r.key, &r.value.primary_key)?;
        let instruction = r.value.instruction;
        match instruction {
            Instruction::DeleteKeyNoPropagate | Instruction::DeleteKeyAndPropagate => {
                subscriptions.delete(key)?;
            }
            _ => subscriptions.put_with_timestamp(key, r.value.clone(), r.timestamp)?,
        }
        let found = right.get_with_timestamp(&r.key)?;
        let timestamp = found
            .as_ref()
            .map_or(r.timestamp, |(_, ts)| r.timestamp.max(*ts));
        let value = match (instruction, found) {
            (Instruction::DeleteKeyNoPropagate, _)
            | (Instruction::PropagateOnlyIfFkValAvailable, None) => return Ok(()),
            (Instruction::DeleteKeyAndPropagate, _) => None,
            (_, found) => found.map(|(v, _)| v),
        };
        let Subscription {
            hash, primary_key, ..
        } = r.value;
        ctx.forward(Record {
            key: primary_key,
            value: Response { hash, value },
            timestamp,
            headers: r.headers,
        })
    }
}

/// Right side, on each right table change: answers every subscriber of the key with the new
/// row (Kafka's `ForeignTableJoinProcessorSupplier`).
struct RightUpdate<K, KO, VO> {
    keys: CombinedKeys<K, KO>,
    subscriptions: Option<KeyValueStore<Vec<u8>, Subscription<K>>>,
    _vo: std::marker::PhantomData<fn() -> VO>,
}

impl<K: Data, KO: Data, VO: Data> Processor<KO, Change<VO>, K, Response<VO>>
    for RightUpdate<K, KO, VO>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Response<VO>>) -> Result<()> {
        self.subscriptions = Some(ctx.get_state_store(&self.keys.store)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<KO, Change<VO>>,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<()> {
        let subscriptions = self
            .subscriptions
            .as_ref()
            .ok_or_else(|| not_initialized(&self.keys.store))?;
        if r.value.new.is_none() && r.value.old.is_none() {
            return Ok(());
        }
        let prefix = self.keys.prefix(&r.key)?;
        for (_, sub, _) in subscriptions.prefix_scan(prefix)? {
            ctx.forward(Record {
                key: sub.primary_key,
                value: Response {
                    hash: sub.hash,
                    value: r.value.new.clone(),
                },
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// Left side, on each response: drops it if the left row changed since it was registered,
/// else joins (Kafka's `ResponseJoinProcessorSupplier`). The result is a change whose old
/// value the result store fills in.
struct ResponseJoin<K, V, VO, VR> {
    left_store_name: String,
    left: Option<KeyValueStore<K, V>>,
    hasher: ValueHasher<V>,
    joiner: FkJoiner<V, VO, VR>,
}

/// The joiner normalized to an optional right side: `None` where the join has no row (an
/// inner join without a right value).
type FkJoiner<V, VO, VR> = Arc<dyn Fn(&V, Option<&VO>) -> Option<VR> + Send + Sync>;

impl<K: Data, V: Data, VO: Data, VR: Data> Processor<K, Response<VO>, K, Change<VR>>
    for ResponseJoin<K, V, VO, VR>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VR>>) -> Result<()> {
        self.left = Some(ctx.get_state_store(&self.left_store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Response<VO>>,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<()> {
        let left = self
            .left
            .as_ref()
            .ok_or_else(|| not_initialized(&self.left_store_name))?;
        let current = left.get(&r.key)?;
        let node = ctx.node_name().to_string();
        if self.hasher.hash(current.as_ref(), &node)? != r.value.hash {
            // Stale: answers a left value that has changed since (or an old foreign key).
            return Ok(());
        }
        let new = current
            .as_ref()
            .and_then(|l| (self.joiner)(l, r.value.value.as_ref()));
        ctx.forward(Record {
            key: r.key,
            value: Change { new, old: None },
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

impl<K: Data, V: Data> KTable<K, V> {
    /// Inner join with `other` on a foreign key: each row of this table joins the row of
    /// `other` whose key is `fk_extractor(value)`, giving `joiner(value, other_value)` under
    /// this table's key (Kafka's `KTable#join(other, foreignKeyExtractor, joiner)`).
    ///
    /// The tables need not be co-partitioned: the join registers each row with its foreign key
    /// through the internal topic `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic`
    /// (as many partitions as `other`) and receives the matching rows through
    /// `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<n>-topic` (as many as this
    /// table). An update of either side updates the joined rows; a row whose foreign key
    /// changes leaves its old key's row and joins the new one; a row with no match, deleted, or
    /// whose match was deleted, has no joined row (a tombstone deletes a joined row that
    /// existed). Answers racing with a newer update of the row are dropped. The result keeps
    /// its rows in a store (generated name, no caching) so tombstones are sent only for rows
    /// that existed and downstream operations get old values; the result value type needs a
    /// serde (by type, or use [`KTable::join_on_foreign_key_materialized`]).
    ///
    /// ```
    /// use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// // ride id -> pickup zone id, and zone id -> borough
    /// let rides = builder.table("rides", Consumed::with(StringSerde, I64Serde), Materialized::new());
    /// let zones = builder.table("zones", Consumed::with(I64Serde, StringSerde), Materialized::new());
    /// rides
    ///     .join_on_foreign_key(&zones, |zone: &i64| *zone, |zone, borough: &String| format!("{zone} {borough}"))
    ///     .to_stream()
    ///     .to("ride-boroughs", Produced::new());
    /// let config = StreamsConfig::new("fk").with("statestore.cache.max.bytes", "0");
    /// let driver = TopologyTestDriver::new(builder.build()?, config)?;
    /// driver.input_topic("zones", I64Serde, StringSerde).pipe_input(138, "Queens".into())?;
    /// driver.input_topic("rides", StringSerde, I64Serde).pipe_input("ride-1".into(), 138)?;
    /// let out = driver.output_topic("ride-boroughs", StringSerde, Nullable(StringSerde));
    /// assert_eq!(out.read_key_values_to_list()?, vec![("ride-1".into(), Some("138 Queens".into()))]);
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join_on_foreign_key<KO: Data, VO: Data, VR: Data>(
        &self,
        other: &KTable<KO, VO>,
        fk_extractor: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.join_on_foreign_key_materialized(
            other,
            fk_extractor,
            joiner,
            Materialized::new().with_caching_disabled(),
        )
    }

    /// [`KTable::join_on_foreign_key`] with the result kept in the store `materialized`
    /// describes (named, queryable, cached if enabled).
    pub fn join_on_foreign_key_materialized<KO: Data, VO: Data, VR: Data>(
        &self,
        other: &KTable<KO, VO>,
        fk_extractor: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        let joiner = Arc::new(joiner);
        self.fk_join(
            other,
            Arc::new(fk_extractor),
            Arc::new(move |v: &V, vo: Option<&VO>| vo.map(|vo| joiner(v, vo))),
            false,
            materialized,
        )
    }

    /// Left join with `other` on a foreign key: like [`KTable::join_on_foreign_key`], but every
    /// row of this table has a joined row, `joiner(value, None)` while the foreign key has no
    /// row in `other` (Kafka's `KTable#leftJoin(other, foreignKeyExtractor, joiner)`).
    pub fn left_join_on_foreign_key<KO: Data, VO: Data, VR: Data>(
        &self,
        other: &KTable<KO, VO>,
        fk_extractor: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.left_join_on_foreign_key_materialized(
            other,
            fk_extractor,
            joiner,
            Materialized::new().with_caching_disabled(),
        )
    }

    /// [`KTable::left_join_on_foreign_key`] with the result kept in the store `materialized`
    /// describes.
    pub fn left_join_on_foreign_key_materialized<KO: Data, VO: Data, VR: Data>(
        &self,
        other: &KTable<KO, VO>,
        fk_extractor: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        self.fk_join(
            other,
            Arc::new(fk_extractor),
            Arc::new(move |v: &V, vo: Option<&VO>| Some(joiner(v, vo))),
            true,
            materialized,
        )
    }

    fn fk_join<KO: Data, VO: Data, VR: Data>(
        &self,
        other: &KTable<KO, VO>,
        fk_extractor: Arc<dyn Fn(&V) -> KO + Send + Sync>,
        joiner: FkJoiner<V, VO, VR>,
        left_join: bool,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR> {
        // As Kafka: both tables send old values to a foreign-key join.
        self.enable_sending_old_values();
        other.enable_sending_old_values();
        let left = self.with_store();
        let right = other.with_store();
        let builder = self.stream.builder.clone();
        let mut b = builder.borrow_mut();
        let invalid = |b: &mut crate::kstream::builder_inner::BuilderInner, why: Option<String>| {
            if let Some(why) = why {
                b.fail(StreamsError::InvalidTopology(why));
            }
            KTable {
                stream: self.stream.derive(INVALID, None, None, false),
                store_name: None,
                value_serde: None,
                key_serde: None,
                close_after_ms: None,
            }
        };
        let (Some(left_store), Some(right_store)) =
            (left.store_name.clone(), right.store_name.clone())
        else {
            // Materialization failed; the error is recorded for `build()`.
            return invalid(&mut b, None);
        };
        let serdes = (
            b.serde_for(left.key_serde.clone(), &None),
            b.serde_for(left.value_serde.clone(), &None),
            b.serde_for(right.key_serde.clone(), &None),
            b.serde_for(right.value_serde.clone(), &None),
        );
        let (Some(pk_serde), Some(v_serde), Some(fk_serde), Some(vo_serde)) = serdes else {
            let why = format!(
                "foreign-key join of `{left_store}` with `{right_store}` does not know how to \
                 serialize the tables' keys and values ({}, {}, {}, {}) for its internal topics: \
                 give the tables serdes (Consumed::with, Materialized::with)",
                std::any::type_name::<K>(),
                std::any::type_name::<V>(),
                std::any::type_name::<KO>(),
                std::any::type_name::<VO>()
            );
            return invalid(&mut b, Some(why));
        };
        // Names numbered in Kafka's order (KTableImpl#doJoinOnForeignKey), so internal topics
        // and stores are named as a Kafka Streams application names them.
        let registration = format!(
            "{}-topic",
            b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-")
        );
        let send_name = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-");
        let (registration_sink, registration_source) =
            (b.new_name("KTABLE-SINK-"), b.new_name("KTABLE-SOURCE-"));
        let subscription_store = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-");
        let receive_name = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-");
        // Kafka's separate subscription-join processor: done by the receiving node here.
        let _ = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-");
        let right_update_name = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-");
        let response = format!(
            "{}-topic",
            b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-")
        );
        let (response_sink, response_source) =
            (b.new_name("KTABLE-SINK-"), b.new_name("KTABLE-SOURCE-"));
        let resolver_name = b.new_name("KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-");
        let hop_names = [
            registration_sink,
            registration_source,
            response_sink,
            response_source,
        ];
        let sub_serde: Arc<dyn Serde<Subscription<K>>> =
            Arc::new(SubscriptionSerde(pk_serde.clone()));
        let response_serde: Arc<dyn Serde<Response<VO>>> =
            Arc::new(ResponseSerde(vo_serde.clone()));
        if let Err(e) = b.topology.add_state_store(
            KeyValueStoreBuilder::new(&subscription_store, Arc::new(BytesSerde), sub_serde.clone()),
            &[],
        ) {
            b.fail(e);
        }
        drop(b);

        // Left side: registrations out.
        let (fk_s, v_s, topic) = (fk_serde.clone(), v_serde.clone(), registration.clone());
        let send = left
            .stream
            .named(send_name)
            .add_node::<KO, Subscription<K>, _, _>(
                "",
                move || SubscriptionSend {
                    fk_extractor: fk_extractor.clone(),
                    fk_serde: fk_s.clone(),
                    hasher: ValueHasher::new(v_s.clone(), &topic),
                    left_join,
                    old_fk: Vec::new(),
                    new_fk: Vec::new(),
                    _k: std::marker::PhantomData,
                },
                &[],
            );
        let [reg_sink, reg_source, resp_sink, resp_source] = hop_names;
        let registrations = builder.borrow_mut().through_internal_topic(
            vec![send],
            InternalHop {
                topic: &registration,
                partitions: None,
                sink_name: reg_sink,
                source_name: reg_source,
            },
            fk_serde.clone(),
            sub_serde,
            None,
        );
        let registrations: KStream<KO, Subscription<K>> =
            self.stream.derive(registrations, None, None, false);

        // Right side: subscriptions kept, responses out.
        let keys = {
            let (fk_serde, pk_serde, store) = (
                fk_serde.clone(),
                pk_serde.clone(),
                subscription_store.clone(),
            );
            move || CombinedKeys {
                fk_serde: fk_serde.clone(),
                pk_serde: pk_serde.clone(),
                store: store.clone(),
                buf: Vec::new(),
            }
        };
        let (k1, rs) = (keys.clone(), right_store.clone());
        let receive = registrations
            .named(receive_name)
            .add_node::<K, Response<VO>, _, _>(
                "",
                move || SubscriptionReceive {
                    keys: k1(),
                    right_store_name: rs.clone(),
                    subscriptions: None,
                    right: None,
                },
                &[subscription_store.as_str(), right_store.as_str()],
            );
        let right_update = right
            .stream
            .named(right_update_name)
            .add_node::<K, Response<VO>, _, _>(
                "",
                move || RightUpdate {
                    keys: keys(),
                    subscriptions: None,
                    _vo: std::marker::PhantomData,
                },
                &[subscription_store.as_str()],
            );
        let responses = builder.borrow_mut().through_internal_topic(
            vec![receive, right_update],
            InternalHop {
                topic: &response,
                partitions: None,
                sink_name: resp_sink,
                source_name: resp_source,
            },
            pk_serde.clone(),
            response_serde,
            None,
        );
        let responses: KStream<K, Response<VO>> = self.stream.derive(responses, None, None, false);

        // Left side: responses in, results out.
        let (ls, topic) = (left_store.clone(), registration);
        let resolver = responses
            .named(resolver_name)
            .add_node::<K, Change<VR>, _, _>(
                "",
                move || ResponseJoin {
                    left_store_name: ls.clone(),
                    left: None,
                    hasher: ValueHasher::new(v_serde.clone(), &topic),
                    joiner: joiner.clone(),
                },
                &[left_store.as_str()],
            );
        let results: KStream<K, Change<VR>> =
            self.stream
                .derive(resolver, Some(pk_serde.clone()), None, false);
        let mut m = materialized;
        if m.key_serde.is_none() {
            m.key_serde = Some(pk_serde);
        }
        let (store_name, node_name) = {
            let mut b = builder.borrow_mut();
            // Kafka numbers the result node before its store.
            let node = b.new_name("KTABLE-FK-JOIN-OUTPUT-");
            let store = match &m.name {
                Some(n) => n.clone(),
                None => b.new_name("KTABLE-FK-JOIN-OUTPUT-STATE-STORE-"),
            };
            (store, node)
        };
        let sn = store_name.clone();
        materialize(&results, m, store_name, node_name, move || {
            TableMaterialize {
                store_name: sn.clone(),
                store: None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::{I64Serde, StringSerde};

    #[test]
    fn murmur3_matches_reference_vectors() {
        // MurmurHash3_x64_128 reference outputs (seed 0).
        assert_eq!(murmur3_128(b"", 0), [0, 0]);
        assert_eq!(
            murmur3_128(b"hello", 0),
            [0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19]
        );
    }

    #[test]
    fn internal_values_round_trip() {
        let s = SubscriptionSerde(Arc::new(StringSerde) as Arc<dyn Serde<String>>);
        for (instruction, hash) in [
            (Instruction::DeleteKeyNoPropagate, Some([1, u64::MAX])),
            (Instruction::DeleteKeyAndPropagate, None),
            (Instruction::PropagateNullIfNoFkValAvailable, Some([7, 8])),
            (Instruction::PropagateOnlyIfFkValAvailable, Some([0, 0])),
        ] {
            let v = Subscription {
                instruction,
                hash,
                primary_key: "ride-1".to_string(),
            };
            let mut out = Vec::new();
            s.serialize(&v, &mut out).unwrap();
            assert_eq!(out.len(), 1 + hash.map_or(0, |_| 16) + 6);
            assert_eq!(s.deserialize(&out).unwrap(), v);
        }
        let r = ResponseSerde(Arc::new(I64Serde) as Arc<dyn Serde<i64>>);
        for v in [
            Response {
                hash: Some([3, 4]),
                value: Some(42),
            },
            Response {
                hash: None,
                value: None,
            },
            Response {
                hash: Some([5, 6]),
                value: None,
            },
        ] {
            let mut out = Vec::new();
            r.serialize(&v, &mut out).unwrap();
            assert_eq!(r.deserialize(&out).unwrap(), v);
        }
        assert!(r.deserialize(&[]).is_err());
        assert!(r.deserialize(&[0b1000]).is_err());
        assert!(r.deserialize(&[1, 0, 0]).is_err());
    }
}
