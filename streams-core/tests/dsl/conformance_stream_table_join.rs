//! Kafka Streams' stream-table join unit tests (`KStreamKTableJoinTest`,
//! `KStreamKTableLeftJoinTest`, `KStreamGlobalKTableJoinTest`,
//! `KStreamGlobalKTableLeftJoinTest`, `GlobalKTableJoinsTest` under
//! `streams/src/test/java/org/apache/kafka/streams/kstream/internals/`), translated case by
//! case. Kafka's tests capture the join's output with a mock processor; here it goes to the
//! topic `out`, read back in order. `MockValueJoiner.TOSTRING_JOINER` is `"<stream>+<table>"`,
//! with `null` for a missing row.
//!
//! Not translated:
//! - Owned by the versioned-store work (versioned tables and stream-table join grace periods,
//!   KIP-914/KIP-923): `KStreamKTableJoinTest.shouldFailIfTableIsNotVersioned`,
//!   `shouldFailIfTableIsNotVersionedButMaterializationIsInherited`,
//!   `shouldNotFailIfTableIsVersionedButMaterializationIsInherited`,
//!   `shouldFailIfGracePeriodIsLongerThanHistoryRetention`,
//!   `shouldFailIfGracePeriodIsLongerThanHistoryRetentionAndInheritedStore`,
//!   `shouldDelayJoinByGracePeriod`, `shouldHandleLateJoinsWithGracePeriod`.
//! - Not applicable: `KStreamKTableJoinTest.shouldReuseRepartitionTopicWithGeneratedName` and
//!   `shouldCreateRepartitionTopicsWithUserProvidedName` compare `describe()` text, not
//!   outputs; `shouldRequireCopartitionedStreams` (both KTable tests) and
//!   `shouldNotRequireCopartitioning` (both global tests) inspect Kafka's
//!   `InternalTopologyBuilder` co-partition groups.
//! - `KStreamKTableJoinTest.shouldLogAndMeterWhenSkippingNullLeftKey` / `..NullLeftValue`:
//!   the log line is not observable here; the meter (`dropped_records`) is checked.

use crate::common::*;
use streams_core::*;

const EXPECTED_KEYS: [i32; 4] = [0, 1, 2, 3];

/// Kafka's `pushToTable` uses random timestamps (`r.nextInt(Integer.MAX_VALUE)`); a table
/// record's timestamp does not change a (non-versioned) stream-table join's output, so fixed
/// arbitrary ones stand in.
const TABLE_TIMESTAMPS: [i64; 4] = [1_364_025_810, 72_938_476, 2_013_554_120, 903_112];

fn show(v: Option<&String>) -> &str {
    v.map_or("null", String::as_str)
}

// ---------------------------------------------------------------------------------------------
// KStream-KTable
// ---------------------------------------------------------------------------------------------

/// Kafka's `setUp`: `streamTopic` joined (inner or left) with the table of `tableTopic`, both
/// (Integer, String), with `TOSTRING_JOINER`, into `out`.
struct TableJoin {
    driver: TopologyTestDriver,
}

impl TableJoin {
    fn new(left: bool) -> Self {
        let builder = StreamsBuilder::new();
        let stream = builder.stream("streamTopic", Consumed::with(I32Serde, StringSerde));
        let table = builder.table(
            "tableTopic",
            Consumed::with(I32Serde, StringSerde),
            Materialized::new(),
        );
        let joined = if left {
            stream.left_join_table(&table, |v, t| format!("{v}+{}", show(t)))
        } else {
            stream.join_table(&table, |v, t| format!("{v}+{t}"))
        };
        joined.to("out", Produced::with(I32Serde, StringSerde));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), cached("stream-table")).unwrap();
        TableJoin { driver }
    }

    fn push_to_stream(&self, message_count: usize, value_prefix: &str) {
        let topic = self
            .driver
            .input_topic("streamTopic", I32Serde, StringSerde);
        for (i, &k) in EXPECTED_KEYS.iter().enumerate().take(message_count) {
            topic
                .pipe_input_at(k, format!("{value_prefix}{k}"), i as i64)
                .unwrap();
        }
    }

    fn push_to_table(&self, message_count: usize, value_prefix: &str) {
        let topic = self
            .driver
            .input_topic("tableTopic", I32Serde, Nullable(StringSerde));
        for i in 0..message_count {
            let k = EXPECTED_KEYS[i];
            topic
                .pipe_input_at(k, Some(format!("{value_prefix}{k}")), TABLE_TIMESTAMPS[i])
                .unwrap();
        }
    }

    fn push_null_value_to_table(&self, message_count: usize) {
        let topic = self
            .driver
            .input_topic("tableTopic", I32Serde, Nullable(StringSerde));
        for k in &EXPECTED_KEYS[..message_count] {
            topic.pipe_input(*k, None).unwrap();
        }
    }

    #[track_caller]
    fn check(&self, expected: &[(i32, &str, i64)]) {
        let expected: Vec<(i32, String, i64)> =
            expected.iter().map(|&(k, v, t)| (k, s(v), t)).collect();
        assert_eq!(drain(&self.driver, "out", I32Serde, StringSerde), expected);
    }
}

