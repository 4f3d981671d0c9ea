//! The Kafka-level benchmark (issue #4): four pipelines against a local Tansu broker.
//!
//! * `ceiling`: a raw rdkafka loop, `BaseConsumer` → parse each ride (`serde_json` into `Ride`)
//!   → `BaseProducer` of the same key and bytes, flush + offset commit every commit interval.
//! * `stateless`: `stream(Json<Ride>) → filter(distance > 0) → map_values(Summary) → to`.
//! * `count`: `stream(Json<Ride>) → group_by_key → count → to_stream → to`.
//! * `window`: the same counted in 1-minute tumbling event-time windows (no grace).
//!
//! Every pipeline reads `rides` (4 partitions, key = pickup zone, the ride as JSON, record
//! timestamp = pickup time) and writes `out` (4 partitions). The client settings are the same
//! for all four (those `KafkaStreams` uses: range assignment, `session.timeout.ms=6000`,
//! `fetch.queue.backoff.ms=10`, `acks=all`, `linger.ms=5`), one stream thread,
//! `commit.interval.ms` = `COMMIT_MS` (default 1000) for the streams and the ceiling alike.
//!
//! Each pipeline runs in a child process (this binary re-executed with `--child <pipeline>
//! <bootstrap>`), so its CPU time and peak RSS are its own: not the ride generator's, the
//! producer's or the observer's. Per pipeline:
//!
//! 1. **Throughput.** A fresh Tansu; `RIDES` rides (default 1,000,000) produced first. The
//!    child is spawned; it prints `running` once it owns its partitions (`KafkaStreams` in
//!    state `Running`, the ceiling's first assignment). An observer consumer in this process
//!    reads `out` and checks every output against the expected results (the exact count of
//!    outputs per key for the 1:1 pipelines, the final count of every key or window); the run
//!    ends when the last expected output is received. Reported: records/s over the processing
//!    phase (`running` → last output) and over the whole run (spawn → last output), CPU time of
//!    the child (utime + stime from `/proc/self/stat`, from its start until told to stop,
//!    start-up included; split by thread from `/proc/self/task/*/stat`), of the broker and of
//!    the observer over spawn → last output, and the child's `VmHWM`.
//! 2. **Latency.** Another fresh Tansu; the child is started on empty topics; once it is
//!    running, rides are produced at a fixed `LATENCY_RATE` (default 10,000/s) for
//!    `LATENCY_SECS` (default 10 s). For every input ride: the wall-clock time from just before
//!    `send()` to the moment the observer receives the first output that includes it (the 1:1
//!    pipelines: the output of that ride, matched by key and order; the counts: the first
//!    output of its key or window whose count reaches the ride's position). The rides of the
//!    first second are left out (warm-up). Producer, pipeline and observer share one clock.
//!
//! Run: `cargo bench -p streams-tests --bench kafka_pipeline` (Tansu from `TANSU_BIN` or
//! `target/tansu/tansu`: `make tansu`). `PIPELINES=ceiling,count` runs a subset;
//! `BENCH_WRITE_DOCS=1` appends the result table to `docs/benchmarks.md` (`make bench` sets it).

#[path = "../../streams-core/benches/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{summarize, Ride, Summary};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use streams_core::{
    Consumed, I64Serde, Json, KafkaStreams, KafkaStreamsState, Materialized, Nullable, Produced,
    Serde, StreamsBuilder, StreamsConfig, StringSerde, TimeWindowedSerde, TimeWindows, Topology,
    Window, Windowed,
};
use streams_tests::broker::{workspace_root, TansuBroker};
use streams_tests::kafka::{client_config, consumer_from_beginning_with, create_topic};

const INPUT: &str = "rides";
const OUTPUT: &str = "out";
const PARTITIONS: i32 = 4;
const WINDOW: Duration = Duration::from_secs(60);
/// Linux reports process and thread times in USER_HZ = 100 ticks per second.
const TICK_US: u64 = 10_000;
/// How long a child may take to reach `running`, and to stop and exit.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pipeline {
    Ceiling,
    Stateless,
    Count,
    Window,
}

impl Pipeline {
    const ALL: [Pipeline; 4] = [
        Pipeline::Ceiling,
        Pipeline::Stateless,
        Pipeline::Count,
        Pipeline::Window,
    ];

    fn name(self) -> &'static str {
        match self {
            Pipeline::Ceiling => "ceiling",
            Pipeline::Stateless => "stateless",
            Pipeline::Count => "count",
            Pipeline::Window => "window",
        }
    }

    fn parse(name: &str) -> Result<Pipeline, String> {
        Pipeline::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!("unknown pipeline {name:?}: expected ceiling, stateless, count or window")
            })
    }

    fn describe(self) -> &'static str {
        match self {
            Pipeline::Ceiling => "raw rdkafka consume → parse → produce",
            Pipeline::Stateless => "filter → map_values → to",
            Pipeline::Count => "group_by_key → count",
            Pipeline::Window => "1-min tumbling window count",
        }
    }

    /// Whether each output answers exactly one input (else it carries a running count).
    fn one_to_one(self) -> bool {
        matches!(self, Pipeline::Ceiling | Pipeline::Stateless)
    }
}

