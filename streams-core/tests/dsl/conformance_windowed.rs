//! Conformance: Kafka Streams' time- and sliding-window unit tests (`KStreamWindowAggregateTest`,
//! `TimeWindowedKStreamImplTest`, `KStreamSlidingWindowAggregateTest`,
//! `SlidingWindowedKStreamImplTest`, the windowed cases of `KGroupedStreamImplTest`), translated
//! to this crate through the TopologyTestDriver. Expected outputs are Kafka's.
//!
//! Kafka's parameterized cases (emit strategy x record cache) run as loops over [`params`].

use std::time::Duration;

use crate::common::{cached, drain, s, uncached};
use streams_core::*;

type Out<V> = Vec<(Windowed<String>, Option<V>, i64)>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn tw(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(s(key), Window::new(start, end))
}

/// Kafka's `Windowed.toString` as the tests' `map` produces it: `[key@start/end]`.
fn kafka_string(w: &Windowed<String>) -> String {
    format!("[{}@{}/{}]", w.key, w.window.start, w.window.end)
}

/// Kafka's `getEmitStrategy`/`data`: (emit strategy, record cache on).
fn params() -> [(EmitStrategy, bool); 4] {
    [
        (EmitStrategy::on_window_update(), true),
        (EmitStrategy::on_window_update(), false),
        (EmitStrategy::on_window_close(), true),
        (EmitStrategy::on_window_close(), false),
    ]
}

fn config(app: &str, with_cache: bool) -> StreamsConfig {
    if with_cache {
        cached(app)
    } else {
        uncached(app)
    }
}

/// `setMaterializedCache`.
fn with_cache<K: 'static, V: 'static>(
    m: Materialized<K, V>,
    with_cache: bool,
) -> Materialized<K, V> {
    if with_cache {
        m
    } else {
        m.with_caching_disabled()
    }
}

fn concat_aggregate(
    stream: &TimeWindowedKStream<String, String>,
    m: Materialized<String, String>,
) -> KTable<Windowed<String>, String> {
    stream.aggregate(|| s("0"), |_k, v, agg| format!("{agg}+{v}"), m)
}

fn windowed_string_output(table: &KTable<Windowed<String>, String>, size_ms: i64) {
    table.to_stream().to(
        "output",
        Produced::with(
            TimeWindowedSerde::new(StringSerde, size_ms),
            Nullable(StringSerde),
        ),
    );
}

fn drain_strings(driver: &TopologyTestDriver, size_ms: i64) -> Out<String> {
    drain(
        driver,
        "output",
        TimeWindowedSerde::new(StringSerde, size_ms),
        Nullable(StringSerde),
    )
}

// ---------------------------------------------------------------------------------------------
// KStreamWindowAggregateTest
// ---------------------------------------------------------------------------------------------

// KStreamWindowAggregateTest.testAggBasic
#[test]
fn test_agg_basic() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        let windows = TimeWindows::of_size_and_grace(ms(10), ms(100))
            .unwrap()
            .advance_by(ms(5))
            .unwrap();
        let table = concat_aggregate(
            &builder
                .stream("topic1", Consumed::with(StringSerde, StringSerde))
                .group_by_key()
                .windowed_by(windows)
                .emit_strategy(emit),
            with_cache(
                Materialized::named("topic1-Canonized").with_value_serde(StringSerde),
                cache,
            ),
        );
        windowed_string_output(&table, 10);
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("agg-basic", cache)).unwrap();
        let input = driver.input_topic("topic1", StringSerde, StringSerde);
        for (k, v, t) in [
            ("A", "1", 0),
            ("B", "2", 1),
            ("C", "3", 2),
            ("D", "4", 3),
            ("A", "1", 4),
            ("A", "1", 5),
            ("B", "2", 6),
            ("D", "4", 7),
            ("B", "2", 8),
            ("C", "3", 9),
            ("A", "1", 10),
            ("B", "2", 11),
            ("D", "4", 12),
            ("B", "2", 13),
            ("C", "3", 14),
            ("B", "1", 3),
            ("B", "2", 2),
            ("B", "3", 9),
        ] {
            input.pipe_input_at(s(k), s(v), t).unwrap();
        }
        let got = drain_strings(&driver, 10);
        if emit.is_on_window_close() {
            // Nothing processed since grace is 100 and no window closes
            assert!(got.is_empty(), "{emit:?} cache={cache}: {got:?}");
            continue;
        }
        let exp = |k: &str, st: i64, v: &str, t: i64| (tw(k, st, st + 10), Some(s(v)), t);
        assert_eq!(
            got,
            vec![
                exp("A", 0, "0+1", 0),
                exp("B", 0, "0+2", 1),
                exp("C", 0, "0+3", 2),
                exp("D", 0, "0+4", 3),
                exp("A", 0, "0+1+1", 4),
                exp("A", 0, "0+1+1+1", 5),
                exp("A", 5, "0+1", 5),
                exp("B", 0, "0+2+2", 6),
                exp("B", 5, "0+2", 6),
                exp("D", 0, "0+4+4", 7),
                exp("D", 5, "0+4", 7),
                exp("B", 0, "0+2+2+2", 8),
                exp("B", 5, "0+2+2", 8),
                exp("C", 0, "0+3+3", 9),
                exp("C", 5, "0+3", 9),
                exp("A", 5, "0+1+1", 10),
                exp("A", 10, "0+1", 10),
                exp("B", 5, "0+2+2+2", 11),
                exp("B", 10, "0+2", 11),
                exp("D", 5, "0+4+4", 12),
                exp("D", 10, "0+4", 12),
                exp("B", 5, "0+2+2+2+2", 13),
                exp("B", 10, "0+2+2", 13),
                exp("C", 5, "0+3+3", 14),
                exp("C", 10, "0+3", 14),
                exp("B", 0, "0+2+2+2+1", 8),
                exp("B", 0, "0+2+2+2+1+2", 8),
                exp("B", 0, "0+2+2+2+1+2+3", 9),
                exp("B", 5, "0+2+2+2+2+3", 13),
            ],
            "{emit:?} cache={cache}"
        );
    }
}