// KStreamKTableJoinTest.shouldNotJoinWithEmptyTableOnStreamUpdates
#[test]
fn ktable_join_should_not_join_with_empty_table_on_stream_updates() {
    let j = TableJoin::new(false);
    // push two items to the primary stream. the table is empty
    j.push_to_stream(2, "X");
    j.check(&[]);
}

// KStreamKTableJoinTest.shouldNotJoinOnTableUpdates
#[test]
fn ktable_join_should_not_join_on_table_updates() {
    let j = TableJoin::new(false);
    // push two items to the primary stream. the table is empty
    j.push_to_stream(2, "X");
    j.check(&[]);
    // push two items to the table. this should not produce any item.
    j.push_to_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "X");
    j.check(&[(0, "X0+Y0", 0), (1, "X1+Y1", 1)]);
    // push all items to the table. this should not produce any item
    j.push_to_table(4, "YY");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+YY0", 0),
        (1, "X1+YY1", 1),
        (2, "X2+YY2", 2),
        (3, "X3+YY3", 3),
    ]);
    // push all items to the table. this should not produce any item
    j.push_to_table(4, "YYY");
    j.check(&[]);
}

// KStreamKTableJoinTest.shouldJoinOnlyIfMatchFoundOnStreamUpdates
#[test]
fn ktable_join_should_join_only_if_match_found_on_stream_updates() {
    let j = TableJoin::new(false);
    // push two items to the table. this should not produce any item.
    j.push_to_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "X");
    j.check(&[(0, "X0+Y0", 0), (1, "X1+Y1", 1)]);
}

// KStreamKTableJoinTest.shouldClearTableEntryOnNullValueUpdates
#[test]
fn ktable_join_should_clear_table_entry_on_null_value_updates() {
    let j = TableJoin::new(false);
    // push all four items to the table. this should not produce any item.
    j.push_to_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+Y2", 2),
        (3, "X3+Y3", 3),
    ]);
    // push two items with null to the table as deletes. this should not produce any item.
    j.push_null_value_to_table(2);
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "XX");
    j.check(&[(2, "XX2+Y2", 2), (3, "XX3+Y3", 3)]);
}

/// The join of Kafka's `setUp` with nullable stream keys and values, for the null cases.
fn nullable_table_join() -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let stream = builder.stream(
        "streamTopic",
        Consumed::with(Nullable(I32Serde), Nullable(StringSerde)),
    );
    let table = builder.table(
        "tableTopic",
        Consumed::with(Nullable(I32Serde), StringSerde),
        Materialized::new(),
    );
    stream
        .join_table(&table, |v, t| format!("{}+{t}", show(v.as_ref())))
        .to("out", Produced::with(Nullable(I32Serde), StringSerde));
    TopologyTestDriver::new(builder.build().unwrap(), cached("stream-table-nulls")).unwrap()
}

// KStreamKTableJoinTest.shouldLogAndMeterWhenSkippingNullLeftKey
#[test]
fn ktable_join_should_meter_when_skipping_null_left_key() {
    let driver = nullable_table_join();
    driver
        .input_topic("streamTopic", Nullable(I32Serde), Nullable(StringSerde))
        .pipe_input(None, Some(s("A")))
        .unwrap();
    assert_eq!(driver.metrics().dropped_records, 1);
    assert!(driver
        .output_topic("out", Nullable(I32Serde), StringSerde)
        .is_empty());
}

