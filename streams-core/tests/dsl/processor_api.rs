//! The Processor API through the TopologyTestDriver: metadata, forwarding to named children,
//! punctuators on stream time and wall-clock time, state-store lookup.

use std::time::Duration;

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

/// Forwards `topic-partition@offset` of each record as its value.
struct Where;
impl Processor<String, String> for Where {
    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<()> {
        let m = ctx.record_metadata().expect("metadata while processing");
        let v = format!("{}-{}@{}", m.topic, m.partition, m.offset);
        ctx.forward(r.with_value(v))
    }
}

#[test]
fn record_metadata_is_reachable_from_the_context() {
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, StringSerde), &["events"])
        .unwrap()
        .add_processor("where", || Where, &["src"])
        .unwrap()
        .add_sink(
            "sink",
            "out",
            Produced::with(StringSerde, StringSerde),
            &["where"],
        )
        .unwrap();
    let driver = TopologyTestDriver::builder(t, StreamsConfig::new("meta"))
        .partitions("events", 2)
        .build()
        .unwrap();
    let input = driver.input_topic("events", StringSerde, StringSerde);
    input
        .pipe_key_values([(s("21"), s("a")), (s("21"), s("b")), (s("foobar"), s("c"))])
        .unwrap();
    let p21 = murmur2_partition(b"21", 2);
    let pfoo = murmur2_partition(b"foobar", 2);
    let out = driver
        .output_topic("out", StringSerde, StringSerde)
        .read_key_values_to_list()
        .unwrap();
    let expected_foo_offset = if pfoo == p21 { 2 } else { 0 };
    let mut expected = vec![
        (s("21"), format!("events-{p21}@0")),
        (s("21"), format!("events-{p21}@1")),
        (s("foobar"), format!("events-{pfoo}@{expected_foo_offset}")),
    ];
    let mut got = out.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

