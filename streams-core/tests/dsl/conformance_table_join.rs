//! Conformance: Kafka Streams' table-table and foreign-key join unit tests
//! (`KTableKTable{Inner,Left,Outer}JoinTest`, `KTableKTableForeignKeyJoinScenarioTest`, the
//! observable cases of `foreignkeyjoin/*Test`), translated case by case with Kafka's inputs and
//! expected outputs.

use std::sync::{Arc, Mutex};

use crate::common::{cached, drain, s, uncached};
use streams_core::*;

type Seen<V> = Arc<Mutex<Vec<(i32, Change<V>, i64)>>>;

/// Kafka's `MockApiProcessor` attached to the joined table: records every change.
struct Capture(Seen<String>);

impl Processor<i32, Change<String>> for Capture {
    fn process(
        &mut self,
        r: Record<i32, Change<String>>,
        _ctx: &mut ProcessorContext<'_, i32, Change<String>>,
    ) -> Result<()> {
        self.0.lock().unwrap().push((r.key, r.value, r.timestamp));
        Ok(())
    }
}

fn node(topology: &Topology, prefix: &str) -> String {
    topology
        .describe()
        .subtopologies
        .iter()
        .flat_map(|st| st.nodes.iter())
        .map(|n| n.name.clone())
        .find(|n| n.starts_with(prefix))
        .unwrap_or_else(|| panic!("no node {prefix}*"))
}

fn null_str(v: Option<&String>) -> String {
    v.cloned().unwrap_or_else(|| s("null"))
}

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

/// What one step of the shared input sequence produced: the records on `output` and the
/// changes the joined table forwarded.
type Step = (
    Vec<(i32, Option<String>, i64)>,
    Vec<(i32, Change<String>, i64)>,
);

/// The table-table join tests' shared topology and input sequence (`doTestJoin` and
/// `testSendingOldValue(s)`): `table1 <kind>Join table2` with Kafka's `TOSTRING_JOINER`, the
/// result's stream to `output`, with the record cache on (Kafka's test configuration).
/// `materialized`: the result is kept in a store (`testQueryableJoin`).
fn run_join(kind: Kind, materialized: bool, app: &str) -> Vec<Step> {
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::with(I32Serde, StringSerde);
    let table1 = builder.table("topic1", consumed(), Materialized::new());
    let table2 = builder.table("topic2", consumed(), Materialized::new());
    let joined = match (kind, materialized) {
        (Kind::Inner, false) => table1.join(&table2, |a, b| format!("{a}+{b}")),
        (Kind::Inner, true) => table1.join_materialized(
            &table2,
            |a, b| format!("{a}+{b}"),
            Materialized::new()
                .with_key_serde(I32Serde)
                .with_value_serde(StringSerde),
        ),
        (Kind::Left, _) => table1.left_join(&table2, |a, b| format!("{a}+{}", null_str(b))),
        (Kind::Outer, _) => {
            table1.outer_join(&table2, |a, b| format!("{}+{}", null_str(a), null_str(b)))
        }
    };
    joined
        .to_stream()
        .to("output", Produced::with(I32Serde, Nullable(StringSerde)));
    let mut topology = builder.build().unwrap();
    let merge = node(&topology, "KTABLE-MERGE-");
    let seen: Seen<String> = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    topology
        .add_processor("proc", move || Capture(s2.clone()), &[merge.as_str()])
        .unwrap();
    let driver = TopologyTestDriver::new(topology, cached(app)).unwrap();
    let in1 = driver.input_topic("topic1", I32Serde, Nullable(StringSerde));
    let in2 = driver.input_topic("topic2", I32Serde, Nullable(StringSerde));
    let mut steps = Vec::new();
    let step = |steps: &mut Vec<Step>| {
        steps.push((
            drain(&driver, "output", I32Serde, Nullable(StringSerde)),
            std::mem::take(&mut *seen.lock().unwrap()),
        ))
    };
    let keys = [0, 1, 2, 3];
    // push two items to the primary stream; the other table is empty
    for (i, k) in keys.into_iter().take(2).enumerate() {
        in1.pipe_input_at(k, Some(format!("X{k}")), 5 + i as i64)
            .unwrap();
    }
    // a record with a null key is discarded
    driver
        .pipe_raw("topic1", None, Some(b"SomeVal"), 42)
        .unwrap();
    step(&mut steps);
    // push two items to the other stream
    for (i, k) in keys.into_iter().take(2).enumerate() {
        in2.pipe_input_at(k, Some(format!("Y{k}")), 10 * i as i64)
            .unwrap();
    }
    driver
        .pipe_raw("topic2", None, Some(b"AnotherVal"), 73)
        .unwrap();
    step(&mut steps);
    // push all four items to the primary stream
    for k in keys {
        in1.pipe_input_at(k, Some(format!("XX{k}")), 7).unwrap();
    }
    step(&mut steps);
    // push all items to the other stream
    for k in keys {
        in2.pipe_input_at(k, Some(format!("YY{k}")), k as i64 * 5)
            .unwrap();
    }
    step(&mut steps);
    // push all four items to the primary stream
    for k in keys {
        in1.pipe_input_at(k, Some(format!("XXX{k}")), 6).unwrap();
    }
    step(&mut steps);
    // push two deletes to the other stream
    in2.pipe_input_at(keys[0], None, 5).unwrap();
    in2.pipe_input_at(keys[1], None, 7).unwrap();
    step(&mut steps);
    // push all four items to the primary stream
    for k in keys {
        in1.pipe_input_at(k, Some(format!("XXXX{k}")), 13).unwrap();
    }
    step(&mut steps);
    // push four deletes to the primary stream
    in1.pipe_input_at(keys[0], None, 0).unwrap();
    in1.pipe_input_at(keys[1], None, 42).unwrap();
    in1.pipe_input_at(keys[2], None, 5).unwrap();
    in1.pipe_input_at(keys[3], None, 20).unwrap();
    step(&mut steps);
    steps
}

