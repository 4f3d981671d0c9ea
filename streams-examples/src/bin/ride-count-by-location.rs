//! Counts rides per pickup location (`PULocationID`) from topic `rides` into
//! `rides-pulocation-count`, running until Ctrl-C (or SIGTERM), then closing gracefully.
//!
//! ```text
//! cargo run -p streams-examples --bin ride-count-by-location -- --bootstrap-servers localhost:9092
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use streams_core::{KafkaStreams, KafkaStreamsState, StreamsConfig, StreamsError};
use streams_examples::{ride_count_topology, RIDES_TOPIC, RIDE_COUNTS_TOPIC};

/// Counts taxi rides per pickup location with Kafka Streams in Rust.
#[derive(Parser, Debug)]
#[command(name = "ride-count-by-location", version)]
struct Cli {
    /// Kafka cluster [default: an embedded cluster, whose address is printed].
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_servers: Option<String>,
    /// `application.id`: the consumer group and the prefix of internal topics.
    #[arg(long, default_value = "ride-count-by-location")]
    application_id: String,
    /// Input topic of rides (JSON, key = PULocationID).
    #[arg(long, default_value = RIDES_TOPIC)]
    input: String,
    /// Output topic of counts (key = PULocationID, value = 8-byte big-endian count).
    #[arg(long, default_value = RIDE_COUNTS_TOPIC)]
    output: String,
    /// `state.dir` [default: $TMPDIR/kafka-streams].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// `commit.interval.ms`.
    #[arg(long, default_value_t = 1000)]
    commit_interval_ms: u64,
    /// `num.stream.threads`.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// `processing.guarantee`.
    #[arg(long, default_value = "at_least_once", value_parser = ["at_least_once", "exactly_once_v2"])]
    processing_guarantee: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ride-count-by-location: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), StreamsError> {
    let mut config = StreamsConfig::new(&cli.application_id)
        .with("commit.interval.ms", cli.commit_interval_ms.to_string())
        .with("num.stream.threads", cli.threads.to_string())
        .with("processing.guarantee", &cli.processing_guarantee);
    if let Some(b) = &cli.bootstrap_servers {
        config.set("bootstrap.servers", b);
    }
    if let Some(d) = &cli.state_dir {
        config.set("state.dir", d.to_string_lossy());
    }
    let mut streams = KafkaStreams::new(ride_count_topology(&cli.input, &cli.output)?, config)?;
    if let Some(cluster) = streams.embedded_cluster() {
        println!("embedded Kafka cluster at {}", cluster.bootstrap_servers());
        cluster.create_topic(&cli.input, 2)?;
        cluster.create_topic(&cli.output, 2)?;
    }
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"));
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| StreamsError::user(format!("cannot install the Ctrl-C handler: {e}")))?;
    streams.start()?;
    loop {
        match stop_rx.recv_timeout(Duration::from_millis(200)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if streams.state() == KafkaStreamsState::Error {
                    break;
                }
            }
        }
    }
    println!("closing");
    streams.close(Duration::from_secs(60))
}
