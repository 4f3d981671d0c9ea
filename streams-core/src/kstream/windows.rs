//! Window definitions and their pure semantics, as in Kafka Streams 3.x: tumbling and hopping
//! [`TimeWindows`], [`SlidingWindows`] and [`SessionWindows`], the [`Window`] / [`Windowed`] key
//! types, and the windowed-key serdes ([`TimeWindowedSerde`], [`SessionWindowedSerde`]) whose
//! bytes match Kafka's `TimeWindowedSerializer` and `SessionWindowedSerializer`.
//!
//! Nothing here touches a store or a processor: the aggregation processors call these functions
//! to decide which windows a record goes to, which windows are closed, and (for sliding and
//! session windows) which stored windows to update, create, merge or remove.
//!
//! Time is in epoch milliseconds (`i64`), as everywhere in Kafka. "Stream time" is the largest
//! record timestamp the processor has seen, *including the record being processed* (Kafka
//! updates `observedStreamTime` before checking whether a window is closed).
//!
//! ```
//! use std::time::Duration;
//! use streams_core::kstream::windows::{TimeWindows, Window};
//!
//! let hopping = TimeWindows::of_size_with_no_grace(Duration::from_secs(10))?
//!     .advance_by(Duration::from_secs(5))?;
//! let windows: Vec<Window> = hopping.windows_for(12_345).collect();
//! assert_eq!(windows, [Window::new(5_000, 15_000), Window::new(10_000, 20_000)]);
//! # Ok::<(), streams_core::StreamsError>(())
//! ```

use std::collections::HashSet;
use std::time::Duration;

use crate::error::{Result, StreamsError};
pub use crate::window::{SessionWindowedSerde, TimeWindowedSerde, Window, Windowed};