/// `shouldLogAndMeterWhenSkippingExpiredWindow*`: `(key as Kafka prints it, value, timestamp)`.
fn drain_mapped(driver: &TopologyTestDriver, size_ms: i64) -> Vec<(String, String, i64)> {
    drain_strings(driver, size_ms)
        .into_iter()
        .map(|(k, v, t)| (kafka_string(&k), v.unwrap_or_default(), t))
        .collect()
}

// KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow (outputs and the
// dropped-records count; the lateness metrics and log lines have no equivalent here)
#[test]
fn should_log_and_meter_when_skipping_expired_window() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        let windows = TimeWindows::of_size_and_grace(ms(10), ms(90))
            .unwrap()
            .advance_by(ms(5))
            .unwrap();
        let table = builder
            .stream("topic", Consumed::with(StringSerde, StringSerde))
            .group_by_key()
            .windowed_by(windows)
            .emit_strategy(emit)
            .aggregate(
                String::new,
                |_k, v, agg| format!("{agg}+{v}"),
                with_cache(
                    Materialized::named("topic1-Canonicalized")
                        .with_value_serde(StringSerde)
                        .with_logging_disabled()
                        .with_retention(ms(100)),
                    cache,
                ),
            );
        windowed_string_output(&table, 10);
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("expired", cache)).unwrap();
        let input = driver.input_topic("topic", StringSerde, StringSerde);
        for t in [100, 0, 1, 2, 3, 4, 5, 6, 105, 106] {
            input.pipe_input_at(s("k"), t.to_string(), t).unwrap();
        }
        // how many events get dropped
        assert_eq!(
            driver.metrics().dropped_records,
            7,
            "{emit:?} cache={cache}"
        );
        let exp = |k: &str, v: &str, t: i64| (s(k), s(v), t);
        let expected = if emit.is_on_window_close() {
            // Window close time is 15 when timestamp is 105
            vec![exp("[k@5/15]", "+5+6", 6)]
        } else {
            vec![
                exp("[k@95/105]", "+100", 100),
                exp("[k@100/110]", "+100", 100),
                exp("[k@5/15]", "+5", 5),
                exp("[k@5/15]", "+5+6", 6),
                exp("[k@100/110]", "+100+105", 105),
                exp("[k@105/115]", "+105", 105),
                exp("[k@100/110]", "+100+105+106", 106),
                exp("[k@105/115]", "+105+106", 106),
            ]
        };
        assert_eq!(
            drain_mapped(&driver, 10),
            expected,
            "{emit:?} cache={cache}"
        );
    }
}

// KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace (outputs and
// the dropped-records count)
#[test]
fn should_log_and_meter_when_skipping_expired_window_by_grace() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        let windows = TimeWindows::of_size_and_grace(ms(10), ms(90))
            .unwrap()
            .advance_by(ms(10))
            .unwrap();
        let table = builder
            .stream("topic", Consumed::with(StringSerde, StringSerde))
            .group_by_key()
            .windowed_by(windows)
            .emit_strategy(emit)
            .aggregate(
                String::new,
                |_k, v, agg| format!("{agg}+{v}"),
                with_cache(
                    Materialized::named("topic1-Canonicalized")
                        .with_value_serde(StringSerde)
                        .with_logging_disabled(),
                    cache,
                ),
            );
        windowed_string_output(&table, 10);
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("by-grace", cache)).unwrap();
        let input = driver.input_topic("topic", StringSerde, StringSerde);
        for (v, t) in [
            ("100", 200),
            ("0", 100),
            ("1", 101),
            ("2", 102),
            ("3", 103),
            ("4", 104),
            ("5", 105),
            ("6", 6),
        ] {
            input.pipe_input_at(s("k"), s(v), t).unwrap();
        }
        assert_eq!(
            driver.metrics().dropped_records,
            7,
            "{emit:?} cache={cache}"
        );
        let got = drain_mapped(&driver, 10);
        if !emit.is_on_window_close() {
            assert_eq!(
                got,
                vec![(s("[k@200/210]"), s("+100"), 200)],
                "cache={cache}"
            );
        } else {
            assert!(got.is_empty(), "cache={cache}: {got:?}");
        }
    }
}

/// The processor-level emit-final cases: `TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5)`,
/// aggregating `"0"+v`, with the emit interval 0 (every record checks for closed windows, as
/// this crate always does).
fn emit_final_driver(emit: EmitStrategy) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(5))
        .unwrap()
        .advance_by(ms(5))
        .unwrap();
    let table = concat_aggregate(
        &builder
            .stream("topic", Consumed::with(StringSerde, StringSerde))
            .group_by_key()
            .windowed_by(windows)
            .emit_strategy(emit),
        Materialized::named("dummy-store-name").with_value_serde(StringSerde),
    );
    windowed_string_output(&table, 10);
    TopologyTestDriver::new(builder.build().unwrap(), uncached("emit-final")).unwrap()
}

// KStreamWindowAggregateTest.shouldNotEmitFinalIfNotProgressEnough
#[test]
fn should_not_emit_final_if_not_progress_enough() {
    for (emit, _) in params() {
        let driver = emit_final_driver(emit);
        let input = driver.input_topic("topic", StringSerde, StringSerde);
        input.pipe_input_at(s("A"), s("1"), 0).unwrap();
        input.pipe_input_at(s("B"), s("2"), 5).unwrap();
        input.pipe_input_at(s("C"), s("3"), 15).unwrap();
        let exp = |k: &str, st: i64, v: &str, t: i64| (tw(k, st, st + 10), Some(s(v)), t);
        let expected = if emit.is_on_window_close() {
            vec![exp("A", 0, "0+1", 0), exp("B", 0, "0+2", 5)]
        } else {
            vec![
                exp("A", 0, "0+1", 0),
                exp("B", 0, "0+2", 5),
                exp("B", 5, "0+2", 5),
                exp("C", 10, "0+3", 15),
                exp("C", 15, "0+3", 15),
            ]
        };
        assert_eq!(drain_strings(&driver, 10), expected, "{emit:?}");
        input.pipe_input_at(s("D"), s("4"), 15).unwrap();
        let expected = if emit.is_on_window_close() {
            // None emitted because observedTime doesn't progress
            vec![]
        } else {
            vec![exp("D", 10, "0+4", 15), exp("D", 15, "0+4", 15)]
        };
        assert_eq!(drain_strings(&driver, 10), expected, "{emit:?}");
        input.pipe_input_at(s("E"), s("5"), 19).unwrap();
        let expected = if emit.is_on_window_close() {
            // None emitted because observedTime doesn't progress enough to cover new windows
            vec![]
        } else {
            vec![exp("E", 10, "0+5", 19), exp("E", 15, "0+5", 19)]
        };
        assert_eq!(drain_strings(&driver, 10), expected, "{emit:?}");
    }
}

