//! Kafka Streams' stream-stream join unit tests (`KStreamKStreamJoinTest`,
//! `KStreamKStreamLeftJoinTest`, `KStreamKStreamOuterJoinTest`, `KStreamKStreamSelfJoinTest`
//! under `streams/src/test/java/org/apache/kafka/streams/kstream/internals/`), translated case
//! by case. Kafka's tests capture the join's output with a mock processor; here it goes to the
//! topic `out`, read back in order. `MockValueJoiner.TOSTRING_JOINER` is `"<left>+<right>"`,
//! with `null` for a missing side.

mod common;

use std::fmt::Display;
use std::time::Duration;

use common::*;
use streams_core::*;

const EXPECTED_KEYS: [i32; 4] = [0, 1, 2, 3];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

fn show<V: Display>(v: Option<&V>) -> String {
    v.map_or_else(|| s("null"), ToString::to_string)
}

/// Kafka's test topology: `topic1` (Integer, String) joined with `topic2` (Integer, `V2`) by
/// `kind` with `TOSTRING_JOINER`, `StreamJoined.with(Integer, String, V2)`, into `out`.
fn topology<V2: Data + Display>(
    kind: Kind,
    windows: JoinWindows,
    value2: impl Serde<V2> + Clone,
    joined: impl FnOnce(StreamJoined<i32, String, V2>) -> StreamJoined<i32, String, V2>,
) -> Topology {
    let builder = StreamsBuilder::new();
    let stream1 = builder.stream("topic1", Consumed::with(I32Serde, StringSerde));
    let stream2 = builder.stream("topic2", Consumed::with(I32Serde, value2.clone()));
    let sj = joined(StreamJoined::with(I32Serde, StringSerde, value2));
    let out = match kind {
        Kind::Inner => stream1.join_with(&stream2, |l, r| format!("{l}+{r}"), windows, sj),
        Kind::Left => {
            stream1.left_join_with(&stream2, |l, r| format!("{l}+{}", show(r)), windows, sj)
        }
        Kind::Outer => stream1.outer_join_with(
            &stream2,
            |l, r| format!("{}+{}", show(l), show(r)),
            windows,
            sj,
        ),
    };
    out.to("out", Produced::with(I32Serde, StringSerde));
    builder.build().expect("topology builds")
}

trait ValueSerde: Data + Display {
    fn serde() -> impl Serde<Self> + Clone;
}

impl ValueSerde for String {
    fn serde() -> impl Serde<Self> + Clone {
        StringSerde
    }
}

impl ValueSerde for i64 {
    fn serde() -> impl Serde<Self> + Clone {
        I64Serde
    }
}

fn build<V2: ValueSerde>(
    kind: Kind,
    windows: JoinWindows,
    config: StreamsConfig,
) -> TopologyTestDriver {
    TopologyTestDriver::new(topology(kind, windows, V2::serde(), |sj| sj), config)
        .expect("driver starts")
}

/// The driver's two input topics (records at 0 ms unless a timestamp is given, as Kafka's
/// `createInputTopic(.., Instant.ofEpochMilli(0L), Duration.ZERO)`) and its output.
struct Io<'d, V2: 'static> {
    driver: &'d TopologyTestDriver,
    t1: TestInputTopic<'d, i32, String>,
    t2: TestInputTopic<'d, i32, V2>,
}

impl<'d, V2: ValueSerde> Io<'d, V2> {
    fn new(driver: &'d TopologyTestDriver) -> Self {
        Io {
            driver,
            t1: driver.input_topic("topic1", I32Serde, StringSerde),
            t2: driver.input_topic("topic2", I32Serde, V2::serde()),
        }
    }

    /// `processor.checkAndClearProcessResult(..)`: exactly these results since the last check.
    #[track_caller]
    fn check(&self, expected: &[(i32, &str, i64)]) {
        let expected: Vec<(i32, String, i64)> =
            expected.iter().map(|&(k, v, t)| (k, s(v), t)).collect();
        assert_eq!(drain(self.driver, "out", I32Serde, StringSerde), expected);
    }
}