/// `d` in whole milliseconds (truncated, as Java's `Duration.toMillis`); an error when it does
/// not fit an `i64` (Kafka: "can't be represented as long milliseconds").
fn to_millis(d: Duration, what: &str) -> Result<i64> {
    i64::try_from(d.as_millis()).map_err(|_| {
        StreamsError::InvalidWindow(format!(
            "{what} {d:?} cannot be represented as i64 milliseconds"
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// TimeWindows
// ---------------------------------------------------------------------------------------------

/// Fixed-size windows aligned to the epoch: tumbling (`advance == size`, the default) or
/// hopping (`advance < size`), as Kafka's `TimeWindows`.
///
/// The N-th window is `[N * advance, N * advance + size)`. A record at `ts` belongs to every
/// window with `start <= ts < start + size`; window starts are never negative.
///
/// A record is added to a window only while the window is open: Kafka's
/// `KStreamWindowAggregate` updates window `w` iff `w.end > streamTime - grace`, so the window
/// is closed (and the record dropped for it, counted as a dropped record) once
/// `streamTime >= w.end + grace` ([`TimeWindows::close_time`],
/// [`TimeWindows::is_window_closed`]). Each window of the record is checked separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindows {
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size` with no grace period (Kafka's `ofSizeWithNoGrace`): records
    /// arriving after their window's end are dropped.
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if `size` is under 1 ms.
    pub fn of_size_with_no_grace(size: Duration) -> Result<Self> {
        Self::of_size_and_grace(size, Duration::ZERO)
    }

    /// Tumbling windows of `size` that accept out-of-order records until `grace` after the
    /// window end (Kafka's `ofSizeAndGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if `size` is under 1 ms or a duration does
    /// not fit `i64` milliseconds.
    pub fn of_size_and_grace(size: Duration, grace: Duration) -> Result<Self> {
        let size_ms = to_millis(size, "window size")?;
        let grace_ms = to_millis(grace, "grace period")?;
        if size_ms <= 0 {
            return Err(StreamsError::InvalidWindow(format!(
                "window size must be larger than zero, got {size:?}"
            )));
        }
        Ok(TimeWindows {
            size_ms,
            advance_ms: size_ms,
            grace_ms,
        })
    }

    /// Hopping windows: the same size and grace, with windows starting every `advance`
    /// (Kafka's `advanceBy`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] unless `0 < advance <= size` (in whole
    /// milliseconds).
    pub fn advance_by(self, advance: Duration) -> Result<Self> {
        let advance_ms = to_millis(advance, "window advance")?;
        if advance_ms <= 0 || advance_ms > self.size_ms {
            return Err(StreamsError::InvalidWindow(format!(
                "window advance must be more than zero and at most the window size ({} ms), \
                 got {advance_ms} ms",
                self.size_ms
            )));
        }
        Ok(TimeWindows { advance_ms, ..self })
    }

    /// Window size in milliseconds.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// Advance ("hop") in milliseconds; equal to the size for tumbling windows.
    pub fn advance_ms(&self) -> i64 {
        self.advance_ms
    }

    /// Grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// Every window containing `timestamp`, in increasing start order (Kafka's
    /// `TimeWindows.windowsFor`): starts are the multiples of the advance with
    /// `start <= timestamp < start + size`, never negative. A negative timestamp has no
    /// window. Ends that would overflow `i64` saturate to `i64::MAX`.
    pub fn windows_for(&self, timestamp: i64) -> impl Iterator<Item = Window> {
        let (size, advance) = (self.size_ms, self.advance_ms);
        // Kafka: windowStart = (max(0, ts - size + advance) / advance) * advance
        let first =
            (timestamp.saturating_sub(size).saturating_add(advance)).max(0) / advance * advance;
        std::iter::successors(Some(first).filter(|s| *s <= timestamp), move |s| {
            s.checked_add(advance).filter(|n| *n <= timestamp)
        })
        .map(move |start| Window::new(start, start.saturating_add(size)))
    }

    /// The stream time at which `window` closes: `window.end + grace`. From then on records
    /// for the window are dropped.
    pub fn close_time(&self, window: &Window) -> i64 {
        window.end.saturating_add(self.grace_ms)
    }

    /// True when a record must not be added to `window` any more: `stream_time >= window.end +
    /// grace` (Kafka updates the window only if `windowEnd > observedStreamTime - grace`).
    /// `stream_time` includes the record being processed.
    pub fn is_window_closed(&self, window: &Window, stream_time: i64) -> bool {
        stream_time >= self.close_time(window)
    }

    /// The window store retention Kafka uses when none is configured, which is also the
    /// smallest one it accepts: `size + grace`.
    pub fn retention_ms(&self) -> i64 {
        self.size_ms.saturating_add(self.grace_ms)
    }
}

// ---------------------------------------------------------------------------------------------
// SlidingWindows
// ---------------------------------------------------------------------------------------------

/// Sliding windows (Kafka's `SlidingWindows`): two records are in the same window when their
/// timestamps differ by at most the time difference. Windows are `[start, start + diff]`, both
/// ends **inclusive**, and are created only where a record enters or leaves a window: each
/// record `r` has a *left* window `[r - diff, r]` and, when some later record falls within
/// `diff` of it, a *right* window `[r + 1, r + 1 + diff]`. Records earlier than `diff` (whose
/// left window would start before 0) all go to the window `[0, diff]`.
///
/// For example, with a difference of 5 s and records at 8 000, 9 200 and 12 400 the windows
/// are `[3000,8000]`, `[4200,9200]`, `[7400,12400]`, `[8001,13001]` and `[9201,14201]`.
///
/// The processor decides what to do with a record in three steps (Kafka's
/// `KStreamSlidingWindowAggregate`):
/// 1. drop the whole record if [`SlidingWindows::is_record_expired`];
/// 2. fetch the key's windows with start in [`sliding_fetch_range`] and compute
///    [`SlidingWindows::plan`];
/// 3. run the plan's steps in order, skipping (and counting as dropped) each update or
///    creation whose window [`SlidingWindows::is_window_closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlidingWindows {
    time_difference_ms: i64,
    grace_ms: i64,
}

impl SlidingWindows {
    /// Sliding windows over records at most `time_difference` apart, with no grace period
    /// (Kafka's `ofTimeDifferenceWithNoGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if `time_difference` is under 1 ms.
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Result<Self> {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Sliding windows over records at most `time_difference` apart, accepting out-of-order
    /// records until `grace` after a window's end (Kafka's `ofTimeDifferenceAndGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if `time_difference` is under 1 ms (Kafka
    /// accepts 0 but then fails on the first record, as a window `[t, t]` is not a valid
    /// `TimeWindow`) or a duration does not fit `i64` milliseconds.
    pub fn of_time_difference_and_grace(
        time_difference: Duration,
        grace: Duration,
    ) -> Result<Self> {
        let time_difference_ms = to_millis(time_difference, "time difference")?;
        let grace_ms = to_millis(grace, "grace period")?;
        if time_difference_ms <= 0 {
            return Err(StreamsError::InvalidWindow(format!(
                "sliding window time difference must be larger than zero, got \
                 {time_difference:?}"
            )));
        }
        Ok(SlidingWindows {
            time_difference_ms,
            grace_ms,
        })
    }

    /// The maximum time difference between two records of a window, in milliseconds; also
    /// `end - start` of every window.
    pub fn time_difference_ms(&self) -> i64 {
        self.time_difference_ms
    }

    /// Grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// True when a record at `timestamp` is dropped before anything else is looked at: even
    /// its right window would be closed. Kafka: `ts + 1 + diff <= streamTime - grace`.
    /// `stream_time` includes the record.
    pub fn is_record_expired(&self, timestamp: i64, stream_time: i64) -> bool {
        timestamp
            .saturating_add(1)
            .saturating_add(self.time_difference_ms)
            .saturating_add(self.grace_ms)
            <= stream_time
    }

    /// True when the record must not be added to `window` (an update or creation of the plan
    /// is skipped): Kafka writes the window only if `windowEnd >= streamTime - grace`, so it
    /// is closed once `stream_time > window.end + grace`.
    pub fn is_window_closed(&self, window: &Window, stream_time: i64) -> bool {
        window.end.saturating_add(self.grace_ms) < stream_time
    }

    /// What a record at `timestamp` does to the key's existing windows: see
    /// [`sliding_updates`].
    pub fn plan(&self, existing: &[ExistingSlidingWindow], timestamp: i64) -> SlidingPlan {
        sliding_updates(self.time_difference_ms, existing, timestamp)
    }

    /// The window store retention Kafka uses when none is configured, which is also the
    /// smallest one it accepts: `2 * diff + grace` (creating a right window may need a window
    /// starting `2 * diff` before the record).
    pub fn retention_ms(&self) -> i64 {
        self.time_difference_ms
            .saturating_mul(2)
            .saturating_add(self.grace_ms)
    }
}

/// A sliding window already stored for the record's key: what [`sliding_updates`] needs to
/// know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExistingSlidingWindow {
    /// The window start (the timestamp of its store key); its end is `start + diff`.
    pub start: i64,
    /// The timestamp stored with the aggregate (Kafka's `ValueAndTimestamp.timestamp()`): the
    /// largest timestamp of the records aggregated into the window.
    pub max_timestamp: i64,
}

/// Where a window created by a [`SlidingStep::Create`] takes its initial aggregate from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlidingSeed {
    /// The initializer's value.
    Initializer,
    /// A copy of the aggregate of this existing window, as it was read from the store before
    /// any step of the plan ran.
    CopyOf(Window),
}

/// One store operation of a [`SlidingPlan`]. Windows have `end = start + diff`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlidingStep {
    /// Add the record to this existing window: `agg = aggregator(key, value, agg)`, stored with
    /// timestamp `max(record ts, stored timestamp)`, then forwarded. Skipped if the window is
    /// closed ([`SlidingWindows::is_window_closed`]).
    Update(Window),
    /// Create this window from `seed` and add the record to it; stored with the record's
    /// timestamp, then forwarded. Skipped if the window is closed.
    Create {
        /// The new window.
        window: Window,
        /// Its initial aggregate, before the record is added.
        seed: SlidingSeed,
    },
    /// Create the record's right window `[ts + 1, ts + 1 + diff]` holding a copy of `from`'s
    /// aggregate *and* stored timestamp, as they were before any step of the plan ran; the
    /// record itself is **not** added (it is not in its right window). Put and forwarded with
    /// that timestamp. Kafka does not check the close time here.
    CopyToRight {
        /// The new right window.
        window: Window,
        /// The existing window whose aggregate is copied.
        from: Window,
    },
}

/// What one record does to the sliding windows of its key: the steps to run, in Kafka's order
/// (which is also the order of the records forwarded downstream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlidingPlan {
    /// The store operations, in order.
    pub steps: Vec<SlidingStep>,
}

