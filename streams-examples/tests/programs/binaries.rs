//! The example programs as users run them: the real binaries against an embedded cluster
//! (hosted by this test process, or by `produce-rides` itself) and against Tansu, checking the
//! CONTENT of the topics they write against results computed here from `data/rides.csv`.
//!
//! Tansu is found as in `tests/` (`TANSU_BIN`, else `target/tansu/tansu`; `make tansu`
//! installs it). Every wait is bounded and fails with what the program printed so far.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{csv_counts, csv_rides, simulate, MINUTE};
use streams_core::{EmbeddedCluster, Serde, StringSerde, TimeWindowedSerde};
use streams_examples::{CountReader, GeneratorConfig, Ride, RideGenerator};
use streams_tests::broker::TansuBroker;
use streams_tests::kafka::{consume_all, create_topic, produce_all, ConsumedRecord};

const PRODUCE: &str = env!("CARGO_BIN_EXE_produce-rides");
const CONSUME: &str = env!("CARGO_BIN_EXE_consume");
const COUNT: &str = env!("CARGO_BIN_EXE_ride-count-by-location");
const WINDOWED: &str = env!("CARGO_BIN_EXE_ride-count-windowed");
const JOIN: &str = env!("CARGO_BIN_EXE_rides-join-pickups");
const ENRICH: &str = env!("CARGO_BIN_EXE_rides-enrich-zones");

const WAIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Running programs
// ---------------------------------------------------------------------------------------------