fn windows() -> Result<TimeWindows, String> {
    TimeWindows::of_size_with_no_grace(WINDOW).map_err(|e| format!("windows: {e}"))
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a number")),
        _ => Ok(default),
    }
}

/// `STREAMS_CONFIG="key=value,key=value"`: extra settings for the three streams pipelines
/// (e.g. `buffered.records.per.partition=10000`), to see what a setting changes. Its
/// `consumer.*` and `producer.*` keys also apply to the ceiling's clients.
fn streams_overrides() -> Result<Vec<(String, String)>, String> {
    let Ok(list) = std::env::var("STREAMS_CONFIG") else {
        return Ok(Vec::new());
    };
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(format!("STREAMS_CONFIG: {pair:?} is not key=value")),
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.iter().position(|a| a == "--child") {
        Some(i) => match (args.get(i + 1), args.get(i + 2)) {
            (Some(p), Some(b)) => Pipeline::parse(p).and_then(|p| child::run(p, b)),
            _ => Err("usage: --child <pipeline> <bootstrap>".to_string()),
        },
        None => parent::run(),
    };
    if let Err(e) = result {
        eprintln!("kafka_pipeline: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------

/// utime + stime in µs and the command name from a `/proc/.../stat` file.
fn proc_stat(path: &str) -> Result<(String, u64), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let open = text.find('(');
    let close = text.rfind(')');
    let (Some(open), Some(close)) = (open, close) else {
        return Err(format!("{path}: no command name in {text:?}"));
    };
    let comm = text[open + 1..close].to_string();
    // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let tick = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| format!("{path}: field {} missing or not a number", i + 3))
    };
    Ok((comm, (tick(11)? + tick(12)?) * TICK_US))
}

fn cpu_us_of(pid: u32) -> Result<u64, String> {
    proc_stat(&format!("/proc/{pid}/stat")).map(|(_, us)| us)
}

fn self_cpu_us() -> Result<u64, String> {
    proc_stat("/proc/self/stat").map(|(_, us)| us)
}

// ---------------------------------------------------------------------------------------------
// The pipeline process
// ---------------------------------------------------------------------------------------------

mod child {
    use super::*;

    pub fn run(pipeline: Pipeline, bootstrap: &str) -> Result<(), String> {
        let commit = Duration::from_millis(env_num("COMMIT_MS", 1000)?);
        // The parent writes a line (or closes stdin) to stop the pipeline.
        let stop = Arc::new(AtomicBool::new(false));
        let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
        {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                stop.store(true, Ordering::SeqCst);
                let _ = stopped_tx.send(());
            });
        }
        match pipeline {
            Pipeline::Ceiling => ceiling(bootstrap, commit, &stop),
            _ => streams(pipeline, bootstrap, commit, &stopped_rx),
        }
    }

    /// Prints the process's CPU time, its peak RSS and the CPU time of each thread group.
    fn print_stats() -> Result<(), String> {
        let cpu = self_cpu_us()?;
        let status = fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
        let hwm_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmHWM in /proc/self/status")?;
        let mut groups: HashMap<String, u64> = HashMap::new();
        let tasks = fs::read_dir("/proc/self/task")
            .map_err(|e| format!("cannot list /proc/self/task: {e}"))?;
        for task in tasks.flatten() {
            let path = task.path().join("stat");
            // A thread may end between listing and reading: skip it.
            if let Ok((comm, us)) = proc_stat(&path.to_string_lossy()) {
                *groups.entry(thread_group(&comm)).or_default() += us;
            }
        }
        let mut out = std::io::stdout().lock();
        for (name, us) in groups {
            let _ = writeln!(out, "thread\t{name}\t{us}");
        }
        let _ = writeln!(out, "stats\t{cpu}\t{hwm_kb}");
        let _ = out.flush();
        Ok(())
    }

    /// Threads by role: librdkafka's `rdk:broker<id>` threads together, the stream thread, the
    /// process's main thread.
    fn thread_group(comm: &str) -> String {
        // Stream threads are named `<application id>-StreamThread-<n>` (cut to 15 bytes); the
        // application ids here all start with `kb-`.
        if comm.starts_with("kb-") {
            "stream thread".to_string()
        } else if comm.starts_with("kafka_pipeline") {
            "main".to_string()
        } else {
            comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
                .to_string()
        }
    }

    fn topology(pipeline: Pipeline) -> Result<Topology, String> {
        let builder = StreamsBuilder::new();
        let rides = builder.stream(INPUT, Consumed::with(StringSerde, Json::<Ride>::new()));
        match pipeline {
            Pipeline::Stateless => rides
                .filter(|_, r| r.trip_distance > 0.0)
                .map_values(summarize)
                .to(OUTPUT, Produced::with(StringSerde, Json::<Summary>::new())),
            Pipeline::Count => rides
                .group_by_key()
                .count(Materialized::named("counts"))
                .to_stream()
                .to(OUTPUT, Produced::with(StringSerde, Nullable(I64Serde))),
            Pipeline::Window => {
                let windows = windows()?;
                rides
                    .group_by_key()
                    .windowed_by(windows)
                    .count(Materialized::named("rides-per-minute"))
                    .to_stream()
                    .to(
                        OUTPUT,
                        Produced::with(
                            TimeWindowedSerde::for_windows(StringSerde, &windows),
                            Nullable(I64Serde),
                        ),
                    )
            }
            Pipeline::Ceiling => return Err("the ceiling is no topology".to_string()),
        }
        builder.build().map_err(|e| format!("topology: {e}"))
    }

    fn streams(
        pipeline: Pipeline,
        bootstrap: &str,
        commit: Duration,
        stopped: &Receiver<()>,
    ) -> Result<(), String> {
        let app = format!("kb-{}", pipeline.name());
        let state_dir = std::env::temp_dir().join(format!("{app}-state-{}", std::process::id()));
        let mut config = StreamsConfig::new(app.as_str())
            .with("bootstrap.servers", bootstrap)
            .with("state.dir", state_dir.to_string_lossy())
            .with("commit.interval.ms", commit.as_millis().to_string());
        for (key, value) in streams_overrides()? {
            config.set(key, value);
        }
        let mut streams =
            KafkaStreams::new(topology(pipeline)?, config).map_err(|e| format!("{app}: {e}"))?;
        streams.start().map_err(|e| format!("{app}: start: {e}"))?;
        if !streams.wait_for_state(KafkaStreamsState::Running, CHILD_TIMEOUT) {
            return Err(format!(
                "{app}: not RUNNING within {CHILD_TIMEOUT:?} (state {:?})",
                streams.state()
            ));
        }
        println!("running");
        // Wait for the parent's stop, but fail if the pipeline dies meanwhile.
        loop {
            match stopped.recv_timeout(Duration::from_millis(200)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let state = streams.state();
                    if matches!(
                        state,
                        KafkaStreamsState::Error | KafkaStreamsState::NotRunning
                    ) {
                        return Err(format!("{app}: the pipeline stopped (state {state:?})"));
                    }
                }
            }
        }
        print_stats()?;
        let closed = streams.close(Duration::from_secs(60));
        let _ = fs::remove_dir_all(&state_dir);
        closed.map_err(|e| format!("{app}: close: {e}"))
    }

    /// Prints `running` at the first assignment that holds partitions.
    #[derive(Default)]
    struct Announce {
        announced: AtomicBool,
    }

    impl ClientContext for Announce {}

    impl ConsumerContext for Announce {
        fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
            if let Rebalance::Assign(tpl) = rebalance {
                if tpl.count() > 0 && !self.announced.swap(true, Ordering::SeqCst) {
                    println!("running");
                }
            }
        }
    }

    /// The ceiling: what any consume → produce service does, with the client settings
    /// `KafkaStreams` uses, and at-least-once commits (flush the producer, then commit the
    /// consumed offsets) every commit interval.
    fn ceiling(bootstrap: &str, commit: Duration, stop: &AtomicBool) -> Result<(), String> {
        let mut consumer_config = client_config(bootstrap);
        consumer_config
            .set("group.id", "kb-ceiling")
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "range")
            .set("log_level", "4");
        let mut producer_config = ClientConfig::new();
        producer_config
            .set("bootstrap.servers", bootstrap)
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("partitioner", "murmur2_random")
            .set("log_level", "4");
        // The client overrides of STREAMS_CONFIG apply here too, so the comparison stays fair.
        for (key, value) in streams_overrides()? {
            if let Some(key) = key.strip_prefix("consumer.") {
                consumer_config.set(key, value);
            } else if let Some(key) = key.strip_prefix("producer.") {
                producer_config.set(key, value);
            }
        }
        let consumer: BaseConsumer<Announce> = consumer_config
            .create_with_context(Announce::default())
            .map_err(|e| format!("ceiling: consumer: {e}"))?;
        consumer
            .subscribe(&[INPUT])
            .map_err(|e| format!("ceiling: subscribe to {INPUT}: {e}"))?;
        let producer: BaseProducer = producer_config
            .create()
            .map_err(|e| format!("ceiling: producer: {e}"))?;
        let mut last_commit = Instant::now();
        let mut uncommitted = false;
        while !stop.load(Ordering::Relaxed) {
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Ok(m)) => {
                    let value = m.payload().unwrap_or_default();
                    let ride: Ride = serde_json::from_slice(value).map_err(|e| {
                        format!(
                            "ceiling: ride at {INPUT}/{}@{} is not JSON: {e}",
                            m.partition(),
                            m.offset()
                        )
                    })?;
                    std::hint::black_box(&ride);
                    let mut record = BaseRecord::<[u8], [u8]>::to(OUTPUT).payload(value);
                    if let Some(key) = m.key() {
                        record = record.key(key);
                    }
                    if let Some(ts) = m.timestamp().to_millis() {
                        record = record.timestamp(ts);
                    }
                    send(&producer, record, "ceiling")?;
                    uncommitted = true;
                }
                Some(Err(e)) => eprintln!("ceiling: consumer: {e}"),
            }
            producer.poll(Duration::ZERO);
            if uncommitted && last_commit.elapsed() >= commit {
                producer
                    .flush(Duration::from_secs(60))
                    .map_err(|e| format!("ceiling: flush: {e}"))?;
                consumer
                    .commit_consumer_state(CommitMode::Async)
                    .map_err(|e| format!("ceiling: commit: {e}"))?;
                last_commit = Instant::now();
                uncommitted = false;
            }
        }
        print_stats()?;
        producer
            .flush(Duration::from_secs(60))
            .map_err(|e| format!("ceiling: flush: {e}"))
    }
}