impl SlidingPlan {
    /// The existing windows the record is added to, in plan order.
    pub fn updated(&self) -> impl Iterator<Item = Window> + '_ {
        self.steps.iter().filter_map(|s| match s {
            SlidingStep::Update(w) => Some(*w),
            _ => None,
        })
    }

    /// The windows the plan creates, in plan order.
    pub fn created(&self) -> impl Iterator<Item = Window> + '_ {
        self.steps.iter().filter_map(|s| match s {
            SlidingStep::Create { window, .. } | SlidingStep::CopyToRight { window, .. } => {
                Some(*window)
            }
            SlidingStep::Update(_) => None,
        })
    }
}

/// The inclusive range of window starts the processor must fetch for a record at `timestamp`
/// (and pass to [`sliding_updates`]), as Kafka's `KStreamSlidingWindowAggregate`:
/// `[max(0, ts - 2 * diff), ts + 1]`, or `[0, ts + 1]` for an early record (`ts < diff`).
pub fn sliding_fetch_range(time_difference_ms: i64, timestamp: i64) -> (i64, i64) {
    let upper = timestamp.saturating_add(1);
    if timestamp < time_difference_ms {
        (0, upper)
    } else {
        (
            timestamp
                .saturating_sub(time_difference_ms.saturating_mul(2))
                .max(0),
            upper,
        )
    }
}

