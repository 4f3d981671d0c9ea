//! Parameters of the joins: [`JoinWindows`] (how far apart two records of a stream-stream join
//! may be), [`StreamJoined`] (serdes and stores of a stream-stream join) and [`Joined`] (serdes
//! and name of a stream-table join), as in Kafka Streams.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::serdes::Serde;
use crate::state::internals::bytes_store::StoreType;

fn to_millis(d: Duration, what: &str) -> Result<i64> {
    i64::try_from(d.as_millis()).map_err(|_| {
        StreamsError::InvalidWindow(format!(
            "join window {what} {d:?} cannot be represented as i64 milliseconds"
        ))
    })
}

/// How far apart in event time two records of a stream-stream join may be (Kafka's
/// `JoinWindows`).
///
/// A record of the left stream at `t` joins the right stream's records of the same key with
/// timestamps in `[t - before, t + after]`; a record of the right stream at `t` joins the left
/// records in `[t - after, t + before]` (the same pairs, seen from the other side). The
/// `of_*` constructors make `before == after`; [`JoinWindows::before`] and
/// [`JoinWindows::after`] make the window asymmetric.
///
/// A record's window closes when stream time (the largest timestamp the join has seen on
/// either side) passes its end plus the grace period: `t + after + grace` for a left record,
/// `t + before + grace` for a right one. As in Kafka, a record that arrives after its window
/// closed is still joined with every partner the other side's store still holds; lateness
/// only decides whether the record is kept in its own side's store (which retains
/// `before + after + grace` behind its newest record; an older record is not kept and is
/// counted in `dropped_records`). Left and outer joins emit a record that found no partner,
/// joined with `None`, once its window has closed (at once if it already had when the record
/// arrived).
///
/// ```
/// use std::time::Duration;
/// use streams_core::JoinWindows;
/// // The course's join: records up to 20 minutes apart, 5 minutes of grace.
/// let w = JoinWindows::of_time_difference_and_grace(
///     Duration::from_secs(20 * 60),
///     Duration::from_secs(5 * 60),
/// )?;
/// assert_eq!((w.before_ms(), w.after_ms(), w.grace_ms()), (1_200_000, 1_200_000, 300_000));
/// // Only right records up to 10 s after the left one.
/// let w = w.before(Duration::ZERO)?.after(Duration::from_secs(10))?;
/// assert_eq!((w.before_ms(), w.after_ms()), (0, 10_000));
/// # Ok::<(), streams_core::StreamsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JoinWindows {
    before_ms: i64,
    after_ms: i64,
    grace_ms: i64,
}

impl JoinWindows {
    /// Records at most `time_difference` apart join; records arriving up to `grace` after
    /// their window closed are still joined (Kafka's `ofTimeDifferenceAndGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if a duration does not fit `i64`
    /// milliseconds or the window plus grace overflows.
    pub fn of_time_difference_and_grace(
        time_difference: Duration,
        grace: Duration,
    ) -> Result<Self> {
        let d = to_millis(time_difference, "time difference")?;
        let g = to_millis(grace, "grace period")?;
        Self::checked(d, d, g)
    }

