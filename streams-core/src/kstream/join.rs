//! Stream-stream joins ([`KStream::join`], [`KStream::left_join`], [`KStream::outer_join`])
//! and stream-table joins ([`KStream::join_table`], [`KStream::left_join_table`]), with Kafka
//! Streams 3.7 semantics.
//!
//! A stream-stream join is five nodes, named as Kafka names them:
//!
//! ```text
//! this  ──> KSTREAM-WINDOWED-n   (puts into this side's store) ──> KSTREAM-JOINTHIS-n+2  (looks up the other store) ─┐
//! other ──> KSTREAM-WINDOWED-n+1 (puts into the other store)   ──> KSTREAM-JOINOTHER-n+3 (looks up this store)      ─┴─> KSTREAM-MERGE-n+4
//! ```
//!
//! Every record, late or not, is joined with the partners the other side's store still holds
//! (Kafka's semantics); grace and retention only decide what each store keeps and when
//! unjoined records are emitted. Left and outer joins keep the records that found no partner
//! in a shared store (`KSTREAM-OUTERSHARED-n+2-store`) and emit them, joined with `None`, after
//! stream time passed their window's end plus grace, at the point Kafka's time tracker does; a
//! partner arriving in time removes them first (Kafka's fix of spurious left/outer results,
//! KIP-633). Both processors of a join share one stream time per
//! task: the largest timestamp seen on either side.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use super::versioned::{grace_buffer_store, GraceBuffer, GraceState, TableLookup};
use crate::error::{Result, StreamsError};
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::internals::PassThrough;
use crate::kstream::join_store::{
    JoinWindowStore, JoinWindowStoreBuilder, OuterKey, OuterKeySerde, OuterValues, OuterValuesSerde,
};
use crate::kstream::join_windows::{JoinWindows, Joined, StreamJoined};
use crate::kstream::ktable::{not_initialized, Change, KTable};
use crate::kstream::options::Repartitioned;
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::serdes::Serde;
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder};
use crate::task_id::TaskId;

// ---------------------------------------------------------------------------------------------
// Joiners
// ---------------------------------------------------------------------------------------------

type InnerFn<K, VL, VR, VO> = Arc<dyn Fn(&K, &VL, &VR) -> VO + Send + Sync>;
type LeftFn<K, VL, VR, VO> = Arc<dyn Fn(&K, &VL, Option<&VR>) -> VO + Send + Sync>;
type OuterFn<K, VL, VR, VO> = Arc<dyn Fn(&K, Option<&VL>, Option<&VR>) -> VO + Send + Sync>;

/// The user's joiner, by join kind; which records may be joined with `None` follows from it.
enum Joiner<K, VL, VR, VO> {
    Inner(InnerFn<K, VL, VR, VO>),
    Left(LeftFn<K, VL, VR, VO>),
    Outer(OuterFn<K, VL, VR, VO>),
}

impl<K, VL, VR, VO> Clone for Joiner<K, VL, VR, VO> {
    fn clone(&self) -> Self {
        match self {
            Joiner::Inner(f) => Joiner::Inner(f.clone()),
            Joiner::Left(f) => Joiner::Left(f.clone()),
            Joiner::Outer(f) => Joiner::Outer(f.clone()),
        }
    }
}

impl<K, VL, VR, VO> Joiner<K, VL, VR, VO> {
    /// Left records without a partner are emitted (left and outer joins).
    fn left_outer(&self) -> bool {
        !matches!(self, Joiner::Inner(_))
    }
    /// Right records without a partner are emitted (outer joins).
    fn right_outer(&self) -> bool {
        matches!(self, Joiner::Outer(_))
    }
    fn both(&self, k: &K, l: &VL, r: &VR) -> VO {
        match self {
            Joiner::Inner(f) => f(k, l, r),
            Joiner::Left(f) => f(k, l, Some(r)),
            Joiner::Outer(f) => f(k, Some(l), Some(r)),
        }
    }
    fn left_alone(&self, k: &K, l: &VL) -> Option<VO> {
        match self {
            Joiner::Inner(_) => None,
            Joiner::Left(f) => Some(f(k, l, None)),
            Joiner::Outer(f) => Some(f(k, Some(l), None)),
        }
    }
    fn right_alone(&self, k: &K, r: &VR) -> Option<VO> {
        match self {
            Joiner::Outer(f) => Some(f(k, None, Some(r))),
            _ => None,
        }
    }
}

/// Which side of the join a processor serves: its input is `This`, it looks up `Other`.
trait Side<VL: Data, VR: Data>: 'static {
    type This: Data;
    type Other: Data;
    const LEFT: bool;
    fn both<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &Self::This, other: &Self::Other) -> VO;
    fn alone<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &Self::This) -> Option<VO>;
    fn is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool;
    fn other_is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool;
    /// Adds `v` to the unjoined records of one key and timestamp (`None`: start a list).
    fn push(values: Option<OuterValues<VL, VR>>, v: Self::This) -> OuterValues<VL, VR>;
}

struct LeftSide;
struct RightSide;

impl<VL: Data, VR: Data> Side<VL, VR> for LeftSide {
    type This = VL;
    type Other = VR;
    const LEFT: bool = true;
    fn both<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &VL, other: &VR) -> VO {
        j.both(k, this, other)
    }
    fn alone<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &VL) -> Option<VO> {
        j.left_alone(k, this)
    }
    fn is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool {
        j.left_outer()
    }
    fn other_is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool {
        j.right_outer()
    }
    fn push(values: Option<OuterValues<VL, VR>>, v: VL) -> OuterValues<VL, VR> {
        match values {
            Some(OuterValues::Left(mut vs)) => {
                vs.push(v);
                OuterValues::Left(vs)
            }
            _ => OuterValues::Left(vec![v]),
        }
    }
}