// KStreamWindowAggregateTest.shouldEmitWithInterval0
#[test]
fn should_emit_with_interval_0() {
    for (emit, _) in params() {
        let driver = emit_final_driver(emit);
        let input = driver.input_topic("topic", StringSerde, StringSerde);
        for (k, v, t) in [
            ("A", "1", 0),
            ("A", "1", 5),
            ("B", "2", 10),
            ("C", "3", 15),
            ("D", "4", 20),
        ] {
            input.pipe_input_at(s(k), s(v), t).unwrap();
        }
        let exp = |k: &str, st: i64, v: &str, t: i64| (tw(k, st, st + 10), Some(s(v)), t);
        let expected = if emit.is_on_window_close() {
            vec![
                exp("A", 0, "0+1+1", 5),
                exp("A", 5, "0+1", 5),
                exp("B", 5, "0+2", 10),
            ]
        } else {
            vec![
                exp("A", 0, "0+1", 0),
                exp("A", 0, "0+1+1", 5),
                exp("A", 5, "0+1", 5),
                exp("B", 5, "0+2", 10),
                exp("B", 10, "0+2", 10),
                exp("C", 10, "0+3", 15),
                exp("C", 15, "0+3", 15),
                exp("D", 15, "0+4", 20),
                exp("D", 20, "0+4", 20),
            ]
        };
        assert_eq!(drain_strings(&driver, 10), expected, "{emit:?}");
    }
}

// KStreamWindowAggregateTest.testJoin (emit-final case: both windowed tables emit final
// results and their join fires on each)
#[test]
#[ignore = "differs from Kafka: table1's window [0,10) is past its retention (size + grace = 15 ms) at stream time 20 and hidden from the join's lookup here; Kafka's segmented store still holds it (60 s segments)"]
fn test_join_emit_final() {
    for cache in [true, false] {
        let builder = StreamsBuilder::new();
        let windows = TimeWindows::of_size_and_grace(ms(10), ms(5))
            .unwrap()
            .advance_by(ms(5))
            .unwrap();
        let table = |topic: &str, store: &str| {
            concat_aggregate(
                &builder
                    .stream(topic, Consumed::with(StringSerde, StringSerde))
                    .group_by_key()
                    .windowed_by(windows)
                    .emit_strategy(EmitStrategy::on_window_close()),
                with_cache(
                    Materialized::named(store).with_value_serde(StringSerde),
                    cache,
                ),
            )
        };
        let table1 = table("topic1", "topic1-Canonized");
        let table2 = table("topic2", "topic2-Canonized");
        let wserde = TimeWindowedSerde::new(StringSerde, 10);
        table1
            .to_stream()
            .to("out1", Produced::with(wserde, Nullable(StringSerde)));
        table2
            .to_stream()
            .to("out2", Produced::with(wserde, Nullable(StringSerde)));
        table1
            .join(&table2, |p1: &String, p2: &String| format!("{p1}%{p2}"))
            .to_stream()
            .to("out3", Produced::with(wserde, Nullable(StringSerde)));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("join-final", cache)).unwrap();
        let in1 = driver.input_topic("topic1", StringSerde, StringSerde);
        let in2 = driver.input_topic("topic2", StringSerde, StringSerde);
        let out = |t: &str| drain(&driver, t, wserde, Nullable(StringSerde));
        let exp = |k: &str, st: i64, v: &str, t: i64| (tw(k, st, st + 10), Some(s(v)), t);
        for (k, v, t) in [
            ("A", "1", 0),
            ("B", "2", 1),
            ("C", "3", 2),
            ("D", "4", 3),
            ("A", "1", 9),
            ("A", "1", 15),
        ] {
            in1.pipe_input_at(s(k), s(v), t).unwrap();
        }
        assert_eq!(
            out("out1"),
            vec![
                exp("A", 0, "0+1+1", 9),
                exp("B", 0, "0+2", 1),
                exp("C", 0, "0+3", 2),
                exp("D", 0, "0+4", 3)
            ]
        );
        assert_eq!(out("out2"), vec![]);
        assert_eq!(out("out3"), vec![]);
        for (k, v, t) in [
            ("A", "1", 10),
            ("B", "2", 11),
            ("D", "4", 12),
            ("B", "2", 13),
            ("C", "3", 14),
            ("A", "1", 20),
        ] {
            in1.pipe_input_at(s(k), s(v), t).unwrap();
        }
        assert_eq!(
            out("out1"),
            vec![
                exp("A", 5, "0+1+1", 10),
                exp("B", 5, "0+2+2", 13),
                exp("C", 5, "0+3", 14),
                exp("D", 5, "0+4", 12)
            ]
        );
        assert_eq!(out("out2"), vec![]);
        assert_eq!(out("out3"), vec![]);
        for (k, v, t) in [
            ("A", "a", 0),
            ("B", "b", 1),
            ("C", "c", 2),
            ("D", "d", 10),
            ("A", "a", 15),
        ] {
            in2.pipe_input_at(s(k), s(v), t).unwrap();
        }
        assert_eq!(out("out1"), vec![]);
        // Kafka's test checks processor 1 and 2 only with the cache here (without it, it
        // re-checks processors 0 and 2 by mistake and they are empty then).
        let second_out2 = out("out2");
        let second_out3 = out("out3");
        if cache {
            assert_eq!(
                second_out2,
                vec![
                    exp("A", 0, "0+a", 0),
                    exp("B", 0, "0+b", 1),
                    exp("C", 0, "0+c", 2)
                ]
            );
            assert_eq!(
                second_out3,
                vec![
                    exp("A", 0, "0+1+1%0+a", 9),
                    exp("B", 0, "0+2%0+b", 1),
                    exp("C", 0, "0+3%0+c", 2)
                ]
            );
        }
        for (k, v, t) in [
            ("A", "a", 5),
            ("B", "b", 6),
            ("D", "d", 7),
            ("D", "d", 18),
            ("A", "a", 21),
        ] {
            in2.pipe_input_at(s(k), s(v), t).unwrap();
        }
        assert_eq!(out("out1"), vec![]);
        let mut third_out2 = if cache { vec![] } else { second_out2 };
        third_out2.extend(out("out2"));
        assert_eq!(
            third_out2,
            if cache {
                vec![
                    exp("A", 5, "0+a", 5),
                    exp("B", 5, "0+b", 6),
                    exp("D", 5, "0+d+d", 10),
                ]
            } else {
                vec![
                    exp("A", 0, "0+a", 0),
                    exp("B", 0, "0+b", 1),
                    exp("C", 0, "0+c", 2),
                    exp("A", 5, "0+a", 5),
                    exp("B", 5, "0+b", 6),
                    exp("D", 5, "0+d+d", 10),
                ]
            }
        );
        let mut third_out3 = if cache { vec![] } else { second_out3 };
        third_out3.extend(out("out3"));
        let mut expected3 = if cache {
            vec![]
        } else {
            vec![
                exp("A", 0, "0+1+1%0+a", 9),
                exp("B", 0, "0+2%0+b", 1),
                exp("C", 0, "0+3%0+c", 2),
            ]
        };
        expected3.extend([
            exp("A", 5, "0+1+1%0+a", 10),
            exp("B", 5, "0+2+2%0+b", 13),
            exp("D", 5, "0+4%0+d+d", 12),
        ]);
        assert_eq!(third_out3, expected3, "cache={cache}");
    }
}

