//! Runs the course's first program (ride summaries) over `data/rides.csv` in the
//! `TopologyTestDriver` and prints each summary as it comes out.
//!
//! ```text
//! cargo run -p streams-examples --bin demo [-- --data path/to/rides.csv]
//! ```

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use streams_core::{Json, StreamsConfig, StreamsError, StringSerde, TopologyTestDriver};
use streams_examples::{
    data_dir, pickup_summaries_topology, read_rides, LoadError, Ride, RideSummary, DATETIME_FORMAT,
    RIDES_TOPIC, RIDE_SUMMARIES_TOPIC,
};

/// Streams the taxi rides of a CSV file through the ride-summaries topology (in memory, no
/// broker) and prints what it writes.
#[derive(Parser, Debug)]
#[command(name = "demo", version)]
struct Cli {
    /// Ride CSV file with the TLC header [default: the crate's data/rides.csv].
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot build the topology: {0}")]
    Topology(#[source] Box<StreamsError>),
    #[error("cannot start the test driver: {0}")]
    Driver(#[source] Box<StreamsError>),
    #[error("processing ride #{number} (pickup {pickup}) failed: {source}")]
    Pipe {
        number: usize,
        pickup: String,
        #[source]
        source: Box<StreamsError>,
    },
    #[error("reading topic `{RIDE_SUMMARIES_TOPIC}` failed: {0}")]
    Output(#[source] Box<StreamsError>),
    #[error("closing the test driver failed: {0}")]
    Close(#[source] Box<StreamsError>),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] io::Error),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors fail.
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
        // `demo | head` closes stdout early: not an error worth reporting.
        Err(DemoError::Stdout(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: error: {e}");
            ExitCode::FAILURE
        }
    }
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

    let topology = pickup_summaries_topology(RIDES_TOPIC, RIDE_SUMMARIES_TOPIC)
        .map_err(|e| DemoError::Topology(Box::new(e)))?;
    let driver = TopologyTestDriver::new(topology, StreamsConfig::new("rides-demo"))
        .map_err(|e| DemoError::Driver(Box::new(e)))?;
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let output = driver.output_topic(
        RIDE_SUMMARIES_TOPIC,
        StringSerde,
        Json::<RideSummary>::new(),
    );

    let mut out = io::stdout().lock();
    writeln!(
        out,
        "Streaming {} rides from {} through `{RIDES_TOPIC}` -> `{RIDE_SUMMARIES_TOPIC}`",
        file.rides.len(),
        path.display()
    )?;
    let mut records_out = 0usize;
    for (i, ride) in file.rides.iter().enumerate() {
        let pickup_millis = ride.pickup_millis();
        input
            .pipe_input_at(ride.pickup_location_key(), ride.clone(), pickup_millis)
            .map_err(|source| DemoError::Pipe {
                number: i + 1,
                pickup: ride.pickup_datetime.format(DATETIME_FORMAT).to_string(),
                source: Box::new(source),
            })?;
        while !output.is_empty() {
            let record = output
                .read_record()
                .map_err(|e| DemoError::Output(Box::new(e)))?;
            let s = record.value;
            writeln!(
                out,
                "[{}] pickup {} -> dropoff {}  {:.2} mi  ${:.2}",
                s.pickup_time.format(DATETIME_FORMAT),
                s.pickup_location,
                s.dropoff_location,
                s.distance_miles,
                s.total_amount
            )?;
            records_out += 1;
        }
    }
    driver.close().map_err(|e| DemoError::Close(Box::new(e)))?;

    let read = file.rides.len();
    writeln!(out)?;
    writeln!(out, "rides read:        {read}")?;
    writeln!(out, "bad rows skipped:  {}", file.bad_rows.len())?;
    writeln!(out, "records out:       {records_out}")?;
    writeln!(
        out,
        "records filtered:  {} (no distance or no fare)",
        read.saturating_sub(records_out)
    )?;
    out.flush()?;
    Ok(())
}