/// Expected output records of one step.
fn recs(rows: &[(i32, Option<&str>, i64)]) -> Vec<(i32, Option<String>, i64)> {
    rows.iter().map(|(k, v, ts)| (*k, v.map(s), *ts)).collect()
}

/// Expected changes of one step.
fn changes(rows: &[(i32, Option<&str>, Option<&str>, i64)]) -> Vec<(i32, Change<String>, i64)> {
    rows.iter()
        .map(|(k, new, old, ts)| {
            (
                *k,
                Change {
                    new: new.map(s),
                    old: old.map(s),
                },
                *ts,
            )
        })
        .collect()
}

fn inner_join_outputs() -> Vec<Vec<(i32, Option<String>, i64)>> {
    vec![
        recs(&[]),
        recs(&[(0, Some("X0+Y0"), 5), (1, Some("X1+Y1"), 10)]),
        recs(&[(0, Some("XX0+Y0"), 7), (1, Some("XX1+Y1"), 10)]),
        recs(&[
            (0, Some("XX0+YY0"), 7),
            (1, Some("XX1+YY1"), 7),
            (2, Some("XX2+YY2"), 10),
            (3, Some("XX3+YY3"), 15),
        ]),
        recs(&[
            (0, Some("XXX0+YY0"), 6),
            (1, Some("XXX1+YY1"), 6),
            (2, Some("XXX2+YY2"), 10),
            (3, Some("XXX3+YY3"), 15),
        ]),
        recs(&[(0, None, 6), (1, None, 7)]),
        recs(&[(2, Some("XXXX2+YY2"), 13), (3, Some("XXXX3+YY3"), 15)]),
        recs(&[(2, None, 10), (3, None, 20)]),
    ]
}

fn outputs(steps: &[Step]) -> Vec<Vec<(i32, Option<String>, i64)>> {
    steps.iter().map(|(o, _)| o.clone()).collect()
}