// ---------------------------------------------------------------------------------------------
// TimeWindowedKStreamImplTest
// ---------------------------------------------------------------------------------------------

/// `TimeWindowedKStreamImplTest.setup`: 500 ms tumbling windows without grace.
fn time_windowed(
    builder: &StreamsBuilder,
    emit: EmitStrategy,
) -> TimeWindowedKStream<String, String> {
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(500)).unwrap())
        .emit_strategy(emit)
}

/// `TimeWindowedKStreamImplTest.processData`.
fn process_data(driver: &TopologyTestDriver) {
    let input = driver.input_topic("input", StringSerde, StringSerde);
    for (k, v, t) in [
        ("1", "1", 10),
        ("1", "2", 15),
        ("1", "3", 500),
        ("2", "10", 550),
        ("2", "20", 500),
        ("2", "30", 1000),
    ] {
        input.pipe_input_at(s(k), s(v), t).unwrap();
    }
}

fn k1w0() -> Windowed<String> {
    tw("1", 0, 500)
}
fn k1w1() -> Windowed<String> {
    tw("1", 500, 1000)
}
fn k2w1() -> Windowed<String> {
    tw("2", 500, 1000)
}
fn k2w2() -> Windowed<String> {
    tw("2", 1000, 1500)
}

// TimeWindowedKStreamImplTest.shouldCountWindowed
#[test]
fn should_count_windowed() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        time_windowed(&builder, emit)
            .count(Materialized::new())
            .to_stream()
            .to(
                "output",
                Produced::with(TimeWindowedSerde::new(StringSerde, 500), Nullable(I64Serde)),
            );
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("count-w", cache)).unwrap();
        process_data(&driver);
        let got: Out<i64> = drain(
            &driver,
            "output",
            TimeWindowedSerde::new(StringSerde, 500),
            Nullable(I64Serde),
        );
        let expected = if emit.is_on_window_close() {
            vec![
                (k1w0(), Some(2), 15),
                (k1w1(), Some(1), 500),
                (k2w1(), Some(2), 550),
            ]
        } else {
            vec![
                (k1w0(), Some(1), 10),
                (k1w0(), Some(2), 15),
                (k1w1(), Some(1), 500),
                (k2w1(), Some(1), 550),
                (k2w1(), Some(2), 550),
                (k2w2(), Some(1), 1000),
            ]
        };
        assert_eq!(got, expected, "{emit:?} cache={cache}");
    }
}

// TimeWindowedKStreamImplTest.shouldReduceWindowed
#[test]
fn should_reduce_windowed() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        let table =
            time_windowed(&builder, emit).reduce(|a, b| format!("{a}+{b}"), Materialized::new());
        windowed_string_output(&table, 500);
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("reduce-w", cache)).unwrap();
        process_data(&driver);
        let expected = if emit.is_on_window_close() {
            vec![
                (k1w0(), Some(s("1+2")), 15),
                (k1w1(), Some(s("3")), 500),
                (k2w1(), Some(s("10+20")), 550),
            ]
        } else {
            vec![
                (k1w0(), Some(s("1")), 10),
                (k1w0(), Some(s("1+2")), 15),
                (k1w1(), Some(s("3")), 500),
                (k2w1(), Some(s("10")), 550),
                (k2w1(), Some(s("10+20")), 550),
                (k2w2(), Some(s("30")), 1000),
            ]
        };
        assert_eq!(
            drain_strings(&driver, 500),
            expected,
            "{emit:?} cache={cache}"
        );
    }
}

// TimeWindowedKStreamImplTest.shouldAggregateWindowed
#[test]
fn should_aggregate_windowed() {
    for (emit, cache) in params() {
        let builder = StreamsBuilder::new();
        let table = concat_aggregate(
            &time_windowed(&builder, emit),
            with_cache(Materialized::with(StringSerde, StringSerde), cache),
        );
        windowed_string_output(&table, 500);
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), config("agg-w", cache)).unwrap();
        process_data(&driver);
        let expected = if emit.is_on_window_close() {
            vec![
                (k1w0(), Some(s("0+1+2")), 15),
                (k1w1(), Some(s("0+3")), 500),
                (k2w1(), Some(s("0+10+20")), 550),
            ]
        } else {
            vec![
                (k1w0(), Some(s("0+1")), 10),
                (k1w0(), Some(s("0+1+2")), 15),
                (k1w1(), Some(s("0+3")), 500),
                (k2w1(), Some(s("0+10")), 550),
                (k2w1(), Some(s("0+10+20")), 550),
                (k2w2(), Some(s("0+30")), 1000),
            ]
        };
        assert_eq!(
            drain_strings(&driver, 500),
            expected,
            "{emit:?} cache={cache}"
        );
    }
}