impl<VL: Data, VR: Data> Side<VL, VR> for RightSide {
    type This = VR;
    type Other = VL;
    const LEFT: bool = false;
    fn both<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &VR, other: &VL) -> VO {
        j.both(k, other, this)
    }
    fn alone<K, VO>(j: &Joiner<K, VL, VR, VO>, k: &K, this: &VR) -> Option<VO> {
        j.right_alone(k, this)
    }
    fn is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool {
        j.right_outer()
    }
    fn other_is_outer<K, VO>(j: &Joiner<K, VL, VR, VO>) -> bool {
        j.left_outer()
    }
    fn push(values: Option<OuterValues<VL, VR>>, v: VR) -> OuterValues<VL, VR> {
        match values {
            Some(OuterValues::Right(mut vs)) => {
                vs.push(v);
                OuterValues::Right(vs)
            }
            _ => OuterValues::Right(vec![v]),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared time of the two sides
// ---------------------------------------------------------------------------------------------

/// Per task, what both sides of one join share (Kafka's `TimeTracker`): the join's stream time
/// and, for the shared store of unjoined records, bounds of the timestamps each side holds
/// there. A task is single-threaded; the atomics only make the tracker `Sync` so the
/// processor suppliers can share the registry.
struct TimeTracker {
    stream_time: AtomicI64,
    /// Kafka's `minTime`: lowered to the timestamp of every record put among the unjoined
    /// ones; after a check of them, the timestamp of the last record that check visited
    /// (`i64::MAX`: none). It decides when the next check runs, exactly as in Kafka.
    min_time: AtomicI64,
    /// No unjoined left (right) record is older than this; `i64::MAX`: none.
    min: [AtomicI64; 2],
    /// No unjoined left (right) record is newer than this.
    max: [AtomicI64; 2],
    /// `min`/`max` hold the store's contents (read once after the task started).
    loaded: AtomicBool,
}

impl TimeTracker {
    fn new() -> Self {
        TimeTracker {
            stream_time: AtomicI64::new(i64::MIN),
            min_time: AtomicI64::new(i64::MAX),
            min: [AtomicI64::new(i64::MAX), AtomicI64::new(i64::MAX)],
            max: [AtomicI64::new(i64::MIN), AtomicI64::new(i64::MIN)],
            loaded: AtomicBool::new(false),
        }
    }
    fn advance(&self, timestamp: i64) -> i64 {
        let st = self.stream_time().max(timestamp);
        self.stream_time.store(st, Ordering::Relaxed);
        st
    }
    fn stream_time(&self) -> i64 {
        self.stream_time.load(Ordering::Relaxed)
    }
    fn side(left: bool) -> usize {
        usize::from(!left)
    }
    fn note_put(&self, left: bool, timestamp: i64) {
        self.min_time.fetch_min(timestamp, Ordering::Relaxed);
        self.note_bounds(left, timestamp);
    }
    /// Widens the bounds of what the store of unjoined records holds (not Kafka's `minTime`).
    fn note_bounds(&self, left: bool, timestamp: i64) {
        let s = Self::side(left);
        self.min[s].fetch_min(timestamp, Ordering::Relaxed);
        self.max[s].fetch_max(timestamp, Ordering::Relaxed);
    }
    fn min(&self, left: bool) -> i64 {
        self.min[Self::side(left)].load(Ordering::Relaxed)
    }
    fn max(&self, left: bool) -> i64 {
        self.max[Self::side(left)].load(Ordering::Relaxed)
    }
    fn set_min(&self, left: bool, timestamp: i64) {
        self.min[Self::side(left)].store(timestamp, Ordering::Relaxed);
    }
}

/// The trackers of one join, by task instance; both sides' processors of a task get the same
/// one. Keyed by the task's incarnation too: a task created again after a dirty close (whose
/// processors were never closed) or by a replaced thread starts with a fresh tracker, not with
/// the stream time its predecessor reached, which would treat the replayed records as late
/// (emitting left/outer results for them before their partners are replayed).
#[derive(Clone, Default)]
struct Trackers(Arc<Mutex<HashMap<TaskId, Incarnation>>>);

/// A task instance's incarnation and its tracker.
type Incarnation = (u64, Arc<TimeTracker>);

impl Trackers {
    fn get(&self, task: TaskId, incarnation: u64) -> Result<Arc<TimeTracker>> {
        let mut map = self.0.lock().map_err(|_| {
            StreamsError::Internal(format!(
                "the join time trackers of task {task} are poisoned"
            ))
        })?;
        match map.get(&task) {
            Some((i, t)) if *i == incarnation => Ok(t.clone()),
            // None, or an earlier instance's, left behind without a close.
            _ => {
                let t = Arc::new(TimeTracker::new());
                map.insert(task, (incarnation, t.clone()));
                Ok(t)
            }
        }
    }
    fn release(&self, task: TaskId, tracker: &Option<Arc<TimeTracker>>) {
        if let (Ok(mut map), Some(t)) = (self.0.lock(), tracker) {
            if map.get(&task).is_some_and(|(_, m)| Arc::ptr_eq(m, t)) {
                map.remove(&task);
            }
        }
    }
}

fn tracker_of(t: &Option<Arc<TimeTracker>>, node: &str) -> Result<Arc<TimeTracker>> {
    t.clone()
        .ok_or_else(|| StreamsError::Internal(format!("join node `{node}` used before init")))
}

/// Counts a dropped record and logs why at debug level.
pub(crate) fn drop_record<KO, VO>(
    ctx: &mut ProcessorContext<'_, KO, VO>,
    why: &str,
    timestamp: i64,
) {
    ctx.record_dropped();
    if tracing::enabled!(tracing::Level::DEBUG) {
        let (topic, partition, offset) = match ctx.record_metadata() {
            Some(m) => (m.topic.to_string(), m.partition, m.offset),
            None => (String::new(), -1, -1),
        };
        tracing::debug!(
            node = ctx.node_name(),
            timestamp,
            stream_time = ctx.stream_time(),
            topic = %topic,
            partition,
            offset,
            "Skipping record: {why}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stream-stream join processors
// ---------------------------------------------------------------------------------------------

/// `KSTREAM-WINDOWED-`: advances the join's stream time, passes the record on to the join
/// node, then keeps it in its side's store. As in Kafka, lateness never stops a record from
/// being joined: the join node looks it up in the other side's store whatever its timestamp.
/// A record older than what its own store still retains (its timestamp at or before the
/// store's newest timestamp minus `before + after + grace`) is not kept, so later records of
/// the other side cannot find it; it is counted in `dropped_records` (Kafka's window store
/// counts it as an expired record).
struct JoinWindowed<K, V> {
    store_name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    trackers: Trackers,
    tracker: Option<Arc<TimeTracker>>,
    store: Option<JoinWindowStore<K, V>>,
}

impl<K: Data, V: Data> Processor<K, V> for JoinWindowed<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        self.store = Some(ctx.get_state_store(&self.store_name)?);
        self.tracker = Some(self.trackers.get(ctx.task_id(), ctx.task_incarnation())?);
        Ok(())
    }
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        let tracker = tracker_of(&self.tracker, ctx.node_name())?;
        tracker.advance(r.timestamp);
        if self.key_serde.is_null(&r.key) || self.value_serde.is_null(&r.value) {
            // Never buffered; the join node drops it or joins it with nothing.
            return ctx.forward(r);
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        // Kafka forwards first and writes after; the join node only reads the other side's
        // store, so writing first gives the same results (a stream joined with itself too).
        if r.timestamp < store.live_from() {
            drop_record(
                ctx,
                "record older than the join window store retains (before + after + grace \
                 behind its newest record): joined, but not kept for later records",
                r.timestamp,
            );
        } else {
            store.put(&r.key, r.value.clone(), r.timestamp)?;
        }
        ctx.forward(r)
    }
    fn close(&mut self, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        self.trackers.release(ctx.task_id(), &self.tracker);
        Ok(())
    }
}

type OuterStore<K, VL, VR> = KeyValueStore<OuterKey<K>, OuterValues<VL, VR>>;

/// `KSTREAM-JOINTHIS-` / `KSTREAM-JOINOTHER-` (`OUTERTHIS` / `OUTEROTHER` for outer sides):
/// joins a record with the other side's buffered records of its window.
struct StreamJoin<K, VL: Data, VR: Data, VO, S: Side<VL, VR>> {
    other_store_name: String,
    outer_store_name: Option<String>,
    joiner: Joiner<K, VL, VR, VO>,
    windows: JoinWindows,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<S::This>>,
    trackers: Trackers,
    tracker: Option<Arc<TimeTracker>>,
    other_store: Option<JoinWindowStore<K, S::Other>>,
    outer_store: Option<OuterStore<K, VL, VR>>,
    _side: PhantomData<S>,
}

impl<K: Data, VL: Data, VR: Data, VO: Data, S: Side<VL, VR>> StreamJoin<K, VL, VR, VO, S> {
    /// How long after its own timestamp a record of the left (right) side can still be joined.
    fn lookback(&self, left: bool) -> i64 {
        if left {
            self.windows.after_ms()
        } else {
            self.windows.before_ms()
        }
    }

    fn is_due(&self, left: bool, timestamp: i64, stream_time: i64) -> bool {
        timestamp
            .saturating_add(self.lookback(left))
            .saturating_add(self.windows.grace_ms())
            < stream_time
    }

    /// Reads the bounds of what the store of unjoined records holds (once per task start:
    /// the store may have been restored).
    fn load_bounds(&self, store: &OuterStore<K, VL, VR>, tracker: &TimeTracker) -> Result<()> {
        if tracker.loaded.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        for (k, _, _) in store.all_with_timestamps()? {
            tracker.note_bounds(k.left, k.timestamp);
        }
        Ok(())
    }

    /// Emits (joined with `None`) and deletes the unjoined records whose window has closed,
    /// oldest first, with the triggering record's headers. Kafka's rules for when it looks:
    /// not while its `minTime` plus the processing side's `after` plus grace is at or past
    /// stream time (Java's wrapping arithmetic included: with no `minTime` it looks); then it
    /// walks the records in (timestamp, side, key) order, emitting the closed ones, until it
    /// has seen an open record of each side, and one record more; `minTime` becomes the
    /// timestamp of the last record it visited.
    fn emit_closed(
        &self,
        store: &OuterStore<K, VL, VR>,
        tracker: &TimeTracker,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, K, VO>,
    ) -> Result<()> {
        let st = tracker.stream_time();
        let join_after = self.lookback(S::LEFT);
        if tracker
            .min_time
            .load(Ordering::Relaxed)
            .wrapping_add(join_after)
            .wrapping_add(self.windows.grace_ms())
            >= st
        {
            return Ok(());
        }
        // Records after `last` are open on both sides.
        let last = st
            .saturating_sub(self.windows.grace_ms())
            .saturating_sub(self.windows.before_ms().min(self.windows.after_ms()))
            .saturating_sub(1);
        let bound = |timestamp| OuterKey {
            timestamp,
            left: false,
            key: None,
        };
        // Nothing is older than the older side's bound: start there, not at 0, so the walk
        // does not pass over the tombstones of records emitted or joined before. Nothing is
        // newer than the newer side's bound.
        let mut from = tracker.min(true).min(tracker.min(false)).max(0);
        let newest = tracker.max(true).max(tracker.max(false));
        // The first stretch ends at `last` (it may be empty).
        let mut to = last.min(newest).saturating_add(1).max(from);
        let mut span = self
            .windows
            .size_ms()
            .saturating_add(self.windows.grace_ms())
            .max(1);
        let mut min_time = i64::MAX;
        let mut open = [false, false];
        let mut first_open = [None, None];
        let mut broke = false;
        loop {
            if from < to {
                for (key, values, _) in
                    store.range_where(&bound(from), &bound(to), i64::MIN, &|_| true)?
                {
                    min_time = key.timestamp;
                    if open[0] && open[1] {
                        broke = true;
                        break;
                    }
                    let side = TimeTracker::side(key.left);
                    if !self.is_due(key.left, key.timestamp, st) {
                        open[side] = true;
                        first_open[side].get_or_insert(key.timestamp);
                        continue;
                    }
                    let Some(k) = &key.key else { continue };
                    match &values {
                        OuterValues::Left(vs) => {
                            for v in vs {
                                if let Some(out) = self.joiner.left_alone(k, v) {
                                    let mut rec = Record::new(k.clone(), out, key.timestamp);
                                    rec.headers = headers.clone();
                                    ctx.forward(rec)?;
                                }
                            }
                        }
                        OuterValues::Right(vs) => {
                            for v in vs {
                                if let Some(out) = self.joiner.right_alone(k, v) {
                                    let mut rec = Record::new(k.clone(), out, key.timestamp);
                                    rec.headers = headers.clone();
                                    ctx.forward(rec)?;
                                }
                            }
                        }
                    }
                    store.delete(&key)?;
                }
            }
            if broke || to > newest || to == i64::MAX {
                break;
            }
            // Past `last` every record is open: walk on in growing steps until the walk
            // would stop.
            from = to;
            to = from.saturating_add(span).min(newest.saturating_add(1));
            span = span.saturating_mul(2);
        }
        tracker.min_time.store(min_time, Ordering::Relaxed);
        // No unjoined record of a side is older than its first open one; without one, none
        // remains older than where the walk stopped (or none remains).
        for left in [true, false] {
            let side = TimeTracker::side(left);
            let min = match first_open[side] {
                Some(t) => t,
                None if broke => min_time,
                None => i64::MAX,
            };
            tracker.set_min(left, min);
        }
        Ok(())
    }
}

impl<K: Data, VL: Data, VR: Data, VO: Data, S: Side<VL, VR>> Processor<K, S::This, K, VO>
    for StreamJoin<K, VL, VR, VO, S>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VO>) -> Result<()> {
        self.other_store = Some(ctx.get_state_store(&self.other_store_name)?);
        if let Some(name) = &self.outer_store_name {
            self.outer_store = Some(ctx.get_state_store(name)?);
        }
        self.tracker = Some(self.trackers.get(ctx.task_id(), ctx.task_incarnation())?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, S::This>,
        ctx: &mut ProcessorContext<'_, K, VO>,
    ) -> Result<()> {
        let tracker = tracker_of(&self.tracker, ctx.node_name())?;
        let key_null = self.key_serde.is_null(&r.key);
        let value_null = self.value_serde.is_null(&r.value);
        if key_null || value_null {
            // Kafka 3.7 (KIP-962): an outer side joins a null-key record with nothing at once.
            if key_null && !value_null && S::is_outer(&self.joiner) {
                if let Some(out) = S::alone(&self.joiner, &r.key, &r.value) {
                    return ctx.forward(r.with_value(out));
                }
            }
            drop_record(
                ctx,
                "null key or value in a stream-stream join",
                r.timestamp,
            );
            return Ok(());
        }
        let t = r.timestamp;
        let stream_time = tracker.stream_time();
        if let Some(outer) = &self.outer_store {
            self.load_bounds(outer, &tracker)?;
            if t == stream_time {
                self.emit_closed(outer, &tracker, &r.headers, ctx)?;
            }
        }
        // This side's window: [t - before, t + after] for the left, mirrored for the right.
        let (before, after) = if S::LEFT {
            (self.windows.before_ms(), self.windows.after_ms())
        } else {
            (self.windows.after_ms(), self.windows.before_ms())
        };
        let from = t.saturating_sub(before).max(0);
        let to = t.saturating_add(after).max(0);
        let other_store = self
            .other_store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.other_store_name))?;
        let matches = other_store.fetch(&r.key, from, to)?;
        if matches.is_empty() {
            if !S::is_outer(&self.joiner) {
                return Ok(());
            }
            match &self.outer_store {
                // The window already ended (an out-of-order record within grace): no partner
                // can come any more that would not be late, so emit now.
                Some(outer) if to >= stream_time => {
                    let key = OuterKey {
                        timestamp: t,
                        left: S::LEFT,
                        key: Some(r.key),
                    };
                    // Records of this key and time wait there already only if `t` is within
                    // the bounds of this side's unjoined records.
                    let waiting = if (tracker.min(S::LEFT)..=tracker.max(S::LEFT)).contains(&t) {
                        outer.get(&key)?
                    } else {
                        None
                    };
                    let values = S::push(waiting, r.value);
                    outer.put_with_timestamp(&key, values, t)?;
                    tracker.note_put(S::LEFT, t);
                    Ok(())
                }
                _ => match S::alone(&self.joiner, &r.key, &r.value) {
                    Some(out) => ctx.forward(r.with_value(out)),
                    None => Ok(()),
                },
            }
        } else {
            let n = matches.len();
            let mut headers = Some(r.headers);
            for (i, (other, other_ts)) in matches.into_iter().enumerate() {
                if S::other_is_outer(&self.joiner) {
                    // Only a record within the bounds of the other side's unjoined records can be
                    // one of them: no store read for the others.
                    let (lo, hi) = (tracker.min(!S::LEFT), tracker.max(!S::LEFT));
                    if let Some(outer) = self
                        .outer_store
                        .as_ref()
                        .filter(|_| (lo..=hi).contains(&other_ts))
                    {
                        let key = OuterKey {
                            timestamp: other_ts,
                            left: !S::LEFT,
                            key: Some(r.key.clone()),
                        };
                        if outer.get(&key)?.is_some() {
                            outer.delete(&key)?;
                        }
                    }
                }
                let out = S::both(&self.joiner, &r.key, &r.value, &other);
                let headers = if i + 1 == n {
                    headers.take().unwrap_or_default()
                } else {
                    headers.clone().unwrap_or_default()
                };
                ctx.forward(Record {
                    key: r.key.clone(),
                    value: out,
                    timestamp: t.max(other_ts),
                    headers,
                })?;
            }
            Ok(())
        }
    }

    fn close(&mut self, ctx: &mut ProcessorContext<'_, K, VO>) -> Result<()> {
        self.trackers.release(ctx.task_id(), &self.tracker);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Stream-table join processors
// ---------------------------------------------------------------------------------------------

enum TableJoiner<K, V, VT, VO> {
    Inner(InnerFn<K, V, VT, VO>),
    Left(LeftFn<K, V, VT, VO>),
}

impl<K, V, VT, VO> Clone for TableJoiner<K, V, VT, VO> {
    fn clone(&self) -> Self {
        match self {
            TableJoiner::Inner(f) => TableJoiner::Inner(f.clone()),
            TableJoiner::Left(f) => TableJoiner::Left(f.clone()),
        }
    }
}

/// `KSTREAM-JOIN-` / `KSTREAM-LEFTJOIN-`: looks each stream record up in the table's store
/// (a versioned table: as of the record's timestamp), after the grace period if one is set.
struct StreamTableJoin<K, V, VT, VO> {
    store_name: String,
    joiner: TableJoiner<K, V, VT, VO>,
    key_serde: Option<Arc<dyn Serde<K>>>,
    value_serde: Option<Arc<dyn Serde<V>>>,
    store: Option<TableLookup<K, VT>>,
    grace: Option<GraceBuffer<K, V>>,
    buffer: Option<GraceState<K, V>>,
}

impl<K: Data, V: Data, VT: Data, VO: Data> StreamTableJoin<K, V, VT, VO> {
    fn join_one(
        &self,
        r: Record<K, V>,
        key_null: bool,
        ctx: &mut ProcessorContext<'_, K, VO>,
    ) -> Result<()> {
        let row = if key_null {
            // Kafka 3.7 (KIP-962): a left join joins a null-key record with no row.
            None
        } else {
            self.store
                .as_ref()
                .ok_or_else(|| not_initialized(&self.store_name))?
                .get(&r.key, r.timestamp)?
        };
        let out = match (&self.joiner, &row) {
            (TableJoiner::Inner(f), Some(row)) => f(&r.key, &r.value, row),
            (TableJoiner::Inner(_), None) => return Ok(()),
            (TableJoiner::Left(f), row) => f(&r.key, &r.value, row.as_ref()),
        };
        ctx.forward(r.with_value(out))
    }
}

impl<K: Data, V: Data, VT: Data, VO: Data> Processor<K, V, K, VO>
    for StreamTableJoin<K, V, VT, VO>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VO>) -> Result<()> {
        let table = TableLookup::open(ctx, &self.store_name)?;
        if let Some(grace) = &self.grace {
            self.buffer = Some(GraceState::open(grace, &table, ctx)?);
        }
        self.store = Some(table);
        Ok(())
    }

    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, VO>) -> Result<()> {
        let key_null = self.key_serde.as_ref().is_some_and(|s| s.is_null(&r.key));
        let value_null = self
            .value_serde
            .as_ref()
            .is_some_and(|s| s.is_null(&r.value));
        if value_null || (key_null && matches!(self.joiner, TableJoiner::Inner(_))) {
            drop_record(ctx, "null key or value in a stream-table join", r.timestamp);
            return Ok(());
        }
        if key_null {
            return self.join_one(r, true, ctx);
        }
        let Some(buffer) = self.buffer.as_mut() else {
            return self.join_one(r, false, ctx);
        };
        let (now, due) = buffer.put_and_evict(r)?;
        for r in now.into_iter().chain(due) {
            self.join_one(r, false, ctx)?;
        }
        Ok(())
    }
}