/// Decides, as Kafka Streams 3.x's `KStreamSlidingWindowAggregate` does, which of the key's
/// existing sliding windows a record at `timestamp` updates and which windows it creates.
///
/// `existing` are the key's stored windows (any order; windows outside
/// [`sliding_fetch_range`] are ignored, as Kafka never fetches them). Windows are
/// `[start, start + diff]`, both ends inclusive. The close-time checks are left to the caller
/// (see [`SlidingStep`]); `timestamp` must be `>= 0` (a negative one gets an empty plan, Kafka
/// throws).
///
/// **Record at `ts >= diff`** (Kafka's `processReverse`, used whenever the store can iterate
/// backwards, which all built-in stores can). The fetched windows are visited by decreasing
/// start:
/// - start `ts + 1`: the record's right window already exists; it is left alone.
/// - `end > ts` (the window contains `ts`): **updated**; the first one seen (largest start)
///   is remembered as the source of the record's right window.
/// - `end == ts`: the record's left window already exists; **updated**. If its stored
///   timestamp is `>= ts` a record with this very timestamp was seen before: the plan ends
///   here, nothing is created. Otherwise that timestamp is the previous record's.
/// - `end < ts`: its stored timestamp is the previous record's timestamp and the window is the
///   source for the left window; the visit stops.
///
/// Then, in this order:
/// 1. if there is a previous record `p`, its right window `[p + 1, p + 1 + diff]` was not
///    fetched, and `p + 1 + diff >= ts`: **create** it from the initializer (plus the record);
/// 2. unless the left window exists: **create** `[ts - diff, ts]`, seeded with a copy of the
///    `end < ts` window when the previous record is in it (`ts - diff <= p`), else from the
///    initializer (plus the record). When `p == ts - diff - 1` this is the window of step 1
///    again: Kafka creates (puts and forwards) `[ts - diff, ts]` twice, both times holding the
///    record alone, and the plan keeps both steps;
/// 3. unless the right window exists: if the right-window source's stored timestamp is `> ts`
///    (a later record is within `diff`), **copy** that window's aggregate into
///    `[ts + 1, ts + 1 + diff]` (without the record).
///
/// **Early record, `0 <= ts < diff`** (Kafka's `processEarly`; the left window would start
/// before 0, so all such records share the window `[0, diff]`). The fetched windows are
/// visited by increasing start:
/// - start 0: the combined window `[0, diff]`; if its stored timestamp is `< ts` it is the
///   previous record's timestamp;
/// - `0 < start <= ts`: **updated**, and the last one (largest start) is the right-window
///   source;
/// - start `ts + 1`: the right window already exists.
///
/// Then, in this order: if there is no right-window source but the combined window's stored
/// timestamp is `> ts`, the combined window is the source; unless the right window exists and
/// if the source's stored timestamp is `> ts`, **copy** it into `[ts + 1, ts + 1 + diff]`; if
/// there is a previous record `p` and no window starts at `p + 1`, **create**
/// `[p + 1, p + 1 + diff]` from the initializer (plus the record); last, **update** the
/// combined window, or **create** it from the initializer (plus the record) if absent.
pub fn sliding_updates(
    time_difference_ms: i64,
    existing: &[ExistingSlidingWindow],
    timestamp: i64,
) -> SlidingPlan {
    let diff = time_difference_ms;
    let ts = timestamp;
    let mut plan = SlidingPlan::default();
    if ts < 0 || diff <= 0 {
        return plan;
    }
    let window = |start: i64| Window::new(start, start.saturating_add(diff));
    let (lower, upper) = sliding_fetch_range(diff, ts);
    let mut fetched: Vec<ExistingSlidingWindow> = existing
        .iter()
        .copied()
        .filter(|w| w.start >= lower && w.start <= upper)
        .collect();
    fetched.sort_by_key(|w| w.start);
    fetched.dedup_by_key(|w| w.start);
    let steps = &mut plan.steps;

    if ts < diff {
        // processEarly: forward iteration over [0, ts + 1].
        let mut combined: Option<ExistingSlidingWindow> = None;
        let mut right_source: Option<ExistingSlidingWindow> = None;
        let mut right_exists = false;
        let mut previous: Option<i64> = None;
        for w in &fetched {
            if w.start == 0 {
                combined = Some(*w);
                if w.max_timestamp < ts {
                    previous = Some(w.max_timestamp);
                }
            } else if w.start <= ts {
                right_source = Some(*w);
                steps.push(SlidingStep::Update(window(w.start)));
            } else if w.start == ts + 1 {
                right_exists = true;
            }
        }
        if right_source.is_none() {
            right_source = combined.filter(|c| c.max_timestamp > ts);
        }
        if !right_exists {
            if let Some(source) = right_source.filter(|r| r.max_timestamp > ts) {
                steps.push(SlidingStep::CopyToRight {
                    window: window(ts + 1),
                    from: window(source.start),
                });
            }
        }
        if let Some(p) = previous {
            if !fetched.iter().any(|w| w.start == p + 1) {
                steps.push(SlidingStep::Create {
                    window: window(p + 1),
                    seed: SlidingSeed::Initializer,
                });
            }
        }
        match combined {
            Some(c) => steps.push(SlidingStep::Update(window(c.start))),
            None => steps.push(SlidingStep::Create {
                window: window(0),
                seed: SlidingSeed::Initializer,
            }),
        }
        return plan;
    }

    // processReverse: backward iteration over [max(0, ts - 2 * diff), ts + 1].
    let mut right_source: Option<ExistingSlidingWindow> = None;
    let mut left_source: Option<ExistingSlidingWindow> = None;
    let mut left_exists = false;
    let mut right_exists = false;
    let mut previous: Option<i64> = None;
    let mut seen_starts: HashSet<i64> = HashSet::new();
    for w in fetched.iter().rev() {
        seen_starts.insert(w.start);
        let end = w.start + diff;
        if w.start == ts + 1 {
            right_exists = true;
        } else if end > ts {
            if right_source.is_none() {
                right_source = Some(*w);
            }
            steps.push(SlidingStep::Update(window(w.start)));
        } else if end == ts {
            left_exists = true;
            steps.push(SlidingStep::Update(window(w.start)));
            if w.max_timestamp < ts {
                previous = Some(w.max_timestamp);
            } else {
                // A record with this timestamp was already processed: its windows exist.
                return plan;
            }
        } else {
            left_source = Some(*w);
            previous = Some(w.max_timestamp);
            break;
        }
    }

    // createWindows
    if let Some(p) = previous {
        let start = p + 1;
        if !seen_starts.contains(&start) && start + diff >= ts {
            steps.push(SlidingStep::Create {
                window: window(start),
                seed: SlidingSeed::Initializer,
            });
        }
    }
    if !left_exists {
        let seed = match (previous, left_source) {
            (Some(p), Some(source)) if ts - diff <= p => SlidingSeed::CopyOf(window(source.start)),
            _ => SlidingSeed::Initializer,
        };
        steps.push(SlidingStep::Create {
            window: window(ts - diff),
            seed,
        });
    }
    if !right_exists {
        if let Some(source) = right_source.filter(|r| r.max_timestamp > ts) {
            steps.push(SlidingStep::CopyToRight {
                window: window(ts + 1),
                from: window(source.start),
            });
        }
    }
    plan
}

// ---------------------------------------------------------------------------------------------
// SessionWindows
// ---------------------------------------------------------------------------------------------

/// Session windows (Kafka's `SessionWindows`): periods of activity separated by at least the
/// inactivity gap. Sessions are `[start, end]`, both inclusive, from the first to the last
/// record of the session; a single record makes the session `[ts, ts]`.
///
/// For each record the processor (Kafka's `KStreamSessionWindowAggregate`):
/// 1. finds the key's sessions with `end >= ts - gap` and `start <= ts + gap` and computes the
///    merged session ([`SessionWindows::plan`] / [`session_merge`]);
/// 2. drops the record if the merged session [`SessionWindows::is_session_closed`] (nothing is
///    removed nor written);
/// 3. otherwise merges the absorbed sessions' aggregates (`agg = initializer`, then
///    `agg = merger(key, agg, absorbed_agg)` for each absorbed session in order), removes them
///    and forwards a tombstone for each (only if [`SessionPlan::remove_absorbed`]), adds the
///    record with the aggregator and puts and forwards the merged session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionWindows {
    gap_ms: i64,
    grace_ms: i64,
}

impl SessionWindows {
    /// Sessions separated by `inactivity_gap`, with no grace period (Kafka's
    /// `ofInactivityGapWithNoGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if the gap is under 1 ms.
    pub fn of_inactivity_gap_with_no_grace(inactivity_gap: Duration) -> Result<Self> {
        Self::of_inactivity_gap_and_grace(inactivity_gap, Duration::ZERO)
    }