/// `windowStore.fetch("1", "2", 0, 1000)`: keys 1 and 2, windows starting in [0, 1000].
fn fetch_1_2<V: Clone + 'static>(
    store: &WindowStore<String, V>,
) -> Vec<(Windowed<String>, V, i64)> {
    let mut rows = Vec::new();
    for key in ["1", "2"] {
        for (start, v, t) in store.fetch_range(&s(key), 0, 1000).unwrap() {
            rows.push((tw(key, start, start + 500), v, t));
        }
    }
    rows
}

// TimeWindowedKStreamImplTest.shouldMaterializeCount (without the cache, emitting updates:
// only the window not expired at stream time 1000 is returned)
#[test]
fn should_materialize_count_uncached() {
    let builder = StreamsBuilder::new();
    time_windowed(&builder, EmitStrategy::on_window_update()).count(
        Materialized::named("count-store")
            .with_key_serde(StringSerde)
            .with_value_serde(I64Serde)
            .with_caching_disabled(),
    );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), config("mat-count", false)).unwrap();
    process_data(&driver);
    let store: WindowStore<String, i64> = driver.get_state_store("count-store").unwrap();
    assert_eq!(fetch_1_2(&store), vec![(k2w2(), 1, 1000)]);
}

// TimeWindowedKStreamImplTest.shouldMaterializeCount (with the cache: Kafka's cache merge
// returns windows already expired underneath)
#[test]
#[ignore = "differs from Kafka: a read through the record cache here hides windows past the retention, as the store does; Kafka's cached window store returns them until evicted"]
fn should_materialize_count_cached() {
    let builder = StreamsBuilder::new();
    time_windowed(&builder, EmitStrategy::on_window_update()).count(
        Materialized::named("count-store")
            .with_key_serde(StringSerde)
            .with_value_serde(I64Serde),
    );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), config("mat-count-c", true)).unwrap();
    process_data(&driver);
    let store: WindowStore<String, i64> = driver.get_state_store("count-store").unwrap();
    assert_eq!(
        fetch_1_2(&store),
        vec![
            (k1w0(), 2, 15),
            (k1w1(), 1, 500),
            (k2w1(), 2, 550),
            (k2w2(), 1, 1000)
        ]
    );
}

// TimeWindowedKStreamImplTest.shouldMaterializeCount (emit-final, without the cache: Kafka's
// time-ordered emit-final store still returns the windows closed at stream time 1000)
#[test]
#[ignore = "differs from Kafka: the emit-final store here is the ordinary window store, which hides windows past the retention; Kafka's time-ordered store for emit-final returns [500, 1000) windows at stream time 1000"]
fn should_materialize_count_emit_final() {
    let builder = StreamsBuilder::new();
    time_windowed(&builder, EmitStrategy::on_window_close()).count(
        Materialized::named("count-store")
            .with_key_serde(StringSerde)
            .with_value_serde(I64Serde)
            .with_caching_disabled(),
    );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), config("mat-count-f", false)).unwrap();
    process_data(&driver);
    let store: WindowStore<String, i64> = driver.get_state_store("count-store").unwrap();
    assert_eq!(
        fetch_1_2(&store),
        vec![(k1w1(), 1, 500), (k2w1(), 2, 550), (k2w2(), 1, 1000)]
    );
}

// TimeWindowedKStreamImplTest.shouldMaterializeReduced (without the cache)
#[test]
fn should_materialize_reduced_uncached() {
    let builder = StreamsBuilder::new();
    time_windowed(&builder, EmitStrategy::on_window_update()).reduce(
        |a, b| format!("{a}+{b}"),
        Materialized::named("reduced")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde)
            .with_caching_disabled(),
    );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), config("mat-reduce", false)).unwrap();
    process_data(&driver);
    let store: WindowStore<String, String> = driver.get_state_store("reduced").unwrap();
    assert_eq!(fetch_1_2(&store), vec![(k2w2(), s("30"), 1000)]);
}

// TimeWindowedKStreamImplTest.shouldMaterializeAggregated (without the cache)
#[test]
fn should_materialize_aggregated_uncached() {
    let builder = StreamsBuilder::new();
    concat_aggregate(
        &time_windowed(&builder, EmitStrategy::on_window_update()),
        Materialized::named("aggregated")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde)
            .with_caching_disabled(),
    );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), config("mat-agg", false)).unwrap();
    process_data(&driver);
    let store: WindowStore<String, String> = driver.get_state_store("aggregated").unwrap();
    assert_eq!(fetch_1_2(&store), vec![(k2w2(), s("0+30"), 1000)]);
}

// ---------------------------------------------------------------------------------------------
// SlidingWindowedKStreamImplTest
// ---------------------------------------------------------------------------------------------

/// `SlidingWindowedKStreamImplTest.before`: 100 ms difference, 1000 ms grace.
fn sliding(builder: &StreamsBuilder) -> TimeWindowedKStream<String, String> {
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .windowed_by(SlidingWindows::of_time_difference_and_grace(ms(100), ms(1000)).unwrap())
}

/// `SlidingWindowedKStreamImplTest.processData`.
fn sliding_data(driver: &TopologyTestDriver) {
    let input = driver.input_topic("input", StringSerde, StringSerde);
    for (k, v, t) in [
        ("1", "1", 100),
        ("1", "2", 150),
        ("1", "3", 500),
        ("2", "10", 200),
        ("2", "20", 150),
    ] {
        input.pipe_input_at(s(k), s(v), t).unwrap();
    }
}

/// The last value and timestamp per windowed key (`lastValueAndTimestampPerKey`).
fn last_per_key<V: Clone>(
    out: Out<V>,
) -> std::collections::HashMap<Windowed<String>, (Option<V>, i64)> {
    out.into_iter().map(|(k, v, t)| (k, (v, t))).collect()
}

fn sliding_string_driver(
    table: impl FnOnce(&StreamsBuilder) -> KTable<Windowed<String>, String>,
) -> Out<String> {
    let builder = StreamsBuilder::new();
    windowed_string_output(&table(&builder), 100);
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("sliding")).unwrap();
    sliding_data(&driver);
    drain_strings(&driver, 100)
}

