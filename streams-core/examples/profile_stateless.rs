//! Profiling harness for the stateless engine path measured by `benches/engine_stateless.rs`
//! (the ride generator is `benches/common`, shared with the benchmarks; the topologies are the benchmark's).
//!
//! ```text
//! cargo build --release -p streams-core --example profile_stateless
//! valgrind --tool=callgrind --toggle-collect='*run_mode*' \
//!     target/release/examples/profile_stateless engine 100000
//! perf record -e cpu-clock target/release/examples/profile_stateless engine 200000 20
//! ```
//!
//! Modes: `engine` (stream → filter → map_values → to, `BytesSerde` drain), `typed` (the same
//! with a typed drain), `passthrough` (bytes in, bytes out), `json` (parse + map + serialize
//! without the engine); each run prints ns and heap allocations per ride.
//! The second argument is the number of rides (default 100,000), the
//! third how many times to run over them (default 1); generating the rides is not measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

#[path = "../benches/common/mod.rs"]
mod common;

use common::{generate, summarize, Ride, Summary};
use streams_core::{
    BytesSerde, Consumed, Json, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TestOutputTopic, TopologyTestDriver,
};

/// The system allocator, counting allocations, reallocations and frees to report them per ride.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREES.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records between two drains of the output topic.
const DRAIN_EVERY: usize = 10_000;

/// `stream → filter → map_values → to`, the topology of the engine benchmarks.
fn stateless_driver() -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(StringSerde, Json::<Ride>::new()))
        .filter(|_, r| r.trip_distance > 0.0)
        .map_values(summarize)
        .to(
            "summaries",
            Produced::with(StringSerde, Json::<Summary>::new()),
        );
    let topology = builder.build().expect("topology");
    TopologyTestDriver::new(topology, StreamsConfig::new("bench-stateless")).expect("driver")
}

/// `stream(bytes) → to`: the engine with no JSON.
fn passthrough_driver() -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(BytesSerde, BytesSerde))
        .to("out", Produced::new());
    let topology = builder.build().expect("topology");
    TopologyTestDriver::new(topology, StreamsConfig::new("bench-passthrough")).expect("driver")
}

fn pipe_all<K: 'static, V: 'static>(
    driver: &TopologyTestDriver,
    out: &TestOutputTopic<'_, K, V>,
    rides: &[(Vec<u8>, Vec<u8>, i64)],
) -> usize {
    let mut read = 0;
    for chunk in rides.chunks(DRAIN_EVERY) {
        for (key, value, ts) in chunk {
            driver
                .pipe_raw("rides", Some(key), Some(value), *ts)
                .expect("pipe_raw");
        }
        read += black_box(out.read_records_to_list().expect("drain")).len();
    }
    read
}

/// The measured work: everything but generating the rides. Not inlined, so profilers can
/// restrict collection to it (`valgrind --tool=callgrind --toggle-collect='*run_mode*'`).
#[inline(never)]
fn run_mode(mode: &str, rides: &[(Vec<u8>, Vec<u8>, i64)]) -> usize {
    match mode {
        "engine" => {
            let driver = stateless_driver();
            let out = driver.output_topic("summaries", BytesSerde, BytesSerde);
            pipe_all(&driver, &out, rides)
        }
        "typed" => {
            let driver = stateless_driver();
            let out = driver.output_topic("summaries", StringSerde, Json::<Summary>::new());
            pipe_all(&driver, &out, rides)
        }
        "passthrough" => {
            let driver = passthrough_driver();
            let out = driver.output_topic("out", BytesSerde, BytesSerde);
            pipe_all(&driver, &out, rides)
        }
        "json" => {
            let mut buf = Vec::with_capacity(256);
            let mut written = 0;
            for (_, value, _) in rides {
                let ride: Ride = serde_json::from_slice(black_box(value)).expect("parse");
                if ride.trip_distance > 0.0 {
                    buf.clear();
                    serde_json::to_writer(&mut buf, &summarize(ride)).expect("serialize");
                    black_box(&buf);
                    written += 1;
                }
            }
            written
        }
        other => panic!("unknown mode `{other}`: engine, typed, passthrough or json"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "engine".to_string());
    let n: usize = args
        .next()
        .map_or(100_000, |s| s.parse().expect("number of rides"));
    let repeat: u32 = args.next().map_or(1, |s| s.parse().expect("repetitions"));
    let rides = generate(n);
    for _ in 0..repeat {
        let counts = || {
            (
                ALLOCS.load(Relaxed),
                REALLOCS.load(Relaxed),
                FREES.load(Relaxed),
            )
        };
        let before = counts();
        let start = Instant::now();
        let read = run_mode(&mode, &rides);
        let elapsed = start.elapsed();
        let after = counts();
        let per_ride = |a: u64, b: u64| (a - b) as f64 / n as f64;
        println!(
            "{mode}: {n} rides, {read} written, {:.0} ns/ride; per ride: {:.2} allocations, \
             {:.2} reallocations, {:.2} frees",
            elapsed.as_nanos() as f64 / n as f64,
            per_ride(after.0, before.0),
            per_ride(after.1, before.1),
            per_ride(after.2, before.2),
        );
    }
}