fn changes_of(steps: &[Step]) -> Vec<Vec<(i32, Change<String>, i64)>> {
    steps.iter().map(|(_, c)| c.clone()).collect()
}

// KTableKTableInnerJoinTest.testJoin
#[test]
fn inner_join() {
    assert_eq!(
        outputs(&run_join(Kind::Inner, false, "ij")),
        inner_join_outputs()
    );
}

// KTableKTableInnerJoinTest.testQueryableJoin
#[test]
fn inner_join_queryable() {
    assert_eq!(
        outputs(&run_join(Kind::Inner, true, "ijq")),
        inner_join_outputs()
    );
}

// KTableKTableInnerJoinTest.testSendingOldValues
#[test]
fn inner_join_sending_old_values() {
    assert_eq!(
        changes_of(&run_join(Kind::Inner, false, "ijo")),
        vec![
            changes(&[]),
            changes(&[(0, Some("X0+Y0"), None, 5), (1, Some("X1+Y1"), None, 10)]),
            changes(&[
                (0, Some("XX0+Y0"), Some("X0+Y0"), 7),
                (1, Some("XX1+Y1"), Some("X1+Y1"), 10),
            ]),
            changes(&[
                (0, Some("XX0+YY0"), Some("XX0+Y0"), 7),
                (1, Some("XX1+YY1"), Some("XX1+Y1"), 7),
                (2, Some("XX2+YY2"), None, 10),
                (3, Some("XX3+YY3"), None, 15),
            ]),
            changes(&[
                (0, Some("XXX0+YY0"), Some("XX0+YY0"), 6),
                (1, Some("XXX1+YY1"), Some("XX1+YY1"), 6),
                (2, Some("XXX2+YY2"), Some("XX2+YY2"), 10),
                (3, Some("XXX3+YY3"), Some("XX3+YY3"), 15),
            ]),
            changes(&[
                (0, None, Some("XXX0+YY0"), 6),
                (1, None, Some("XXX1+YY1"), 7),
            ]),
            changes(&[
                (2, Some("XXXX2+YY2"), Some("XXX2+YY2"), 13),
                (3, Some("XXXX3+YY3"), Some("XXX3+YY3"), 15),
            ]),
            changes(&[
                (2, None, Some("XXXX2+YY2"), 10),
                (3, None, Some("XXXX3+YY3"), 20),
            ]),
        ]
    );
}

fn left_join_outputs() -> Vec<Vec<(i32, Option<String>, i64)>> {
    vec![
        recs(&[(0, Some("X0+null"), 5), (1, Some("X1+null"), 6)]),
        recs(&[(0, Some("X0+Y0"), 5), (1, Some("X1+Y1"), 10)]),
        recs(&[
            (0, Some("XX0+Y0"), 7),
            (1, Some("XX1+Y1"), 10),
            (2, Some("XX2+null"), 7),
            (3, Some("XX3+null"), 7),
        ]),
        recs(&[
            (0, Some("XX0+YY0"), 7),
            (1, Some("XX1+YY1"), 7),
            (2, Some("XX2+YY2"), 10),
            (3, Some("XX3+YY3"), 15),
        ]),
        recs(&[
            (0, Some("XXX0+YY0"), 6),
            (1, Some("XXX1+YY1"), 6),
            (2, Some("XXX2+YY2"), 10),
            (3, Some("XXX3+YY3"), 15),
        ]),
        recs(&[(0, Some("XXX0+null"), 6), (1, Some("XXX1+null"), 7)]),
        recs(&[
            (0, Some("XXXX0+null"), 13),
            (1, Some("XXXX1+null"), 13),
            (2, Some("XXXX2+YY2"), 13),
            (3, Some("XXXX3+YY3"), 15),
        ]),
        recs(&[(0, None, 0), (1, None, 42), (2, None, 10), (3, None, 20)]),
    ]
}

// KTableKTableLeftJoinTest.testJoin
#[test]
fn left_join() {
    assert_eq!(
        outputs(&run_join(Kind::Left, false, "lj")),
        left_join_outputs()
    );
}