/// Sends even values to the child named "evens", odd ones to "odds".
struct Router;
impl Processor<String, i64> for Router {
    fn process(
        &mut self,
        r: Record<String, i64>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<()> {
        let child = if r.value % 2 == 0 { "evens" } else { "odds" };
        ctx.forward_to(child, r)
    }
}

#[test]
fn forward_to_a_named_child() {
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, I64Serde), &["numbers"])
        .unwrap();
    t.add_processor("router", || Router, &["src"]).unwrap();
    t.add_sink(
        "evens",
        "even-numbers",
        Produced::with(StringSerde, I64Serde),
        &["router"],
    )
    .unwrap();
    t.add_sink(
        "odds",
        "odd-numbers",
        Produced::with(StringSerde, I64Serde),
        &["router"],
    )
    .unwrap();
    let driver = TopologyTestDriver::new(t, StreamsConfig::new("router")).unwrap();
    let input = driver.input_topic("numbers", StringSerde, I64Serde);
    input.pipe_key_values((1..=5).map(|i| (s("k"), i))).unwrap();
    assert_eq!(
        driver
            .output_topic("even-numbers", StringSerde, I64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![2, 4]
    );
    assert_eq!(
        driver
            .output_topic("odd-numbers", StringSerde, I64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![1, 3, 5]
    );
}

/// Emits ("stream"|"wall", punctuation time) at every punctuation; cancels the wall-clock one
/// after it fired twice.
struct Ticker {
    wall: Option<Cancellable>,
    wall_fired: u32,
}
impl Processor<String, String, String, i64> for Ticker {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
        ctx.schedule(Duration::from_millis(10), PunctuationType::StreamTime)?;
        self.wall = Some(ctx.schedule(Duration::from_secs(1), PunctuationType::WallClockTime)?);
        Ok(())
    }
    fn process(
        &mut self,
        _r: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<()> {
        Ok(())
    }
    fn punctuate(
        &mut self,
        p: Cancellable,
        ts: i64,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<()> {
        assert!(
            ctx.record_metadata().is_none(),
            "no record during punctuation"
        );
        if Some(p) == self.wall {
            self.wall_fired += 1;
            if self.wall_fired == 2 {
                ctx.cancel(&p);
            }
            ctx.forward(Record::new(s("wall"), ts, ts))
        } else {
            ctx.forward(Record::new(s("stream"), ts, ts))
        }
    }
}

#[test]
fn punctuators_on_stream_time_and_wall_clock_time() {
    let builder = StreamsBuilder::new();
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .process(
            || Ticker {
                wall: None,
                wall_fired: 0,
            },
            &[],
        )
        .to("ticks", Produced::with(StringSerde, I64Serde));
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("ticks")).unwrap();
    let input = driver.input_topic("in", StringSerde, StringSerde);
    let ticks = driver.output_topic("ticks", StringSerde, I64Serde);

    // Stream time: first punctuation with the first record, then at each multiple of 10 ms
    // crossed; a jump skips the missed intervals.
    for ts in [0, 5, 10, 35, 39, 40] {
        input.pipe_input_at(s("k"), s("v"), ts).unwrap();
    }
    // Stream time never goes back: an old record does not punctuate.
    input.pipe_input_at(s("k"), s("late"), 3).unwrap();
    assert_eq!(
        ticks.read_key_values_to_list().unwrap(),
        vec![
            (s("stream"), 0),
            (s("stream"), 10),
            (s("stream"), 35),
            (s("stream"), 40)
        ]
    );

    // Wall clock: the first punctuation one interval after scheduling (mock clock starts at 0).
    driver
        .advance_wall_clock_time(Duration::from_millis(500))
        .unwrap();
    assert!(ticks.is_empty());
    driver
        .advance_wall_clock_time(Duration::from_millis(600))
        .unwrap();
    assert_eq!(ticks.read_key_value().unwrap(), (s("wall"), 1100));
    // A long gap fires once, not once per missed interval.
    driver
        .advance_wall_clock_time(Duration::from_secs(3))
        .unwrap();
    assert_eq!(ticks.read_key_value().unwrap(), (s("wall"), 4100));
    // Cancelled after two.
    driver
        .advance_wall_clock_time(Duration::from_secs(10))
        .unwrap();
    assert!(ticks.is_empty());
    assert_eq!(driver.metrics().punctuations, 6);
}

/// Counts per key in a key-value store and forwards the new count.
struct StoreCounter {
    store: Option<KeyValueStore<String, i64>>,
}
impl Processor<String, String, String, i64> for StoreCounter {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
        self.store = Some(ctx.get_state_store("counts")?);
        Ok(())
    }
    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| StreamsError::user("not initialised"))?;
        let n = store.get(&r.key)?.unwrap_or(0) + 1;
        store.put(&r.key, n)?;
        ctx.forward(r.with_value(n))
    }
}

#[test]
fn state_stores_are_found_by_name() {
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, StringSerde), &["in"])
        .unwrap();
    t.add_processor("count", || StoreCounter { store: None }, &["src"])
        .unwrap();
    t.add_state_store(
        Stores::in_memory_key_value_store("counts", StringSerde, I64Serde),
        &["count"],
    )
    .unwrap();
    t.add_sink(
        "sink",
        "counts-out",
        Produced::with(StringSerde, I64Serde),
        &["count"],
    )
    .unwrap();
    assert!(t
        .describe()
        .to_string()
        .contains("Processor: count (stores: [counts])"));
    let driver = TopologyTestDriver::new(t, StreamsConfig::new("store")).unwrap();
    let input = driver.input_topic("in", StringSerde, StringSerde);
    input
        .pipe_key_values([(s("a"), s("x")), (s("b"), s("x")), (s("a"), s("y"))])
        .unwrap();
    assert_eq!(
        driver
            .output_topic("counts-out", StringSerde, I64Serde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("a"), 1), (s("b"), 1), (s("a"), 2)]
    );
    let store: KeyValueStore<String, i64> = driver.get_state_store("counts").unwrap();
    assert_eq!(store.get(&s("a")).unwrap(), Some(2));
    assert_eq!(store.all().unwrap(), vec![(s("a"), 2), (s("b"), 1)]);
    assert!(driver
        .get_state_store::<KeyValueStore<String, String>>("counts")
        .is_err());
}