/// A running example program whose stdout and stderr are collected line by line. Killed on
/// drop if still running.
struct Program {
    name: String,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn collect(pipe: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(l) => sink.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    lines
}

impl Program {
    fn start(bin: &str, args: &[&str]) -> Program {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Program {
            name: PathBuf::from(bin)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            child,
            stdout,
            stderr,
        }
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    fn output(&self) -> String {
        format!(
            "--- {} stdout:\n{}\n--- stderr:\n{}",
            self.name,
            self.stdout().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }

    /// Waits until `done(stdout lines)` holds; panics after `timeout` or if the program exits.
    fn wait_for<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[String]) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(t) = done(&self.stdout()) {
                return t;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                if let Some(t) = done(&self.stdout()) {
                    return t;
                }
                panic!(
                    "{} exited ({status}) before {what}\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                start.elapsed() < timeout,
                "{} did not print {what} within {timeout:?}\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the program to exit by itself.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipes close at exit: give the readers a moment for the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "{} still running after {timeout:?}\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (what Ctrl-C does), then waits for a graceful exit.
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
        self.wait_exit(Duration::from_secs(90))
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a program to its end; panics unless it succeeds.
fn run_ok(bin: &str, args: &[&str]) -> Program {
    let mut p = Program::start(bin, args);
    let status = p.wait_exit(WAIT);
    assert!(
        status.success(),
        "{} failed: {status}\n{}",
        p.name,
        p.output()
    );
    p
}

/// A fresh directory under the system temp dir, deleted on drop (kept when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("examples-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------------------------

/// Where the programs run against: an embedded cluster in this test process, or Tansu.
enum Cluster {
    Embedded(EmbeddedCluster),
    Tansu(TansuBroker),
}

impl Cluster {
    fn embedded() -> Cluster {
        Cluster::Embedded(EmbeddedCluster::start(1).unwrap())
    }

    fn tansu() -> Cluster {
        Cluster::Tansu(TansuBroker::start().unwrap_or_else(|e| panic!("{e}")))
    }

    fn bootstrap(&self) -> String {
        match self {
            Cluster::Embedded(c) => c.bootstrap_servers().to_string(),
            Cluster::Tansu(t) => t.bootstrap(),
        }
    }

    fn create_topic(&self, name: &str, partitions: i32) {
        match self {
            Cluster::Embedded(c) => c.create_topic(name, partitions).unwrap(),
            Cluster::Tansu(t) => create_topic(&t.bootstrap(), name, partitions).unwrap(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// The partitions of `records` in offset order, checking that each key stays on one partition.
fn by_partition(records: &[ConsumedRecord]) -> BTreeMap<i32, Vec<ConsumedRecord>> {
    let mut parts: BTreeMap<i32, Vec<ConsumedRecord>> = BTreeMap::new();
    let mut home: HashMap<Option<Vec<u8>>, i32> = HashMap::new();
    for r in records {
        if r.key.is_some() {
            let p = *home.entry(r.key.clone()).or_insert(r.partition);
            assert_eq!(p, r.partition, "key {:?} on two partitions", r.key);
        }
        parts.entry(r.partition).or_default().push(r.clone());
    }
    for list in parts.values_mut() {
        list.sort_by_key(|r| r.offset);
    }
    parts
}

/// Checks that `topic` holds exactly the rows of `data/rides.csv` as JSON rides keyed by
/// `key_column`, with the pickup time as timestamp, in file order within each partition.
fn assert_topic_has_the_csv_rides(bootstrap: &str, topic: &str, key_column: &str) {
    let rows = csv_rides();
    assert_eq!(rows.len(), 266);
    let records = consume_all(bootstrap, topic, rows.len(), WAIT).unwrap();
    assert_eq!(records.len(), rows.len(), "records in `{topic}`");
    let parts = by_partition(&records);
    let partition_of: HashMap<Vec<u8>, i32> = records
        .iter()
        .map(|r| (r.key.clone().unwrap(), r.partition))
        .collect();
    for (partition, got) in parts {
        let expected: Vec<_> = rows
            .iter()
            .filter(|row| partition_of[row.get(key_column).as_bytes()] == partition)
            .collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "records in partition {partition}"
        );
        for (record, row) in got.iter().zip(expected) {
            assert_eq!(
                record.key.as_deref(),
                Some(row.get(key_column).as_bytes()),
                "key of line {}",
                row.line
            );
            assert_eq!(
                record.timestamp,
                Some(row.pickup_ms()),
                "timestamp of line {}",
                row.line
            );
            let json: serde_json::Value =
                serde_json::from_slice(record.value.as_deref().unwrap()).unwrap();
            row.assert_json_matches(&json);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// produce-rides
// ---------------------------------------------------------------------------------------------

#[test]
fn produce_rides_serves_its_embedded_cluster_until_terminated() {
    let dir = TempDir::new("serve");
    let address_file = dir.join("address");
    let mut p = Program::start(PRODUCE, &["--address-file", address_file.to_str().unwrap()]);
    let bootstrap = p.wait_for("the cluster address", WAIT, |lines| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix("bootstrap.servers=").map(str::to_string))
    });
    p.wait_for("that it serves", WAIT, |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("serving the embedded cluster"))
            .then_some(())
    });
    assert_eq!(
        std::fs::read_to_string(&address_file).unwrap(),
        format!("{bootstrap}\n")
    );
    let summary = p
        .stdout()
        .into_iter()
        .find(|l| l.contains("acknowledged"))
        .unwrap();
    assert!(
        summary.starts_with("266 records (") && summary.ends_with("; 0 bad rows skipped"),
        "{summary}"
    );
    assert_topic_has_the_csv_rides(&bootstrap, "rides", "PULocationID");
    let status = p.terminate();
    assert!(status.success(), "{status}\n{}", p.output());
    assert_eq!(
        p.stdout().last().map(String::as_str),
        Some("stopping the embedded cluster")
    );
}

#[test]
fn produce_rides_creates_the_topic_on_tansu_and_skips_bad_rows() {
    let cluster = Cluster::tansu();
    let b = cluster.bootstrap();
    let dir = TempDir::new("bad-rows");
    let file = dir.join("rides.csv");
    let csv = std::fs::read_to_string(streams_examples::data_dir().join("rides.csv")).unwrap();
    let mut lines: Vec<&str> = csv.lines().take(6).collect();
    // Line 3 loses a field; line 5 gets a date-time the course format does not accept.
    let short = lines[2].rsplit_once(',').unwrap().0.to_string();
    let iso = lines[4].replacen(' ', "T", 1);
    lines[2] = &short;
    lines[4] = &iso;
    std::fs::write(&file, lines.join("\n")).unwrap();
    let p = run_ok(
        PRODUCE,
        &[
            "--bootstrap-servers",
            &b,
            "--file",
            file.to_str().unwrap(),
            "--topic",
            "dropoffs",
            "--key",
            "DOLocationID",
            "--partitions",
            "3",
        ],
    );
    let out = p.stdout();
    assert_eq!(
        out[0],
        format!("Kafka cluster at {b}, topic `dropoffs` with 3 partitions")
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("3 records (") && l.ends_with("; 2 bad rows skipped")),
        "{}",
        p.output()
    );
    let stderr = p.stderr.lock().unwrap().join("\n");
    assert!(
        stderr.contains("rides.csv:3: bad ride row: the row has 17 fields, the header has 18"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rides.csv:5: bad ride row: `2020-07-01T00:30:49` is not a date-time"),
        "{stderr}"
    );
    assert_eq!(
        streams_examples::topic_partitions(&b, "dropoffs").unwrap(),
        Some(3)
    );

    // Lines 2, 4 and 6 of data/rides.csv, keyed by their drop-off zone.
    let rows = csv_rides();
    let expected = [&rows[0], &rows[2], &rows[4]];
    let records = consume_all(&b, "dropoffs", 3, WAIT).unwrap();
    assert_eq!(records.len(), 3);
    for row in expected {
        let record = records
            .iter()
            .find(|r| r.timestamp == Some(row.pickup_ms()))
            .unwrap_or_else(|| panic!("line {} missing: {records:?}", row.line));
        assert_eq!(
            record.key.as_deref(),
            Some(row.get("DOLocationID").as_bytes())
        );
        row.assert_json_matches(&serde_json::from_slice(record.value.as_deref().unwrap()).unwrap());
    }
}

#[test]
fn produce_rides_generates_a_skewed_stream_on_tansu() {
    let cluster = Cluster::tansu();
    let b = cluster.bootstrap();
    let p = run_ok(
        PRODUCE,
        &[
            "--bootstrap-servers",
            &b,
            "--generate",
            "3000",
            "--seed",
            "9",
            "--rate",
            "0",
            "-q",
        ],
    );
    assert!(
        p.stdout().iter().any(|l| l.starts_with("3000 records (")),
        "{}",
        p.output()
    );
    let config = GeneratorConfig {
        seed: 9,
        ..GeneratorConfig::default()
    };
    let generated: Vec<Ride> = RideGenerator::new(&config).take(3000).collect();
    let records = consume_all(&b, "rides", 3000, WAIT).unwrap();
    assert_eq!(records.len(), 3000);
    let parts = by_partition(&records);
    assert_eq!(parts.len(), 2, "the topic was created with 2 partitions");
    for (partition, got) in parts {
        let keys: Vec<String> = got
            .iter()
            .map(|r| String::from_utf8(r.key.clone().unwrap()).unwrap())
            .collect();
        let expected: Vec<&Ride> = generated
            .iter()
            .filter(|r| keys.contains(&r.pickup_location_key()))
            .collect();
        assert_eq!(got.len(), expected.len(), "partition {partition}");
        for (record, ride) in got.iter().zip(expected) {
            let value: Ride = serde_json::from_slice(record.value.as_deref().unwrap()).unwrap();
            assert_eq!(&value, ride);
            assert_eq!(record.timestamp, Some(ride.pickup_millis()));
            assert_eq!(
                record.key.as_deref(),
                Some(ride.pickup_location_key().as_bytes())
            );
        }
    }
    // Zipf-like: zone 237 is the busiest, with about 16% of 3000 rides.
    let in_237 = records
        .iter()
        .filter(|r| r.key.as_deref() == Some(b"237"))
        .count();
    assert!((400..=600).contains(&in_237), "zone 237 has {in_237} rides");
}

// ---------------------------------------------------------------------------------------------
// consume
// ---------------------------------------------------------------------------------------------

#[test]
fn consume_prints_counts_json_and_windowed_keys() {
    let cluster = Cluster::embedded();
    let b = cluster.bootstrap();
    cluster.create_topic("mixed", 1);
    let ride = br#"{"PULocationID":238}"#.to_vec();
    produce_all(
        &b,
        "mixed",
        &[
            (Some(b"238".to_vec()), Some(ride), 1_593_563_132_000),
            (None, Some(b"plain text".to_vec()), 1_593_563_133_000),
            (
                Some(b"75".to_vec()),
                Some(42i64.to_be_bytes().to_vec()),
                1_593_563_134_500,
            ),
            (Some(b"75".to_vec()), None, 1_593_563_135_000),
        ],
    )
    .unwrap();
    let p = run_ok(
        CONSUME,
        &[
            "--bootstrap-servers",
            &b,
            "--topic",
            "mixed",
            "--from-beginning",
            "--max",
            "4",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(
        p.stdout(),
        [
            r#"partition=0 offset=0 timestamp=2020-07-01T00:25:32.000Z key=238 value={"PULocationID":238}"#,
            "partition=0 offset=1 timestamp=2020-07-01T00:25:33.000Z key=null value=plain text",
            "partition=0 offset=2 timestamp=2020-07-01T00:25:34.500Z key=75 value=42",
            "partition=0 offset=3 timestamp=2020-07-01T00:25:35.000Z key=75 value=null",
        ]
    );
    assert_eq!(
        p.stderr.lock().unwrap().last().map(String::as_str),
        Some("Processed a total of 4 messages (reached --max)")
    );

    // Windowed keys as the windowed example writes them, as JSON lines; stops when idle.
    cluster.create_topic("windowed", 1);
    let serde = TimeWindowedSerde::new(StringSerde, MINUTE);
    let mut key = Vec::new();
    serde
        .serialize(
            &streams_core::Windowed::new(
                "138".to_string(),
                streams_core::Window::new(1_593_561_780_000, 1_593_561_840_000),
            ),
            &mut key,
        )
        .unwrap();
    produce_all(
        &b,
        "windowed",
        &[(
            Some(key),
            Some(3i64.to_be_bytes().to_vec()),
            1_593_561_799_000,
        )],
    )
    .unwrap();
    let p = run_ok(
        CONSUME,
        &[
            "--bootstrap-servers",
            &b,
            "--topic",
            "windowed",
            "--from-beginning",
            "--timeout",
            "2s",
            "--key-format",
            "windowed-string",
            "--value-format",
            "i64",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        p.stdout(),
        [
            r#"{"key":{"end":1593561840000,"key":"138","start":1593561780000},"offset":0,"partition":0,"timestamp":1593561799000,"value":3}"#
        ]
    );
    assert_eq!(
        p.stderr.lock().unwrap().last().map(String::as_str),
        Some("Processed a total of 1 messages (no record within --timeout)")
    );
}

// ---------------------------------------------------------------------------------------------
// ride-count-by-location
// ---------------------------------------------------------------------------------------------

/// Starts a counting program: against Tansu (topics created first), or, with `None`, on the
/// embedded cluster the program hosts itself (its address read from what it prints: a Kafka
/// Streams application in another process cannot use a mock cluster, which has no Admin API
/// for its internal topics). Then produces `data/rides.csv` to it with `produce-rides`.
fn start_app(
    bin: &str,
    tansu: Option<&Cluster>,
    output: &str,
    name: &str,
    extra: &[&str],
) -> (Program, String, TempDir) {
    let state = TempDir::new(name);
    let mut args: Vec<String> = [
        "--application-id",
        name,
        "--state-dir",
        state.path(),
        "--commit-interval-ms",
        "200",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    if let Some(cluster) = tansu {
        cluster.create_topic("rides", 2);
        cluster.create_topic(output, 2);
        args.extend(["--bootstrap-servers".to_string(), cluster.bootstrap()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut app = Program::start(bin, &args);
    let bootstrap = match tansu {
        Some(cluster) => cluster.bootstrap(),
        None => app.wait_for("the embedded cluster's address", WAIT, |lines| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix("bootstrap.servers=").map(str::to_string))
        }),
    };
    run_ok(PRODUCE, &["--bootstrap-servers", &bootstrap, "--quiet"]);
    (app, bootstrap, state)
}

fn ride_count_by_location(tansu: Option<Cluster>, name: &str) {
    let (mut app, b, _state) = start_app(
        COUNT,
        tansu.as_ref(),
        "rides-pulocation-count",
        name,
        &["--top", "5", "--refresh", "200ms"],
    );
    // The output topic: every location's latest count is its number of rides in the CSV.
    let expected = csv_counts();
    let mut reader = CountReader::new(&b, "rides-pulocation-count").unwrap();
    let start = Instant::now();
    while reader.counts().len() != expected.len()
        || expected
            .iter()
            .any(|(k, v)| reader.counts().get(k) != Some(v))
    {
        assert!(
            start.elapsed() < WAIT,
            "counts not exact after {WAIT:?}: {} of {} keys read\n{}",
            reader.counts().len(),
            expected.len(),
            app.output()
        );
        reader.poll(Duration::from_millis(200)).unwrap();
    }

    // The live table (plain prints: stdout is a pipe) ends with the top 5 of all 266 rides.
    let mut top: Vec<(&String, &i64)> = expected.iter().collect();
    top.sort_by(|a, b| {
        b.1.cmp(a.1).then_with(|| {
            a.0.parse::<u32>()
                .unwrap()
                .cmp(&b.0.parse::<u32>().unwrap())
        })
    });
    let header = format!("Top 5 of {} pickup locations (266 rides)", expected.len());
    let rows = app.wait_for("the complete table", WAIT, |lines| {
        let at = lines.iter().rposition(|l| *l == header)?;
        (lines.len() >= at + 7).then(|| lines[at + 2..at + 7].to_vec())
    });
    for (row, (id, count)) in rows.iter().zip(top) {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[1], id.as_str(), "row `{row}`");
        assert_eq!(fields.last().unwrap(), &count.to_string(), "row `{row}`");
    }
    let zones =
        streams_examples::load_zones(&streams_examples::data_dir().join("taxi_zone_lookup.csv"))
            .unwrap();
    let best = zones[&rows[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u32>()
        .unwrap()]
        .clone();
    assert!(rows[0].contains(&best.zone), "zone name in `{}`", rows[0]);

    let status = app.terminate();
    assert!(status.success(), "{status}\n{}", app.output());
    assert_eq!(app.stdout().last().map(String::as_str), Some("closing"));
}

#[test]
fn ride_count_by_location_on_its_embedded_cluster() {
    ride_count_by_location(None, "count-embedded");
}

#[test]
fn ride_count_by_location_on_tansu() {
    ride_count_by_location(Some(Cluster::tansu()), "count-tansu");
}

// ---------------------------------------------------------------------------------------------
// ride-count-windowed
// ---------------------------------------------------------------------------------------------

fn ride_count_windowed(tansu: Option<Cluster>, name: &str) {
    let (mut app, b, _state) = start_app(
        WINDOWED,
        tansu.as_ref(),
        "rides-pulocation-window-count",
        name,
        &["--grace", "1h"],
    );

    // One more ride per partition, a day later, closes every window of the file.
    let rides = consume_all(&b, "rides", 266, WAIT).unwrap();
    let parts = by_partition(&rides);
    let mut sentinels = Vec::new();
    for list in parts.values() {
        let last = list.last().unwrap();
        let mut ride: Ride = serde_json::from_slice(last.value.as_deref().unwrap()).unwrap();
        ride.pickup_datetime += chrono::Duration::days(1);
        sentinels.push((
            last.key.clone(),
            Some(serde_json::to_vec(&ride).unwrap()),
            ride.pickup_millis(),
        ));
    }
    produce_all(&b, "rides", &sentinels).unwrap();

    // Expected: Kafka's rules per task (= input partition), in offset order.
    let all = consume_all(&b, "rides", 266 + sentinels.len(), WAIT).unwrap();
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    let mut dropped = 0;
    for list in by_partition(&all).values() {
        let keyed: Vec<(String, i64)> = list
            .iter()
            .map(|r| {
                (
                    String::from_utf8(r.key.clone().unwrap()).unwrap(),
                    r.timestamp.unwrap(),
                )
            })
            .collect();
        let (results, d) = simulate(&keyed, 3_600_000);
        expected.extend(results);
        dropped += d;
    }
    assert_eq!(
        expected.values().sum::<i64>() + dropped as i64,
        266,
        "the sentinels stay open"
    );

    let output = consume_all(&b, "rides-pulocation-window-count", expected.len(), WAIT).unwrap();
    let serde = TimeWindowedSerde::new(StringSerde, MINUTE);
    let mut got: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for r in &output {
        let key = serde.deserialize(r.key.as_deref().unwrap()).unwrap();
        let count = i64::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap());
        assert_eq!(
            got.insert((key.key.clone(), key.window.start), count),
            None,
            "one result per window: {key}"
        );
    }
    assert_eq!(got, expected);

    // Each final result is printed, with the zone name.
    let printed = app.wait_for("every final result", WAIT, |lines| {
        let windows: Vec<String> = lines
            .iter()
            .filter(|l| l.starts_with("window "))
            .cloned()
            .collect();
        (windows.len() == expected.len()).then_some(windows)
    });
    let ((first_key, first_start), first_count) = expected.iter().next().unwrap();
    let start = chrono::DateTime::from_timestamp_millis(*first_start).unwrap();
    let line_start = format!(
        "window {} - {}  location {first_key:>3}  ",
        start.format("%Y-%m-%d %H:%M"),
        (start + chrono::Duration::minutes(1)).format("%H:%M")
    );
    let line = printed
        .iter()
        .find(|l| l.starts_with(&line_start))
        .unwrap_or_else(|| panic!("no line `{line_start}..` in {printed:#?}"));
    assert!(line.ends_with(&format!(" {first_count}")), "{line}");

    let status = app.terminate();
    assert!(status.success(), "{status}\n{}", app.output());
}

#[test]
fn ride_count_windowed_on_its_embedded_cluster() {
    ride_count_windowed(None, "windowed-embedded");
}

#[test]
fn ride_count_windowed_on_tansu() {
    ride_count_windowed(Some(Cluster::tansu()), "windowed-tansu");
}

// ---------------------------------------------------------------------------------------------
// rides-join-pickups and rides-enrich-zones
// ---------------------------------------------------------------------------------------------

/// The course's rides as the library parses them.
fn course_rides() -> Vec<Ride> {
    streams_examples::load_rides(&streams_examples::data_dir().join("rides.csv")).unwrap()
}

/// Starts a join program that loads the course's data itself: on its own embedded cluster
/// (`None`: address read from what it prints) or on Tansu.
fn start_join_app(bin: &str, tansu: Option<&Cluster>, name: &str) -> (Program, String, TempDir) {
    let state = TempDir::new(name);
    let mut args: Vec<String> = [
        "--application-id",
        name,
        "--state-dir",
        state.path(),
        "--commit-interval-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(cluster) = tansu {
        args.extend([
            "--bootstrap-servers".to_string(),
            cluster.bootstrap(),
            "--load-course-data".to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut app = Program::start(bin, &args);
    let bootstrap = match tansu {
        Some(cluster) => cluster.bootstrap(),
        None => app.wait_for("the embedded cluster's address", WAIT, |lines| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix("bootstrap.servers=").map(str::to_string))
        }),
    };
    (app, bootstrap, state)
}

/// Every (drop-off zone, VendorInfo) the course's join must find in `data/rides.csv`, computed
/// here pair by pair: a ride's drop-off and a pickup in the same zone at most ten minutes
/// apart (the 20-minute window holds them; the data is loaded in time order, so none is late).
fn expected_vendor_infos() -> Vec<(String, streams_examples::VendorInfo)> {
    let rides = course_rides();
    let mut out = Vec::new();
    for ride in &rides {
        for other in &rides {
            let pickup = streams_examples::PickupLocation {
                pu_location_id: other.pu_location_id,
                pickup_datetime: other.pickup_datetime,
            };
            if pickup.pu_location_id == ride.do_location_id {
                if let Some(v) = streams_examples::vendor_info(ride, &pickup) {
                    out.push((ride.do_location_id.to_string(), v));
                }
            }
        }
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out
}

/// Runs a join program (`bin`), waits for its start line, and checks that `topic` holds
/// exactly `expected` (key, JSON value) records, that it printed a line starting with
/// `printed` for each, and that it exits cleanly on SIGTERM.
fn check_join_program<V>(
    bin: &str,
    tansu: Option<Cluster>,
    name: &str,
    (started, topic, printed): (&str, &str, &str),
    expected: Vec<(String, V)>,
) where
    V: serde::de::DeserializeOwned + std::fmt::Debug + PartialEq,
{
    let (mut app, b, _state) = start_join_app(bin, tansu.as_ref(), name);
    app.wait_for("its start line", WAIT, |lines| {
        lines.iter().any(|l| l.starts_with(started)).then_some(())
    });
    let records = consume_all(&b, topic, expected.len(), WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", app.output()));
    let mut got: Vec<(String, V)> = records
        .iter()
        .map(|r| {
            (
                String::from_utf8(r.key.clone().unwrap()).unwrap(),
                serde_json::from_slice(r.value.as_deref().unwrap()).unwrap(),
            )
        })
        .collect();
    got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(
        got, expected,
        "`{topic}` holds exactly the expected records"
    );
    app.wait_for("a line per record", WAIT, |lines| {
        (lines.iter().filter(|l| l.starts_with(printed)).count() == expected.len()).then_some(())
    });
    let status = app.terminate();
    assert!(status.success(), "{status}\n{}", app.output());
}

fn rides_join_pickups(tansu: Option<Cluster>, name: &str) {
    let expected = expected_vendor_infos();
    assert!(
        expected.len() > 20,
        "the course data has matches: {}",
        expected.len()
    );
    check_join_program(
        JOIN,
        tansu,
        name,
        ("joining `", "vendor_info", "match: "),
        expected,
    );
}

#[test]
fn rides_join_pickups_on_its_embedded_cluster() {
    rides_join_pickups(None, "join-embedded");
}

#[test]
fn rides_join_pickups_on_tansu() {
    rides_join_pickups(Some(Cluster::tansu()), "join-tansu");
}

/// Every ride of `data/rides.csv` with its zones and payment type, computed here from the
/// lookup files.
fn expected_enriched() -> Vec<(String, streams_examples::EnrichedRide)> {
    let dir = streams_examples::data_dir();
    let zones = streams_examples::load_zones(&dir.join("taxi_zone_lookup.csv")).unwrap();
    let payments: HashMap<String, String> =
        streams_examples::payment_type_records(&dir.join("payment_type_lookup.csv"))
            .unwrap()
            .into_iter()
            .collect();
    let mut out: Vec<_> = course_rides()
        .iter()
        .map(|r| {
            let mut e = streams_examples::EnrichedRide::new(
                r,
                zones.get(&r.pu_location_id),
                zones.get(&r.do_location_id),
            );
            if let Some(p) = payments.get(&r.payment_type.to_string()) {
                e.payment = p.clone();
            }
            (r.pu_location_id.to_string(), e)
        })
        .collect();
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out
}

fn rides_enrich_zones(tansu: Option<Cluster>, name: &str) {
    check_join_program(
        ENRICH,
        tansu,
        name,
        ("enriching `", "rides-enriched", "ride: "),
        expected_enriched(),
    );
}

#[test]
fn rides_enrich_zones_on_its_embedded_cluster() {
    rides_enrich_zones(None, "enrich-embedded");
}

#[test]
fn rides_enrich_zones_on_tansu() {
    rides_enrich_zones(Some(Cluster::tansu()), "enrich-tansu");
}