/// The changes of `testSendingOldValue` for left and outer joins; they differ only in the
/// last step.
fn left_outer_changes(
    last: Vec<(i32, Change<String>, i64)>,
) -> Vec<Vec<(i32, Change<String>, i64)>> {
    vec![
        changes(&[(0, Some("X0+null"), None, 5), (1, Some("X1+null"), None, 6)]),
        changes(&[
            (0, Some("X0+Y0"), Some("X0+null"), 5),
            (1, Some("X1+Y1"), Some("X1+null"), 10),
        ]),
        changes(&[
            (0, Some("XX0+Y0"), Some("X0+Y0"), 7),
            (1, Some("XX1+Y1"), Some("X1+Y1"), 10),
            (2, Some("XX2+null"), None, 7),
            (3, Some("XX3+null"), None, 7),
        ]),
        changes(&[
            (0, Some("XX0+YY0"), Some("XX0+Y0"), 7),
            (1, Some("XX1+YY1"), Some("XX1+Y1"), 7),
            (2, Some("XX2+YY2"), Some("XX2+null"), 10),
            (3, Some("XX3+YY3"), Some("XX3+null"), 15),
        ]),
        changes(&[
            (0, Some("XXX0+YY0"), Some("XX0+YY0"), 6),
            (1, Some("XXX1+YY1"), Some("XX1+YY1"), 6),
            (2, Some("XXX2+YY2"), Some("XX2+YY2"), 10),
            (3, Some("XXX3+YY3"), Some("XX3+YY3"), 15),
        ]),
        changes(&[
            (0, Some("XXX0+null"), Some("XXX0+YY0"), 6),
            (1, Some("XXX1+null"), Some("XXX1+YY1"), 7),
        ]),
        changes(&[
            (0, Some("XXXX0+null"), Some("XXX0+null"), 13),
            (1, Some("XXXX1+null"), Some("XXX1+null"), 13),
            (2, Some("XXXX2+YY2"), Some("XXX2+YY2"), 13),
            (3, Some("XXXX3+YY3"), Some("XXX3+YY3"), 15),
        ]),
        last,
    ]
}

// KTableKTableLeftJoinTest.testSendingOldValue
#[test]
fn left_join_sending_old_value() {
    assert_eq!(
        changes_of(&run_join(Kind::Left, false, "ljo")),
        left_outer_changes(changes(&[
            (0, None, Some("XXXX0+null"), 0),
            (1, None, Some("XXXX1+null"), 42),
            (2, None, Some("XXXX2+YY2"), 10),
            (3, None, Some("XXXX3+YY3"), 20),
        ]))
    );
}

// KTableKTableOuterJoinTest.testJoin
#[test]
fn outer_join() {
    let mut expected = left_join_outputs();
    expected[7] = recs(&[
        (0, None, 0),
        (1, None, 42),
        (2, Some("null+YY2"), 10),
        (3, Some("null+YY3"), 20),
    ]);
    assert_eq!(outputs(&run_join(Kind::Outer, false, "oj")), expected);
}

// KTableKTableOuterJoinTest.testSendingOldValue
#[test]
fn outer_join_sending_old_value() {
    assert_eq!(
        changes_of(&run_join(Kind::Outer, false, "ojo")),
        left_outer_changes(changes(&[
            (0, None, Some("XXXX0+null"), 0),
            (1, None, Some("XXXX1+null"), 42),
            (2, Some("null+YY2"), Some("XXXX2+YY2"), 10),
            (3, Some("null+YY3"), Some("XXXX3+YY3"), 20),
        ]))
    );
}

// ---------------------------------------------------------------------------------------------
// KTableKTableForeignKeyJoinScenarioTest
// ---------------------------------------------------------------------------------------------

