//! Produces taxi rides to a topic: the rows of `data/rides.csv` (or another ride file), or a
//! generated stream, as JSON values keyed by pickup location.
//!
//! ```text
//! produce-rides --bootstrap-servers localhost:9092                 # data/rides.csv -> rides
//! produce-rides --bootstrap-servers localhost:9092 --generate 1000000 --rate 500
//! produce-rides                                                      # embedded cluster, kept up
//! ```
//!
//! Without `--bootstrap-servers` it starts an embedded Kafka cluster, prints its address,
//! produces, and keeps the cluster up until Ctrl-C, so plain clients (`consume`) can use it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::NaiveDateTime;
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use streams_core::EmbeddedCluster;
use streams_examples::{
    ensure_topic, find_data_file, main_with, open_rides, produce_rides, stop_on_ctrl_c,
    ExampleError, GeneratorConfig, LoadError, ProduceOptions, ProduceSummary, RideGenerator,
    RideKey, DATETIME_FORMAT, RIDES_TOPIC,
};

/// Produces NYC taxi rides to a Kafka topic as JSON (the course's producer).
///
/// Reads data/rides.csv (or --file), or generates rides (--generate). Each record: key = the
/// ride's PULocationID (see --key), value = the ride as JSON with the TLC column names,
/// timestamp = the pickup time. Bad CSV rows are reported with their line and skipped.
///
/// Without --bootstrap-servers, it starts an embedded Kafka cluster (in this process), prints
/// `bootstrap.servers=HOST:PORT`, produces, and keeps the cluster up until Ctrl-C for plain
/// clients such as `consume`. To feed a counting program without a broker, start that program
/// first (it hosts the embedded cluster and prints its address) and give the address here.
#[derive(Parser, Debug)]
#[command(name = "produce-rides", version)]
struct Cli {
    /// Kafka cluster, e.g. the address a counting program prints for its embedded cluster
    /// [default: an embedded cluster in this process, served until Ctrl-C].
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_servers: Option<String>,
    /// Topic to produce to; created with --partitions partitions if it does not exist.
    #[arg(long, default_value = RIDES_TOPIC)]
    topic: String,
    /// Ride CSV file with the TLC header [default: data/rides.csv, looked up from the current
    /// directory, then streams-examples/data, then the crate's source directory].
    #[arg(long, value_name = "PATH", conflicts_with = "generate")]
    file: Option<PathBuf>,
    /// Generate N rides instead of reading a file: Zipf-like skew over the 265 zones,
    /// strictly increasing pickup times (see --start, --event-interval-secs, --seed).
    #[arg(long, value_name = "N")]
    generate: Option<u64>,
    /// Records per second; 0 = as fast as the cluster takes them.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    rate: f64,
    /// The record key.
    #[arg(long, value_enum, default_value_t = RideKey::PickupLocation)]
    key: RideKey,
    /// Partitions of the topic when this program creates it.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
    /// Generated rides: seed of the pseudo-random sequence.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Generated rides: pickup time of the first ride.
    #[arg(long, default_value = "2020-07-01 00:00:00", value_parser = parse_start)]
    start: NaiveDateTime,
    /// Generated rides: mean gap between two pickup times, in seconds of event time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    event_interval_secs: u32,
    /// No progress bar (it is also hidden when stdout is not a terminal).
    #[arg(long, short)]
    quiet: bool,
    /// Embedded cluster: also write its address to this file (for scripts).
    #[arg(long, value_name = "PATH")]
    address_file: Option<PathBuf>,
}

fn parse_start(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, DATETIME_FORMAT)
        .map_err(|e| format!("`{s}` is not a date-time like \"2020-07-01 00:00:00\": {e}"))
}

fn main() -> ExitCode {
    main_with("produce-rides", run)
}