// KStreamKTableJoinTest.shouldLogAndMeterWhenSkippingNullLeftValue
#[test]
fn ktable_join_should_meter_when_skipping_null_left_value() {
    let driver = nullable_table_join();
    driver
        .input_topic("streamTopic", Nullable(I32Serde), Nullable(StringSerde))
        .pipe_input(Some(1), None)
        .unwrap();
    assert_eq!(driver.metrics().dropped_records, 1);
    assert!(driver
        .output_topic("out", Nullable(I32Serde), StringSerde)
        .is_empty());
}

// KStreamKTableLeftJoinTest.shouldJoinWithEmptyTableOnStreamUpdates
#[test]
fn ktable_left_join_should_join_with_empty_table_on_stream_updates() {
    let j = TableJoin::new(true);
    // push two items to the primary stream. the table is empty
    j.push_to_stream(2, "X");
    j.check(&[(0, "X0+null", 0), (1, "X1+null", 1)]);
}

// KStreamKTableLeftJoinTest.shouldNotJoinOnTableUpdates
#[test]
fn ktable_left_join_should_not_join_on_table_updates() {
    let j = TableJoin::new(true);
    // push two items to the primary stream. the table is empty
    j.push_to_stream(2, "X");
    j.check(&[(0, "X0+null", 0), (1, "X1+null", 1)]);
    // push two items to the table. this should not produce any item.
    j.push_to_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+null", 2),
        (3, "X3+null", 3),
    ]);
    // push all items to the table. this should not produce any item
    j.push_to_table(4, "YY");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+YY0", 0),
        (1, "X1+YY1", 1),
        (2, "X2+YY2", 2),
        (3, "X3+YY3", 3),
    ]);
    // push all items to the table. this should not produce any item
    j.push_to_table(4, "YYY");
    j.check(&[]);
}

// KStreamKTableLeftJoinTest.shouldJoinRegardlessIfMatchFoundOnStreamUpdates
#[test]
fn ktable_left_join_should_join_regardless_if_match_found_on_stream_updates() {
    let j = TableJoin::new(true);
    // push two items to the table. this should not produce any item.
    j.push_to_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+null", 2),
        (3, "X3+null", 3),
    ]);
}

// KStreamKTableLeftJoinTest.shouldClearTableEntryOnNullValueUpdates
#[test]
fn ktable_left_join_should_clear_table_entry_on_null_value_updates() {
    let j = TableJoin::new(true);
    // push all four items to the table. this should not produce any item.
    j.push_to_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X");
    j.check(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+Y2", 2),
        (3, "X3+Y3", 3),
    ]);
    // push two items with null to the table as deletes. this should not produce any item.
    j.push_null_value_to_table(2);
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "XX");
    j.check(&[
        (0, "XX0+null", 0),
        (1, "XX1+null", 1),
        (2, "XX2+Y2", 2),
        (3, "XX3+Y3", 3),
    ]);
}

// ---------------------------------------------------------------------------------------------
// KStream-GlobalKTable
// ---------------------------------------------------------------------------------------------

/// Kafka's `init(Optional.empty())`: `streamTopic` (Integer, String) joined with the global
/// table of `globalTableTopic` (String, String) by the key in the value's second
/// comma-separated token (none: null), with `TOSTRING_JOINER`. Keys are nullable, as Kafka's
/// test needs null stream keys and null computed keys.
struct GlobalJoin<'d> {
    driver: &'d TopologyTestDriver,
    stream: TestInputTopic<'d, Option<i32>, String>,
    table: TestInputTopic<'d, Option<String>, Option<String>>,
}