/// `validateTopologyCanProcessData`: `A` (1 -> "999-alpha") joined on its foreign key 999 with
/// `B` (999 -> "beta"), then joined with `A` again on the primary key.
fn fk_scenario(
    consumed_a: Consumed<i32, String>,
    fk_materialized: Materialized<i32, String>,
    equi_materialized: Option<Materialized<i32, String>>,
    app: &str,
) {
    let builder = StreamsBuilder::new();
    let a = builder.table("A", consumed_a, Materialized::new());
    let b = builder.table(
        "B",
        Consumed::with(I32Serde, StringSerde),
        Materialized::new(),
    );
    let fk = a.join_on_foreign_key_materialized(
        &b,
        |v: &String| v.split('-').next().unwrap().parse::<i32>().unwrap(),
        |a, b| format!("({a},{b})"),
        fk_materialized,
    );
    let joiner = |a: &String, fk: &String| format!("({a},{fk})");
    let last = match equi_materialized {
        None => a.join(&fk, joiner),
        Some(m) => a.join_materialized(&fk, joiner, m),
    };
    last.to_stream()
        .to("output", Produced::with(I32Serde, Nullable(StringSerde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), uncached(app)).unwrap();
    driver
        .input_topic("A", I32Serde, StringSerde)
        .pipe_input(1, s("999-alpha"))
        .unwrap();
    driver
        .input_topic("B", I32Serde, StringSerde)
        .pipe_input(999, s("beta"))
        .unwrap();
    let out: std::collections::HashMap<i32, Option<String>> = driver
        .output_topic("output", I32Serde, Nullable(StringSerde))
        .read_key_values_to_map()
        .unwrap();
    assert_eq!(
        out,
        std::collections::HashMap::from([(1, Some(s("(999-alpha,(999-alpha,beta))")))])
    );
}

// KTableKTableForeignKeyJoinScenarioTest.shouldWorkWithDefaultSerdes (serdes found by type)
#[test]
fn fk_scenario_default_serdes() {
    fk_scenario(
        Consumed::default(),
        Materialized::named("asdf"),
        None,
        "fk-def",
    );
}

// KTableKTableForeignKeyJoinScenarioTest.shouldWorkWithDefaultAndConsumedSerdes
#[test]
fn fk_scenario_default_and_consumed_serdes() {
    fk_scenario(
        Consumed::with(I32Serde, StringSerde),
        Materialized::named("asdf"),
        None,
        "fk-cons",
    );
}

// KTableKTableForeignKeyJoinScenarioTest.shouldWorkWithDefaultAndJoinResultSerdes
#[test]
fn fk_scenario_default_and_join_result_serdes() {
    fk_scenario(
        Consumed::default(),
        Materialized::named("asdf")
            .with_key_serde(I32Serde)
            .with_value_serde(StringSerde),
        None,
        "fk-res",
    );
}

// KTableKTableForeignKeyJoinScenarioTest.shouldWorkWithDefaultAndEquiJoinResultSerdes
#[test]
fn fk_scenario_default_and_equi_join_result_serdes() {
    fk_scenario(
        Consumed::default(),
        Materialized::named("asdf"),
        Some(
            Materialized::new()
                .with_key_serde(I32Serde)
                .with_value_serde(StringSerde),
        ),
        "fk-equi",
    );
}

// KTableKTableForeignKeyJoinScenarioTest.shouldUseExpectedTopicsWithSerde (the internal
// topics, named as Kafka names them; Kafka's pseudo-topics for serde scoping have no
// equivalent)
#[test]
fn fk_scenario_uses_expected_topics() {
    let builder = StreamsBuilder::new();
    let left = builder.table(
        "left_table",
        Consumed::with(I32Serde, StringSerde),
        Materialized::new(),
    );
    let right = builder.table(
        "right_table",
        Consumed::with(I32Serde, StringSerde),
        Materialized::new(),
    );
    left.join_on_foreign_key_materialized(
        &right,
        |v: &String| v.split('|').nth(1).unwrap().parse::<i32>().unwrap(),
        |a, b| format!("({a},{b})"),
        Materialized::new().with_value_serde(StringSerde),
    )
    .to_stream()
    .to(
        "output-topic",
        Produced::with(I32Serde, Nullable(StringSerde)),
    );
    let topology = builder.build().unwrap();
    let described = topology.describe().to_string();
    for name in [
        "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
        "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
        "left_table-STATE-STORE-0000000000",
        "right_table-STATE-STORE-0000000003",
    ] {
        assert!(described.contains(name), "{name} in {described}");
    }
    let driver =
        TopologyTestDriver::new(topology, cached("ktable-ktable-joinOnForeignKey")).unwrap();
    driver
        .input_topic("left_table", I32Serde, StringSerde)
        .pipe_input(2, s("lhsValue1|1"))
        .unwrap();
    driver
        .input_topic("right_table", I32Serde, StringSerde)
        .pipe_input(1, s("rhsValue1"))
        .unwrap();
    assert_eq!(
        drain(&driver, "output-topic", I32Serde, Nullable(StringSerde))
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect::<Vec<_>>(),
        vec![(2, Some(s("(lhsValue1|1,rhsValue1)")))]
    );
}

// ---------------------------------------------------------------------------------------------
// foreignkeyjoin/SubscriptionSendProcessorSupplierTest (null foreign keys, end to end)
// ---------------------------------------------------------------------------------------------

/// Left table `pk -> "fk"` (empty: a null foreign key), right table `fk -> value`; the foreign
/// key type is nullable (`Option<String>`).
fn null_fk_driver(left_join: bool, app: &str) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let left = builder.table(
        "left",
        Consumed::with(StringSerde, StringSerde),
        Materialized::new(),
    );
    let right = builder.table(
        "right",
        Consumed::with(Nullable(StringSerde), StringSerde),
        Materialized::new(),
    );
    let fk = |v: &String| (!v.is_empty()).then(|| v.clone());
    let joined = if left_join {
        left.left_join_on_foreign_key(&right, fk, |l: &String, r: Option<&String>| {
            format!("{l}+{}", null_str(r))
        })
    } else {
        left.join_on_foreign_key(&right, fk, |l: &String, r: &String| format!("{l}+{r}"))
    };
    joined
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    TopologyTestDriver::new(builder.build().unwrap(), uncached(app)).unwrap()
}

