//! Prints the records of any topic, decoded and formatted (like `kafka-console-consumer`).
//!
//! ```text
//! consume --bootstrap-servers localhost:9092 --topic rides --from-beginning --max 5
//! consume --bootstrap-servers localhost:9092 --topic rides-pulocation-window-count \
//!     --from-beginning --key-format windowed-string
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use streams_examples::{
    consume, main_with, parse_duration, stop_on_ctrl_c, ConsumeEnd, ConsumeOptions, ExampleError,
    KeyFormat, OutputFormat, RecordFormatter, ValueFormat, RIDE_WINDOW_SIZE,
};

/// Prints the records of a Kafka topic: partition, offset, timestamp, key and value, decoded.
///
/// Reads every partition without joining a consumer group (nothing is committed). Stops at
/// --max records, after --timeout without a record, or at Ctrl-C, then prints how many
/// records it read to stderr.
#[derive(Parser, Debug)]
#[command(name = "consume", version)]
struct Cli {
    /// Kafka cluster, e.g. the address `produce-rides` prints for its embedded cluster.
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_servers: String,
    /// The topic to read (waits for it to exist).
    #[arg(long)]
    topic: String,
    /// Read from the first record of each partition (else only records produced from now on).
    #[arg(long)]
    from_beginning: bool,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    max: Option<u64>,
    /// Stop when no record arrived for this long, e.g. 10s or 1m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Line format: text (`partition=.. offset=.. timestamp=.. key=.. value=..`) or json
    /// (one object per line).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// How to decode keys: `windowed-string` for the windowed counts
    /// (rides-pulocation-window-count), `i64` for 8-byte integers.
    #[arg(long, value_enum, default_value_t = KeyFormat::String)]
    key_format: KeyFormat,
    /// How to decode values: `auto` shows JSON, text, or an 8-byte count (as in
    /// rides-pulocation-count) as it fits.
    #[arg(long, value_enum, default_value_t = ValueFormat::Auto)]
    value_format: ValueFormat,
    /// Window size of `windowed-string` keys (the key holds the window start only).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1m")]
    window_size: Duration,
}

fn main() -> ExitCode {
    main_with("consume", run)
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    let stop = stop_on_ctrl_c()?;
    let window_ms = i64::try_from(cli.window_size.as_millis())
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| {
            ExampleError::Usage(format!(
                "--window-size {:?} must be positive (the windowed example uses {:?})",
                cli.window_size, RIDE_WINDOW_SIZE
            ))
        })?;
    let formatter = RecordFormatter::new(cli.key_format, cli.value_format, cli.format, window_ms);
    let options = ConsumeOptions {
        bootstrap: cli.bootstrap_servers.clone(),
        topic: cli.topic.clone(),
        from_beginning: cli.from_beginning,
        max: cli.max,
        idle_timeout: cli.timeout,
    };
    let mut stdout = std::io::stdout().lock();
    let (read, end) = consume(&options, &stop, |record| {
        writeln!(stdout, "{}", formatter.format(record))
            .and_then(|()| stdout.flush())
            .map_err(|source| ExampleError::Io {
                what: "stdout".into(),
                source,
            })
    })?;
    let why = match end {
        ConsumeEnd::Max => "reached --max",
        ConsumeEnd::Idle => "no record within --timeout",
        ConsumeEnd::Stopped => "stopped",
    };
    eprintln!("Processed a total of {read} messages ({why})");
    Ok(())
}