    /// Sessions separated by `inactivity_gap`, accepting out-of-order records for `grace`
    /// (Kafka's `ofInactivityGapAndGrace`).
    ///
    /// Errors with [`StreamsError::InvalidWindow`] if the gap is under 1 ms or a duration does
    /// not fit `i64` milliseconds.
    pub fn of_inactivity_gap_and_grace(inactivity_gap: Duration, grace: Duration) -> Result<Self> {
        let gap_ms = to_millis(inactivity_gap, "inactivity gap")?;
        let grace_ms = to_millis(grace, "grace period")?;
        if gap_ms <= 0 {
            return Err(StreamsError::InvalidWindow(format!(
                "session inactivity gap must be larger than zero, got {inactivity_gap:?}"
            )));
        }
        Ok(SessionWindows { gap_ms, grace_ms })
    }

    /// Same as [`SessionWindows::of_inactivity_gap_and_grace`].
    pub fn with_inactivity_gap_and_grace(
        inactivity_gap: Duration,
        grace: Duration,
    ) -> Result<Self> {
        Self::of_inactivity_gap_and_grace(inactivity_gap, grace)
    }

    /// The inactivity gap in milliseconds.
    pub fn inactivity_gap_ms(&self) -> i64 {
        self.gap_ms
    }

    /// Grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// True when a record whose merged session is `merged` is dropped. Since Kafka 3.0
    /// (KAFKA-12718) a session closes only once stream time passes `end + gap + grace`:
    /// dropped iff `merged.end < streamTime - grace - gap`. `stream_time` includes the record.
    pub fn is_session_closed(&self, merged: &Window, stream_time: i64) -> bool {
        merged
            .end
            .saturating_add(self.gap_ms)
            .saturating_add(self.grace_ms)
            < stream_time
    }

    /// The session a record at `timestamp` ends up in: see [`session_merge`].
    pub fn plan(&self, existing: &[Window], timestamp: i64) -> SessionPlan {
        session_merge(self.gap_ms, existing, timestamp)
    }

    /// The session store retention Kafka uses when none is configured, which is also the
    /// smallest one it accepts: `gap + grace`.
    pub fn retention_ms(&self) -> i64 {
        self.gap_ms.saturating_add(self.grace_ms)
    }
}

/// The session a record ends up in and the stored sessions it absorbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPlan {
    /// The record's session: `[ts, ts]` widened to cover every absorbed session.
    pub merged: Window,
    /// The existing sessions merged into it, in the order Kafka's session stores return them
    /// (by end, then start); their aggregates are merged in this order.
    pub absorbed: Vec<Window>,
    /// Whether the absorbed sessions are removed (each forwarded as a tombstone) before the
    /// merged one is put. Kafka does so only when `merged != [ts, ts]`; otherwise the only
    /// possible absorbed session is `[ts, ts]` itself, which the put overwrites.
    pub remove_absorbed: bool,
}

/// The session for a record at `timestamp` given the key's existing sessions (any order), as
/// Kafka's `KStreamSessionWindowAggregate`: it absorbs every session returned by
/// `findSessions(key, ts - gap, ts + gap)`, i.e. with `end >= ts - gap` and
/// `start <= ts + gap` (equivalently `start - gap <= ts <= end + gap`), and the merged session
/// spans `[min(ts, starts), max(ts, ends)]`.
pub fn session_merge(inactivity_gap_ms: i64, existing: &[Window], timestamp: i64) -> SessionPlan {
    let earliest_end = timestamp.saturating_sub(inactivity_gap_ms);
    let latest_start = timestamp.saturating_add(inactivity_gap_ms);
    let mut absorbed: Vec<Window> = existing
        .iter()
        .copied()
        .filter(|w| w.end >= earliest_end && w.start <= latest_start)
        .collect();
    absorbed.sort_by_key(|w| (w.end, w.start));
    absorbed.dedup();
    let record = Window::new(timestamp, timestamp);
    let merged = absorbed.iter().fold(record, |m, w| {
        Window::new(m.start.min(w.start), m.end.max(w.end))
    });
    SessionPlan {
        merged,
        remove_absorbed: merged != record,
        absorbed,
    }
}