fn out_kv(driver: &TopologyTestDriver) -> Vec<(String, Option<String>)> {
    drain(driver, "out", StringSerde, Nullable(StringSerde))
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect()
}

// SubscriptionSendProcessorSupplierTest.innerJoinShouldNotPropagateNewPrimaryKeyWithNullFK,
// innerJoinShouldPropagateNothingWhenOldAndNewFKIsNull, and a change of the foreign key from
// non-null to null (Kafka's inner join skips it: the joined row stays)
#[test]
fn fk_inner_join_skips_null_foreign_keys() {
    let driver = null_fk_driver(false, "fk-null-inner");
    let left = driver.input_topic("left", StringSerde, StringSerde);
    driver
        .input_topic("right", Nullable(StringSerde), StringSerde)
        .pipe_input_at(Some(s("a")), s("A"), 1)
        .unwrap();
    left.pipe_input_at(s("pk1"), s(""), 2).unwrap();
    left.pipe_input_at(s("pk1"), s(""), 3).unwrap();
    assert!(out_kv(&driver).is_empty());
    assert_eq!(driver.metrics().dropped_records, 2);
    left.pipe_input_at(s("pk2"), s("a"), 4).unwrap();
    assert_eq!(out_kv(&driver), vec![(s("pk2"), Some(s("a+A")))]);
    left.pipe_input_at(s("pk2"), s(""), 5).unwrap();
    assert!(out_kv(&driver).is_empty());
    assert_eq!(driver.metrics().dropped_records, 3);
}

