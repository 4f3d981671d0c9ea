//! The course's stream-stream join: rides keyed by drop-off zone joined with pickup events
//! re-keyed by pickup zone, in 20-minute join windows with 5 minutes of grace; a match (a
//! pickup within ten minutes of a drop-off in the same zone) becomes a `VendorInfo` in
//! `vendor_info`, printed as it is written. Runs until Ctrl-C (or SIGTERM).
//!
//! ```text
//! rides-join-pickups --bootstrap-servers localhost:9092 --load-course-data
//! ```

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use streams_core::{KafkaStreams, KafkaStreamsState};
use streams_examples::{
    ensure_topic, find_data_file, load_rides, main_with, pickup_locations, pickups_by_time,
    produce_keyed, rides_by_dropoff, rides_join_pickups_topology, stop_on_ctrl_c, ExampleError,
    StreamsArgs, TopicTail, VendorInfo, RIDES_LOCATION_TOPIC, RIDES_TOPIC, VENDOR_INFO_TOPIC,
};

/// Joins taxi rides with pickups in their drop-off zone (the course's VendorInfo join), with
/// Kafka Streams in Rust.
///
/// `rides` must be keyed by DOLocationID (`produce-rides --key DOLocationID`), `rides_location`
/// holds PickupLocation JSON ({"PULocationID", "tpep_pickup_datetime"}). With
/// `--load-course-data` (always on the embedded cluster) the program writes data/rides.csv to
/// both topics itself before it starts.
#[derive(Parser, Debug)]
#[command(name = "rides-join-pickups", version)]
struct Cli {
    #[command(flatten)]
    streams: StreamsArgs,
    /// `application.id`: the consumer group and the prefix of internal topics.
    #[arg(long, default_value = "rides-join-pickups")]
    application_id: String,
    /// Input topic of rides (JSON, key = DOLocationID).
    #[arg(long, default_value = RIDES_TOPIC)]
    rides: String,
    /// Input topic of pickup-location events (JSON PickupLocation).
    #[arg(long, default_value = RIDES_LOCATION_TOPIC)]
    locations: String,
    /// Output topic of matches (key = location id, value = VendorInfo JSON).
    #[arg(long, default_value = VENDOR_INFO_TOPIC)]
    output: String,
    /// Partitions of the topics this program creates.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
    /// Write the course's rides (by drop-off zone) and their pickup events to the input topics
    /// first.
    #[arg(long)]
    load_course_data: bool,
}

fn main() -> ExitCode {
    main_with("rides-join-pickups", run)
}

fn run(cli: &Cli) -> Result<(), ExampleError> {
    let topology = rides_join_pickups_topology(&cli.rides, &cli.locations, &cli.output)?;
    // Records of both inputs are taken in time order: a task waits up to 5 s for an input
    // partition that has nothing buffered, so pickups are not judged late against rides that
    // merely arrived first.
    let config = cli
        .streams
        .config(&cli.application_id)
        .with("max.task.idle.ms", "5000");
    let mut streams = KafkaStreams::new(topology, config)?;
    let bootstrap = streams.bootstrap_servers().to_string();
    let load = match streams.embedded_cluster() {
        Some(cluster) => {
            println!("embedded Kafka cluster at {bootstrap}");
            println!("bootstrap.servers={bootstrap}");
            for t in [&cli.rides, &cli.locations, &cli.output] {
                cluster.create_topic(t, cli.partitions)?;
            }
            true
        }
        None => {
            for t in [&cli.rides, &cli.locations, &cli.output] {
                ensure_topic(&bootstrap, t, cli.partitions)?;
            }
            cli.load_course_data
        }
    };
    if load {
        let rides = load_rides(&find_data_file("rides.csv"))?;
        let pickups = pickup_locations(&rides);
        produce_keyed(&bootstrap, &cli.locations, &pickups_by_time(&pickups)?)?;
        produce_keyed(&bootstrap, &cli.rides, &rides_by_dropoff(&rides)?)?;
        println!(
            "loaded {} rides into `{}` and {} pickups into `{}`",
            rides.len(),
            cli.rides,
            pickups.len(),
            cli.locations
        );
    }
    println!(
        "joining `{}` (by drop-off zone) with `{}` (by pickup zone) into `{}`",
        cli.rides, cli.locations, cli.output
    );
    let stop = stop_on_ctrl_c()?;
    streams.set_state_listener(|new, old| println!("state: {old:?} -> {new:?}"));
    streams.start()?;
    let mut tail = TopicTail::new(&bootstrap, &cli.output)?;
    while !stop.load(Ordering::Relaxed) && streams.state() != KafkaStreamsState::Error {
        tail.poll(
            Duration::from_millis(200),
            |zone, value| match serde_json::from_slice::<VendorInfo>(value) {
                Ok(v) => println!(
                    "match: zone {zone:>3}  vendor {}  dropoff {}  pickup {}",
                    v.vendor_id, v.last_dropoff_time, v.pickup_time
                ),
                Err(e) => println!("match: zone {zone:>3}  (undecodable value: {e})"),
            },
        )?;
    }
    println!("closing after {} matches", tail.seen());
    streams.close(Duration::from_secs(60))?;
    Ok(())
}
