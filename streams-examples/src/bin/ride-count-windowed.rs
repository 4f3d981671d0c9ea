//! Counts rides per pickup location in 1-minute tumbling windows of pickup time, and prints
//! (and writes to `rides-pulocation-window-count`) one final count per location and window
//! when the window closes. Runs until Ctrl-C (or SIGTERM), then closes gracefully.
//!
//! ```text
//! ride-count-windowed --bootstrap-servers localhost:9092 --grace 1h
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use streams_core::{KafkaStreams, KafkaStreamsState, Windowed};
use streams_examples::{
    find_data_file, load_zones, main_with, parse_duration, ride_count_windowed_topology,
    stop_on_ctrl_c, topic_partitions, ExampleError, StreamsArgs, RIDES_TOPIC,
    RIDE_WINDOW_COUNTS_TOPIC,
};

/// Counts taxi rides per pickup location per minute of pickup time (Kafka Streams in Rust),
/// printing each window's final counts when it closes.
///
/// A window [t, t+1m) closes once its partition's stream time (the latest pickup time seen)
/// reaches t+1m+grace; rides arriving later for it are dropped. The rides of data/rides.csv
/// are up to an hour out of order, hence the default grace of 1h; generated rides are in
/// order, so `--grace 0s` suits them. The last windows stay open until later rides arrive.
#[derive(Parser, Debug)]
#[command(name = "ride-count-windowed", version)]
struct Cli {
    #[command(flatten)]
    streams: StreamsArgs,
    /// How long after a window's end late rides are still counted, e.g. 0s, 5m, 1h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    grace: Duration,
    /// `application.id`: the consumer group and the prefix of internal topics.
    #[arg(long, default_value = "ride-count-windowed")]
    application_id: String,
    /// Input topic of rides (JSON, key = PULocationID).
    #[arg(long, default_value = RIDES_TOPIC)]
    input: String,
    /// Output topic of final counts (key = PULocationID + 8-byte window start, value = 8-byte
    /// big-endian count). On a given cluster it must exist or be auto-created on first write.
    #[arg(long, default_value = RIDE_WINDOW_COUNTS_TOPIC)]
    output: String,
    /// Partitions of the input and output topics when this program creates them (embedded
    /// cluster).
    #[arg(long, default_value_t = 2)]
    partitions: i32,
}

fn main() -> ExitCode {
    main_with("ride-count-windowed", run)
}

/// A window bound (ms) formatted with `format` in UTC, or the number when out of range.
fn at(ms: i64, format: &str) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    let zones = load_zones(&find_data_file("taxi_zone_lookup.csv"))?;
    let print_final = move |key: &Windowed<String>, count: i64| {
        let zone = key
            .key
            .parse::<u32>()
            .ok()
            .and_then(|id| zones.get(&id))
            .map_or_else(
                || "(unknown zone)".to_string(),
                |z| format!("{} ({})", z.zone, z.borough),
            );
        let line = format!(
            "window {} - {}  location {:>3}  {zone:<45} {count:>4}",
            at(key.window.start, "%Y-%m-%d %H:%M"),
            at(key.window.end, "%H:%M"),
            key.key
        );
        // A closed stdout (e.g. piped to `head`) must not stop the counting.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    };
    let topology = ride_count_windowed_topology(&cli.input, &cli.output, cli.grace, print_final)?;

    let config = cli.streams.config(&cli.application_id);
    let mut streams = KafkaStreams::new(topology, config)?;
    let bootstrap = streams.bootstrap_servers().to_string();
    match streams.embedded_cluster() {
        Some(cluster) => {
            println!("embedded Kafka cluster at {bootstrap}");
            println!("bootstrap.servers={bootstrap}");
            cluster.create_topic(&cli.input, cli.partitions)?;
            cluster.create_topic(&cli.output, cli.partitions)?;
        }
        None => {
            if topic_partitions(&bootstrap, &cli.input)?.is_none() {
                return Err(ExampleError::Topic(format!(
                    "input topic `{}` does not exist on {bootstrap}: produce rides first \
                     (produce-rides --bootstrap-servers {bootstrap})",
                    cli.input
                )));
            }
        }
    }
    println!(
        "counting rides per pickup location in 1-minute windows (grace {:?}) from `{}` into `{}`; \
         final counts are printed as windows close",
        cli.grace, cli.input, cli.output
    );
    let stop = stop_on_ctrl_c()?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"));
    streams.start()?;
    while !stop.load(Ordering::Relaxed) && streams.state() != KafkaStreamsState::Error {
        // Waiting for Ctrl-C; the stream threads do the work.
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("closing");
    streams.close(Duration::from_secs(60))?;
    Ok(())
}
