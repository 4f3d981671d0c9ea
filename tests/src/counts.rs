//! The count-by-key workload of the end-to-end and fault tests: generated and course rides,
//! the counting topology, reading counts back, the example application as a child process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use streams_core::*;

use crate::broker::TansuBroker;
use crate::kafka::{client_config, create_topic, ProducerRecord};

pub const INPUT: &str = "rides";

pub const OUTPUT: &str = "rides-pulocation-count";

pub const PARTITIONS: i32 = 4;

/// `n` rides keyed by pickup zone (skewed: 70% in 20 zones), with increasing timestamps.
pub fn rides(n: usize, seed: u64) -> Vec<ProducerRecord> {
    let mut x = seed;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (x >> 33) as u32;
            let zone = if r % 10 < 7 {
                230 + r % 20
            } else {
                1 + r % 265
            };
            (
                Some(zone.to_string().into_bytes()),
                Some(format!("{{\"ride\":{i}}}").into_bytes()),
                1_593_561_600_000 + i as i64 * 100,
            )
        })
        .collect()
}

pub fn reference(records: &[ProducerRecord]) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for (k, _, _) in records {
        let k = String::from_utf8(k.clone().unwrap()).unwrap();
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

pub fn count_topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream(INPUT, Consumed::with(StringSerde, BytesSerde))
        .group_by_key()
        .count(Materialized::named("counts"))
        .to_stream()
        .to(OUTPUT, Produced::with(StringSerde, Nullable(I64Serde)));
    builder.build().unwrap()
}

pub fn temp_state_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streams-e2e-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn config(app: &str, bootstrap: &str, state_dir: &Path) -> StreamsConfig {
    StreamsConfig::new(app)
        .with("bootstrap.servers", bootstrap)
        .with("state.dir", state_dir.to_string_lossy().as_ref())
        .with("commit.interval.ms", "200")
}

/// Reads the output topic from the beginning, keeping each key's latest count, until
/// `done(latest)` holds; fails after `timeout` listing up to ten keys where `ok(expected,
/// got)` does not hold.
pub fn read_counts_until(
    bootstrap: &str,
    expected: &BTreeMap<String, i64>,
    timeout: Duration,
    ok: fn(i64, Option<&i64>) -> bool,
) -> BTreeMap<String, i64> {
    read_counts_with(bootstrap, "read_uncommitted", expected, timeout, ok)
}

/// [`read_counts_until`] with the reader's `isolation.level`.
pub fn read_counts_with(
    bootstrap: &str,
    isolation: &str,
    expected: &BTreeMap<String, i64>,
    timeout: Duration,
    ok: fn(i64, Option<&i64>) -> bool,
) -> BTreeMap<String, i64> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .set("group.id", "e2e-count-reader")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(OUTPUT, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
            let payload = m.payload().unwrap_or_default();
            let bytes: [u8; 8] = payload
                .try_into()
                .unwrap_or_else(|_| panic!("count for key {key} is not an i64: {payload:?}"));
            latest.insert(key, i64::from_be_bytes(bytes));
            if expected.iter().all(|(k, v)| ok(*v, latest.get(k))) {
                return latest;
            }
        }
    }
    let wrong: Vec<_> = expected
        .iter()
        .filter(|(k, v)| !ok(**v, latest.get(*k)))
        .take(10)
        .map(|(k, v)| format!("{k}: expected {v}, got {:?}", latest.get(k)))
        .collect();
    panic!("counts not complete after {timeout:?}; first differences: {wrong:?}");
}

/// Waits until every key's latest count equals `expected` exactly.
pub fn await_counts(bootstrap: &str, expected: &BTreeMap<String, i64>, timeout: Duration) {
    let latest = read_counts_until(bootstrap, expected, timeout, |want, got| got == Some(&want));
    assert_eq!(
        latest.len(),
        expected.len(),
        "no key beyond the expected ones"
    );
}

/// An embedded cluster (one broker) with the input and output topics, and its address.
pub fn embedded_with_topics() -> (std::sync::Arc<EmbeddedCluster>, String) {
    let cluster = std::sync::Arc::new(EmbeddedCluster::start(1).unwrap());
    cluster.create_topic(INPUT, PARTITIONS).unwrap();
    cluster.create_topic(OUTPUT, PARTITIONS).unwrap();
    let b = cluster.bootstrap_servers().to_string();
    (cluster, b)
}

pub fn tansu_with_topics() -> TansuBroker {
    let broker = TansuBroker::start().unwrap();
    create_topic(&broker.bootstrap(), INPUT, PARTITIONS).unwrap();
    create_topic(&broker.bootstrap(), OUTPUT, PARTITIONS).unwrap();
    broker
}

/// The `ride-count-by-location` example binary, built by `cargo test --workspace`.
pub fn app_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("ride-count-by-location");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p streams-examples` (make test does)",
        bin.display()
    );
    bin
}

pub fn spawn_app(bootstrap: &str, state_dir: &Path) -> std::process::Child {
    spawn_app_with(bootstrap, state_dir, "at_least_once")
}

pub fn spawn_app_with(bootstrap: &str, state_dir: &Path, guarantee: &str) -> std::process::Child {
    std::process::Command::new(app_binary())
        .args([
            "--bootstrap-servers",
            bootstrap,
            "--application-id",
            "crash",
            "--input",
            INPUT,
            "--output",
            OUTPUT,
        ])
        .args(["--processing-guarantee", guarantee])
        .args(["--commit-interval-ms", "200", "--state-dir"])
        .arg(state_dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until every key has at least its reference count (at-least-once: counts may exceed
/// it after a crash, never fall short).
pub fn await_at_least(
    bootstrap: &str,
    expected: &BTreeMap<String, i64>,
    timeout: Duration,
) -> BTreeMap<String, i64> {
    read_counts_until(bootstrap, expected, timeout, |want, got| {
        got.is_some_and(|n| *n >= want)
    })
}

/// `n` records of the course's real rides (cycling through `data/rides.csv`, rotated by
/// `shift`), keyed by pickup location, as JSON `Ride`s: what the example application reads.
pub fn course_rides(n: usize, shift: usize) -> Vec<ProducerRecord> {
    let rides =
        streams_examples::load_rides(&streams_examples::data_dir().join("rides.csv")).unwrap();
    (0..n)
        .map(|i| {
            let ride = &rides[(i + shift) % rides.len()];
            (
                Some(ride.pickup_location_key().into_bytes()),
                Some(serde_json::to_vec(ride).unwrap()),
                1_593_561_600_000 + i as i64 * 100,
            )
        })
        .collect()
}

/// Task directories (`<state>/<app>/<task>/`) holding a `.checkpoint` file.
pub fn checkpoints(state_dir: &Path, app: &str) -> Vec<PathBuf> {
    let Ok(tasks) = std::fs::read_dir(state_dir.join(app)) else {
        return Vec::new();
    };
    tasks
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(".checkpoint"))
        .filter(|p| p.exists())
        .collect()
}

pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
