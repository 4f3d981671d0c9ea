//! `make demo`: the course's ride count on the embedded Kafka cluster.
//!
//! Loads `data/rides.csv` into topic `rides` (key = `PULocationID`), runs
//! `group_by_key().count()` with `KafkaStreams`, prints every count change read back from
//! `rides-pulocation-count` as it arrives, then the top pickup locations with their zone names,
//! and exits once every ride is counted.
//!
//! ```text
//! cargo run -p streams-examples --bin demo [-- --data rides.csv --bootstrap-servers host:9092]
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use streams_core::{KafkaStreams, StreamsConfig, StreamsError};
use streams_examples::{
    data_dir, load_zones, main_with, read_rides, ride_count_topology, ExampleError, LoadError,
    RIDES_TOPIC, RIDE_COUNTS_TOPIC,
};

/// Counts the course's taxi rides per pickup location with Kafka Streams (in Rust) on an
/// embedded Kafka cluster, printing counts as they change.
#[derive(Parser, Debug)]
#[command(name = "demo", version)]
struct Cli {
    /// Ride CSV file with the TLC header [default: the crate's data/rides.csv].
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Kafka cluster to use (topics `rides` and `rides-pulocation-count` are created if
    /// missing, 2 partitions each, on the embedded cluster only) [default: an embedded cluster].
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_servers: Option<String>,
    /// How many locations the final table shows.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Give up if the counts are not complete after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Streams(#[from] StreamsError),
    #[error("Kafka client: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("the counts were not complete after {0:?} ({1} of {2} rides counted)")]
    Timeout(Duration, i64, usize),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] io::Error),
}

impl From<DemoError> for ExampleError {
    fn from(e: DemoError) -> Self {
        match e {
            DemoError::Load(e) => e.into(),
            DemoError::Streams(e) => e.into(),
            DemoError::Stdout(source) => ExampleError::Io {
                what: "stdout".into(),
                source,
            },
            other => ExampleError::Topic(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    main_with("demo", |cli: &Cli| run(cli).map_err(ExampleError::from))
}

fn run(cli: &Cli) -> Result<(), DemoError> {
    let path = cli
        .data
        .clone()
        .unwrap_or_else(|| data_dir().join("rides.csv"));
    let file = read_rides(&path)?;
    for bad in &file.bad_rows {
        eprintln!(
            "demo: warning: {}:{}: skipped bad row: {}",
            path.display(),
            bad.line,
            bad.error
        );
    }
    let zones = load_zones(&data_dir().join("taxi_zone_lookup.csv"))?;
    let mut out = io::stdout().lock();

    let state_dir = std::env::temp_dir().join(format!("ride-count-demo-{}", std::process::id()));
    let mut config = StreamsConfig::new("ride-count-demo")
        .with("state.dir", state_dir.to_string_lossy().as_ref())
        .with("commit.interval.ms", "100");
    if let Some(b) = &cli.bootstrap_servers {
        config.set("bootstrap.servers", b);
    }
    let mut streams =
        KafkaStreams::new(ride_count_topology(RIDES_TOPIC, RIDE_COUNTS_TOPIC)?, config)?;
    let bootstrap = streams.bootstrap_servers().to_string();
    match streams.embedded_cluster() {
        Some(cluster) => {
            writeln!(
                out,
                "Embedded Kafka cluster (librdkafka mock) at {bootstrap}"
            )?;
            cluster.create_topic(RIDES_TOPIC, 2)?;
            cluster.create_topic(RIDE_COUNTS_TOPIC, 2)?;
        }
        None => writeln!(out, "Kafka cluster at {bootstrap}")?,
    }

    // Produce the rides, keyed by pickup location, as the course's producer does.
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("partitioner", "murmur2_random")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?;
    let mut value = Vec::new();
    for ride in &file.rides {
        value.clear();
        serde_json::to_writer(&mut value, ride).map_err(StreamsError::user)?;
        let key = ride.pickup_location_key();
        producer
            .send(
                BaseRecord::to(RIDES_TOPIC)
                    .key(key.as_bytes())
                    .payload(&value)
                    .timestamp(ride.pickup_millis()),
            )
            .map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    writeln!(
        out,
        "Produced {} rides from {} to `{RIDES_TOPIC}`; counting rides per pickup location into `{RIDE_COUNTS_TOPIC}`:",
        file.rides.len(),
        path.display()
    )?;

    streams.start()?;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "ride-count-demo-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.queue.backoff.ms", "10")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..2 {
        tpl.add_partition_offset(RIDE_COUNTS_TOPIC, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;

    let name = |id: &str| -> String {
        id.parse::<u32>()
            .ok()
            .and_then(|n| zones.get(&n))
            .map_or_else(
                || "(unknown zone)".to_string(),
                |z| format!("{} ({})", z.zone, z.borough),
            )
    };
    let timeout = Duration::from_secs(cli.timeout_secs);
    let start = Instant::now();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let expected = file.rides.len() as i64;
    while counts.values().sum::<i64>() < expected {
        if start.elapsed() > timeout {
            return Err(DemoError::Timeout(
                timeout,
                counts.values().sum(),
                file.rides.len(),
            ));
        }
        let Some(msg) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = msg?;
        let (Some(k), Some(v)) = (m.key(), m.payload()) else {
            continue;
        };
        let key = String::from_utf8_lossy(k).into_owned();
        let Ok(bytes) = <[u8; 8]>::try_from(v) else {
            continue;
        };
        let count = i64::from_be_bytes(bytes);
        writeln!(out, "  location {key:>3} {:<45} {count:>4}", name(&key))?;
        counts.insert(key, count);
    }
    streams.close(Duration::from_secs(30))?;

    let mut top: Vec<(&String, &i64)> = counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    writeln!(
        out,
        "\nTop {} pickup locations ({} rides, {} locations, {:.1} s):",
        cli.top,
        expected,
        counts.len(),
        start.elapsed().as_secs_f64()
    )?;
    for (key, count) in top.into_iter().take(cli.top) {
        writeln!(out, "  {key:>3} {:<45} {count:>4}", name(key))?;
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
}