impl<S> TimeWindowedSerde<S> {
    /// Windowed keys for the windows of `windows`: their size derives window ends.
    pub fn for_windows(inner: S, windows: &TimeWindows) -> Self {
        Self::new(inner, windows.size_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::StringSerde;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    fn w(start: i64, end: i64) -> Window {
        Window::new(start, end)
    }

    // --- Window / Windowed -------------------------------------------------------------------

    #[test]
    fn tumbling_windows() {
        let t = TimeWindows::of_size_with_no_grace(secs(10)).unwrap();
        assert_eq!(
            (t.size_ms(), t.advance_ms(), t.grace_ms()),
            (10_000, 10_000, 0)
        );
        assert_eq!(
            t.windows_for(12_345).collect::<Vec<_>>(),
            [w(10_000, 20_000)]
        );
        assert_eq!(t.windows_for(0).collect::<Vec<_>>(), [w(0, 10_000)]);
        assert_eq!(t.windows_for(9_999).collect::<Vec<_>>(), [w(0, 10_000)]);
        assert_eq!(
            t.windows_for(10_000).collect::<Vec<_>>(),
            [w(10_000, 20_000)]
        );
        assert_eq!(t.windows_for(-1).count(), 0);
    }

    #[test]
    fn hopping_windows() {
        let h = TimeWindows::of_size_and_grace(secs(10), secs(2))
            .unwrap()
            .advance_by(secs(5))
            .unwrap();
        assert_eq!(
            (h.size_ms(), h.advance_ms(), h.grace_ms()),
            (10_000, 5_000, 2_000)
        );
        assert_eq!(
            h.windows_for(12_345).collect::<Vec<_>>(),
            [w(5_000, 15_000), w(10_000, 20_000)]
        );
        // No negative starts.
        assert_eq!(h.windows_for(3_000).collect::<Vec<_>>(), [w(0, 10_000)]);
        // Kafka's javadoc example: size 5000, advance 3000.
        let k = TimeWindows::of_size_with_no_grace(ms(5_000))
            .unwrap()
            .advance_by(ms(3_000))
            .unwrap();
        assert_eq!(
            k.windows_for(4_000).collect::<Vec<_>>(),
            [w(0, 5_000), w(3_000, 8_000)]
        );
        assert_eq!(k.windows_for(5_000).collect::<Vec<_>>(), [w(3_000, 8_000)]);
        // Near i64::MAX: no overflow, ends saturate.
        let last_start = i64::MAX / 5_000 * 5_000;
        assert_eq!(
            h.windows_for(i64::MAX).collect::<Vec<_>>(),
            [w(last_start - 5_000, i64::MAX), w(last_start, i64::MAX)]
        );
    }

    #[test]
    fn time_windows_validation() {
        let err = TimeWindows::of_size_with_no_grace(Duration::ZERO).unwrap_err();
        assert!(matches!(err, StreamsError::InvalidWindow(_)), "{err:?}");
        assert!(err.to_string().contains("larger than zero"), "{err}");
        // Sub-millisecond sizes truncate to 0, as Duration.toMillis does.
        assert!(TimeWindows::of_size_with_no_grace(Duration::from_micros(999)).is_err());
        let t = TimeWindows::of_size_with_no_grace(secs(10)).unwrap();
        let err = t.advance_by(Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("10000 ms"), "{err}");
        assert!(t.advance_by(ms(10_001)).is_err());
        assert_eq!(t.advance_by(ms(10_000)).unwrap(), t);
        assert!(TimeWindows::of_size_and_grace(secs(1), Duration::MAX).is_err());
    }

    #[test]
    fn time_window_close() {
        let t = TimeWindows::of_size_and_grace(secs(10), secs(2)).unwrap();
        let win = w(10_000, 20_000);
        assert_eq!(t.close_time(&win), 22_000);
        assert!(!t.is_window_closed(&win, 21_999));
        assert!(t.is_window_closed(&win, 22_000));
        assert_eq!(t.retention_ms(), 12_000);
        let none = TimeWindows::of_size_with_no_grace(secs(10)).unwrap();
        assert!(!none.is_window_closed(&win, 19_999));
        assert!(none.is_window_closed(&win, 20_000));
    }

    // --- SlidingWindows ----------------------------------------------------------------------

    #[test]
    fn sliding_windows_validation_and_checks() {
        assert!(SlidingWindows::of_time_difference_with_no_grace(Duration::ZERO).is_err());
        let s = SlidingWindows::of_time_difference_and_grace(secs(5), secs(1)).unwrap();
        assert_eq!((s.time_difference_ms(), s.grace_ms()), (5_000, 1_000));
        assert_eq!(s.retention_ms(), 11_000);
        // Record dropped iff ts + 1 + diff <= streamTime - grace.
        assert!(!s.is_record_expired(10_000, 16_000));
        assert!(s.is_record_expired(10_000, 16_001));
        // Window written iff end >= streamTime - grace.
        assert!(!s.is_window_closed(&w(5_000, 10_000), 11_000));
        assert!(s.is_window_closed(&w(5_000, 10_000), 11_001));
        assert_eq!(sliding_fetch_range(5_000, 12_000), (2_000, 12_001));
        assert_eq!(sliding_fetch_range(5_000, 7_000), (0, 7_001));
        assert_eq!(sliding_fetch_range(5_000, 3_000), (0, 3_001));
    }

    fn ex(start: i64, max_timestamp: i64) -> ExistingSlidingWindow {
        ExistingSlidingWindow {
            start,
            max_timestamp,
        }
    }

    #[test]
    fn sliding_first_record_creates_its_left_window() {
        let plan = sliding_updates(5_000, &[], 8_000);
        assert_eq!(
            plan.steps,
            [SlidingStep::Create {
                window: w(3_000, 8_000),
                seed: SlidingSeed::Initializer
            }]
        );
    }

    #[test]
    fn sliding_second_record_in_order() {
        // After 8000: window [3000,8000] max 8000. Record at 9200: [3000,8000] ends before it
        // (not updated; the previous record is 8000), so the previous record's right window
        // and the new left window (seeded from [3000,8000]) are created.
        let plan = sliding_updates(5_000, &[ex(3_000, 8_000)], 9_200);
        assert_eq!(
            plan.steps,
            [
                SlidingStep::Create {
                    window: w(8_001, 13_001),
                    seed: SlidingSeed::Initializer
                },
                SlidingStep::Create {
                    window: w(4_200, 9_200),
                    seed: SlidingSeed::CopyOf(w(3_000, 8_000))
                },
            ]
        );
        // More than diff later: [3000,8000] is outside the fetch range [3002, 13003], so there
        // is no previous record; the left window starts from the initializer.
        let plan = sliding_updates(5_000, &[ex(3_000, 8_000)], 13_002);
        assert_eq!(
            plan.steps,
            [SlidingStep::Create {
                window: w(8_002, 13_002),
                seed: SlidingSeed::Initializer
            }]
        );
    }

    #[test]
    fn sliding_previous_right_window_can_be_the_left_window() {
        // Records 4 then 10, diff 5: the previous record's right window [5,10] is also the new
        // record's left window; Kafka creates it twice (same aggregate).
        let create = SlidingStep::Create {
            window: w(5, 10),
            seed: SlidingSeed::Initializer,
        };
        assert_eq!(sliding_updates(5, &[ex(0, 4)], 10).steps, [create, create]);
    }

    #[test]
    fn sliding_out_of_order_record_copies_right_window() {
        // Records 8000 then 12400 (diff 5000): windows [3000,8000] {8000}, [7400,12400]
        // {8000,12400}, [8001,13001] {12400}. Then 9200 arrives late.
        let existing = [ex(3_000, 8_000), ex(7_400, 12_400), ex(8_001, 12_400)];
        let plan = sliding_updates(5_000, &existing, 9_200);
        assert_eq!(
            plan.steps,
            [
                SlidingStep::Update(w(8_001, 13_001)),
                SlidingStep::Update(w(7_400, 12_400)),
                SlidingStep::Create {
                    window: w(4_200, 9_200),
                    seed: SlidingSeed::CopyOf(w(3_000, 8_000))
                },
                SlidingStep::CopyToRight {
                    window: w(9_201, 14_201),
                    from: w(8_001, 13_001)
                },
            ]
        );
        assert_eq!(plan.updated().count(), 2);
        assert_eq!(plan.created().count(), 2);
    }

    #[test]
    fn sliding_duplicate_timestamp_creates_nothing() {
        let existing = [ex(3_000, 8_000)];
        let plan = sliding_updates(5_000, &existing, 8_000);
        assert_eq!(plan.steps, [SlidingStep::Update(w(3_000, 8_000))]);
    }

    #[test]
    fn sliding_early_records_share_the_first_window() {
        let plan = sliding_updates(5_000, &[], 1_000);
        assert_eq!(
            plan.steps,
            [SlidingStep::Create {
                window: w(0, 5_000),
                seed: SlidingSeed::Initializer
            }]
        );
        // A second early record at 2000 (after 1000): previous record's right window
        // [1001, 6001] is created, then the combined window updated.
        let plan = sliding_updates(5_000, &[ex(0, 1_000)], 2_000);
        assert_eq!(
            plan.steps,
            [
                SlidingStep::Create {
                    window: w(1_001, 6_001),
                    seed: SlidingSeed::Initializer
                },
                SlidingStep::Update(w(0, 5_000)),
            ]
        );
        // An early record before an existing one copies the combined window to its right.
        let plan = sliding_updates(5_000, &[ex(0, 2_000)], 1_000);
        assert_eq!(
            plan.steps,
            [
                SlidingStep::CopyToRight {
                    window: w(1_001, 6_001),
                    from: w(0, 5_000)
                },
                SlidingStep::Update(w(0, 5_000)),
            ]
        );
        assert_eq!(sliding_updates(5_000, &[], -1).steps, []);
    }

    /// A store of sliding windows whose aggregate is the sorted list of record timestamps.
    #[derive(Default)]
    struct SlidingSim {
        store: BTreeMap<i64, (Vec<i64>, i64)>,
    }

    impl SlidingSim {
        fn process(&mut self, diff: i64, ts: i64) {
            let (lo, hi) = sliding_fetch_range(diff, ts);
            let existing: Vec<_> = self
                .store
                .range(lo..=hi)
                .map(|(s, (_, max))| ex(*s, *max))
                .collect();
            let snapshot = self.store.clone();
            let plan = sliding_updates(diff, &existing, ts);
            for step in plan.steps {
                match step {
                    SlidingStep::Update(win) => {
                        assert_eq!(win.end, win.start + diff);
                        let (agg, max) = self.store.get_mut(&win.start).expect("update missing");
                        agg.push(ts);
                        agg.sort();
                        *max = (*max).max(ts);
                    }
                    SlidingStep::Create { window, seed } => {
                        assert_eq!(window.end, window.start + diff);
                        let mut agg = match seed {
                            SlidingSeed::Initializer => vec![],
                            SlidingSeed::CopyOf(src) => snapshot[&src.start].0.clone(),
                        };
                        agg.push(ts);
                        agg.sort();
                        // Only a window this plan created may be created again (the previous
                        // record's right window being the new left window), with the same
                        // aggregate.
                        assert!(!snapshot.contains_key(&window.start), "create existing");
                        let old = self.store.insert(window.start, (agg.clone(), ts));
                        if let Some((old, _)) = old {
                            assert_eq!(old, agg, "re-created window differs");
                        }
                    }
                    SlidingStep::CopyToRight { window, from } => {
                        assert_eq!(window, w(ts + 1, ts + 1 + diff));
                        assert!(!self.store.contains_key(&window.start), "create existing");
                        self.store
                            .insert(window.start, snapshot[&from.start].clone());
                    }
                }
            }
        }
    }

    #[test]
    fn sliding_kafka_javadoc_example() {
        let mut sim = SlidingSim::default();
        for ts in [8_000, 9_200, 12_400] {
            sim.process(5_000, ts);
        }
        let windows: Vec<_> = sim
            .store
            .iter()
            .map(|(s, (agg, max))| (*s, agg.clone(), *max))
            .collect();
        assert_eq!(
            windows,
            [
                (3_000, vec![8_000], 8_000),
                (4_200, vec![8_000, 9_200], 9_200),
                (7_400, vec![8_000, 9_200, 12_400], 12_400),
                (8_001, vec![9_200, 12_400], 12_400),
                (9_201, vec![12_400], 12_400),
            ]
        );
    }

    // --- SessionWindows ----------------------------------------------------------------------

    #[test]
    fn session_windows_validation_and_close() {
        assert!(SessionWindows::of_inactivity_gap_with_no_grace(Duration::ZERO).is_err());
        let s = SessionWindows::with_inactivity_gap_and_grace(ms(5), ms(2)).unwrap();
        assert_eq!((s.inactivity_gap_ms(), s.grace_ms()), (5, 2));
        assert_eq!(s.retention_ms(), 7);
        // Dropped iff end < streamTime - grace - gap.
        assert!(!s.is_session_closed(&w(10, 10), 17));
        assert!(s.is_session_closed(&w(10, 10), 18));
    }

    #[test]
    fn session_merge_kafka_javadoc_example() {
        // Gap 5: records 10, 12, 20 give sessions [10,12] and [20,20]; then 16 merges them.
        let existing = [w(20, 20), w(10, 12)];
        let plan = session_merge(5, &existing, 16);
        assert_eq!(plan.merged, w(10, 20));
        assert_eq!(plan.absorbed, [w(10, 12), w(20, 20)]);
        assert!(plan.remove_absorbed);
        // 30 is more than 5 after 20: a new session.
        let plan = session_merge(5, &existing, 30);
        assert_eq!(plan.merged, w(30, 30));
        assert!(plan.absorbed.is_empty() && !plan.remove_absorbed);
        // Exactly the gap away still merges (inclusive bounds).
        let plan = session_merge(5, &existing, 25);
        assert_eq!((plan.merged, plan.absorbed), (w(20, 25), vec![w(20, 20)]));
        let plan = session_merge(5, &existing, 5);
        assert_eq!(plan.merged, w(5, 12));
        // Same timestamp as a single-record session: overwritten in place.
        let plan = session_merge(5, &[w(20, 20)], 20);
        assert_eq!((plan.merged, plan.remove_absorbed), (w(20, 20), false));
        assert_eq!(plan.absorbed, [w(20, 20)]);
    }
    #[test]
    fn time_windowed_serde_for_windows_takes_their_size() {
        let t = TimeWindows::of_size_with_no_grace(secs(1)).unwrap();
        assert_eq!(
            TimeWindowedSerde::for_windows(StringSerde, &t).window_size_ms(),
            1_000
        );
    }

    // --- Properties --------------------------------------------------------------------------

    /// Sessions of a sorted list of timestamps: maximal runs with gaps `<= gap`.
    fn reference_sessions(gap: i64, mut ts: Vec<i64>) -> Vec<Window> {
        ts.sort();
        let mut out: Vec<Window> = Vec::new();
        for t in ts {
            match out.last_mut() {
                Some(last) if t - last.end <= gap => last.end = t,
                _ => out.push(w(t, t)),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn windows_for_matches_naive(
            (size, advance) in (1i64..10_000).prop_flat_map(|s| (Just(s), 1..=s)),
            ts in 0i64..10_000_000,
        ) {
            let t = TimeWindows::of_size_with_no_grace(ms(size as u64))
                .unwrap()
                .advance_by(ms(advance as u64))
                .unwrap();
            let naive: Vec<Window> = (0..=ts / advance)
                .map(|k| k * advance)
                .filter(|s| *s <= ts && ts < s + size)
                .map(|s| w(s, s + size))
                .collect();
            prop_assert_eq!(t.windows_for(ts).collect::<Vec<_>>(), naive);
        }

        #[test]
        fn session_merge_properties(
            gap in 1i64..1_000,
            raw in proptest::collection::vec((0i64..100_000, 0i64..3_000), 0..20),
            ts in 0i64..100_000,
        ) {
            let existing: Vec<Window> = raw.iter().map(|(s, l)| w(*s, s + l)).collect();
            let plan = session_merge(gap, &existing, ts);
            prop_assert!(plan.merged.start <= ts && ts <= plan.merged.end);
            for a in &plan.absorbed {
                prop_assert!(existing.contains(a));
                prop_assert!(plan.merged.start <= a.start && a.end <= plan.merged.end);
                prop_assert!(a.start - gap <= ts && ts <= a.end + gap);
            }
            for e in existing.iter().filter(|e| !plan.absorbed.contains(e)) {
                prop_assert!(ts < e.start - gap || ts > e.end + gap, "{:?} is within the gap", e);
            }
            prop_assert!(plan.absorbed.windows(2).all(|p| (p[0].end, p[0].start) < (p[1].end, p[1].start)));
            prop_assert_eq!(plan.remove_absorbed, plan.merged != w(ts, ts));
        }

        /// Running every record through session_merge (no grace limit) yields the gap-based
        /// sessions of all timestamps, in any arrival order.
        #[test]
        fn session_aggregation_matches_reference(
            gap in 1i64..50,
            records in proptest::collection::vec(0i64..500, 1..30),
        ) {
            let mut store: BTreeMap<Window, Vec<i64>> = BTreeMap::new();
            for &ts in &records {
                let existing: Vec<Window> = store.keys().copied().collect();
                let plan = session_merge(gap, &existing, ts);
                let mut agg = vec![ts];
                for a in &plan.absorbed {
                    agg.extend(store.remove(a).unwrap());
                }
                store.insert(plan.merged, agg);
            }
            let sessions: Vec<Window> = store.keys().copied().collect();
            prop_assert_eq!(sessions, reference_sessions(gap, records.clone()));
            for (win, agg) in &store {
                prop_assert!(agg.iter().all(|t| win.start <= *t && *t <= win.end));
            }
            prop_assert_eq!(store.values().map(Vec::len).sum::<usize>(), records.len());
        }

        /// Running every record through sliding_updates (no grace limit) keeps every window's
        /// aggregate equal to the records within its inclusive bounds, in any arrival order,
        /// with early records and duplicate timestamps; every record has its left window.
        #[test]
        fn sliding_aggregation_matches_reference(
            diff in 1i64..40,
            records in proptest::collection::vec(0i64..200, 1..30),
        ) {
            let mut sim = SlidingSim::default();
            for &ts in &records {
                sim.process(diff, ts);
            }
            for (start, (agg, max)) in &sim.store {
                let end = start + diff;
                let mut expected: Vec<i64> =
                    records.iter().copied().filter(|t| start <= t && *t <= end).collect();
                expected.sort();
                prop_assert_eq!(agg, &expected, "window [{}, {}]", start, end);
                prop_assert!(!agg.is_empty(), "empty window [{}, {}]", start, end);
                prop_assert_eq!(*max, *agg.iter().max().unwrap());
            }
            for &ts in &records {
                let left = (ts - diff).max(0);
                prop_assert!(sim.store.contains_key(&left), "no left window for {}", ts);
            }
        }
    }
}