/// Keeps a table's rows in a store so a stream can look them up (tables that are not
/// materialized, such as the result of `KTable::filter`).
struct MaterializeForJoin<K, V> {
    store_name: String,
    store: Option<KeyValueStore<K, V>>,
}

impl<K: Data, V: Data> Processor<K, Change<V>> for MaterializeForJoin<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        self.store = Some(ctx.get_state_store(&self.store_name)?);
        Ok(())
    }
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        _ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        match r.value.new {
            Some(v) => store.put_with_timestamp(&r.key, v, r.timestamp),
            None => store.delete(&r.key).map(|_| ()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The DSL
// ---------------------------------------------------------------------------------------------

/// Joins of a stream with another stream or with a table.
impl<K: Data, V: Data> KStream<K, V> {
    /// Inner join with another stream: for each pair of records with the same key whose
    /// timestamps are within `windows` (see [`JoinWindows`]), emits `joiner(this, other)` with
    /// the later of the two timestamps. Records are buffered in two window stores (named and
    /// logged as Kafka names them, `<application.id>-KSTREAM-JOINTHIS-<n>-store-changelog` and
    /// `...JOINOTHER...`). Both streams must be co-partitioned; a stream whose key was changed
    /// (`select_key`, `map`, ...) is repartitioned first through
    /// `<application.id>-<node>-repartition`. Records with a null key or value are dropped
    /// and counted in `dropped_records`. As in Kafka, a late record (its window plus grace
    /// behind stream time) is still joined with the partners the other side still holds; it
    /// is only not kept for later records once it is older than its store's retention
    /// (`before + after + grace`), which is counted in `dropped_records` too.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let rides = builder.stream("rides", Consumed::with(StringSerde, StringSerde));
    /// let fares = builder.stream("fares", Consumed::with(StringSerde, F64Serde));
    /// rides
    ///     .join(&fares, |ride, fare| format!("{ride} paid {fare}"),
    ///           JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60))?)
    ///     .to("paid-rides", Produced::new());
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic("rides", StringSerde, StringSerde).pipe_input_at("75".into(), "r1".into(), 1_000)?;
    /// driver.input_topic("fares", StringSerde, F64Serde).pipe_input_at("75".into(), 9.5, 30_000)?;
    /// let out = driver.output_topic("paid-rides", StringSerde, StringSerde).read_record()?;
    /// assert_eq!((out.key.as_str(), out.value.as_str(), out.timestamp), ("75", "r1 paid 9.5", 30_000));
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        self.join_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`KStream::join`] with serdes, names and store options.
    pub fn join_with<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> KStream<K, VR> {
        let f = Arc::new(joiner);
        let j = Joiner::Inner(Arc::new(move |_: &K, l: &V, r: &VO| f(l, r)));
        self.stream_stream_join(other, j, windows, joined)
    }

    /// [`KStream::join_with`] with a joiner that also reads the key (Kafka's
    /// `ValueJoinerWithKey`).
    pub fn join_with_key<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(&K, &V, &VO) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> KStream<K, VR> {
        self.stream_stream_join(other, Joiner::Inner(Arc::new(joiner)), windows, joined)
    }

    /// Left join with another stream: as [`KStream::join`], and every record of this stream
    /// that found no partner is emitted once as `joiner(this, None)` with its own timestamp,
    /// when stream time passes its window end plus grace (not earlier, so a partner arriving
    /// in time prevents it). The unjoined records wait in the store
    /// `KSTREAM-OUTERSHARED-<n>-store`.
    pub fn left_join<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        self.left_join_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`KStream::left_join`] with serdes, names and store options.
    pub fn left_join_with<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> KStream<K, VR> {
        let f = Arc::new(joiner);
        let j = Joiner::Left(Arc::new(move |_: &K, l: &V, r: Option<&VO>| f(l, r)));
        self.stream_stream_join(other, j, windows, joined)
    }

    /// Outer join with another stream: as [`KStream::left_join`], for the records of both
    /// streams (`joiner(Some(this), None)`, `joiner(None, Some(other))`).
    pub fn outer_join<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        self.outer_join_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`KStream::outer_join`] with serdes, names and store options.
    pub fn outer_join_with<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> KStream<K, VR> {
        let f = Arc::new(joiner);
        let j = Joiner::Outer(Arc::new(move |_: &K, l: Option<&V>, r: Option<&VO>| {
            f(l, r)
        }));
        self.stream_stream_join(other, j, windows, joined)
    }

    /// Inner join with a table: each record of this stream is looked up in the table's
    /// store when it is processed, and `joiner(value, row)` is emitted if the key has a row.
    /// Only stream records trigger output; table updates only change what later records
    /// find. A table that is not materialized (a `filter` result, say) is materialized for
    /// the join. The stream and the table must be co-partitioned; a re-keyed stream is
    /// repartitioned first. Records with a null key or value are dropped. A versioned table
    /// ([`crate::Materialized::versioned`]) is read as of each stream record's timestamp; with
    /// [`Joined::with_grace_period`] records wait for late table updates first.
    pub fn join_table<VT: Data, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.join_table_with(table, joiner, Joined::new())
    }

    /// [`KStream::join_table`] with serdes for the repartition topic and a name.
    pub fn join_table_with<VT: Data, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
        joined: Joined<K, V>,
    ) -> KStream<K, VR> {
        let f = Arc::new(joiner);
        let j = TableJoiner::Inner(Arc::new(move |_: &K, v: &V, t: &VT| f(v, t)));
        self.stream_table_join(table, j, joined)
    }

    /// Left join with a table: as [`KStream::join_table`], and a record whose key has no row
    /// is emitted as `joiner(value, None)`. A record with a null key is joined with `None`
    /// too (Kafka 3.7); one with a null value is dropped.
    pub fn left_join_table<VT: Data, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.left_join_table_with(table, joiner, Joined::new())
    }

    /// [`KStream::left_join_table`] with serdes for the repartition topic and a name.
    pub fn left_join_table_with<VT: Data, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
        joined: Joined<K, V>,
    ) -> KStream<K, VR> {
        let f = Arc::new(joiner);
        let j = TableJoiner::Left(Arc::new(move |_: &K, v: &V, t: Option<&VT>| f(v, t)));
        self.stream_table_join(table, j, joined)
    }

    fn invalid<VR>(&self) -> KStream<K, VR> {
        self.derive(INVALID, None, None, false)
    }

    fn fail(&self, msg: String) {
        self.builder
            .borrow_mut()
            .fail(StreamsError::InvalidTopology(msg));
    }

    /// The name of the node this stream comes from.
    fn upstream_name(&self) -> Option<String> {
        let b = self.builder.borrow();
        b.topology.nodes.get(self.node).map(|n| n.name.clone())
    }

    /// This stream, through a repartition topic `<name>-repartition` if its key changed.
    fn repartitioned_for_join(
        &self,
        name: Option<String>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        if !self.repartition_required {
            return KStream {
                next_name: None,
                ..self.clone()
            };
        }
        let Some(name) = name.or_else(|| self.upstream_name()) else {
            return self.invalid();
        };
        KStream {
            next_name: None,
            ..self.clone()
        }
        .repartition(Repartitioned {
            name: Some(name),
            key_serde: Some(key_serde),
            value_serde: Some(value_serde),
            partitions: None,
            partitioner: None,
        })
    }

    fn stream_stream_join<VO: Data, VR: Data>(
        &self,
        other: &KStream<K, VO>,
        joiner: Joiner<K, V, VO, VR>,
        windows: JoinWindows,
        joined: StreamJoined<K, V, VO>,
    ) -> KStream<K, VR> {
        let (left_outer, right_outer) = (joiner.left_outer(), joiner.right_outer());
        let b = self.builder.borrow();
        let known_key = self.key_serde.clone().or_else(|| other.key_serde.clone());
        let ks = b.serde_for(joined.key_serde.clone(), &known_key);
        let vs = b.serde_for(joined.value_serde.clone(), &self.value_serde);
        let ovs = b.serde_for(joined.other_value_serde.clone(), &other.value_serde);
        drop(b);
        let (Some(ks), Some(vs), Some(ovs)) = (ks, vs, ovs) else {
            self.fail(format!(
                "stream-stream join does not know how to serialize its stores' keys and values \
                 ({}, {}, {}): pass serdes with StreamJoined::with(key_serde, value_serde, \
                 other_value_serde) or register defaults with StreamsBuilder::default_serde",
                std::any::type_name::<K>(),
                std::any::type_name::<V>(),
                std::any::type_name::<VO>()
            ));
            return self.invalid();
        };
        let name = joined.name.clone().or_else(|| self.next_name.clone());
        let this = self.repartitioned_for_join(
            name.as_ref().map(|n| format!("{n}-left")),
            ks.clone(),
            vs.clone(),
        );
        let other = other.repartitioned_for_join(
            name.as_ref().map(|n| format!("{n}-right")),
            ks.clone(),
            ovs.clone(),
        );
        if this.node == INVALID || other.node == INVALID {
            return self.invalid();
        }

        // Names, allocated in Kafka's order.
        let mut b = self.builder.borrow_mut();
        let named = |suffix: &str,
                     b: &mut crate::kstream::builder_inner::BuilderInner,
                     prefix: &str| match &name {
            Some(n) => format!("{n}{suffix}"),
            None => b.new_name(prefix),
        };
        let this_windowed = named("-this-windowed", &mut b, "KSTREAM-WINDOWED-");
        let other_windowed = named("-other-windowed", &mut b, "KSTREAM-WINDOWED-");
        let this_suffix = if right_outer {
            "-outer-this-join"
        } else {
            "-this-join"
        };
        let other_suffix = if left_outer {
            "-outer-other-join"
        } else {
            "-other-join"
        };
        let this_prefix = if right_outer {
            "KSTREAM-OUTERTHIS-"
        } else {
            "KSTREAM-JOINTHIS-"
        };
        let this_generated = b.new_name(this_prefix);
        let other_generated = b.new_name(if left_outer {
            "KSTREAM-OUTEROTHER-"
        } else {
            "KSTREAM-JOINOTHER-"
        });
        let join_this = name
            .as_ref()
            .map_or(this_generated.clone(), |n| format!("{n}{this_suffix}"));
        let join_other = name
            .as_ref()
            .map_or(other_generated.clone(), |n| format!("{n}{other_suffix}"));
        let merge = named("-merge", &mut b, "KSTREAM-MERGE-");
        let (this_store, other_store) = match &joined.store_name {
            Some(s) => (
                format!("{s}{this_suffix}-store"),
                format!("{s}{other_suffix}-store"),
            ),
            None => (
                format!("{this_generated}-store"),
                format!("{other_generated}-store"),
            ),
        };
        let outer_store = left_outer.then(|| match &joined.store_name {
            Some(s) if right_outer => format!("{s}-outer-shared-join-store"),
            Some(s) => format!("{s}-left-shared-join-store"),
            None => format!(
                "KSTREAM-OUTERSHARED-{}-store",
                &this_generated[this_prefix.len()..]
            ),
        });

        // Stores: each side keeps its records for before + after + grace behind its newest
        // record (Kafka's join store retention).
        let retention = windows.retention_ms();
        let (st, log) = (joined.store_type, joined.logging);
        let mut added = b
            .topology
            .add_state_store(
                JoinWindowStoreBuilder::new(
                    &this_store,
                    retention,
                    ks.clone(),
                    vs.clone(),
                    st,
                    log,
                ),
                &[],
            )
            .and_then(|t| {
                t.add_state_store(
                    JoinWindowStoreBuilder::new(
                        &other_store,
                        retention,
                        ks.clone(),
                        ovs.clone(),
                        st,
                        log,
                    ),
                    &[],
                )
            })
            .map(|_| ());
        if let (Some(outer), Ok(())) = (&outer_store, &added) {
            let keys: Arc<dyn Serde<OuterKey<K>>> = Arc::new(OuterKeySerde(ks.clone()));
            let values: Arc<dyn Serde<OuterValues<V, VO>>> = Arc::new(OuterValuesSerde {
                left: vs.clone(),
                right: ovs.clone(),
            });
            let builder = KeyValueStoreBuilder::new(outer, keys, values).store_type(st);
            let builder = if log {
                builder
            } else {
                builder.with_logging_disabled()
            };
            added = b.topology.add_state_store(builder, &[]).map(|_| ());
        }
        if let Err(e) = added {
            b.fail(e);
            drop(b);
            return self.invalid();
        }
        drop(b);

        let trackers = Trackers::default();
        let windowed =
            |stream: &KStream<K, V>, node: &str, store: &str, value_serde: Arc<dyn Serde<V>>| {
                let (store_name, key_serde, trackers) =
                    (store.to_string(), ks.clone(), trackers.clone());
                stream.named(node).add_node::<K, V, _, _>(
                    "",
                    move || JoinWindowed {
                        store_name: store_name.clone(),
                        key_serde: key_serde.clone(),
                        value_serde: value_serde.clone(),
                        trackers: trackers.clone(),
                        tracker: None,
                        store: None,
                    },
                    &[store],
                )
            };
        let this_w = windowed(&this, &this_windowed, &this_store, vs.clone());
        let other_w = {
            let (store_name, key_serde, trackers, value_serde) = (
                other_store.clone(),
                ks.clone(),
                trackers.clone(),
                ovs.clone(),
            );
            other.named(other_windowed.clone()).add_node::<K, VO, _, _>(
                "",
                move || JoinWindowed {
                    store_name: store_name.clone(),
                    key_serde: key_serde.clone(),
                    value_serde: value_serde.clone(),
                    trackers: trackers.clone(),
                    tracker: None,
                    store: None,
                },
                &[other_store.as_str()],
            )
        };
        if this_w == INVALID || other_w == INVALID {
            return self.invalid();
        }
        let this_w = this.derive::<K, V>(this_w, None, None, false);
        let other_w = other.derive::<K, VO>(other_w, None, None, false);

        let mut this_stores = vec![other_store.as_str()];
        let mut other_stores = vec![this_store.as_str()];
        if let Some(o) = &outer_store {
            this_stores.push(o);
            other_stores.push(o);
        }
        let jt = {
            let (j, os, outer, ks, vs, tr) = (
                joiner.clone(),
                other_store.clone(),
                outer_store.clone(),
                ks.clone(),
                vs.clone(),
                trackers.clone(),
            );
            this_w.named(join_this).add_node::<K, VR, _, _>(
                "",
                move || StreamJoin::<K, V, VO, VR, LeftSide> {
                    other_store_name: os.clone(),
                    outer_store_name: outer.clone(),
                    joiner: j.clone(),
                    windows,
                    key_serde: ks.clone(),
                    value_serde: vs.clone(),
                    trackers: tr.clone(),
                    tracker: None,
                    other_store: None,
                    outer_store: None,
                    _side: PhantomData,
                },
                &this_stores,
            )
        };
        let jo = {
            let (j, ts, outer, ks, ovs, tr) = (
                joiner,
                this_store.clone(),
                outer_store.clone(),
                ks.clone(),
                ovs.clone(),
                trackers,
            );
            other_w.named(join_other).add_node::<K, VR, _, _>(
                "",
                move || StreamJoin::<K, V, VO, VR, RightSide> {
                    other_store_name: ts.clone(),
                    outer_store_name: outer.clone(),
                    joiner: j.clone(),
                    windows,
                    key_serde: ks.clone(),
                    value_serde: ovs.clone(),
                    trackers: tr.clone(),
                    tracker: None,
                    other_store: None,
                    outer_store: None,
                    _side: PhantomData,
                },
                &other_stores,
            )
        };
        if jt == INVALID || jo == INVALID {
            return self.invalid();
        }
        let mut b = self.builder.borrow_mut();
        let node = b.try_add(|t| {
            t.add_processor_node::<K, VR, K, VR, PassThrough, _>(
                &merge,
                || PassThrough,
                vec![jt, jo],
            )
        });
        drop(b);
        self.derive(node, Some(ks), None, false)
    }

    fn stream_table_join<VT: Data, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: TableJoiner<K, V, VT, VR>,
        joined: Joined<K, V>,
    ) -> KStream<K, VR> {
        let Some(store) = materialized_store(table) else {
            return self.invalid();
        };
        let b = self.builder.borrow();
        let known_key = self.key_serde.clone().or_else(|| table.key_serde.clone());
        let ks = b.serde_for(joined.key_serde.clone(), &known_key);
        let vs = b.serde_for(joined.value_serde.clone(), &self.value_serde);
        drop(b);
        let name = joined.name.clone().or_else(|| self.next_name.clone());
        let input = if self.repartition_required {
            let (Some(k), Some(v)) = (ks.clone(), vs.clone()) else {
                self.fail(format!(
                    "stream-table join must repartition the re-keyed stream but does not know \
                     how to serialize ({}, {}): pass serdes with Joined::with(key_serde, \
                     value_serde) or register defaults with StreamsBuilder::default_serde",
                    std::any::type_name::<K>(),
                    std::any::type_name::<V>()
                ));
                return self.invalid();
            };
            self.repartitioned_for_join(name.clone(), k, v)
        } else {
            KStream {
                next_name: None,
                ..self.clone()
            }
        };
        if input.node == INVALID {
            return self.invalid();
        }
        let node_name = match &name {
            Some(n) => n.clone(),
            None => self.builder.borrow_mut().new_name(match joiner {
                TableJoiner::Inner(_) => "KSTREAM-JOIN-",
                TableJoiner::Left(_) => "KSTREAM-LEFTJOIN-",
            }),
        };
        let grace = match joined.grace_ms {
            None => None,
            Some(grace_ms) => {
                let (Some(k), Some(v)) = (ks.clone(), vs.clone()) else {
                    self.fail(format!(
                        "stream-table join `{node_name}` with a grace period buffers records but \
                         does not know how to serialize ({}, {}): pass serdes with \
                         Joined::with(key_serde, value_serde)",
                        std::any::type_name::<K>(),
                        std::any::type_name::<V>()
                    ));
                    return self.invalid();
                };
                let buffer = format!("{node_name}-Buffer");
                if let Err(e) = self
                    .builder
                    .borrow_mut()
                    .topology
                    .add_state_store(grace_buffer_store(&buffer), &[])
                {
                    self.builder.borrow_mut().fail(e);
                    return self.invalid();
                }
                Some(GraceBuffer {
                    store_name: buffer,
                    grace_ms,
                    key_serde: k,
                    value_serde: v,
                })
            }
        };
        let mut stores = vec![store.as_str()];
        if let Some(g) = &grace {
            stores.push(g.store_name.as_str());
        }
        let sn = store.clone();
        let (key_serde, value_serde) = (ks.clone(), vs);
        let grace_def = grace.clone();
        let node = input.named(node_name).add_node::<K, VR, _, _>(
            "",
            move || StreamTableJoin {
                store_name: sn.clone(),
                joiner: joiner.clone(),
                key_serde: key_serde.clone(),
                value_serde: value_serde.clone(),
                store: None,
                grace: grace_def.clone(),
                buffer: None,
            },
            &stores,
        );
        self.derive(node, ks, None, false)
    }
}