fn out(what: std::fmt::Arguments<'_>) -> Result<(), ExampleError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(what)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .map_err(|source| ExampleError::Io {
            what: "stdout".into(),
            source,
        })
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    if !cli.rate.is_finite() || cli.rate < 0.0 {
        return Err(ExampleError::Usage(format!(
            "--rate {} must be a number of records per second >= 0",
            cli.rate
        )));
    }
    if cli.partitions < 1 {
        return Err(ExampleError::Usage(format!(
            "--partitions {} must be at least 1",
            cli.partitions
        )));
    }
    let stop = stop_on_ctrl_c()?;

    // The cluster: given, or embedded in this process.
    let (bootstrap, embedded) = match &cli.bootstrap_servers {
        Some(b) => (b.clone(), None),
        None => {
            let cluster = EmbeddedCluster::start(1)?;
            (cluster.bootstrap_servers().to_string(), Some(cluster))
        }
    };
    if let Some(cluster) = &embedded {
        cluster.create_topic(&cli.topic, cli.partitions)?;
        out(format_args!(
            "embedded Kafka cluster (librdkafka mock) in this process"
        ))?;
        out(format_args!("bootstrap.servers={bootstrap}"))?;
        if let Some(path) = &cli.address_file {
            write_address(path, &bootstrap)?;
        }
    } else {
        match ensure_topic(&bootstrap, &cli.topic, cli.partitions) {
            Ok(partitions) => out(format_args!(
                "Kafka cluster at {bootstrap}, topic `{}` with {partitions} partitions",
                cli.topic
            ))?,
            // E.g. an embedded (mock) cluster of another program: no Admin API there, but it
            // creates topics on first write.
            Err(e) => eprintln!(
                "produce-rides: warning: {e}; producing anyway, for clusters that create topics \
                 on first write"
            ),
        }
    }

    let options = ProduceOptions {
        bootstrap: bootstrap.clone(),
        topic: cli.topic.clone(),
        key: cli.key,
        rate: cli.rate,
    };
    let show_progress = !cli.quiet && std::io::stdout().is_terminal();
    let summary = match cli.generate {
        Some(n) => {
            let config = GeneratorConfig {
                seed: cli.seed,
                start: cli.start,
                mean_interval_secs: cli.event_interval_secs,
                ..GeneratorConfig::default()
            };
            out(format_args!(
                "producing {n} generated rides to `{}` (key {})",
                cli.topic,
                cli.key.column()
            ))?;
            let bar = progress_bar(show_progress, Some(n));
            let rides = RideGenerator::new(&config).take(n as usize).map(Ok);
            let summary = produce_rides(
                &options,
                rides,
                &stop,
                |_| {},
                |sent| bar.set_position(sent),
            );
            bar.finish_and_clear();
            summary?
        }
        None => {
            let path = cli
                .file
                .clone()
                .unwrap_or_else(|| find_data_file("rides.csv"));
            let rows = open_rides(&path)?;
            out(format_args!(
                "producing the rides of {} to `{}` (key {})",
                path.display(),
                cli.topic,
                cli.key.column()
            ))?;
            let bar = progress_bar(show_progress, count_rows(&path));
            let on_bad = |e: &LoadError| bar.suspend(|| eprintln!("produce-rides: skipped {e}"));
            let summary =
                produce_rides(&options, rows, &stop, on_bad, |sent| bar.set_position(sent));
            bar.finish_and_clear();
            summary?
        }
    };
    print_summary(&summary, &cli.topic)?;

    if embedded.is_some() {
        out(format_args!(
            "serving the embedded cluster at {bootstrap} until Ctrl-C \
             (e.g. consume --bootstrap-servers {bootstrap} --topic {} --from-beginning)",
            cli.topic
        ))?;
        while !stop.load(Ordering::Relaxed) {
            // Waiting for Ctrl-C; the cluster serves from its own threads.
            std::thread::sleep(Duration::from_millis(100));
        }
        out(format_args!("stopping the embedded cluster"))?;
    }
    Ok(())
}

fn write_address(path: &Path, bootstrap: &str) -> Result<(), ExampleError> {
    // Written whole then renamed, so a reader never sees half an address.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{bootstrap}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| ExampleError::Io {
            what: format!("the address file {}", path.display()),
            source,
        })
}

/// The number of data rows of a CSV file (lines after the header), for the progress bar.
fn count_rows(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64
        + u64::from(bytes.last().is_some_and(|b| *b != b'\n'));
    Some(lines.saturating_sub(1))
}

fn progress_bar(show: bool, total: Option<u64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stdout()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout()),
    };
    let template = if total.is_some() {
        "{bar:40} {pos}/{len} rides ({elapsed}, eta {eta})"
    } else {
        "{spinner} {pos} rides ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn print_summary(s: &ProduceSummary, topic: &str) -> Result<(), ExampleError> {
    out(format_args!(
        "{}{} records ({:.1} KiB) acknowledged by `{topic}` in {:.2} s: {:.0} records/s, \
         {:.2} MiB/s; {} bad rows skipped",
        if s.stopped { "stopped by Ctrl-C: " } else { "" },
        s.records,
        s.bytes as f64 / 1024.0,
        s.elapsed.as_secs_f64(),
        s.records_per_sec(),
        s.mib_per_sec(),
        s.bad_rows
    ))
}