// SlidingWindowedKStreamImplTest.shouldCountSlidingWindows
#[test]
fn should_count_sliding_windows() {
    let builder = StreamsBuilder::new();
    sliding(&builder).count(Materialized::new()).to_stream().to(
        "output",
        Produced::with(TimeWindowedSerde::new(StringSerde, 100), Nullable(I64Serde)),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("sliding")).unwrap();
    sliding_data(&driver);
    let last = last_per_key::<i64>(drain(
        &driver,
        "output",
        TimeWindowedSerde::new(StringSerde, 100),
        Nullable(I64Serde),
    ));
    for (k, st, en, v, t) in [
        ("1", 0, 100, 1, 100),
        ("1", 101, 201, 1, 150),
        ("1", 50, 150, 2, 150),
        ("1", 400, 500, 1, 500),
        ("2", 100, 200, 2, 200),
        ("2", 50, 150, 1, 150),
        ("2", 151, 251, 1, 200),
    ] {
        assert_eq!(
            last.get(&tw(k, st, en)),
            Some(&(Some(v), t)),
            "{k}@{st}/{en}"
        );
    }
}

fn check_sliding_strings(out: Out<String>, expected: [(&str, i64, i64, &str, i64); 7]) {
    let last = last_per_key(out);
    for (k, st, en, v, t) in expected {
        assert_eq!(
            last.get(&tw(k, st, en)),
            Some(&(Some(s(v)), t)),
            "{k}@{st}/{en}"
        );
    }
}

// SlidingWindowedKStreamImplTest.shouldReduceSlidingWindows
#[test]
fn should_reduce_sliding_windows() {
    let out = sliding_string_driver(|b| {
        sliding(b).reduce(|a, v| format!("{a}+{v}"), Materialized::new())
    });
    check_sliding_strings(
        out,
        [
            ("1", 0, 100, "1", 100),
            ("1", 101, 201, "2", 150),
            ("1", 50, 150, "1+2", 150),
            ("1", 400, 500, "3", 500),
            ("2", 100, 200, "10+20", 200),
            ("2", 50, 150, "20", 150),
            ("2", 151, 251, "10", 200),
        ],
    );
}

// SlidingWindowedKStreamImplTest.shouldAggregateSlidingWindows
#[test]
fn should_aggregate_sliding_windows() {
    let out = sliding_string_driver(|b| {
        concat_aggregate(&sliding(b), Materialized::with(StringSerde, StringSerde))
    });
    check_sliding_strings(
        out,
        [
            ("1", 0, 100, "0+1", 100),
            ("1", 101, 201, "0+2", 150),
            ("1", 50, 150, "0+1+2", 150),
            ("1", 400, 500, "0+3", 500),
            ("2", 100, 200, "0+10+20", 200),
            ("2", 50, 150, "0+20", 150),
            ("2", 151, 251, "0+10", 200),
        ],
    );
}

// SlidingWindowedKStreamImplTest.shouldThrowIllegalArgumentWhenRetentionIsTooSmall
#[test]
fn should_throw_illegal_argument_when_retention_is_too_small() {
    let builder = StreamsBuilder::new();
    concat_aggregate(
        &sliding(&builder),
        Materialized::named("aggregated")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde)
            .with_retention(ms(1)),
    );
    let err = builder.build().err();
    assert!(
        matches!(&err, Some(StreamsError::InvalidTopology(m)) if m.contains("retention 1 ms")),
        "{err:?}"
    );
}

// SlidingWindowedKStreamImplTest.shouldDropWindowsOutsideOfRetention
#[test]
fn should_drop_windows_outside_of_retention() {
    let builder = StreamsBuilder::new();
    concat_aggregate(
        &sliding(&builder),
        Materialized::named("aggregated")
            .in_memory()
            .with_retention(ms(1200))
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde)
            .with_caching_disabled(),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("sliding-ret")).unwrap();
    let input = driver.input_topic("input", StringSerde, StringSerde);
    for (v, t) in [("2", 100), ("3", 500), ("4", 799), ("4", 1000), ("5", 2000)] {
        input.pipe_input_at(s("1"), s(v), t).unwrap();
    }
    let store: WindowStore<String, String> = driver.get_state_store("aggregated").unwrap();
    let rows: Vec<(i64, String, i64)> = store.fetch_range(&s("1"), 0, 10_000).unwrap();
    assert_eq!(rows, vec![(900, s("0+4"), 1000), (1900, s("0+5"), 2000)]);
}

// ---------------------------------------------------------------------------------------------
// KStreamSlidingWindowAggregateTest (Kafka runs each case with forward and reverse store
// iterators too; the iterator direction is internal here, so each runs once per strategy and
// cache setting)
// ---------------------------------------------------------------------------------------------

type Gathered = std::collections::BTreeMap<i64, std::collections::BTreeSet<(String, i64)>>;

/// `gatherOutput`: the values and timestamps emitted per window start.
fn gather(out: Out<String>) -> Gathered {
    let mut g = Gathered::new();
    for (k, v, t) in out {
        g.entry(k.window.start)
            .or_default()
            .insert((v.unwrap_or_default(), t));
    }
    g
}

fn gathered(entries: &[(i64, &[(&str, i64)])]) -> Gathered {
    entries
        .iter()
        .map(|(start, vs)| (*start, vs.iter().map(|(v, t)| (s(v), *t)).collect()))
        .collect()
}

/// `SlidingWindows.ofTimeDifferenceAndGrace(10, 5)` over `topic`; Kafka's `setupMaterialized`
/// sets the cache only for emit-final (the update cases use a store supplier, cached).
fn sliding_small(
    emit: EmitStrategy,
    cache: bool,
    table: impl FnOnce(
        TimeWindowedKStream<String, String>,
        Materialized<String, String>,
    ) -> KTable<Windowed<String>, String>,
    input: &[(&str, i64)],
) -> Gathered {
    let builder = StreamsBuilder::new();
    let windowed = builder
        .stream("topic", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .windowed_by(SlidingWindows::of_time_difference_and_grace(ms(10), ms(5)).unwrap())
        .emit_strategy(emit);
    let m = Materialized::named("store-name").with_value_serde(StringSerde);
    let m = if emit.is_on_window_close() {
        with_cache(m, cache)
    } else {
        m
    };
    windowed_string_output(&table(windowed, m), 10);
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), cached("sliding-small")).unwrap();
    let topic = driver.input_topic("topic", StringSerde, StringSerde);
    for (v, t) in input {
        topic.pipe_input_at(s("A"), s(v), *t).unwrap();
    }
    gather(drain_strings(&driver, 10))
}