fn global_join_driver(left: bool) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let stream = builder.stream(
        "streamTopic",
        Consumed::with(Nullable(I32Serde), StringSerde),
    );
    let table = builder.global_table(
        "globalTableTopic",
        Consumed::with(Nullable(StringSerde), StringSerde),
        Materialized::new(),
    );
    // Value is comma delimited. If second token is present, it's the key to the global ktable.
    // If not present, use null to indicate no match
    let key_mapper = |_: &Option<i32>, v: &String| v.split(',').nth(1).map(str::to_string);
    let joined = if left {
        stream.left_join_global(&table, key_mapper, |v, t: Option<String>| {
            format!("{v}+{}", show(t.as_ref()))
        })
    } else {
        stream.join_global(&table, key_mapper, |v, t| format!("{v}+{t}"))
    };
    joined.to("out", Produced::with(Nullable(I32Serde), StringSerde));
    TopologyTestDriver::new(builder.build().unwrap(), cached("stream-global")).unwrap()
}

impl<'d> GlobalJoin<'d> {
    /// Stream timestamps auto-advance by 1 ms from 0, as in Kafka's test.
    fn new(driver: &'d TopologyTestDriver) -> Self {
        GlobalJoin {
            driver,
            stream: driver.input_topic_with_time(
                "streamTopic",
                Nullable(I32Serde),
                StringSerde,
                0,
                std::time::Duration::from_millis(1),
            ),
            table: driver.input_topic(
                "globalTableTopic",
                Nullable(StringSerde),
                Nullable(StringSerde),
            ),
        }
    }

    fn push_to_stream(
        &self,
        message_count: usize,
        value_prefix: &str,
        include_foreign_key: bool,
        include_null_key: bool,
    ) {
        for (i, &k) in EXPECTED_KEYS.iter().enumerate().take(message_count) {
            let mut value = format!("{value_prefix}{k}");
            if include_foreign_key {
                value = format!("{value},FKey{k}");
            }
            let mut key = Some(k);
            if include_null_key && i == 0 {
                key = None;
            }
            self.stream.pipe_input(key, value).unwrap();
        }
    }

    fn push_to_global_table(&self, message_count: usize, value_prefix: &str) {
        for k in &EXPECTED_KEYS[..message_count] {
            self.table
                .pipe_input(Some(format!("FKey{k}")), Some(format!("{value_prefix}{k}")))
                .unwrap();
        }
    }

    fn push_null_value_to_global_table(&self, message_count: usize) {
        for k in &EXPECTED_KEYS[..message_count] {
            self.table
                .pipe_input(Some(format!("FKey{k}")), None)
                .unwrap();
        }
    }

    #[track_caller]
    fn check(&self, expected: &[(Option<i32>, &str, i64)]) {
        let expected: Vec<(Option<i32>, String, i64)> =
            expected.iter().map(|&(k, v, t)| (k, s(v), t)).collect();
        assert_eq!(
            drain(self.driver, "out", Nullable(I32Serde), StringSerde),
            expected
        );
    }
}

// KStreamGlobalKTableJoinTest.shouldNotJoinWithEmptyGlobalTableOnStreamUpdates
#[test]
fn global_join_should_not_join_with_empty_global_table_on_stream_updates() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push two items to the primary stream. the globalTable is empty
    j.push_to_stream(2, "X", true, false);
    j.check(&[]);
}

// KStreamGlobalKTableJoinTest.shouldNotJoinOnGlobalTableUpdates
#[test]
fn global_join_should_not_join_on_global_table_updates() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push two items to the primary stream. the globalTable is empty
    j.push_to_stream(2, "X", true, false);
    j.check(&[]);
    // push two items to the globalTable. this should not produce any item.
    j.push_to_global_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[(Some(0), "X0,FKey0+Y0", 2), (Some(1), "X1,FKey1+Y1", 3)]);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "YY");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+YY0", 6),
        (Some(1), "X1,FKey1+YY1", 7),
        (Some(2), "X2,FKey2+YY2", 8),
        (Some(3), "X3,FKey3+YY3", 9),
    ]);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "YYY");
    j.check(&[]);
}

// KStreamGlobalKTableJoinTest.shouldJoinOnlyIfMatchFoundOnStreamUpdates
#[test]
fn global_join_should_join_only_if_match_found_on_stream_updates() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push two items to the globalTable. this should not produce any item.
    j.push_to_global_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[(Some(0), "X0,FKey0+Y0", 0), (Some(1), "X1,FKey1+Y1", 1)]);
}