// KStreamKStreamJoinTest.testJoin
#[test]
fn join_test_join() {
    let driver = build::<String>(
        Kind::Inner,
        JoinWindows::of_time_difference_with_no_grace(ms(100)).unwrap(),
        cached("testJoin"),
    );
    let io = Io::new(&driver);

    // push two items to the primary stream; the other window is empty
    // w1 = {}
    // w2 = {}
    // --> w1 = { 0:A0, 1:A1 }
    //     w2 = {}
    for i in 0..2 {
        io.t1
            .pipe_input_at(EXPECTED_KEYS[i], format!("A{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[]);

    // push two items to the other stream; this should produce two items
    // w1 = { 0:A0, 1:A1 }
    // w2 = {}
    // --> w1 = { 0:A0, 1:A1 }
    //     w2 = { 0:a0, 1:a1 }
    for i in 0..2 {
        io.t2
            .pipe_input_at(EXPECTED_KEYS[i], format!("a{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[(0, "A0+a0", 0), (1, "A1+a1", 0)]);

    // push all four items to the primary stream; this should produce two items
    // w1 = { 0:A0, 1:A1 }
    // w2 = { 0:a0, 1:a1 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    //     w2 = { 0:a0, 1:a1 }
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("B{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[(0, "B0+a0", 0), (1, "B1+a1", 0)]);

    // push all items to the other stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    // w2 = { 0:a0, 1:a1 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 1:b1, 2:b2, 3:b3 }
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("b{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[
        (0, "A0+b0", 0),
        (0, "B0+b0", 0),
        (1, "A1+b1", 0),
        (1, "B1+b1", 0),
        (2, "B2+b2", 0),
        (3, "B3+b3", 0),
    ]);

    // push all four items to the primary stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    // w2 = { 0:a0, 1:a1, 0:b0, 1:b1, 2:b2, 3:b3 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 1:b1, 2:b2, 3:b3 }
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("C{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[
        (0, "C0+a0", 0),
        (0, "C0+b0", 0),
        (1, "C1+a1", 0),
        (1, "C1+b1", 0),
        (2, "C2+b2", 0),
        (3, "C3+b3", 0),
    ]);

    // push two items to the other stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    // w2 = { 0:a0, 1:a1, 0:b0, 1:b1, 2:b2, 3:b3 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 1:b1, 2:b2, 3:b3, 0:c0, 1:c1 }
    for i in 0..2 {
        io.t2
            .pipe_input_at(EXPECTED_KEYS[i], format!("c{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[
        (0, "A0+c0", 0),
        (0, "B0+c0", 0),
        (0, "C0+c0", 0),
        (1, "A1+c1", 0),
        (1, "B1+c1", 0),
        (1, "C1+c1", 0),
    ]);
}

// KStreamKStreamJoinTest.testOuterJoin
#[test]
fn join_test_outer_join() {
    let driver = build::<String>(
        Kind::Outer,
        JoinWindows::of_time_difference_and_grace(ms(100), Duration::from_secs(24 * 3600)).unwrap(),
        cached("testOuterJoin"),
    );
    let io = Io::new(&driver);

    // push two items to the primary stream; the other window is empty; this should not produce items yet
    // w1 = {}
    // w2 = {}
    // --> w1 = { 0:A0, 1:A1 }
    //     w2 = {}
    for i in 0..2 {
        io.t1
            .pipe_input_at(EXPECTED_KEYS[i], format!("A{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[]);

    // push two items to the other stream; this should produce two items
    // w1 = { 0:A0, 1:A1 }
    // w2 = {}
    // --> w1 = { 0:A0, 1:A1 }
    //     w2 = { 0:a0, 1:a1 }
    for i in 0..2 {
        io.t2
            .pipe_input_at(EXPECTED_KEYS[i], format!("a{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[(0, "A0+a0", 0), (1, "A1+a1", 0)]);

    // push all four items to the primary stream; this should produce two items
    // w1 = { 0:A0, 1:A1 }
    // w2 = { 0:a0, 1:a1 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    //     w2 = { 0:a0, 1:a1 }
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("B{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[(0, "B0+a0", 0), (1, "B1+a1", 0)]);

    // push all items to the other stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    // w2 = { 0:a0, 1:a1 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 0:b0, 1:b1, 2:b2, 3:b3 }
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("b{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[
        (0, "A0+b0", 0),
        (0, "B0+b0", 0),
        (1, "A1+b1", 0),
        (1, "B1+b1", 0),
        (2, "B2+b2", 0),
        (3, "B3+b3", 0),
    ]);

    // push all four items to the primary stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3 }
    // w2 = { 0:a0, 1:a1, 0:b0, 0:b0, 1:b1, 2:b2, 3:b3 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 0:b0, 1:b1, 2:b2, 3:b3 }
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("C{}", expected_key), 0)
            .unwrap();
    }
    io.check(&[
        (0, "C0+a0", 0),
        (0, "C0+b0", 0),
        (1, "C1+a1", 0),
        (1, "C1+b1", 0),
        (2, "C2+b2", 0),
        (3, "C3+b3", 0),
    ]);

    // push two items to the other stream; this should produce six items
    // w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    // w2 = { 0:a0, 1:a1, 0:b0, 0:b0, 1:b1, 2:b2, 3:b3 }
    // --> w1 = { 0:A0, 1:A1, 0:B0, 1:B1, 2:B2, 3:B3, 0:C0, 1:C1, 2:C2, 3:C3 }
    //     w2 = { 0:a0, 1:a1, 0:b0, 0:b0, 1:b1, 2:b2, 3:b3, 0:c0, 1:c1 }
    for i in 0..2 {
        io.t2
            .pipe_input_at(EXPECTED_KEYS[i], format!("c{}", EXPECTED_KEYS[i]), 0)
            .unwrap();
    }
    io.check(&[
        (0, "A0+c0", 0),
        (0, "B0+c0", 0),
        (0, "C0+c0", 0),
        (1, "A1+c1", 0),
        (1, "B1+c1", 0),
        (1, "C1+c1", 0),
    ]);
}

// KStreamKStreamJoinTest.testWindowing
#[test]
fn join_test_windowing() {
    let driver = build::<String>(
        Kind::Inner,
        JoinWindows::of_time_difference_with_no_grace(ms(100)).unwrap(),
        cached("testWindowing"),
    );
    let io = Io::new(&driver);

    let mut time: i64 = 0;

    // push two items to the primary stream; the other window is empty; this should produce no items
    // w1 = {}
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0) }
    //     w2 = {}
    for i in 0..2 {
        io.t1
            .pipe_input_at(EXPECTED_KEYS[i], format!("A{}", EXPECTED_KEYS[i]), time)
            .unwrap();
    }
    io.check(&[]);

    // push two items to the other stream; this should produce two items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0) }
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0) }
    for i in 0..2 {
        io.t2
            .pipe_input_at(EXPECTED_KEYS[i], format!("a{}", EXPECTED_KEYS[i]), time)
            .unwrap();
    }
    io.check(&[(0, "A0+a0", 0), (1, "A1+a1", 0)]);

    // push four items to the primary stream with larger and increasing timestamp; this should produce no items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0) }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0) }
    time = 1000;
    for i in 0..EXPECTED_KEYS.len() {
        io.t1
            .pipe_input_at(
                EXPECTED_KEYS[i],
                format!("B{}", EXPECTED_KEYS[i]),
                time + i as i64,
            )
            .unwrap();
    }
    io.check(&[]);

    // push four items to the other stream with fixed larger timestamp; this should produce four items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100) }
    time += 100;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("b{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "B0+b0", 1100),
        (1, "B1+b1", 1100),
        (2, "B2+b2", 1100),
        (3, "B3+b3", 1100),
    ]);

    // push four items to the other stream with incremented timestamp; this should produce three items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("c{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(1, "B1+c1", 1101), (2, "B2+c2", 1101), (3, "B3+c3", 1101)]);

    // push four items to the other stream with incremented timestamp; this should produce two items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("d{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(2, "B2+d2", 1102), (3, "B3+d3", 1102)]);

    // push four items to the other stream with incremented timestamp; this should produce one item
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("e{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(3, "B3+e3", 1103)]);

    // push four items to the other stream with incremented timestamp; this should produce no items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("f{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items to the other stream with timestamp before the window bound; this should produce no items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //        0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //            0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899) }
    time = 1000 - 100 - 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("g{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items to the other stream with with incremented timestamp; this should produce one item
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //        0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //        0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //            0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //            0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("h{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "B0+h0", 1000)]);

    // push four items to the other stream with with incremented timestamp; this should produce two items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //        0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //        0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //        0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //            0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //            0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900),
    //            0:i0 (ts: 901), 1:i1 (ts: 901), 2:i2 (ts: 901), 3:i3 (ts: 901) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("i{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "B0+i0", 1000), (1, "B1+i1", 1001)]);

    // push four items to the other stream with with incremented timestamp; this should produce three items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //        0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //        0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //        0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900),
    //        0:i0 (ts: 901), 1:i1 (ts: 901), 2:i2 (ts: 901), 3:i3 (ts: 901) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //            0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //            0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900),
    //            0:i0 (ts: 901), 1:i1 (ts: 901), 2:i2 (ts: 901), 3:i3 (ts: 901),
    //            0:j0 (ts: 902), 1:j1 (ts: 902), 2:j2 (ts: 902), 3:j3 (ts: 902) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("j{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "B0+j0", 1000), (1, "B1+j1", 1001), (2, "B2+j2", 1002)]);

    // push four items to the other stream with with incremented timestamp; this should produce four items
    // w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //        0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003)  }
    // w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //        0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //        0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //        0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //        0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //        0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //        0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //        0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900),
    //        0:i0 (ts: 901), 1:i1 (ts: 901), 2:i2 (ts: 901), 3:i3 (ts: 901),
    //        0:j0 (ts: 902), 1:j1 (ts: 902), 2:j2 (ts: 902), 3:j3 (ts: 902) }
    // --> w1 = { 0:A0 (ts: 0), 1:A1 (ts: 0),
    //            0:B0 (ts: 1000), 1:B1 (ts: 1001), 2:B2 (ts: 1002), 3:B3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 0), 1:a1 (ts: 0),
    //            0:b0 (ts: 1100), 1:b1 (ts: 1100), 2:b2 (ts: 1100), 3:b3 (ts: 1100),
    //            0:c0 (ts: 1101), 1:c1 (ts: 1101), 2:c2 (ts: 1101), 3:c3 (ts: 1101),
    //            0:d0 (ts: 1102), 1:d1 (ts: 1102), 2:d2 (ts: 1102), 3:d3 (ts: 1102),
    //            0:e0 (ts: 1103), 1:e1 (ts: 1103), 2:e2 (ts: 1103), 3:e3 (ts: 1103),
    //            0:f0 (ts: 1104), 1:f1 (ts: 1104), 2:f2 (ts: 1104), 3:f3 (ts: 1104),
    //            0:g0 (ts: 899), 1:g1 (ts: 899), 2:g2 (ts: 899), 3:g3 (ts: 899),
    //            0:h0 (ts: 900), 1:h1 (ts: 900), 2:h2 (ts: 900), 3:h3 (ts: 900),
    //            0:i0 (ts: 901), 1:i1 (ts: 901), 2:i2 (ts: 901), 3:i3 (ts: 901),
    //            0:j0 (ts: 902), 1:j1 (ts: 902), 2:j2 (ts: 902), 3:j3 (ts: 902) }
    //            0:k0 (ts: 903), 1:k1 (ts: 903), 2:k2 (ts: 903), 3:k3 (ts: 903) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("k{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "B0+k0", 1000),
        (1, "B1+k1", 1001),
        (2, "B2+k2", 1002),
        (3, "B3+k3", 1003),
    ]);

    // advance time to not join with existing data
    // we omit above exiting data, even if it's still in the window
    //
    // push four items with increasing timestamps to the other stream. the primary window is empty; this should produce no items
    // w1 = {}
    // w2 = {}
    // --> w1 = {}
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time = 2000;
    for i in 0..EXPECTED_KEYS.len() {
        io.t2
            .pipe_input_at(
                EXPECTED_KEYS[i],
                format!("l{}", EXPECTED_KEYS[i]),
                time + i as i64,
            )
            .unwrap();
    }
    io.check(&[]);

    // push four items with larger timestamps to the primary stream; this should produce four items
    // w1 = {}
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time = 2000 + 100;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("C{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "C0+l0", 2100),
        (1, "C1+l1", 2100),
        (2, "C2+l2", 2100),
        (3, "C3+l3", 2100),
    ]);

    // push four items with increase timestamps to the primary stream; this should produce three items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("D{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(1, "D1+l1", 2101), (2, "D2+l2", 2101), (3, "D3+l3", 2101)]);

    // push four items with increase timestamps to the primary stream; this should produce two items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("E{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(2, "E2+l2", 2102), (3, "E3+l3", 2102)]);

    // push four items with increase timestamps to the primary stream; this should produce one item
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("F{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(3, "F3+l3", 2103)]);

    // push four items with increase timestamps (now out of window) to the primary stream; this should produce no items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("G{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items with smaller timestamps (before window) to the primary stream; this should produce no items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //        0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //            0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time = 2000 - 100 - 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("H{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items with increased timestamps to the primary stream; this should produce one item
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //        0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //        0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //            0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //            0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("I{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "I0+l0", 2000)]);

    // push four items with increased timestamps to the primary stream; this should produce two items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //        0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //        0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //        0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //            0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //            0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900),
    //            0:J0 (ts: 1901), 1:J1 (ts: 1901), 2:J2 (ts: 1901), 3:J3 (ts: 1901) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("J{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "J0+l0", 2000), (1, "J1+l1", 2001)]);

    // push four items with increased timestamps to the primary stream; this should produce three items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //        0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //        0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //        0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900),
    //        0:J0 (ts: 1901), 1:J1 (ts: 1901), 2:J2 (ts: 1901), 3:J3 (ts: 1901) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //            0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //            0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900),
    //            0:J0 (ts: 1901), 1:J1 (ts: 1901), 2:J2 (ts: 1901), 3:J3 (ts: 1901),
    //            0:K0 (ts: 1902), 1:K1 (ts: 1902), 2:K2 (ts: 1902), 3:K3 (ts: 1902) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("K{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "K0+l0", 2000), (1, "K1+l1", 2001), (2, "K2+l2", 2002)]);

    // push four items with increased timestamps to the primary stream; this should produce four items
    // w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //        0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //        0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //        0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //        0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //        0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //        0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900),
    //        0:J0 (ts: 1901), 1:J1 (ts: 1901), 2:J2 (ts: 1901), 3:J3 (ts: 1901) }
    //        0:K0 (ts: 1902), 1:K1 (ts: 1902), 2:K2 (ts: 1902), 3:K3 (ts: 1902) }
    // w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    // --> w1 = { 0:C0 (ts: 2100), 1:C1 (ts: 2100), 2:C2 (ts: 2100), 3:C3 (ts: 2100),
    //            0:D0 (ts: 2101), 1:D1 (ts: 2101), 2:D2 (ts: 2101), 3:D3 (ts: 2101),
    //            0:E0 (ts: 2102), 1:E1 (ts: 2102), 2:E2 (ts: 2102), 3:E3 (ts: 2102),
    //            0:F0 (ts: 2103), 1:F1 (ts: 2103), 2:F2 (ts: 2103), 3:F3 (ts: 2103),
    //            0:G0 (ts: 2104), 1:G1 (ts: 2104), 2:G2 (ts: 2104), 3:G3 (ts: 2104),
    //            0:H0 (ts: 1899), 1:H1 (ts: 1899), 2:H2 (ts: 1899), 3:H3 (ts: 1899),
    //            0:I0 (ts: 1900), 1:I1 (ts: 1900), 2:I2 (ts: 1900), 3:I3 (ts: 1900),
    //            0:J0 (ts: 1901), 1:J1 (ts: 1901), 2:J2 (ts: 1901), 3:J3 (ts: 1901),
    //            0:K0 (ts: 1902), 1:K1 (ts: 1902), 2:K2 (ts: 1902), 3:K3 (ts: 1902),
    //            0:L0 (ts: 1903), 1:L1 (ts: 1903), 2:L2 (ts: 1903), 3:L3 (ts: 1903) }
    //     w2 = { 0:l0 (ts: 2000), 1:l1 (ts: 2001), 2:l2 (ts: 2002), 3:l3 (ts: 2003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t1
            .pipe_input_at(expected_key, format!("L{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "L0+l0", 2000),
        (1, "L1+l1", 2001),
        (2, "L2+l2", 2002),
        (3, "L3+l3", 2003),
    ]);
}

// KStreamKStreamJoinTest.testAsymmetricWindowingAfter
#[test]
fn join_test_asymmetric_windowing_after() {
    let driver = build::<String>(
        Kind::Inner,
        JoinWindows::of_time_difference_with_no_grace(ms(0))
            .unwrap()
            .after(ms(100))
            .unwrap(),
        cached("testAsymmetricWindowingAfter"),
    );
    let io = Io::new(&driver);

    let mut time: i64 = 1000;

    // push four items with increasing timestamps to the primary stream; the other window is empty; this should produce no items
    // w1 = {}
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = {}
    for i in 0..EXPECTED_KEYS.len() {
        io.t1
            .pipe_input_at(
                EXPECTED_KEYS[i],
                format!("A{}", EXPECTED_KEYS[i]),
                time + i as i64,
            )
            .unwrap();
    }
    io.check(&[]);

    // push four items smaller timestamps (out of window) to the secondary stream; this should produce no items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999) }
    time = 1000 - 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("a{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items with increased timestamps to the secondary stream; this should produce one item
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("b{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+b0", 1000)]);

    // push four items with increased timestamps to the secondary stream; this should produce two items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("c{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+c0", 1001), (1, "A1+c1", 1001)]);

    // push four items with increased timestamps to the secondary stream; this should produce three items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("d{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+d0", 1002), (1, "A1+d1", 1002), (2, "A2+d2", 1002)]);

    // push four items with increased timestamps to the secondary stream; this should produce four items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("e{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "A0+e0", 1003),
        (1, "A1+e1", 1003),
        (2, "A2+e2", 1003),
        (3, "A3+e3", 1003),
    ]);

    // push four items with larger timestamps to the secondary stream; this should produce four items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //        0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //            0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100) }
    time = 1000 + 100;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("f{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "A0+f0", 1100),
        (1, "A1+f1", 1100),
        (2, "A2+f2", 1100),
        (3, "A3+f3", 1100),
    ]);

    // push four items with increased timestamps to the secondary stream; this should produce three items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //        0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //        0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //            0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //            0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("g{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(1, "A1+g1", 1101), (2, "A2+g2", 1101), (3, "A3+g3", 1101)]);

    // push four items with increased timestamps to the secondary stream; this should produce two items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //        0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //        0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //        0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //            0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //            0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101),
    //            0:h0 (ts: 1102), 1:h1 (ts: 1102), 2:h2 (ts: 1102), 3:h3 (ts: 1102) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("h{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(2, "A2+h2", 1102), (3, "A3+h3", 1102)]);

    // push four items with increased timestamps to the secondary stream; this should produce one item
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //        0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //        0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //        0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101),
    //        0:h0 (ts: 1102), 1:h1 (ts: 1102), 2:h2 (ts: 1102), 3:h3 (ts: 1102) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //            0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //            0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101),
    //            0:h0 (ts: 1102), 1:h1 (ts: 1102), 2:h2 (ts: 1102), 3:h3 (ts: 1102),
    //            0:i0 (ts: 1103), 1:i1 (ts: 1103), 2:i2 (ts: 1103), 3:i3 (ts: 1103) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("i{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(3, "A3+i3", 1103)]);

    // push four items with increased timestamps (no out of window) to the secondary stream; this should produce no items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //        0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //        0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //        0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //        0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //        0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //        0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101),
    //        0:h0 (ts: 1102), 1:h1 (ts: 1102), 2:h2 (ts: 1102), 3:h3 (ts: 1102),
    //        0:i0 (ts: 1103), 1:i1 (ts: 1103), 2:i2 (ts: 1103), 3:i3 (ts: 1103) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 999), 1:a1 (ts: 999), 2:a2 (ts: 999), 3:a3 (ts: 999),
    //            0:b0 (ts: 1000), 1:b1 (ts: 1000), 2:b2 (ts: 1000), 3:b3 (ts: 1000),
    //            0:c0 (ts: 1001), 1:c1 (ts: 1001), 2:c2 (ts: 1001), 3:c3 (ts: 1001),
    //            0:d0 (ts: 1002), 1:d1 (ts: 1002), 2:d2 (ts: 1002), 3:d3 (ts: 1002),
    //            0:e0 (ts: 1003), 1:e1 (ts: 1003), 2:e2 (ts: 1003), 3:e3 (ts: 1003),
    //            0:f0 (ts: 1100), 1:f1 (ts: 1100), 2:f2 (ts: 1100), 3:f3 (ts: 1100),
    //            0:g0 (ts: 1101), 1:g1 (ts: 1101), 2:g2 (ts: 1101), 3:g3 (ts: 1101),
    //            0:h0 (ts: 1102), 1:h1 (ts: 1102), 2:h2 (ts: 1102), 3:h3 (ts: 1102),
    //            0:i0 (ts: 1103), 1:i1 (ts: 1103), 2:i2 (ts: 1103), 3:i3 (ts: 1103),
    //            0:j0 (ts: 1104), 1:j1 (ts: 1104), 2:j2 (ts: 1104), 3:j3 (ts: 1104) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("j{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);
}

// KStreamKStreamJoinTest.testAsymmetricWindowingBefore
#[test]
fn join_test_asymmetric_windowing_before() {
    let driver = build::<String>(
        Kind::Inner,
        JoinWindows::of_time_difference_with_no_grace(ms(0))
            .unwrap()
            .before(ms(100))
            .unwrap(),
        cached("testAsymmetricWindowingBefore"),
    );
    let io = Io::new(&driver);

    let mut time: i64 = 1000;

    // push four items with increasing timestamps to the primary stream; the other window is empty; this should produce no items
    // w1 = {}
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = {}
    for i in 0..EXPECTED_KEYS.len() {
        io.t1
            .pipe_input_at(
                EXPECTED_KEYS[i],
                format!("A{}", EXPECTED_KEYS[i]),
                time + i as i64,
            )
            .unwrap();
    }
    io.check(&[]);

    // push four items with smaller timestamps (before the window) to the other stream; this should produce no items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = {}
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899) }
    time = 1000 - 100 - 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("a{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);

    // push four items with increased timestamp to the other stream; this should produce one item
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("b{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+b0", 1000)]);

    // push four items with increased timestamp to the other stream; this should produce two items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("c{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+c0", 1000), (1, "A1+c1", 1001)]);

    // push four items with increased timestamp to the other stream; this should produce three items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("d{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(0, "A0+d0", 1000), (1, "A1+d1", 1001), (2, "A2+d2", 1002)]);

    // push four items with increased timestamp to the other stream; this should produce four items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("e{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "A0+e0", 1000),
        (1, "A1+e1", 1001),
        (2, "A2+e2", 1002),
        (3, "A3+e3", 1003),
    ]);

    // push four items with larger timestamp to the other stream; this should produce four items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //        0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //            0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000) }
    time = 1000;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("f{}", expected_key), time)
            .unwrap();
    }
    io.check(&[
        (0, "A0+f0", 1000),
        (1, "A1+f1", 1001),
        (2, "A2+f2", 1002),
        (3, "A3+f3", 1003),
    ]);

    // push four items with increase timestamp to the other stream; this should produce three items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //        0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //        0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //            0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //            0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("g{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(1, "A1+g1", 1001), (2, "A2+g2", 1002), (3, "A3+g3", 1003)]);

    // push four items with increase timestamp to the other stream; this should produce two items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //        0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //        0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //        0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //            0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //            0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001),
    //            0:h0 (ts: 1002), 1:h1 (ts: 1002), 2:h2 (ts: 1002), 3:h3 (ts: 1002) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("h{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(2, "A2+h2", 1002), (3, "A3+h3", 1003)]);

    // push four items with increase timestamp to the other stream; this should produce one item
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //        0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //        0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //        0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001),
    //        0:h0 (ts: 1002), 1:h1 (ts: 1002), 2:h2 (ts: 1002), 3:h3 (ts: 1002) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //            0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //            0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001),
    //            0:h0 (ts: 1002), 1:h1 (ts: 1002), 2:h2 (ts: 1002), 3:h3 (ts: 1002),
    //            0:i0 (ts: 1003), 1:i1 (ts: 1003), 2:i2 (ts: 1003), 3:i3 (ts: 1003) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("i{}", expected_key), time)
            .unwrap();
    }
    io.check(&[(3, "A3+i3", 1003)]);

    // push four items with increase timestamp (no out of window) to the other stream; this should produce no items
    // w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    // w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //        0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //        0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //        0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //        0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //        0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //        0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001),
    //        0:h0 (ts: 1002), 1:h1 (ts: 1002), 2:h2 (ts: 1002), 3:h3 (ts: 1002),
    //        0:i0 (ts: 1003), 1:i1 (ts: 1003), 2:i2 (ts: 1003), 3:i3 (ts: 1003) }
    // --> w1 = { 0:A0 (ts: 1000), 1:A1 (ts: 1001), 2:A2 (ts: 1002), 3:A3 (ts: 1003) }
    //     w2 = { 0:a0 (ts: 899), 1:a1 (ts: 899), 2:a2 (ts: 899), 3:a3 (ts: 899),
    //            0:b0 (ts: 900), 1:b1 (ts: 900), 2:b2 (ts: 900), 3:b3 (ts: 900),
    //            0:c0 (ts: 901), 1:c1 (ts: 901), 2:c2 (ts: 901), 3:c3 (ts: 901),
    //            0:d0 (ts: 902), 1:d1 (ts: 902), 2:d2 (ts: 902), 3:d3 (ts: 902),
    //            0:e0 (ts: 903), 1:e1 (ts: 903), 2:e2 (ts: 903), 3:e3 (ts: 903),
    //            0:f0 (ts: 1000), 1:f1 (ts: 1000), 2:f2 (ts: 1000), 3:f3 (ts: 1000),
    //            0:g0 (ts: 1001), 1:g1 (ts: 1001), 2:g2 (ts: 1001), 3:g3 (ts: 1001),
    //            0:h0 (ts: 1002), 1:h1 (ts: 1002), 2:h2 (ts: 1002), 3:h3 (ts: 1002),
    //            0:i0 (ts: 1003), 1:i1 (ts: 1003), 2:i2 (ts: 1003), 3:i3 (ts: 1003),
    //            0:j0 (ts: 1004), 1:j1 (ts: 1004), 2:j2 (ts: 1004), 3:j3 (ts: 1004) }
    time += 1;
    for expected_key in EXPECTED_KEYS {
        io.t2
            .pipe_input_at(expected_key, format!("j{}", expected_key), time)
            .unwrap();
    }
    io.check(&[]);
}