// SubscriptionSendProcessorSupplierTest.leftJoinShouldPropagateNewPrimaryKeyWithNullFK and
// leftJoinShouldPropagateChangeOfFKFromNonNullToNullValue: a left join answers a null foreign
// key with no right row.
#[test]
fn fk_left_join_joins_null_foreign_keys_with_nothing() {
    let driver = null_fk_driver(true, "fk-null-left");
    let left = driver.input_topic("left", StringSerde, StringSerde);
    driver
        .input_topic("right", Nullable(StringSerde), StringSerde)
        .pipe_input_at(Some(s("a")), s("A"), 1)
        .unwrap();
    left.pipe_input_at(s("pk1"), s(""), 2).unwrap();
    assert_eq!(out_kv(&driver), vec![(s("pk1"), Some(s("+null")))]);
    left.pipe_input_at(s("pk2"), s("a"), 3).unwrap();
    assert_eq!(out_kv(&driver), vec![(s("pk2"), Some(s("a+A")))]);
    left.pipe_input_at(s("pk2"), s(""), 4).unwrap();
    assert_eq!(out_kv(&driver), vec![(s("pk2"), Some(s("+null")))]);
}

// KTableKTableLeftJoinTest.shouldNotThrowIllegalStateExceptionWhenMultiCacheEvictions (KAFKA-4492:
// a chain of left joins over cached in-memory tables; Kafka's random keys and values come from a
// fixed-seed generator here, and the cache is small so it evicts often. Kafka pipes 1000 rounds;
// 100 rounds here keep the debug-build test under a minute, with evictions from the first rounds)
#[test]
fn left_join_chain_survives_many_cache_evictions() {
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::with(I64Serde, StringSerde);
    let base = |name: &str| Materialized::named(name).in_memory();
    let add = |a: String, b: String| a + &b;
    let agg = builder
        .table("agg", consumed(), base("agg-base-store"))
        .group_by(|k: &i64, v: &String| (*k, v.clone()))
        .with_key_serde(I64Serde)
        .with_value_serde(StringSerde)
        .reduce(add, add, base("agg-store"));
    let one = builder.table("tableOne", consumed(), base("tableOne-base-store"));
    let two = builder.table("tableTwo", consumed(), base("tableTwo-base-store"));
    let three = builder.table("tableThree", consumed(), base("tableThree-base-store"));
    let four = builder.table("tableFour", consumed(), base("tableFour-base-store"));
    let five = builder.table("tableFive", consumed(), base("tableFive-base-store"));
    let six = builder.table("tableSix", consumed(), base("tableSix-base-store"));
    let joiner = |a: &String, b: Option<&String>| format!("{a}+{}", null_str(b));
    let seven = one.map_values(|v| v.to_uppercase());
    let eight = six.left_join(&seven, joiner);
    agg.left_join(&one, joiner)
        .left_join(&two, joiner)
        .left_join(&three, joiner)
        .left_join(&four, joiner)
        .left_join(&five, joiner)
        .left_join(&eight, joiner)
        .map_values(|v| v.to_uppercase());
    let config = cached("multi-evictions").with("statestore.cache.max.bytes", "20000");
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config).unwrap();
    let values = [
        "a",
        "AA",
        "BBB",
        "CCCC",
        "DD",
        "EEEEEEEE",
        "F",
        "GGGGGGGGGGGGGGG",
        "HHH",
        "IIIIIIIIII",
        "J",
        "KK",
        "LLLL",
        "MMMMMMMMMMMMMMMMMMMMMM",
        "NNNNN",
        "O",
        "P",
        "QQQQQ",
        "R",
        "SSSS",
        "T",
        "UU",
        "VVVVVVVVVVVVVVVVVVV",
    ];
    let inputs = [
        "agg",
        "tableOne",
        "tableTwo",
        "tableThree",
        "tableFour",
        "tableFive",
        "tableSix",
    ];
    let mut seed: u64 = 42;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..100 {
        for input in inputs {
            let key = next(1000) as i64;
            let value = values[next(values.len() as u64) as usize];
            driver
                .input_topic(input, I64Serde, StringSerde)
                .pipe_input(key, s(value))
                .unwrap();
        }
    }
}
