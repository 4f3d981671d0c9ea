//! The course's enrichment: every ride gets the borough and zone of its pickup and drop-off
//! (a stream–global-table join with the taxi-zone lookup) and its payment type spelled out (a
//! stream-table join with the payment-type lookup), written to `rides-enriched` and printed as
//! written. Runs until Ctrl-C (or SIGTERM).
//!
//! ```text
//! rides-enrich-zones --bootstrap-servers localhost:9092 --load-course-data
//! ```

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use streams_core::{KafkaStreams, KafkaStreamsState};
use streams_examples::{
    ensure_topic, find_data_file, load_rides, main_with, payment_type_records, produce_keyed,
    rides_enrich_zones_topology, stop_on_ctrl_c, zone_records, EnrichedRide, ExampleError,
    KeyedRecord, StreamsArgs, TopicTail, ENRICHED_RIDES_TOPIC, PAYMENT_TYPES_TOPIC, RIDES_TOPIC,
    ZONES_TOPIC,
};

/// Adds zone names and payment descriptions to taxi rides (Kafka Streams in Rust): a
/// stream–global-table join and a stream-table join.
///
/// `rides` holds Ride JSON keyed by PULocationID (what `produce-rides` writes). The lookups
/// (data/taxi_zone_lookup.csv, data/payment_type_lookup.csv) are loaded into their topics at
/// start unless `--no-lookups`; `--load-course-data` (always on the embedded cluster) also
/// writes data/rides.csv to `rides`.
#[derive(Parser, Debug)]
#[command(name = "rides-enrich-zones", version)]
struct Cli {
    #[command(flatten)]
    streams: StreamsArgs,
    /// `application.id`: the consumer group and the prefix of internal topics.
    #[arg(long, default_value = "rides-enrich-zones")]
    application_id: String,
    /// Input topic of rides (JSON, key = PULocationID).
    #[arg(long, default_value = RIDES_TOPIC)]
    rides: String,
    /// Topic of the zone lookup (key = LocationID, value = zone JSON), read as a global table.
    #[arg(long, default_value = ZONES_TOPIC)]
    zones: String,
    /// Topic of the payment-type lookup (key = payment_type, value = description), read as a
    /// table; it needs as many partitions as `rides`.
    #[arg(long, default_value = PAYMENT_TYPES_TOPIC)]
    payment_types: String,
    /// Output topic of enriched rides (key = PULocationID, value = JSON).
    #[arg(long, default_value = ENRICHED_RIDES_TOPIC)]
    output: String,
    /// Partitions of the topics this program creates.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
    /// Do not load the lookups into their topics (they are there already).
    #[arg(long)]
    no_lookups: bool,
    /// Write the course's rides to the rides topic first.
    #[arg(long)]
    load_course_data: bool,
}

fn main() -> ExitCode {
    main_with("rides-enrich-zones", run)
}

fn json_records<T: serde::Serialize>(
    rows: Vec<(String, T)>,
) -> Result<Vec<KeyedRecord>, ExampleError> {
    rows.into_iter()
        .map(|(k, v)| {
            // Lookup rows are older than any ride: a task takes them first. (Timestamp 1 ms,
            // since 0 asks the producer for the current time.)
            serde_json::to_vec(&v)
                .map(|bytes| (k, bytes, 1))
                .map_err(|e| ExampleError::Topic(e.to_string()))
        })
        .collect()
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    let topology =
        rides_enrich_zones_topology(&cli.rides, &cli.zones, &cli.payment_types, &cli.output)?;
    let config = cli
        .streams
        .config(&cli.application_id)
        .with("max.task.idle.ms", "5000");
    let mut streams = KafkaStreams::new(topology, config)?;
    let bootstrap = streams.bootstrap_servers().to_string();
    let topics = [&cli.rides, &cli.zones, &cli.payment_types, &cli.output];
    let load_rides_too = match streams.embedded_cluster() {
        Some(cluster) => {
            println!("embedded Kafka cluster at {bootstrap}");
            println!("bootstrap.servers={bootstrap}");
            for t in topics {
                cluster.create_topic(t, cli.partitions)?;
            }
            true
        }
        None => {
            for t in topics {
                ensure_topic(&bootstrap, t, cli.partitions)?;
            }
            cli.load_course_data
        }
    };
    if !cli.no_lookups {
        let zones = json_records(zone_records(&find_data_file("taxi_zone_lookup.csv"))?)?;
        produce_keyed(&bootstrap, &cli.zones, &zones)?;
        let payments: Vec<KeyedRecord> =
            payment_type_records(&find_data_file("payment_type_lookup.csv"))?
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes(), 1))
                .collect();
        produce_keyed(&bootstrap, &cli.payment_types, &payments)?;
        println!(
            "loaded {} zones into `{}` and {} payment types into `{}`",
            zones.len(),
            cli.zones,
            payments.len(),
            cli.payment_types
        );
    }
    if load_rides_too {
        let rides = load_rides(&find_data_file("rides.csv"))?;
        let records = rides
            .iter()
            .map(|r| {
                serde_json::to_vec(r)
                    .map(|v| (r.pu_location_id.to_string(), v, r.pickup_millis()))
                    .map_err(|e| ExampleError::Topic(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        produce_keyed(&bootstrap, &cli.rides, &records)?;
        println!("loaded {} rides into `{}`", records.len(), cli.rides);
    }
    println!(
        "enriching `{}` with `{}` (global table) and `{}` (table) into `{}`",
        cli.rides, cli.zones, cli.payment_types, cli.output
    );
    let stop = stop_on_ctrl_c()?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"));
    streams.start()?;
    let mut tail = TopicTail::new(&bootstrap, &cli.output)?;
    while !stop.load(Ordering::Relaxed) && streams.state() != KafkaStreamsState::Error {
        tail.poll(
            Duration::from_millis(200),
            |_, value| match serde_json::from_slice::<EnrichedRide>(value) {
                Ok(r) => println!(
                    "ride: {} {} ({}) -> {} ({}), {}",
                    r.pickup_time,
                    r.pickup_zone,
                    r.pickup_borough,
                    r.dropoff_zone,
                    r.dropoff_borough,
                    r.payment
                ),
                Err(e) => println!("ride: (undecodable value: {e})"),
            },
        )?;
    }
    println!("closing after {} rides", tail.seen());
    streams.close(Duration::from_secs(60))?;
    Ok(())
}