// KStreamSlidingWindowAggregateTest.testAggregateSmallInput
#[test]
fn test_aggregate_small_input() {
    for (emit, cache) in params() {
        let got = sliding_small(
            emit,
            cache,
            |w, m| concat_aggregate(&w, m),
            &[
                ("1", 10),
                ("2", 10),
                ("3", 14),
                ("4", 15),
                ("5", 20),
                ("6", 22),
                ("7", 30),
            ],
        );
        let expected = if emit.is_on_window_close() {
            gathered(&[
                (0, &[("0+1+2", 10)]),
                (4, &[("0+1+2+3", 14)]),
                (5, &[("0+1+2+3+4", 15)]),
                (10, &[("0+1+2+3+4+5", 20)]),
                (11, &[("0+3+4+5", 20)]),
                (12, &[("0+3+4+5+6", 22)]),
            ])
        } else {
            gathered(&[
                (0, &[("0+1", 10), ("0+1+2", 10)]),
                (4, &[("0+1+2+3", 14)]),
                (5, &[("0+1+2+3+4", 15)]),
                (10, &[("0+1+2+3+4+5", 20)]),
                (11, &[("0+3", 14), ("0+3+4", 15), ("0+3+4+5", 20)]),
                (12, &[("0+3+4+5+6", 22)]),
                (15, &[("0+4", 15), ("0+4+5", 20), ("0+4+5+6", 22)]),
                (16, &[("0+5", 20), ("0+5+6", 22)]),
                (20, &[("0+5+6+7", 30)]),
                (21, &[("0+6", 22), ("0+6+7", 30)]),
                (23, &[("0+7", 30)]),
            ])
        };
        assert_eq!(got, expected, "{emit:?} cache={cache}");
    }
}

// KStreamSlidingWindowAggregateTest.testReduceSmallInput
#[test]
fn test_reduce_small_input() {
    for (emit, cache) in params() {
        let got = sliding_small(
            emit,
            cache,
            |w, m| w.reduce(|a, b| format!("{a}+{b}"), m),
            &[
                ("1", 10),
                ("2", 14),
                ("3", 15),
                ("4", 22),
                ("5", 26),
                ("6", 30),
            ],
        );
        let expected = if emit.is_on_window_close() {
            gathered(&[
                (0, &[("1", 10)]),
                (4, &[("1+2", 14)]),
                (5, &[("1+2+3", 15)]),
                (11, &[("2+3", 15)]),
                (12, &[("2+3+4", 22)]),
            ])
        } else {
            gathered(&[
                (0, &[("1", 10)]),
                (4, &[("1+2", 14)]),
                (5, &[("1+2+3", 15)]),
                (11, &[("2", 14), ("2+3", 15)]),
                (12, &[("2+3+4", 22)]),
                (15, &[("3", 15), ("3+4", 22)]),
                (16, &[("4", 22), ("4+5", 26)]),
                (20, &[("4+5+6", 30)]),
                (23, &[("5", 26), ("5+6", 30)]),
                (27, &[("6", 30)]),
            ])
        };
        assert_eq!(got, expected, "{emit:?} cache={cache}");
    }
}

// ---------------------------------------------------------------------------------------------
// KGroupedStreamImplTest (windowed cases; named and internal store names give the same
// outputs, so each pair is one test)
// ---------------------------------------------------------------------------------------------

fn grouped(builder: &StreamsBuilder) -> KGroupedStream<String, String> {
    builder
        .stream("topic", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
}

fn pipe_all(driver: &TopologyTestDriver, records: &[(&str, &str, i64)]) {
    let input = driver.input_topic("topic", StringSerde, StringSerde);
    for (k, v, t) in records {
        input.pipe_input_at(s(k), s(v), *t).unwrap();
    }
}

fn count_output(table: &KTable<Windowed<String>, i64>, serde: impl Serde<Windowed<String>>) {
    table
        .to_stream()
        .to("output", Produced::with(serde, Nullable(I64Serde)));
}

// KGroupedStreamImplTest.shouldCountSlidingWindows, shouldCountSlidingWindowsWithInternalStoreName
#[test]
fn should_count_sliding_windows_grouped() {
    for named in [true, false] {
        let builder = StreamsBuilder::new();
        let m = if named {
            Materialized::named("aggregate-by-key-windowed")
        } else {
            Materialized::new()
        };
        let table = grouped(&builder)
            .windowed_by(SlidingWindows::of_time_difference_and_grace(ms(500), ms(2000)).unwrap())
            .count(m);
        count_output(&table, TimeWindowedSerde::new(StringSerde, 500));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), cached("grouped-sliding")).unwrap();
        pipe_all(
            &driver,
            &[
                ("1", "A", 500),
                ("1", "A", 999),
                ("1", "A", 600),
                ("2", "B", 500),
                ("2", "B", 600),
                ("2", "B", 700),
                ("3", "C", 501),
                ("1", "A", 1000),
                ("1", "A", 1000),
                ("2", "B", 1000),
                ("2", "B", 1000),
                ("3", "C", 600),
            ],
        );
        let mut got: Out<i64> = drain(
            &driver,
            "output",
            TimeWindowedSerde::new(StringSerde, 500),
            Nullable(I64Serde),
        );
        got.sort_by(|a, b| (&a.0.key, a.0.window.start).cmp(&(&b.0.key, b.0.window.start)));
        let e = |k: &str, st: i64, en: i64, v: i64, t: i64| (tw(k, st, en), Some(v), t);
        assert_eq!(
            got,
            vec![
                e("1", 0, 500, 1, 500),
                e("1", 100, 600, 2, 600),
                e("1", 499, 999, 2, 999),
                e("1", 499, 999, 3, 999),
                e("1", 500, 1000, 4, 1000),
                e("1", 500, 1000, 5, 1000),
                e("1", 501, 1001, 1, 999),
                e("1", 501, 1001, 2, 999),
                e("1", 501, 1001, 3, 1000),
                e("1", 501, 1001, 4, 1000),
                e("1", 601, 1101, 1, 999),
                e("1", 601, 1101, 2, 1000),
                e("1", 601, 1101, 3, 1000),
                e("1", 1000, 1500, 1, 1000),
                e("1", 1000, 1500, 2, 1000),
                e("2", 0, 500, 1, 500),
                e("2", 100, 600, 2, 600),
                e("2", 200, 700, 3, 700),
                e("2", 500, 1000, 4, 1000),
                e("2", 500, 1000, 5, 1000),
                e("2", 501, 1001, 1, 600),
                e("2", 501, 1001, 2, 700),
                e("2", 501, 1001, 3, 1000),
                e("2", 501, 1001, 4, 1000),
                e("2", 601, 1101, 1, 700),
                e("2", 601, 1101, 2, 1000),
                e("2", 601, 1101, 3, 1000),
                e("2", 701, 1201, 1, 1000),
                e("2", 701, 1201, 2, 1000),
                e("3", 1, 501, 1, 501),
                e("3", 100, 600, 2, 600),
                e("3", 502, 1002, 1, 600),
            ],
            "named={named}"
        );
    }
}