/// Sends `record`, serving delivery reports while the producer's queue is full (bounded).
fn send<C: ProducerContext>(
    producer: &BaseProducer<C>,
    mut record: BaseRecord<'_, [u8], [u8], C::DeliveryOpaque>,
    who: &str,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                if Instant::now() >= deadline {
                    return Err(format!("{who}: the producer queue stayed full for 60 s"));
                }
                record = back;
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(format!("{who}: send: {e}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark driver
// ---------------------------------------------------------------------------------------------

mod parent {
    use super::*;

    type Rides = Vec<(Vec<u8>, Vec<u8>, i64)>;

    /// Counts failed deliveries (a lost input would otherwise only show as a timeout).
    #[derive(Default)]
    struct Failures(AtomicU64);

    impl ClientContext for Failures {}

    impl ProducerContext for Failures {
        type DeliveryOpaque = ();
        fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
            if let Err((e, _)) = result {
                if self.0.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("kafka_pipeline: delivery failed: {e}");
                }
            }
        }
    }

    /// When each input ride was handed to `send()`, in ns since `base` plus one (0 = not yet).
    struct SentTimes {
        base: Instant,
        ns: Vec<AtomicU64>,
    }

    /// Produces `rides` to `INPUT`; with `pace`, at `rate` records/s, noting each send time.
    fn produce(
        bootstrap: &str,
        rides: &[(Vec<u8>, Vec<u8>, i64)],
        pace: Option<(f64, &SentTimes)>,
    ) -> Result<(), String> {
        let producer: BaseProducer<Failures> = client_config(bootstrap)
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .create_with_context(Failures::default())
            .map_err(|e| format!("producer: {e}"))?;
        let start = Instant::now();
        for (i, (key, value, ts)) in rides.iter().enumerate() {
            if let Some((rate, sent)) = pace {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                let now = Instant::now();
                if due > now {
                    producer.poll(Duration::ZERO);
                    thread::sleep(due - now);
                }
                let at = Instant::now().duration_since(sent.base).as_nanos() as u64 + 1;
                sent.ns[i].store(at, Ordering::Release);
            }
            let record = BaseRecord::to(INPUT)
                .key(key.as_slice())
                .payload(value.as_slice())
                .timestamp(*ts);
            send(&producer, record, "input producer")?;
            producer.poll(Duration::ZERO);
        }
        producer
            .flush(Duration::from_secs(120))
            .map_err(|e| format!("input producer: flush: {e}"))?;
        match producer.context().0.load(Ordering::Relaxed) {
            0 => Ok(()),
            n => Err(format!("{n} input records were not delivered")),
        }
    }

    /// The outputs one output key is expected to show.
    struct Group {
        /// Indices (into the rides) of the inputs behind this key's outputs, in order.
        inputs: Vec<u32>,
        /// How many of them the outputs received so far account for.
        seen: usize,
    }

    /// Checks outputs against the expected results, notes when each input became visible.
    struct Tracker {
        pipeline: Pipeline,
        groups: HashMap<Vec<u8>, Group>,
        /// Groups not complete yet.
        remaining: usize,
        outputs: u64,
        sent: Option<Arc<SentTimes>>,
        /// Inputs with a smaller index are the warm-up: no latency noted.
        warmup: usize,
        latencies_ns: Vec<u64>,
    }

    impl Tracker {
        fn new(
            pipeline: Pipeline,
            rides: &[(Vec<u8>, Vec<u8>, i64)],
            sent: Option<Arc<SentTimes>>,
            warmup: usize,
        ) -> Result<Tracker, String> {
            let windows = windows()?;
            let windowed = TimeWindowedSerde::for_windows(StringSerde, &windows);
            let size = windows.size_ms();
            let mut groups: HashMap<Vec<u8>, Group> = HashMap::new();
            for (i, (key, value, ts)) in rides.iter().enumerate() {
                let out_key = match pipeline {
                    Pipeline::Ceiling | Pipeline::Count => key.clone(),
                    Pipeline::Stateless => {
                        let ride: Ride = serde_json::from_slice(value)
                            .map_err(|e| format!("generated ride {i}: {e}"))?;
                        if ride.trip_distance <= 0.0 {
                            continue;
                        }
                        key.clone()
                    }
                    Pipeline::Window => {
                        let start = ts - ts.rem_euclid(size);
                        let key = String::from_utf8(key.clone())
                            .map_err(|e| format!("generated key {i}: {e}"))?;
                        let mut bytes = Vec::new();
                        windowed
                            .serialize(
                                &Windowed::new(key, Window::new(start, start + size)),
                                &mut bytes,
                            )
                            .map_err(|e| format!("windowed key: {e}"))?;
                        bytes
                    }
                };
                groups
                    .entry(out_key)
                    .or_insert_with(|| Group {
                        inputs: Vec::new(),
                        seen: 0,
                    })
                    .inputs
                    .push(i as u32);
            }
            Ok(Tracker {
                pipeline,
                remaining: groups.len(),
                groups,
                outputs: 0,
                sent,
                warmup,
                latencies_ns: Vec::new(),
            })
        }

        fn done(&self) -> bool {
            self.remaining == 0
        }

        /// Accounts for one output record received at `now`.
        fn observe(
            &mut self,
            key: &[u8],
            value: Option<&[u8]>,
            now: Instant,
        ) -> Result<(), String> {
            self.outputs += 1;
            let show = || String::from_utf8_lossy(key).into_owned();
            let group = self
                .groups
                .get_mut(key)
                .ok_or_else(|| format!("output with unexpected key {:?}", show()))?;
            let covered = if self.pipeline.one_to_one() {
                group.seen + 1
            } else {
                let bytes: [u8; 8] = value.and_then(|v| v.try_into().ok()).ok_or_else(|| {
                    format!("count for key {:?} is not an i64: {value:?}", show())
                })?;
                let count = i64::from_be_bytes(bytes);
                usize::try_from(count)
                    .map_err(|_| format!("negative count {count} for key {:?}", show()))?
                    .max(group.seen)
            };
            if covered > group.inputs.len() {
                return Err(format!(
                    "key {:?}: output covers {covered} inputs, only {} were produced",
                    show(),
                    group.inputs.len()
                ));
            }
            if let Some(sent) = &self.sent {
                let now_ns = now.duration_since(sent.base).as_nanos() as u64 + 1;
                for &input in &group.inputs[group.seen..covered] {
                    let input = input as usize;
                    let at = sent.ns[input].load(Ordering::Acquire);
                    if at == 0 {
                        return Err(format!("output for input {input} before it was sent"));
                    }
                    if input >= self.warmup {
                        self.latencies_ns.push(now_ns.saturating_sub(at));
                    }
                }
            }
            if covered == group.inputs.len() && group.seen < covered {
                self.remaining -= 1;
            }
            group.seen = covered;
            Ok(())
        }

        fn missing(&self) -> String {
            let incomplete: Vec<String> = self
                .groups
                .iter()
                .filter(|(_, g)| g.seen < g.inputs.len())
                .take(5)
                .map(|(k, g)| {
                    format!(
                        "{:?}: {} of {}",
                        String::from_utf8_lossy(k),
                        g.seen,
                        g.inputs.len()
                    )
                })
                .collect();
            format!(
                "{} of {} output keys incomplete after {} outputs, e.g. {}",
                self.remaining,
                self.groups.len(),
                self.outputs,
                incomplete.join(", ")
            )
        }
    }

    /// A running pipeline process and the lines it printed, with the time each arrived.
    struct ChildProc {
        child: Child,
        stdin: Option<ChildStdin>,
        lines: Receiver<(Instant, String)>,
        spawned: Instant,
    }

    impl ChildProc {
        fn spawn(pipeline: Pipeline, bootstrap: &str) -> Result<ChildProc, String> {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let spawned = Instant::now();
            let mut child = Command::new(exe)
                .args(["--child", pipeline.name(), bootstrap])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start the {} process: {e}", pipeline.name()))?;
            let stdout = child.stdout.take().ok_or("child without stdout")?;
            let stdin = child.stdin.take();
            let (tx, lines) = mpsc::channel();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send((Instant::now(), line)).is_err() {
                        break;
                    }
                }
            });
            Ok(ChildProc {
                child,
                stdin,
                lines,
                spawned,
            })
        }

        /// Waits for the line `running`; returns when it arrived.
        fn wait_running(&mut self) -> Result<Instant, String> {
            let deadline = Instant::now() + CHILD_TIMEOUT;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok((at, line)) if line == "running" => return Ok(at),
                    Ok((_, line)) => eprintln!("pipeline: {line}"),
                    Err(RecvTimeoutError::Timeout) => {
                        return Err(format!("pipeline not running within {CHILD_TIMEOUT:?}"))
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(format!(
                            "the pipeline process exited before running: {:?}",
                            self.child.wait()
                        ))
                    }
                }
            }
        }

        /// Fails if the process has exited (it only exits when told to, or on an error).
        fn check_alive(&mut self) -> Result<(), String> {
            match self.child.try_wait() {
                Ok(Some(status)) => Err(format!("the pipeline process exited: {status}")),
                Ok(None) => Ok(()),
                Err(e) => Err(format!("cannot check on the pipeline process: {e}")),
            }
        }

        /// Tells the process to stop; returns its CPU µs, VmHWM kB and CPU µs per thread group.
        fn stop(mut self) -> Result<ChildStats, String> {
            if let Some(mut stdin) = self.stdin.take() {
                let _ = writeln!(stdin, "stop");
            }
            let deadline = Instant::now() + CHILD_TIMEOUT;
            let mut threads = Vec::new();
            let stats = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok((_, line)) => {
                        let f: Vec<&str> = line.split('\t').collect();
                        match f.as_slice() {
                            ["thread", name, us] => {
                                threads.push((name.to_string(), us.parse().unwrap_or(0)))
                            }
                            ["stats", cpu, hwm] => {
                                break (cpu.parse().unwrap_or(0), hwm.parse().unwrap_or(0))
                            }
                            _ => eprintln!("pipeline: {line}"),
                        }
                    }
                    Err(_) => {
                        let _ = self.child.kill();
                        return Err("the pipeline process did not report its stats".into());
                    }
                }
            };
            // Closing may take a while (commit, leave the group); bound it.
            let deadline = Instant::now() + CHILD_TIMEOUT;
            loop {
                match self.child.try_wait() {
                    Ok(Some(status)) if status.success() => break,
                    Ok(Some(status)) => {
                        return Err(format!("the pipeline process failed: {status}"))
                    }
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        return Err("the pipeline process did not exit after stop".into());
                    }
                }
            }
            threads.sort_by_key(|t: &(String, u64)| std::cmp::Reverse(t.1));
            Ok(ChildStats {
                cpu_us: stats.0,
                hwm_kb: stats.1,
                threads,
            })
        }
    }

    impl Drop for ChildProc {
        fn drop(&mut self) {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }

    struct ChildStats {
        cpu_us: u64,
        hwm_kb: u64,
        threads: Vec<(String, u64)>,
    }

    /// Reads `OUTPUT` until `tracker` has every expected output; returns when the last arrived.
    fn observe(
        bootstrap: &str,
        tracker: &mut Tracker,
        child: &mut ChildProc,
        timeout: Duration,
    ) -> Result<Instant, String> {
        let (consumer, _) =
            consumer_from_beginning_with(bootstrap, OUTPUT, &[("fetch.wait.max.ms", "5")])?;
        let deadline = Instant::now() + timeout;
        let mut checked = Instant::now();
        loop {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let now = Instant::now();
                    tracker.observe(m.key().unwrap_or_default(), m.payload(), now)?;
                    if tracker.done() {
                        return Ok(now);
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) | None => {}
                Some(Err(e)) => eprintln!("observer: {e}"),
            }
            if checked.elapsed() >= Duration::from_millis(200) {
                checked = Instant::now();
                child.check_alive()?;
                if checked >= deadline {
                    return Err(format!(
                        "timed out after {timeout:?}: {}",
                        tracker.missing()
                    ));
                }
            }
        }
    }

    fn fresh_broker() -> Result<TansuBroker, String> {
        let broker = TansuBroker::start()?;
        create_topic(&broker.bootstrap(), INPUT, PARTITIONS)?;
        create_topic(&broker.bootstrap(), OUTPUT, PARTITIONS)?;
        Ok(broker)
    }

    struct Row {
        pipeline: Pipeline,
        records: usize,
        outputs: u64,
        startup: Duration,
        processing: Duration,
        total: Duration,
        child: ChildStats,
        broker_cpu_us: u64,
        observer_cpu_us: u64,
        latency: Option<Latency>,
    }

    struct Latency {
        p50: Duration,
        p99: Duration,
        max: Duration,
        samples: usize,
    }

    fn throughput(pipeline: Pipeline, rides: &Rides, timeout: Duration) -> Result<Row, String> {
        let broker = fresh_broker()?;
        let b = broker.bootstrap();
        let t = Instant::now();
        produce(&b, rides, None)?;
        eprintln!(
            "  {}: {} rides produced in {:.1} s",
            pipeline.name(),
            rides.len(),
            t.elapsed().as_secs_f64()
        );
        let mut tracker = Tracker::new(pipeline, rides, None, 0)?;
        let broker0 = cpu_us_of(broker.pid())?;
        let observer0 = self_cpu_us()?;
        let mut child = ChildProc::spawn(pipeline, &b)?;
        let running = child.wait_running()?;
        let last = observe(&b, &mut tracker, &mut child, timeout)?;
        let broker_cpu_us = cpu_us_of(broker.pid())? - broker0;
        let observer_cpu_us = self_cpu_us()? - observer0;
        let spawned = child.spawned;
        let stats = child.stop()?;
        Ok(Row {
            pipeline,
            records: rides.len(),
            outputs: tracker.outputs,
            startup: running - spawned,
            processing: last - running,
            total: last - spawned,
            child: stats,
            broker_cpu_us,
            observer_cpu_us,
            latency: None,
        })
    }

    fn latency(
        pipeline: Pipeline,
        rides: &[(Vec<u8>, Vec<u8>, i64)],
        rate: f64,
        timeout: Duration,
    ) -> Result<Latency, String> {
        let broker = fresh_broker()?;
        let b = broker.bootstrap();
        let sent = Arc::new(SentTimes {
            base: Instant::now(),
            ns: (0..rides.len()).map(|_| AtomicU64::new(0)).collect(),
        });
        let warmup = (rate as usize).min(rides.len() / 2);
        let mut tracker = Tracker::new(pipeline, rides, Some(sent.clone()), warmup)?;
        let mut child = ChildProc::spawn(pipeline, &b)?;
        child.wait_running()?;
        let (produced, observed) = thread::scope(|scope| {
            let producer = scope.spawn(|| produce(&b, rides, Some((rate, &sent))));
            let observed = observe(&b, &mut tracker, &mut child, timeout);
            let produced = producer
                .join()
                .unwrap_or_else(|_| Err("the paced producer panicked".to_string()));
            (produced, observed)
        });
        produced?;
        observed?;
        child.stop()?;
        let mut l = std::mem::take(&mut tracker.latencies_ns);
        if l.is_empty() {
            return Err("no latency samples".into());
        }
        l.sort_unstable();
        let at = |q: f64| Duration::from_nanos(l[((l.len() - 1) as f64 * q).round() as usize]);
        Ok(Latency {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            samples: l.len(),
        })
    }

    pub fn run() -> Result<(), String> {
        let n: usize = env_num("RIDES", 1_000_000)?;
        let rate: f64 = env_num("LATENCY_RATE", 10_000.0)?;
        let secs: f64 = env_num("LATENCY_SECS", 10.0)?;
        let commit_ms: u64 = env_num("COMMIT_MS", 1000)?;
        let timeout = Duration::from_secs(env_num("TIMEOUT_SECS", 600)?);
        let pipelines = match std::env::var("PIPELINES") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|p| Pipeline::parse(p.trim()))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Pipeline::ALL.to_vec(),
        };
        if n == 0 || rate <= 0.0 || secs <= 0.0 {
            return Err("RIDES, LATENCY_RATE and LATENCY_SECS must be positive".into());
        }
        let latency_n = ((rate * secs) as usize).clamp(1, n);
        eprintln!(
            "kafka_pipeline: {n} rides, latency run {latency_n} rides at {rate} records/s, \
             commit.interval.ms={commit_ms}"
        );
        let load_before = load_average();
        let rides = common::generate(n);

        let mut rows = Vec::new();
        for pipeline in pipelines {
            eprintln!(
                "kafka_pipeline: {} ({})",
                pipeline.name(),
                pipeline.describe()
            );
            let mut row = throughput(pipeline, &rides, timeout)?;
            eprintln!(
                "  {}: {:.0} records/s processing, {:.0} incl. start-up",
                pipeline.name(),
                n as f64 / row.processing.as_secs_f64(),
                n as f64 / row.total.as_secs_f64()
            );
            row.latency = Some(latency(pipeline, &rides[..latency_n], rate, timeout)?);
            rows.push(row);
        }

        let load = format!("{load_before} before, {} after", load_average());
        let report = report(&rows, n, rate, latency_n, commit_ms, &load);
        println!("{report}");
        if std::env::var("BENCH_WRITE_DOCS").is_ok_and(|v| v == "1") {
            let path = workspace_root().join("docs").join("benchmarks.md");
            let mut file = fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            writeln!(file, "\n{report}")
                .map_err(|e| format!("cannot append to {}: {e}", path.display()))?;
            eprintln!("kafka_pipeline: appended the results to {}", path.display());
        }
        Ok(())
    }

    fn machine() -> String {
        let model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cpus = thread::available_parallelism().map_or(0, |n| n.get());
        format!("{cpus} × {model}")
    }

    fn command_output(cmd: &str, args: &[&str]) -> String {
        Command::new(cmd)
            .args(args)
            .current_dir(workspace_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// The 1-minute load average: other work on the machine skews every number.
    fn load_average() -> String {
        fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    }

    fn report(
        rows: &[Row],
        n: usize,
        rate: f64,
        latency_n: usize,
        commit_ms: u64,
        load: &str,
    ) -> String {
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        let per = |us: u64, r: &Row| format!("{:.2}", us as f64 / r.records as f64);
        let ceiling = rows
            .iter()
            .find(|r| r.pipeline == Pipeline::Ceiling)
            .map(|r| r.records as f64 / r.processing.as_secs_f64());
        let mut s = String::new();
        s += &format!(
            "#### Kafka pipelines, {} (`kafka_pipeline`)\n\n",
            command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
        );
        s += &format!(
            "Machine: {}; commit `{}`; command: `{}RIDES={n} cargo bench -p streams-tests \
             --bench kafka_pipeline`; commit.interval.ms={commit_ms}; latency run: {latency_n} \
             rides at {rate} records/s (first second left out); load average {load}.\n\n",
            machine(),
            command_output("git", &["rev-parse", "--short", "HEAD"]),
            std::env::var("STREAMS_CONFIG")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map_or(String::new(), |v| format!("STREAMS_CONFIG={v} ")),
        );
        s += "| Pipeline | Records/s (running → last output) | % of ceiling | Records/s (spawn → last output) | Start-up s | Outputs | CPU µs/rec pipeline process | CPU µs/rec broker | CPU µs/rec observer | Peak RSS MiB | Latency p50 ms | p99 ms | max ms |\n";
        s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
        for r in rows {
            let rps = r.records as f64 / r.processing.as_secs_f64();
            let (p50, p99, max) = match &r.latency {
                Some(l) => (ms(l.p50), ms(l.p99), ms(l.max)),
                None => ("–".into(), "–".into(), "–".into()),
            };
            s += &format!(
                "| {} ({}) | {:.0} | {} | {:.0} | {:.2} | {} | {} | {} | {} | {:.0} | {p50} | {p99} | {max} |\n",
                r.pipeline.name(),
                r.pipeline.describe(),
                rps,
                ceiling.map_or("–".into(), |c| format!("{:.0}%", 100.0 * rps / c)),
                r.records as f64 / r.total.as_secs_f64(),
                r.startup.as_secs_f64(),
                r.outputs,
                per(r.child.cpu_us, r),
                per(r.broker_cpu_us, r),
                per(r.observer_cpu_us, r),
                r.child.hwm_kb as f64 / 1024.0,
            );
        }
        let samples: Vec<String> = rows
            .iter()
            .filter_map(|r| {
                Some(format!(
                    "{} {}",
                    r.pipeline.name(),
                    r.latency.as_ref()?.samples
                ))
            })
            .collect();
        s += &format!(
            "\nLatency samples (rides after the warm-up): {}.\n",
            samples.join(", ")
        );
        s += "\nCPU µs per record of the pipeline process by thread (utime + stime; `rdk:*` are librdkafka's threads):\n\n";
        for r in rows {
            let parts: Vec<String> = r
                .child
                .threads
                .iter()
                .filter(|(_, us)| *us > 0)
                .map(|(name, us)| format!("{name} {}", per(*us, r)))
                .collect();
            s += &format!("- {}: {}\n", r.pipeline.name(), parts.join(", "));
        }
        if let Some(c) = ceiling {
            s += "\nGoals (records/s over the processing phase, against the ceiling):\n\n";
            for (p, goal) in [
                (Pipeline::Stateless, 90.0),
                (Pipeline::Count, 60.0),
                (Pipeline::Window, 50.0),
            ] {
                if let Some(r) = rows.iter().find(|r| r.pipeline == p) {
                    let pct = 100.0 * r.records as f64 / r.processing.as_secs_f64() / c;
                    s += &format!(
                        "- {} ≥ {goal:.0}%: {pct:.1}%, {}\n",
                        p.name(),
                        if pct >= goal { "met" } else { "NOT met" }
                    );
                }
            }
        }
        s
    }
}