    /// Records at most `time_difference` apart join; no grace period (Kafka's
    /// `ofTimeDifferenceWithNoGrace`).
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Result<Self> {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Sets how much earlier than a left record a right record may be (Kafka's `before`).
    pub fn before(self, time_difference: Duration) -> Result<Self> {
        Self::checked(
            to_millis(time_difference, "before")?,
            self.after_ms,
            self.grace_ms,
        )
    }

    /// Sets how much later than a left record a right record may be (Kafka's `after`).
    pub fn after(self, time_difference: Duration) -> Result<Self> {
        Self::checked(
            self.before_ms,
            to_millis(time_difference, "after")?,
            self.grace_ms,
        )
    }

    fn checked(before_ms: i64, after_ms: i64, grace_ms: i64) -> Result<Self> {
        let total = before_ms
            .checked_add(after_ms)
            .and_then(|s| s.checked_add(grace_ms))
            .and_then(|s| s.checked_add(1));
        if total.is_none() {
            return Err(StreamsError::InvalidWindow(format!(
                "join window before {before_ms} ms + after {after_ms} ms + grace {grace_ms} ms \
                 overflows i64 milliseconds"
            )));
        }
        Ok(JoinWindows {
            before_ms,
            after_ms,
            grace_ms,
        })
    }

    /// How much earlier than a left record a right record may be, in ms.
    pub fn before_ms(&self) -> i64 {
        self.before_ms
    }

    /// How much later than a left record a right record may be, in ms.
    pub fn after_ms(&self) -> i64 {
        self.after_ms
    }

    /// Grace period in ms.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The window size: `before + after` (Kafka's `size()`).
    pub fn size_ms(&self) -> i64 {
        self.before_ms + self.after_ms
    }

    /// How long the join stores keep a record behind the newest record written to them:
    /// `before + after + grace` (Kafka's join store retention).
    pub fn retention_ms(&self) -> i64 {
        self.size_ms() + self.grace_ms
    }
}

/// Serdes, names and stores of a stream-stream join (Kafka's `StreamJoined`). Everything is
/// optional: serdes default to the ones the streams know, then to the defaults by type.
///
/// ```
/// use streams_core::{StreamJoined, StringSerde, I64Serde, F64Serde};
/// let sj: StreamJoined<String, i64, f64> = StreamJoined::with(StringSerde, I64Serde, F64Serde)
///     .with_name("rides-pickups")       // processors and repartition topics
///     .with_store_name("rides-pickups") // stores `rides-pickups-this-join-store`, ...
///     .in_memory();
/// # let _ = sj;
/// ```
pub struct StreamJoined<K, V, VO> {
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) other_value_serde: Option<Arc<dyn Serde<VO>>>,
    pub(crate) name: Option<String>,
    pub(crate) store_name: Option<String>,
    pub(crate) logging: bool,
    pub(crate) store_type: StoreType,
}

impl<K: 'static, V: 'static, VO: 'static> Default for StreamJoined<K, V, VO> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: 'static, V: 'static, VO: 'static> StreamJoined<K, V, VO> {
    /// Serdes from the streams, generated names, logged RocksDB stores.
    pub fn new() -> Self {
        StreamJoined {
            key_serde: None,
            value_serde: None,
            other_value_serde: None,
            name: None,
            store_name: None,
            logging: true,
            store_type: StoreType::RocksDb,
        }
    }
    /// With the serdes of the key, this stream's values and the other stream's values.
    pub fn with(
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        other_value_serde: impl Serde<VO>,
    ) -> Self {
        let mut s = Self::new();
        s.key_serde = Some(Arc::new(key_serde));
        s.value_serde = Some(Arc::new(value_serde));
        s.other_value_serde = Some(Arc::new(other_value_serde));
        s
    }
    /// Names the join's processors (`<name>-this-windowed`, `<name>-this-join`, ...,
    /// `<name>-merge`) and its repartition topics (`<name>-left-repartition`,
    /// `<name>-right-repartition`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Names the stores `<name>-this-join-store` and `<name>-other-join-store` (`-outer-this-`
    /// / `-outer-other-` for the outer sides, `<name>-left-shared-join-store` or
    /// `<name>-outer-shared-join-store` for the unjoined records of left and outer joins);
    /// their changelogs are `<application.id>-<store>-changelog`.
    pub fn with_store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = Some(name.into());
        self
    }
    /// No changelogs: the join state is lost with the instance.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }
    /// Keeps the join stores in memory (restored from their changelogs after a restart).
    pub fn in_memory(mut self) -> Self {
        self.store_type = StoreType::InMemory;
        self
    }
}

/// Serdes and name of a stream-table join (Kafka's `Joined`). The serdes are needed only when
/// the stream must be repartitioned first.
pub struct Joined<K, V> {
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) name: Option<String>,
    /// Stream-table joins: how long stream records wait for late table updates (KIP-923).
    pub(crate) grace_ms: Option<i64>,
}

impl<K: 'static, V: 'static> Default for Joined<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: 'static, V: 'static> Joined<K, V> {
    /// Serdes from the stream, a generated name.
    pub fn new() -> Self {
        Joined {
            key_serde: None,
            value_serde: None,
            name: None,
            grace_ms: None,
        }
    }
    /// With the serdes of the key and the stream's values (for the repartition topic).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Joined {
            key_serde: Some(Arc::new(key_serde)),
            value_serde: Some(Arc::new(value_serde)),
            name: None,
            grace_ms: None,
        }
    }
    /// Names the join processor and the repartition topic (`<name>-repartition`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// A stream-table join with a grace period (Kafka's KIP-923): each stream record waits in
    /// a buffer (the store `<join name>-Buffer`) until stream time passes its timestamp plus
    /// `grace`, then joins the table as of its timestamp, so table updates up to `grace` late
    /// are seen. Records are released in timestamp order; one already older than stream time
    /// minus `grace` joins at once. The table must be versioned
    /// ([`crate::Materialized::versioned`]) with a history retention of at least `grace`;
    /// otherwise the task fails to start. Needs serdes for the key and the stream's values
    /// (from here, the stream, or the defaults).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::*;
    /// let joined: Joined<String, i64> =
    ///     Joined::with(StringSerde, I64Serde).with_grace_period(Duration::from_secs(5));
    /// # let _ = joined;
    /// ```
    pub fn with_grace_period(mut self, grace: std::time::Duration) -> Self {
        self.grace_ms = Some(i64::try_from(grace.as_millis()).unwrap_or(i64::MAX));
        self
    }
}