/// The store holding `table`'s rows; a table without one gets one here (Kafka materializes a
/// table a stream joins).
fn materialized_store<K: Data, V: Data>(table: &KTable<K, V>) -> Option<String> {
    if let Some(s) = &table.store_name {
        return Some(s.clone());
    }
    let stream = &table.stream;
    if stream.node == INVALID {
        return None;
    }
    let mut b = stream.builder.borrow_mut();
    let ks = b.serde_for(None, &table.key_serde);
    let vs = b.serde_for(None, &table.value_serde);
    let node_name = b.new_name("KTABLE-MATERIALIZE-");
    let (Some(ks), Some(vs)) = (ks, vs) else {
        b.fail(StreamsError::InvalidTopology(format!(
            "the table a stream joins must be materialized, and `{node_name}` does not know \
             how to serialize its rows ({}, {}): register defaults with \
             StreamsBuilder::default_serde or materialize the table with serdes",
            std::any::type_name::<K>(),
            std::any::type_name::<V>()
        )));
        return None;
    };
    let store_name = format!("{node_name}-store");
    if let Err(e) = b
        .topology
        .add_state_store(KeyValueStoreBuilder::new(&store_name, ks, vs), &[])
    {
        b.fail(e);
        return None;
    }
    drop(b);
    let sn = store_name.clone();
    let node = stream.named(node_name).add_node::<K, Change<V>, _, _>(
        "",
        move || MaterializeForJoin {
            store_name: sn.clone(),
            store: None,
        },
        &[store_name.as_str()],
    );
    (node != INVALID).then_some(store_name)
}