#[test]
fn dsl_process_connects_named_stores() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("in", Consumed::with(StringSerde, StringSerde));
    stream
        .process(|| StoreCounter { store: None }, &["counts"])
        .to("out", Produced::new());
    // Without the store the build fails with a clear message.
    let err = builder.build().unwrap_err();
    assert!(
        err.to_string()
            .contains("state store `counts` does not exist"),
        "{err}"
    );

    let builder = StreamsBuilder::new();
    builder.add_state_store(Stores::in_memory_key_value_store(
        "counts",
        StringSerde,
        I64Serde,
    ));
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .process(|| StoreCounter { store: None }, &["counts"])
        .to("out", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("dsl-store")).unwrap();
    let input = driver.input_topic("in", StringSerde, StringSerde);
    input
        .pipe_key_values([(s("a"), s("x")), (s("a"), s("y"))])
        .unwrap();
    assert_eq!(
        driver
            .output_topic("out", StringSerde, I64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![1, 2]
    );
}

#[test]
fn unconnected_store_access_is_an_error() {
    struct Sneaky;
    impl Processor<String, String> for Sneaky {
        fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<()> {
            ctx.get_state_store::<KeyValueStore<String, i64>>("counts")
                .map(|_| ())
        }
        fn process(
            &mut self,
            _r: Record<String, String>,
            _c: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            Ok(())
        }
    }
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, StringSerde), &["in"])
        .unwrap();
    t.add_processor("owner", || StoreCounter { store: None }, &["src"])
        .unwrap();
    t.add_processor("sneaky", || Sneaky, &["src"]).unwrap();
    t.add_state_store(
        Stores::in_memory_key_value_store("counts", StringSerde, I64Serde),
        &["owner"],
    )
    .unwrap();
    let err = TopologyTestDriver::new(t, StreamsConfig::new("x"))
        .err()
        .expect("must fail");
    match err {
        StreamsError::StoreAccess {
            node,
            store,
            reason,
        } => {
            assert_eq!((node.as_str(), store.as_str()), ("sneaky", "counts"));
            assert!(reason.contains("not connected"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn user_errors_name_the_node_and_the_record() {
    struct Fails;
    impl Processor<String, String> for Fails {
        fn process(
            &mut self,
            r: Record<String, String>,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            if r.value == "boom" {
                return Err(StreamsError::user(format!("cannot handle {}", r.value)));
            }
            ctx.forward(r)
        }
    }
    let builder = StreamsBuilder::new();
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .named("fragile")
        .process(|| Fails, &[])
        .to("out", Produced::with(StringSerde, StringSerde));
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("x")).unwrap();
    let input = driver.input_topic("in", StringSerde, StringSerde);
    input.pipe_input(s("k"), s("ok")).unwrap();
    let err = input.pipe_input(s("k"), s("boom")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "processor `fragile` failed on record in-0@1: cannot handle boom"
    );
}

#[test]
fn close_calls_processor_close() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    struct Closer(Arc<AtomicUsize>);
    impl Processor<String, String> for Closer {
        fn process(
            &mut self,
            _r: Record<String, String>,
            _c: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            Ok(())
        }
        fn close(&mut self, _c: &mut ProcessorContext<'_, String, String>) -> Result<()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let closed = Arc::new(AtomicUsize::new(0));
    let c = closed.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .process(move || Closer(c.clone()), &[])
        .to("out", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::builder(builder.build().unwrap(), StreamsConfig::new("x"))
        .partitions("in", 3)
        .build()
        .unwrap();
    driver.close().unwrap();
    assert_eq!(closed.load(Ordering::SeqCst), 3, "one instance per task");
}
