//! The course's windowed count: rides per pickup location per minute of pickup time, final
//! results only.

use std::time::Duration;

use streams_core::{
    BufferConfig, Consumed, I64Serde, Json, Materialized, Nullable, Produced, StreamsBuilder,
    StringSerde, Suppressed, TimeWindowedSerde, TimeWindows, Topology, ValueTimestamp, Windowed,
};

use crate::Ride;

/// Topic of the per-location, per-minute final counts (key: `TimeWindowedSerde` of the
/// location id, value: 8-byte big-endian count).
pub const RIDE_WINDOW_COUNTS_TOPIC: &str = "rides-pulocation-window-count";

/// The windows of [`ride_count_windowed_topology`]: one minute, tumbling.
pub const RIDE_WINDOW_SIZE: Duration = Duration::from_secs(60);

/// Counts rides per pickup location (the record key) in 1-minute tumbling windows of pickup
/// time (event time from the [`Ride`] value), accepting late rides for `grace` after a window
/// ends, and emits one final count per location and window once the window closes
/// (`suppress(until_window_closes)`): to `output` (key: the windowed location id in Kafka's
/// `TimeWindowedSerializer` layout, value: the count as 8 bytes big-endian), after calling
/// `on_final` with it.
///
/// A window closes when the stream time of its task (the largest pickup time seen on its
/// partition) reaches the window end plus `grace`; a ride for a closed window is dropped
/// (counted in the `dropped-records` metric). As in Kafka Streams, the last windows of a
/// finite input stay open until later records arrive.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use streams_core::*;
/// use streams_examples::*;
///
/// let printed = Arc::new(Mutex::new(Vec::new()));
/// let seen = printed.clone();
/// let topology = ride_count_windowed_topology(
///     RIDES_TOPIC,
///     RIDE_WINDOW_COUNTS_TOPIC,
///     Duration::ZERO,
///     move |key: &Windowed<String>, n| seen.lock().unwrap().push(format!("{key} {n}")),
/// )?;
/// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("doc"))?;
/// let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
/// let rides = load_rides(&data_dir().join("rides.csv"))?;
/// // Line 3 (00:03:19, zone 138), then line 2 (00:25:32, zone 238) closes [00:03, 00:04).
/// for ride in [&rides[1], &rides[0]] {
///     input.pipe_input(ride.pickup_location_key(), ride.clone())?;
/// }
/// assert_eq!(
///     *printed.lock().unwrap(),
///     ["138@[2020-07-01T00:03:00Z, 2020-07-01T00:04:00Z) 1"]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ride_count_windowed_topology(
    input: &str,
    output: &str,
    grace: Duration,
    on_final: impl Fn(&Windowed<String>, i64) + Send + Sync + 'static,
) -> streams_core::Result<Topology> {
    let windows = TimeWindows::of_size_and_grace(RIDE_WINDOW_SIZE, grace)?;
    let builder = StreamsBuilder::new();
    builder
        .stream(
            input,
            Consumed::with(StringSerde, Json::<Ride>::new())
                .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.pickup_millis())),
        )
        .group_by_key()
        .windowed_by(windows)
        .count(Materialized::named("rides-per-location-window"))
        .suppress(
            Suppressed::until_window_closes(BufferConfig::unbounded())
                .with_name("rides-per-location-window-final"),
        )
        .to_stream()
        .peek(move |key, count| {
            if let Some(n) = count {
                on_final(key, *n);
            }
        })
        .to(
            output,
            Produced::with(
                TimeWindowedSerde::for_windows(StringSerde, &windows),
                Nullable(I64Serde),
            ),
        );
    builder.build()
}