// KStreamGlobalKTableJoinTest.shouldClearGlobalTableEntryOnNullValueUpdates
#[test]
fn global_join_should_clear_global_table_entry_on_null_value_updates() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push all four items to the globalTable. this should not produce any item.
    j.push_to_global_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+Y0", 0),
        (Some(1), "X1,FKey1+Y1", 1),
        (Some(2), "X2,FKey2+Y2", 2),
        (Some(3), "X3,FKey3+Y3", 3),
    ]);
    // push two items with null to the globalTable as deletes. this should not produce any item.
    j.push_null_value_to_global_table(2);
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "XX", true, false);
    j.check(&[(Some(2), "XX2,FKey2+Y2", 6), (Some(3), "XX3,FKey3+Y3", 7)]);
}

// KStreamGlobalKTableJoinTest.shouldNotJoinOnNullKeyMapperValues
#[test]
fn global_join_should_not_join_on_null_key_mapper_values() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream with no foreign key, resulting in null keyMapper values.
    // this should not produce any item.
    j.push_to_stream(4, "XXX", false, false);
    j.check(&[]);
}

// KStreamGlobalKTableJoinTest.shouldJoinOnNullKeyWithNonNullKeyMapperValues
#[test]
fn global_join_should_join_on_null_key_with_non_null_key_mapper_values() {
    let driver = global_join_driver(false);
    let j = GlobalJoin::new(&driver);
    // push two items to the globalTable. this should not produce any item.
    j.push_to_global_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce two items.
    j.push_to_stream(4, "X", true, true);
    j.check(&[(None, "X0,FKey0+Y0", 0), (Some(1), "X1,FKey1+Y1", 1)]);
}

// KStreamGlobalKTableLeftJoinTest.shouldNotJoinWithEmptyGlobalTableOnStreamUpdates
#[test]
fn global_left_join_should_not_join_with_empty_global_table_on_stream_updates() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push two items to the primary stream. the globalTable is empty
    j.push_to_stream(2, "X", true, false);
    j.check(&[(Some(0), "X0,FKey0+null", 0), (Some(1), "X1,FKey1+null", 1)]);
}

// KStreamGlobalKTableLeftJoinTest.shouldNotJoinOnGlobalTableUpdates
#[test]
fn global_left_join_should_not_join_on_global_table_updates() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push two items to the primary stream. the globalTable is empty
    j.push_to_stream(2, "X", true, false);
    j.check(&[(Some(0), "X0,FKey0+null", 0), (Some(1), "X1,FKey1+null", 1)]);
    // push two items to the globalTable. this should not produce any item.
    j.push_to_global_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+Y0", 2),
        (Some(1), "X1,FKey1+Y1", 3),
        (Some(2), "X2,FKey2+null", 4),
        (Some(3), "X3,FKey3+null", 5),
    ]);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "YY");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+YY0", 6),
        (Some(1), "X1,FKey1+YY1", 7),
        (Some(2), "X2,FKey2+YY2", 8),
        (Some(3), "X3,FKey3+YY3", 9),
    ]);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "YYY");
    j.check(&[]);
}

// KStreamGlobalKTableLeftJoinTest.shouldJoinRegardlessIfMatchFoundOnStreamUpdates
#[test]
fn global_left_join_should_join_regardless_if_match_found_on_stream_updates() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push two items to the globalTable. this should not produce any item.
    j.push_to_global_table(2, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+Y0", 0),
        (Some(1), "X1,FKey1+Y1", 1),
        (Some(2), "X2,FKey2+null", 2),
        (Some(3), "X3,FKey3+null", 3),
    ]);
}

// KStreamGlobalKTableLeftJoinTest.shouldClearGlobalTableEntryOnNullValueUpdates
#[test]
fn global_left_join_should_clear_global_table_entry_on_null_value_updates() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push all four items to the globalTable. this should not produce any item.
    j.push_to_global_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, false);
    j.check(&[
        (Some(0), "X0,FKey0+Y0", 0),
        (Some(1), "X1,FKey1+Y1", 1),
        (Some(2), "X2,FKey2+Y2", 2),
        (Some(3), "X3,FKey3+Y3", 3),
    ]);
    // push two items with null to the globalTable as deletes. this should not produce any item.
    j.push_null_value_to_global_table(2);
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "XX", true, false);
    j.check(&[
        (Some(0), "XX0,FKey0+null", 4),
        (Some(1), "XX1,FKey1+null", 5),
        (Some(2), "XX2,FKey2+Y2", 6),
        (Some(3), "XX3,FKey3+Y3", 7),
    ]);
}

