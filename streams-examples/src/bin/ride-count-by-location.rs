//! Counts rides per pickup location (`PULocationID`) from topic `rides` into
//! `rides-pulocation-count`, and shows a live table of the busiest locations with their zone
//! names (read back from the output topic), until Ctrl-C (or SIGTERM), then closes gracefully.
//!
//! ```text
//! cargo run -p streams-examples --bin ride-count-by-location -- --bootstrap-servers localhost:9092
//! ```

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Parser;
use streams_core::{KafkaStreams, KafkaStreamsState};
use streams_examples::{
    find_data_file, load_zones, main_with, parse_duration, render_top_locations,
    ride_count_topology, stop_on_ctrl_c, CountReader, ExampleError, StreamsArgs, RIDES_TOPIC,
    RIDE_COUNTS_TOPIC,
};

/// Counts taxi rides per pickup location with Kafka Streams in Rust, with a live table of the
/// top locations (refreshed in place on a terminal, printed when it changes otherwise).
#[derive(Parser, Debug)]
#[command(name = "ride-count-by-location", version)]
struct Cli {
    #[command(flatten)]
    streams: StreamsArgs,
    /// `application.id`: the consumer group and the prefix of internal topics.
    #[arg(long, default_value = "ride-count-by-location")]
    application_id: String,
    /// Input topic of rides (JSON, key = PULocationID).
    #[arg(long, default_value = RIDES_TOPIC)]
    input: String,
    /// Output topic of counts (key = PULocationID, value = 8-byte big-endian count).
    #[arg(long, default_value = RIDE_COUNTS_TOPIC)]
    output: String,
    /// Rows of the live table.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// How often the live table is refreshed, e.g. 500ms or 2s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    refresh: Duration,
    /// No live table: only count.
    #[arg(long)]
    no_table: bool,
}

fn main() -> ExitCode {
    main_with("ride-count-by-location", run)
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    let zones = load_zones(&find_data_file("taxi_zone_lookup.csv"))?;
    let config = cli.streams.config(&cli.application_id);
    let mut streams = KafkaStreams::new(ride_count_topology(&cli.input, &cli.output)?, config)?;
    let bootstrap = streams.bootstrap_servers().to_string();
    if let Some(cluster) = streams.embedded_cluster() {
        println!("embedded Kafka cluster at {bootstrap}");
        println!("bootstrap.servers={bootstrap}");
        cluster.create_topic(&cli.input, 2)?;
        cluster.create_topic(&cli.output, 2)?;
    }
    let stop = stop_on_ctrl_c()?;
    // State changes are printed by the loop below, so they do not tear the table.
    let (state_tx, state_rx) = mpsc::channel();
    streams.set_state_listener(move |new, old| {
        let _ = state_tx.send(format!("state: {old:?} -> {new:?}"));
    });
    streams.start()?;

    let mut reader = if cli.no_table {
        None
    } else {
        Some(CountReader::new(&bootstrap, &cli.output)?)
    };
    let mut table = LiveTable::new(std::io::stdout().is_terminal());
    let mut last_draw = Instant::now();
    let mut changed = false;
    while !stop.load(Ordering::Relaxed) && streams.state() != KafkaStreamsState::Error {
        for line in state_rx.try_iter() {
            table.print_line(&line);
        }
        match reader.as_mut() {
            Some(r) => changed |= r.poll(cli.refresh.min(Duration::from_millis(200)))? > 0,
            // Waiting for Ctrl-C; the stream threads do the work.
            None => std::thread::sleep(Duration::from_millis(100)),
        }
        if let Some(r) = &reader {
            if changed && last_draw.elapsed() >= cli.refresh {
                table.draw(&render_top_locations(r.counts(), &zones, cli.top));
                last_draw = Instant::now();
                changed = false;
            }
        }
    }
    if let (Some(r), true) = (&reader, changed) {
        table.draw(&render_top_locations(r.counts(), &zones, cli.top));
    }
    for line in state_rx.try_iter() {
        table.print_line(&line);
    }
    table.print_line("closing");
    streams.close(Duration::from_secs(60))?;
    Ok(())
}

/// Prints the table: in place on a terminal (moving the cursor back over the previous one),
/// as a new block otherwise. Write errors (a closed stdout) are ignored: counting goes on.
struct LiveTable {
    in_place: bool,
    /// Lines of the table on screen (in-place mode).
    drawn: usize,
    last: String,
}

impl LiveTable {
    fn new(in_place: bool) -> Self {
        LiveTable {
            in_place,
            drawn: 0,
            last: String::new(),
        }
    }

    fn erase(&mut self, out: &mut impl Write) {
        if self.in_place && self.drawn > 0 {
            // Cursor up to the table's first line, then clear to the end of the screen.
            let _ = write!(out, "\x1b[{}F\x1b[J", self.drawn);
            self.drawn = 0;
        }
    }

    /// Prints a line above the table (the table is drawn again after it).
    fn print_line(&mut self, line: &str) {
        let mut out = std::io::stdout().lock();
        self.erase(&mut out);
        let _ = writeln!(out, "{line}");
        if self.in_place && !self.last.is_empty() {
            let _ = out.write_all(self.last.as_bytes());
            self.drawn = self.last.lines().count();
        }
        let _ = out.flush();
    }

    fn draw(&mut self, table: &str) {
        if table == self.last {
            return;
        }
        let mut out = std::io::stdout().lock();
        self.erase(&mut out);
        if !self.in_place {
            let _ = writeln!(out);
        }
        let _ = out.write_all(table.as_bytes());
        let _ = out.flush();
        self.drawn = table.lines().count();
        self.last = table.to_string();
    }
}