// KGroupedStreamImplTest.shouldCountWindowed, shouldCountWindowedWithInternalStoreName
#[test]
fn should_count_windowed_grouped() {
    for named in [true, false] {
        let builder = StreamsBuilder::new();
        let m = if named {
            Materialized::named("aggregate-by-key-windowed")
        } else {
            Materialized::new()
        };
        let table = grouped(&builder)
            .windowed_by(TimeWindows::of_size_and_grace(ms(500), ms(100)).unwrap())
            .count(m);
        count_output(&table, TimeWindowedSerde::new(StringSerde, 500));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), cached("grouped-count-w")).unwrap();
        pipe_all(
            &driver,
            &[
                ("1", "A", 0),
                ("1", "A", 499),
                ("1", "A", 100),
                ("2", "B", 0),
                ("2", "B", 100),
                ("2", "B", 200),
                ("3", "C", 1),
                ("1", "A", 500),
                ("1", "A", 500),
                ("2", "B", 500),
                ("2", "B", 500),
                ("3", "B", 100),
            ],
        );
        let e = |k: &str, st: i64, v: i64, t: i64| (tw(k, st, st + 500), Some(v), t);
        assert_eq!(
            drain(
                &driver,
                "output",
                TimeWindowedSerde::new(StringSerde, 500),
                Nullable(I64Serde)
            ),
            vec![
                e("1", 0, 1, 0),
                e("1", 0, 2, 499),
                e("1", 0, 3, 499),
                e("2", 0, 1, 0),
                e("2", 0, 2, 100),
                e("2", 0, 3, 200),
                e("3", 0, 1, 1),
                e("1", 500, 1, 500),
                e("1", 500, 2, 500),
                e("2", 500, 1, 500),
                e("2", 500, 2, 500),
                e("3", 0, 2, 100),
            ],
            "named={named}"
        );
    }
}

/// `doAggregateSessionWindows` / `doCountSessionWindows` / `doReduceSessionWindows` input.
fn session_grouped_input(driver: &TopologyTestDriver, values: [&str; 6]) {
    let times = [10, 15, 30, 70, 100, 90];
    let keys = ["1", "2", "1", "1", "1", "1"];
    let input = driver.input_topic("topic", StringSerde, StringSerde);
    for i in 0..6 {
        input
            .pipe_input_at(s(keys[i]), s(values[i]), times[i])
            .unwrap();
    }
}

fn sw(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(s(key), Window::new(start, end))
}

// KGroupedStreamImplTest.shouldAggregateSessionWindows,
// shouldAggregateSessionWindowsWithInternalStoreName, shouldCountSessionWindows,
// shouldCountSessionWindowsWithInternalStoreName (with their queryable store names)
#[test]
fn should_aggregate_and_count_session_windows() {
    for (named, count) in [(true, false), (false, false), (true, true), (false, true)] {
        let builder = StreamsBuilder::new();
        let windowed = grouped(&builder)
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(30)).unwrap());
        let table = if count {
            windowed.count(if named {
                Materialized::named("session-store")
            } else {
                Materialized::new()
            })
        } else {
            let m = if named {
                Materialized::named("session-store")
            } else {
                Materialized::new()
            };
            windowed.aggregate(
                || 0i64,
                |_k, _v, agg| agg + 1,
                |_k, a, b| a + b,
                m.with_value_serde(I64Serde),
            )
        };
        // Kafka's `queryableStoreName()` is null for an internal store name; `store_name()`
        // here names the store that holds the table, internal or not (not compared).
        if named {
            assert_eq!(table.store_name(), Some("session-store"));
        }
        count_output(&table, SessionWindowedSerde::new(StringSerde));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), cached("grouped-session")).unwrap();
        session_grouped_input(&driver, ["1"; 6]);
        let last = last_per_key::<i64>(drain(
            &driver,
            "output",
            SessionWindowedSerde::new(StringSerde),
            Nullable(I64Serde),
        ));
        assert_eq!(last.get(&sw("1", 10, 30)), Some(&(Some(2), 30)));
        assert_eq!(last.get(&sw("2", 15, 15)), Some(&(Some(1), 15)));
        assert_eq!(last.get(&sw("1", 70, 100)), Some(&(Some(3), 100)));
    }
}

// KGroupedStreamImplTest.shouldReduceSessionWindows, shouldReduceSessionWindowsWithInternalStoreName
#[test]
fn should_reduce_session_windows() {
    for named in [true, false] {
        let builder = StreamsBuilder::new();
        let m = if named {
            Materialized::named("session-store")
        } else {
            Materialized::new()
        };
        let table = grouped(&builder)
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(30)).unwrap())
            .reduce(|a, b| format!("{a}:{b}"), m);
        if named {
            assert_eq!(table.store_name(), Some("session-store"));
        }
        table.to_stream().to(
            "output",
            Produced::with(
                SessionWindowedSerde::new(StringSerde),
                Nullable(StringSerde),
            ),
        );
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), cached("grouped-session-r")).unwrap();
        session_grouped_input(&driver, ["A", "Z", "B", "A", "B", "C"]);
        let last = last_per_key::<String>(drain(
            &driver,
            "output",
            SessionWindowedSerde::new(StringSerde),
            Nullable(StringSerde),
        ));
        assert_eq!(last.get(&sw("1", 10, 30)), Some(&(Some(s("A:B")), 30)));
        assert_eq!(last.get(&sw("2", 15, 15)), Some(&(Some(s("Z")), 15)));
        assert_eq!(last.get(&sw("1", 70, 100)), Some(&(Some(s("A:B:C")), 100)));
    }
}