// KStreamGlobalKTableLeftJoinTest.shouldNotJoinOnNullKeyMapperValues
#[test]
fn global_left_join_should_not_join_on_null_key_mapper_values() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push all items to the globalTable. this should not produce any item
    j.push_to_global_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream with no foreign key, resulting in null keyMapper values.
    // this should not produce any item.
    j.push_to_stream(4, "XXX", false, false);
    j.check(&[]);
    assert_eq!(driver.metrics().dropped_records, 4);
}

// KStreamGlobalKTableLeftJoinTest.shouldJoinOnNullKeyWithNonNullKeyMapperValues
#[test]
fn global_left_join_should_join_on_null_key_with_non_null_key_mapper_values() {
    let driver = global_join_driver(true);
    let j = GlobalJoin::new(&driver);
    // push four items to the globalTable. this should not produce any item.
    j.push_to_global_table(4, "Y");
    j.check(&[]);
    // push all four items to the primary stream. this should produce four items.
    j.push_to_stream(4, "X", true, true);
    j.check(&[
        (None, "X0,FKey0+Y0", 0),
        (Some(1), "X1,FKey1+Y1", 1),
        (Some(2), "X2,FKey2+Y2", 2),
        (Some(3), "X3,FKey3+Y3", 3),
    ]);
}

// ---------------------------------------------------------------------------------------------
// GlobalKTableJoinsTest
// ---------------------------------------------------------------------------------------------

/// `GlobalKTableJoinsTest.verifyJoin`: the last value and timestamp per key of the join of
/// `stream` with the global table of `global` by the stream value.
fn verify_global_join(left: bool, expected: &[(&str, &str, i64)]) {
    let builder = StreamsBuilder::new();
    let global = builder.global_table(
        "global",
        Consumed::with(StringSerde, StringSerde),
        Materialized::new(),
    );
    let stream = builder.stream("stream", Consumed::with(StringSerde, StringSerde));
    let key_value_mapper = |_: &String, v: &String| v.clone();
    let joined = if left {
        stream.left_join_global(&global, key_value_mapper, |v, g: Option<String>| {
            format!("{v}+{}", show(g.as_ref()))
        })
    } else {
        stream.join_global(&global, key_value_mapper, |v, g| format!("{v}+{g}"))
    };
    joined.to("out", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("global-joins")).unwrap();
    let global_input = driver.input_topic("global", StringSerde, StringSerde);
    // write some data to the global table
    global_input.pipe_input_at(s("a"), s("A"), 1).unwrap();
    global_input.pipe_input_at(s("b"), s("B"), 5).unwrap();
    let stream_input = driver.input_topic("stream", StringSerde, StringSerde);
    //write some data to the stream
    stream_input.pipe_input_at(s("1"), s("a"), 2).unwrap();
    stream_input.pipe_input_at(s("2"), s("b"), 10).unwrap();
    stream_input.pipe_input_at(s("3"), s("c"), 3).unwrap();
    let mut last: std::collections::BTreeMap<String, (String, i64)> = Default::default();
    for (k, v, t) in drain(&driver, "out", StringSerde, StringSerde) {
        last.insert(k, (v, t));
    }
    let expected: std::collections::BTreeMap<String, (String, i64)> = expected
        .iter()
        .map(|&(k, v, t)| (s(k), (s(v), t)))
        .collect();
    assert_eq!(last, expected);
}

// GlobalKTableJoinsTest.shouldLeftJoinWithStream
#[test]
fn global_joins_should_left_join_with_stream() {
    verify_global_join(
        true,
        &[("1", "a+A", 2), ("2", "b+B", 10), ("3", "c+null", 3)],
    );
}

// GlobalKTableJoinsTest.shouldInnerJoinWithStream
#[test]
fn global_joins_should_inner_join_with_stream() {
    verify_global_join(false, &[("1", "a+A", 2), ("2", "b+B", 10)]);
}
