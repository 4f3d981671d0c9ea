//! Conformance: versioned key-value stores and versioned tables (Kafka's KIP-889, KIP-914,
//! KIP-923), translated from Kafka Streams' own unit tests: `RocksDBVersionedStoreTest`
//! (driving the store through the driver's `get_state_store`), and the versioned-table cases
//! of `KTableAggregateTest` and `KStreamKTableJoinTest`. Expected outputs are Kafka's.
#![allow(clippy::vec_init_then_push)] // the translations keep Kafka's list-building steps

mod common;

use std::time::Duration;

use common::s;
use streams_core::state::{
    ChangelogRecord, PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED,
};
use streams_core::*;

// ---------------------------------------------------------------------------------------------
// RocksDBVersionedStoreTest
// ---------------------------------------------------------------------------------------------

const STORE_NAME: &str = "myversionedrocks";
const HR: i64 = 300_000; // HISTORY_RETENTION
const GP: i64 = HR; // GRACE_PERIOD: history retention doubles as grace period
const SI: i64 = HR / 3; // SEGMENT_INTERVAL (a Kafka layout detail; here only test times)
const BASE: i64 = 10; // BASE_TIMESTAMP
const UNDEF: i64 = PUT_RETURN_CODE_VALID_TO_UNDEFINED;
const NOT_PUT: i64 = PUT_RETURN_CODE_NOT_PUT;

type Store = VersionedKeyValueStore<String, String>;

/// A processor that only owns the store, so the driver creates it.
struct Owner;

impl Processor<String, String> for Owner {
    fn process(
        &mut self,
        _r: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<()> {
        Ok(())
    }
}

fn store_with_retention(retention_ms: u64) -> (TopologyTestDriver, Store) {
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, StringSerde), &["in"])
        .unwrap()
        .add_processor("owner", || Owner, &["src"])
        .unwrap()
        .add_state_store(
            Stores::versioned_key_value_store_builder(
                Stores::persistent_versioned_key_value_store(
                    STORE_NAME,
                    Duration::from_millis(retention_ms),
                ),
                StringSerde,
                StringSerde,
            ),
            &["owner"],
        )
        .unwrap();
    let driver = TopologyTestDriver::new(t, StreamsConfig::new("versioned-store")).unwrap();
    let store = driver.get_state_store(STORE_NAME).unwrap();
    (driver, store)
}

fn store() -> (TopologyTestDriver, Store) {
    store_with_retention(HR as u64)
}

fn put(st: &Store, key: &str, value: Option<&str>, timestamp: i64, expected_valid_to: i64) {
    let valid_to = st.put(&s(key), value.map(s).as_ref(), timestamp).unwrap();
    assert_eq!(
        valid_to, expected_valid_to,
        "put({key}, {value:?}, {timestamp}) returned valid-to {valid_to}"
    );
}

fn delete(st: &Store, key: &str, timestamp: i64) -> Option<VersionedRecord<String>> {
    st.delete(&s(key), timestamp).unwrap()
}

fn valid_to(expected: i64) -> Option<i64> {
    (expected != UNDEF).then_some(expected)
}

fn verify_get(st: &Store, key: &str, value: &str, timestamp: i64) {
    assert_eq!(
        st.get(&s(key)).unwrap(),
        Some(VersionedRecord::new(s(value), timestamp, None)),
        "get({key})"
    );
}

fn verify_get_null(st: &Store, key: &str) {
    assert_eq!(st.get(&s(key)).unwrap(), None, "get({key})");
}

fn verify_as_of(st: &Store, key: &str, as_of: i64, value: &str, timestamp: i64, to: i64) {
    assert_eq!(
        st.get_as_of(&s(key), as_of).unwrap(),
        Some(VersionedRecord::new(s(value), timestamp, valid_to(to))),
        "get({key}, {as_of})"
    );
}

fn verify_as_of_null(st: &Store, key: &str, as_of: i64) {
    assert_eq!(
        st.get_as_of(&s(key), as_of).unwrap(),
        None,
        "get({key}, {as_of})"
    );
}

/// Kafka's range query in `ResultOrder.ANY`, which its tests expect newest first.
fn verify_versions(st: &Store, key: &str, from: i64, to: i64, expected: &[(&str, i64, i64)]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|(v, ts, vt)| VersionedRecord::new(s(v), *ts, valid_to(*vt)))
        .collect();
    assert_eq!(
        st.get_versions(&s(key), from, to).unwrap(),
        expected,
        "get({key}, {from}, {to})"
    );
}

fn verify_versions_ascending(
    st: &Store,
    key: &str,
    from: i64,
    to: i64,
    expected: &[(&str, i64, i64)],
) {
    let mut got = st.get_versions(&s(key), from, to).unwrap();
    got.reverse();
    let expected: Vec<_> = expected
        .iter()
        .map(|(v, ts, vt)| VersionedRecord::new(s(v), *ts, valid_to(*vt)))
        .collect();
    assert_eq!(got, expected, "get({key}, {from}, {to}, ASCENDING)");
}

/// Kafka's `restoreBatch`: changelog records applied to the store.
fn restore(st: &Store, records: &[(&str, Option<&str>, i64)]) {
    let batch: Vec<ChangelogRecord<'_>> = records
        .iter()
        .map(|(k, v, ts)| ChangelogRecord {
            key: k.as_bytes(),
            value: v.map(str::as_bytes),
            timestamp: *ts,
        })
        .collect();
    StateStore::restore(st, &batch).unwrap();
}

// RocksDBVersionedStoreTest.shouldPutLatest
#[test]
fn should_put_latest() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), BASE, UNDEF);
    put(&st, "k", Some("v2"), BASE + 1, UNDEF);

    verify_get(&st, "k", "v2", BASE + 1);
    verify_as_of(&st, "k", BASE, "v", BASE, BASE + 1);
    verify_as_of(&st, "k", BASE + 1, "v2", BASE + 1, UNDEF);
    verify_as_of(&st, "k", BASE + 2, "v2", BASE + 1, UNDEF);
}

// RocksDBVersionedStoreTest.shouldPutNullAsLatest
#[test]
fn should_put_null_as_latest() {
    let (_d, st) = store();

    put(&st, "k", None, BASE, UNDEF);
    put(&st, "k", None, BASE + 1, UNDEF);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", BASE);
    verify_as_of_null(&st, "k", BASE + 1);
    verify_as_of_null(&st, "k", BASE + 2);
}

// RocksDBVersionedStoreTest.shouldPutOlderWithNonNullLatest
#[test]
fn should_put_older_with_non_null_latest() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), BASE, UNDEF);
    put(&st, "k", Some("v2"), BASE - 2, BASE);
    put(&st, "k", Some("v1"), BASE - 1, BASE);
    put(&st, "k", Some("v4"), BASE - 4, BASE - 2);

    verify_get(&st, "k", "v", BASE);
    verify_as_of(&st, "k", BASE, "v", BASE, UNDEF);
    verify_as_of(&st, "k", BASE - 1, "v1", BASE - 1, BASE);
    verify_as_of(&st, "k", BASE - 2, "v2", BASE - 2, BASE - 1);
    verify_as_of(&st, "k", BASE - 3, "v4", BASE - 4, BASE - 2);
}

// RocksDBVersionedStoreTest.shouldPutOlderWithNullLatest
#[test]
fn should_put_older_with_null_latest() {
    let (_d, st) = store();

    put(&st, "k", None, BASE, UNDEF);
    put(&st, "k", Some("v2"), BASE - 2, BASE);
    put(&st, "k", Some("v1"), BASE - 1, BASE);
    put(&st, "k", Some("v4"), BASE - 4, BASE - 2);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", BASE);
    verify_as_of(&st, "k", BASE - 1, "v1", BASE - 1, BASE);
    verify_as_of(&st, "k", BASE - 2, "v2", BASE - 2, BASE - 1);
    verify_as_of(&st, "k", BASE - 3, "v4", BASE - 4, BASE - 2);
}

// RocksDBVersionedStoreTest.shouldPutOlderNullWithNonNullLatest
#[test]
fn should_put_older_null_with_non_null_latest() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), BASE, UNDEF);
    put(&st, "k", None, BASE - 2, BASE);
    put(&st, "k", None, BASE - 1, BASE);
    put(&st, "k", None, BASE - 4, BASE - 2);
    put(&st, "k", Some("v5"), BASE - 5, BASE - 4);
    put(&st, "k", Some("v3"), BASE - 3, BASE - 2);
    put(&st, "k", None, BASE - 6, BASE - 5);

    verify_get(&st, "k", "v", BASE);
    verify_as_of(&st, "k", BASE, "v", BASE, UNDEF);
    verify_as_of_null(&st, "k", BASE - 1);
    verify_as_of_null(&st, "k", BASE - 2);
    verify_as_of(&st, "k", BASE - 3, "v3", BASE - 3, BASE - 2);
    verify_as_of_null(&st, "k", BASE - 4);
    verify_as_of(&st, "k", BASE - 5, "v5", BASE - 5, BASE - 4);
    verify_as_of_null(&st, "k", BASE - 6);
}

// RocksDBVersionedStoreTest.shouldPutOlderNullWithNullLatest
#[test]
fn should_put_older_null_with_null_latest() {
    let (_d, st) = store();

    put(&st, "k", None, BASE, UNDEF);
    put(&st, "k", None, BASE - 2, BASE);
    put(&st, "k", None, BASE - 1, BASE);
    put(&st, "k", None, BASE - 4, BASE - 2);
    put(&st, "k", Some("v3"), BASE - 3, BASE - 2);
    put(&st, "k", Some("v5"), BASE - 5, BASE - 4);
    put(&st, "k", None, BASE - 6, BASE - 5);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", BASE);
    verify_as_of_null(&st, "k", BASE - 1);
    verify_as_of_null(&st, "k", BASE - 2);
    verify_as_of(&st, "k", BASE - 3, "v3", BASE - 3, BASE - 2);
    verify_as_of_null(&st, "k", BASE - 4);
    verify_as_of(&st, "k", BASE - 5, "v5", BASE - 5, BASE - 4);
    verify_as_of_null(&st, "k", BASE - 6);
}

// RocksDBVersionedStoreTest.shouldPutRepeatTimestampAsLatest
#[test]
fn should_put_repeat_timestamp_as_latest() {
    let (_d, st) = store();

    put(&st, "k", Some("to_be_replaced"), BASE, UNDEF);
    put(&st, "k", Some("b"), BASE, UNDEF);

    verify_get(&st, "k", "b", BASE);
    verify_as_of(&st, "k", BASE, "b", BASE, UNDEF);
    verify_as_of_null(&st, "k", BASE - 1);

    put(&st, "k", None, BASE, UNDEF);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", BASE);
    verify_as_of_null(&st, "k", BASE - 1);

    put(&st, "k", None, BASE, UNDEF);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", BASE);
    verify_as_of_null(&st, "k", BASE - 1);

    put(&st, "k", Some("b"), BASE, UNDEF);

    verify_get(&st, "k", "b", BASE);
    verify_as_of(&st, "k", BASE, "b", BASE, UNDEF);
    verify_as_of_null(&st, "k", BASE - 1);
}

// RocksDBVersionedStoreTest.shouldPutRepeatTimestamps
#[test]
fn should_put_repeat_timestamps() {
    let (_d, st) = store();

    put(&st, "k", Some("to_be_replaced"), SI + 20, UNDEF);
    put(&st, "k", None, SI - 10, SI + 20);
    put(&st, "k", Some("to_be_replaced"), SI - 10, SI + 20); // replace existing null with non-null, with timestamps spanning segments
    put(&st, "k", None, SI - 10, SI + 20); // replace existing non-null with null
    put(&st, "k", Some("to_be_replaced"), SI - 1, SI + 20);
    put(&st, "k", Some("to_be_replaced"), SI + 1, SI + 20);
    put(&st, "k", None, SI - 1, SI + 1); // replace existing non-null with null
    put(&st, "k", None, SI + 1, SI + 20); // replace existing non-null with null, with timestamps spanning segments
    put(&st, "k", None, SI + 10, SI + 20);
    put(&st, "k", None, SI + 5, SI + 10);
    put(&st, "k", Some("vp5"), SI + 5, SI + 10); // replace existing null with non-null
    put(&st, "k", Some("to_be_replaced"), SI - 5, SI - 1);
    put(&st, "k", Some("vn5"), SI - 5, SI - 1); // replace existing non-null with non-null
    put(&st, "k", None, SI + 20, UNDEF); // replace existing non-null (latest value) with null
    put(&st, "k", None, SI + 20, UNDEF); // replace existing null with null
    put(&st, "k", Some("vn6"), SI - 6, SI - 5);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of_null(&st, "k", SI + 15);
    verify_as_of(&st, "k", SI + 6, "vp5", SI + 5, SI + 10);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn5", SI - 5, SI - 1);
    verify_as_of(&st, "k", SI - 6, "vn6", SI - 6, SI - 5);
    verify_as_of_null(&st, "k", SI - 8);
}

// RocksDBVersionedStoreTest.shouldPutIntoMultipleSegments
#[test]
fn should_put_into_multiple_segments() {
    let (_d, st) = store();

    put(&st, "k", None, SI - 20, UNDEF);
    put(&st, "k", Some("vn10"), SI - 10, UNDEF);
    put(&st, "k", None, SI - 1, UNDEF);
    put(&st, "k", None, SI + 1, UNDEF);
    put(&st, "k", Some("vp10"), SI + 10, UNDEF);
    put(&st, "k", None, SI + 20, UNDEF);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of(&st, "k", SI + 15, "vp10", SI + 10, SI + 20);
    verify_as_of_null(&st, "k", SI + 5);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn10", SI - 10, SI - 1);
    verify_as_of_null(&st, "k", SI - 15);
}

// RocksDBVersionedStoreTest.shouldMoveRecordToOlderSegmentDuringPut
#[test]
fn should_move_record_to_older_segment_during_put() {
    let (_d, st) = store();

    put(&st, "k", Some("vp20"), SI + 20, UNDEF);
    put(&st, "k", Some("vp10"), SI + 10, SI + 20);
    put(&st, "k", Some("vn10"), SI - 10, SI + 10);
    put(&st, "k", Some("vn2"), SI - 2, SI + 10);
    put(&st, "k", Some("vn1"), SI - 1, SI + 10);
    put(&st, "k", Some("vp1"), SI + 1, SI + 10);

    verify_get(&st, "k", "vp20", SI + 20);
    verify_as_of(&st, "k", SI + 30, "vp20", SI + 20, UNDEF);
    verify_as_of(&st, "k", SI + 15, "vp10", SI + 10, SI + 20);
    verify_as_of(&st, "k", SI + 5, "vp1", SI + 1, SI + 10);
    verify_as_of(&st, "k", SI, "vn1", SI - 1, SI + 1);
    verify_as_of(&st, "k", SI - 1, "vn1", SI - 1, SI + 1);
    verify_as_of(&st, "k", SI - 2, "vn2", SI - 2, SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn10", SI - 10, SI - 2);
}

// RocksDBVersionedStoreTest.shouldMoveRecordToOlderSegmentWithNullsDuringPut
#[test]
fn should_move_record_to_older_segment_with_nulls_during_put() {
    let (_d, st) = store();

    put(&st, "k", None, SI + 20, UNDEF);
    put(&st, "k", None, SI - 1, SI + 20);
    put(&st, "k", None, SI + 1, SI + 20);
    put(&st, "k", None, SI - 10, SI - 1);
    put(&st, "k", None, SI + 10, SI + 20);
    put(&st, "k", Some("vp5"), SI + 5, SI + 10);
    put(&st, "k", Some("vn5"), SI - 5, SI - 1);
    put(&st, "k", Some("vn6"), SI - 6, SI - 5);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of_null(&st, "k", SI + 15);
    verify_as_of(&st, "k", SI + 6, "vp5", SI + 5, SI + 10);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn5", SI - 5, SI - 1);
    verify_as_of(&st, "k", SI - 6, "vn6", SI - 6, SI - 5);
    verify_as_of_null(&st, "k", SI - 8);
}

// RocksDBVersionedStoreTest.shouldFallThroughToExistingOlderSegmentAsLatestDuringPut
#[test]
fn should_fall_through_to_existing_older_segment_as_latest_during_put() {
    let (_d, st) = store();

    put(&st, "k", None, SI - 5, UNDEF);
    put(&st, "k", Some("vn6"), SI - 6, SI - 5);
    put(&st, "k", Some("vp20"), SI + 20, UNDEF);
    put(&st, "k", None, SI + 10, SI + 20);
    put(&st, "k", None, SI - 1, SI + 10);
    put(&st, "k", Some("vn2"), SI - 2, SI - 1);

    verify_get(&st, "k", "vp20", SI + 20);
    verify_as_of(&st, "k", SI + 30, "vp20", SI + 20, UNDEF);
    verify_as_of_null(&st, "k", SI + 12);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 2, "vn2", SI - 2, SI - 1);
    verify_as_of_null(&st, "k", SI - 5);
    verify_as_of(&st, "k", SI - 6, "vn6", SI - 6, SI - 5);
}

// RocksDBVersionedStoreTest.shouldPutNonLatestTombstoneIntoNewSegmentWithValidTo
#[test]
fn should_put_non_latest_tombstone_into_new_segment_with_valid_to() {
    let (_d, st) = store();

    put(&st, "k", Some("vp30"), SI + 30, UNDEF);
    put(&st, "k", None, SI - 10, SI + 30); // this put should result in tombstone with validTo=SEGMENT_INTERVAL+30
    put(&st, "k", Some("vn5"), SI - 5, SI + 30);
    put(&st, "k", Some("vn1"), SI - 1, SI + 30);
    put(&st, "k", None, SI - 2, SI - 1);

    verify_get(&st, "k", "vp30", SI + 30);
    verify_as_of(&st, "k", SI + 10, "vn1", SI - 1, SI + 30);
    verify_as_of(&st, "k", SI - 1, "vn1", SI - 1, SI + 30);
    verify_as_of_null(&st, "k", SI - 2);
    verify_as_of(&st, "k", SI - 5, "vn5", SI - 5, SI - 2);
    verify_as_of_null(&st, "k", SI - 10);
}

// RocksDBVersionedStoreTest.shouldDelete
#[test]
fn should_delete() {
    let (_d, st) = store();

    put(&st, "k", Some("vp20"), SI + 20, UNDEF);
    put(&st, "k", Some("vp10"), SI + 10, SI + 20);
    put(&st, "k", Some("vn10"), SI - 10, SI + 10);
    put(&st, "k", Some("vn2"), SI - 2, SI + 10);

    let deleted = delete(&st, "k", SI - 5); // delete from segment
    assert_eq!(deleted.as_ref().map(|d| d.value.as_str()), Some("vn10"));
    assert_eq!(deleted.as_ref().map(|d| d.timestamp), Some(SI - 10));

    let deleted = delete(&st, "k", SI + 10); // delete existing timestamp
    assert_eq!(deleted.as_ref().map(|d| d.value.as_str()), Some("vp10"));
    assert_eq!(deleted.as_ref().map(|d| d.timestamp), Some(SI + 10));

    let deleted = delete(&st, "k", SI + 10); // delete the same timestamp again
    assert_eq!(deleted, None);

    let deleted = delete(&st, "k", SI + 25); // delete from latest value store
    assert_eq!(deleted.as_ref().map(|d| d.value.as_str()), Some("vp20"));
    assert_eq!(deleted.as_ref().map(|d| d.timestamp), Some(SI + 20));
}

// RocksDBVersionedStoreTest.shouldNotPutExpired
#[test]
fn should_not_put_expired() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), HR + 10, UNDEF);

    // grace period has not elapsed
    put(&st, "k1", Some("v1"), HR + 10 - GP, UNDEF);
    verify_get(&st, "k1", "v1", HR + 10 - GP);

    // grace period has elapsed, so this put does not take place
    put(&st, "k2", Some("v2"), HR + 9 - GP, NOT_PUT);
    verify_get_null(&st, "k2");

    // not applicable: verifyExpiredRecordSensor(1) (stores do not count dropped records here)
}

// RocksDBVersionedStoreTest.shouldNotDeleteExpired
#[test]
fn should_not_delete_expired() {
    let (_d, st) = store();

    put(&st, "k1", Some("v1"), 1, UNDEF);
    put(&st, "k2", Some("v2"), 1, UNDEF);
    put(&st, "kother", Some("vother"), HR + 10, UNDEF); // use separate key to advance stream time

    // grace period has not elapsed
    let deleted = delete(&st, "k1", HR + 10 - GP);
    assert_eq!(deleted.as_ref().map(|d| d.value.as_str()), Some("v1"));
    assert_eq!(deleted.as_ref().map(|d| d.timestamp), Some(1));
    verify_get_null(&st, "k1");

    // grace period has elapsed, so this delete does not take place
    let deleted = delete(&st, "k2", HR + 9 - GP);
    assert_eq!(deleted, None); // return value is null even though record exists because delete did not take place
    verify_get(&st, "k2", "v2", 1);

    // not applicable: verifyExpiredRecordSensor(1) (stores do not count dropped records here)
}

// RocksDBVersionedStoreTest.shouldGetFromOlderSegments
#[test]
fn should_get_from_older_segments() {
    let (_d, st) = store();

    // use a different key to create three different segments
    put(&st, "ko", None, SI - 10, UNDEF);
    put(&st, "ko", None, 2 * SI - 10, UNDEF);
    put(&st, "ko", None, 3 * SI - 10, UNDEF);

    // return null after visiting all segments
    verify_as_of_null(&st, "k", SI - 20);

    // insert data to create non-empty (first) segment
    put(&st, "k", Some("v"), SI - 20, UNDEF);
    put(&st, "k", None, SI - 10, UNDEF);

    verify_as_of_null(&st, "k", SI - 30);
    verify_as_of(&st, "k", SI - 15, "v", SI - 20, SI - 10);
    verify_as_of_null(&st, "k", SI - 5);

    // insert data to create non-empty (third) segment
    put(&st, "k", Some("v2"), 3 * SI - 20, UNDEF);
    put(&st, "k", None, 3 * SI - 10, UNDEF);

    // presence of non-empty later segment does not affect results of getting from earlier segment
    verify_as_of_null(&st, "k", SI - 30);
    verify_as_of(&st, "k", SI - 15, "v", SI - 20, SI - 10);
    verify_as_of_null(&st, "k", SI - 5);
}

// RocksDBVersionedStoreTest.shouldNotGetExpired
#[test]
fn should_not_get_expired() {
    let (_d, st) = store();

    put(&st, "k", Some("v_old"), 0, UNDEF);
    put(&st, "k", Some("v"), SI - 10, UNDEF);

    // old record has not yet expired
    verify_as_of(&st, "k", SI - 11, "v_old", 0, SI - 10);

    put(&st, "ko", Some("vo"), HR + SI - 11, UNDEF);

    // old record still has not yet expired
    verify_as_of(&st, "k", SI - 11, "v_old", 0, SI - 10);

    put(&st, "ko", Some("vo2"), HR + SI - 10, UNDEF);

    // old record is expired now
    verify_as_of_null(&st, "k", SI - 11);
}

// RocksDBVersionedStoreTest.shouldGetExpiredIfLatestValue
#[test]
fn should_get_expired_if_latest_value() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), 1, UNDEF);
    put(&st, "ko", Some("vo_old"), 1, UNDEF);
    put(&st, "ko", Some("vo_new"), HR + 12, UNDEF);

    // expired get on key where latest satisfies timestamp bound still returns data
    verify_as_of(&st, "k", 10, "v", 1, UNDEF);

    // same expired get on key where latest value does not satisfy timestamp bound does not return data
    verify_as_of_null(&st, "ko", 10);
}

// RocksDBVersionedStoreTest.shouldDistinguishEmptyAndNull
#[test]
fn should_distinguish_empty_and_null() {
    let (_d, st) = store();

    put(&st, "k", None, SI + 20, UNDEF);
    put(&st, "k", None, SI - 10, SI + 20);
    put(&st, "k", None, SI - 1, SI + 20);
    put(&st, "k", None, SI + 1, SI + 20);
    put(&st, "k", None, SI + 10, SI + 20);
    // empty string is serialized as an empty byte array, which is different from null (tombstone)
    put(&st, "k", Some(""), SI + 5, SI + 10);
    put(&st, "k", Some(""), SI - 5, SI - 1);
    put(&st, "k", Some(""), SI - 6, SI - 5);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of_null(&st, "k", SI + 15);
    verify_as_of(&st, "k", SI + 6, "", SI + 5, SI + 10);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "", SI - 5, SI - 1);
    verify_as_of(&st, "k", SI - 6, "", SI - 6, SI - 5);
    verify_as_of_null(&st, "k", SI - 8);
}

// RocksDBVersionedStoreTest.shouldGetRecordVersionsFromOlderSegments
#[test]
fn should_get_record_versions_from_older_segments() {
    let (_d, st) = store();

    // use a different key to create three different segments
    put(&st, "ko", None, SI - 10, UNDEF);
    put(&st, "ko", None, 2 * SI - 10, UNDEF);
    put(&st, "ko", None, 3 * SI - 10, UNDEF);

    // return null after visiting all segments (the key does not exist.)
    verify_versions(&st, "k", SI - 20, SI, &[]);

    // insert data to create non-empty (first) segment
    put(&st, "k", Some("v1"), SI - 30, UNDEF);
    put(&st, "k", Some("v2"), SI - 25, UNDEF);
    put(&st, "k", None, SI - 20, UNDEF);
    put(&st, "k", None, SI - 15, UNDEF);
    put(&st, "k", Some("v3"), SI - 10, UNDEF);
    put(&st, "k", Some("v4"), SI - 5, UNDEF);

    // return null for the query with a time range prior to inserting values
    verify_versions(&st, "k", SI - 40, SI - 35, &[]);

    // return values for the query with query time range in which values are still valid and there are multiple tombstones
    verify_versions(
        &st,
        "k",
        SI - 30,
        SI - 5,
        &[
            ("v4", SI - 5, UNDEF),
            ("v3", SI - 10, SI - 5),
            ("v2", SI - 25, SI - 20),
            ("v1", SI - 30, SI - 25),
        ],
    );

    // return values for the query with time range (MIN, MAX)
    verify_versions(
        &st,
        "k",
        i64::MIN,
        i64::MAX,
        &[
            ("v4", SI - 5, UNDEF),
            ("v3", SI - 10, SI - 5),
            ("v2", SI - 25, SI - 20),
            ("v1", SI - 30, SI - 25),
        ],
    );

    // return the latest record (retrieve only from the latestValueStore)
    verify_versions(&st, "k", SI - 4, SI, &[("v4", SI - 5, UNDEF)]);

    // return one value for the query with time fromTimeStamp = toTimestamp
    verify_versions(&st, "k", SI - 5, SI - 5, &[("v4", SI - 5, UNDEF)]);

    // return one values for the query with time fromTimeStamp = toTimestamp
    verify_versions(&st, "k", SI - 4, SI - 4, &[("v4", SI - 5, UNDEF)]);

    // return values before insertion of any tombstone
    verify_versions(
        &st,
        "k",
        SI - 31,
        SI - 21,
        &[("v2", SI - 25, SI - 20), ("v1", SI - 30, SI - 25)],
    );

    // return values for the query with time range that covers both tombstones
    verify_versions(&st, "k", SI - 24, SI - 11, &[("v2", SI - 25, SI - 20)]);

    // return values for the query with time range that after insertion of tombstones
    verify_versions(
        &st,
        "k",
        SI - 11,
        SI - 4,
        &[("v4", SI - 5, UNDEF), ("v3", SI - 10, SI - 5)],
    );

    // return all the records that are valid during the query time range but inserted beforehand
    verify_versions(
        &st,
        "k",
        SI - 26,
        SI - 5,
        &[
            ("v4", SI - 5, UNDEF),
            ("v3", SI - 10, SI - 5),
            ("v2", SI - 25, SI - 20),
            ("v1", SI - 30, SI - 25),
        ],
    );

    // return the valid record that has been inserted at the end of query time range (validFrom = query upper time bound)
    verify_versions(&st, "k", SI - 15, SI - 10, &[("v3", SI - 10, SI - 5)]);

    // return null in the time range where no value is valid
    verify_versions(&st, "k", SI - 19, SI - 16, &[]);

    // insert data to create non-empty (third) segment
    put(&st, "k", Some("v5"), 3 * SI - 30, UNDEF);
    put(&st, "k", None, 3 * SI - 20, UNDEF);

    // presence of non-empty earlier segment does not affect results of getting from later segment
    verify_versions(&st, "k", SI - 40, SI - 35, &[]);
    verify_versions(&st, "k", SI - 30, SI - 26, &[("v1", SI - 30, SI - 25)]);
    verify_versions(&st, "k", SI - 19, SI - 16, &[]);
}

// RocksDBVersionedStoreTest.shouldGetRecordVersionsInAscendingOrder
#[test]
fn should_get_record_versions_in_ascending_order() {
    let (_d, st) = store();

    // insert data to create non-empty (first) segment
    put(&st, "k", Some("v1"), SI - 30, UNDEF);
    put(&st, "k", Some("v2"), SI - 25, UNDEF);
    put(&st, "k", Some("v3"), SI - 10, UNDEF);
    put(&st, "k", Some("v4"), SI - 5, UNDEF);

    // return values in ascending order
    verify_versions_ascending(
        &st,
        "k",
        SI - 30,
        SI - 5,
        &[
            ("v1", SI - 30, SI - 25),
            ("v2", SI - 25, SI - 10),
            ("v3", SI - 10, SI - 5),
            ("v4", SI - 5, UNDEF),
        ],
    );
}

// RocksDBVersionedStoreTest.shouldGetRecordVersionsFromMultipleOldSegmentsInAscendingOrder
#[test]
fn should_get_record_versions_from_multiple_old_segments_in_ascending_order() {
    let (_d, st) = store();

    // insert data to create two non-empty segments
    put(&st, "k", Some("v1"), SI - 10, UNDEF);
    put(&st, "k", Some("v2"), SI - 5, UNDEF);

    put(&st, "k", Some("v3"), 2 * SI - 10, UNDEF);
    put(&st, "k", Some("v4"), 2 * SI - 5, UNDEF);

    // return values from two old segments + latestValueStore in ascending order
    verify_versions_ascending(
        &st,
        "k",
        i64::MIN,
        i64::MAX,
        &[
            ("v1", SI - 10, SI - 5),
            ("v2", SI - 5, 2 * SI - 10),
            ("v3", 2 * SI - 10, 2 * SI - 5),
            ("v4", 2 * SI - 5, UNDEF),
        ],
    );
}

// RocksDBVersionedStoreTest.shouldNotGetExpiredRecordVersions
#[test]
fn should_not_get_expired_record_versions() {
    let (_d, st) = store();

    put(&st, "k", Some("v_old"), 0, UNDEF);
    put(&st, "k", Some("v"), SI - 10, UNDEF);

    // old record has not yet expired
    verify_versions(&st, "k", 0, SI - 11, &[("v_old", 0, SI - 10)]);

    put(&st, "ko", Some("vo"), HR + SI - 11, UNDEF);

    // old record still has not yet expired
    verify_versions(&st, "k", 0, SI - 11, &[("v_old", 0, SI - 10)]);

    put(&st, "ko", Some("vo2"), HR + SI - 10, UNDEF);

    // old record is expired now
    verify_versions(&st, "k", 0, SI - 11, &[]);
}

// RocksDBVersionedStoreTest.shouldGetExpiredIfLatestVersionValue
#[test]
fn should_get_expired_if_latest_version_value() {
    let (_d, st) = store();

    put(&st, "k", Some("v"), 1, UNDEF);
    put(&st, "ko", Some("vo_old"), 1, UNDEF);
    put(&st, "ko", Some("vo_new"), HR + 12, UNDEF);

    // expired get on key where latest satisfies timestamp bound still returns data
    verify_versions(&st, "k", 0, 10, &[("v", 1, UNDEF)]);
    // same expired get on key where latest value does not satisfy timestamp bound does not return data
    verify_versions(&st, "ko", 0, 10, &[]);
}

// RocksDBVersionedStoreTest.shouldRestore
#[test]
fn should_restore() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k", Some("vp20"), SI + 20));
    records.push(("k", Some("vp10"), SI + 10));
    records.push(("k", Some("vn10"), SI - 10));
    records.push(("k", Some("vn2"), SI - 2));
    records.push(("k", Some("vn1"), SI - 1));
    records.push(("k", Some("vp1"), SI + 1));

    restore(&st, &records);

    verify_get(&st, "k", "vp20", SI + 20);
    verify_as_of(&st, "k", SI + 30, "vp20", SI + 20, UNDEF);
    verify_as_of(&st, "k", SI + 15, "vp10", SI + 10, SI + 20);
    verify_as_of(&st, "k", SI + 5, "vp1", SI + 1, SI + 10);
    verify_as_of(&st, "k", SI, "vn1", SI - 1, SI + 1);
    verify_as_of(&st, "k", SI - 1, "vn1", SI - 1, SI + 1);
    verify_as_of(&st, "k", SI - 2, "vn2", SI - 2, SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn10", SI - 10, SI - 2);
}

// RocksDBVersionedStoreTest.shouldRestoreWithNulls
#[test]
fn should_restore_with_nulls() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k", None, SI + 20));
    records.push(("k", None, SI - 1));
    records.push(("k", None, SI + 1));
    records.push(("k", None, SI - 10));
    records.push(("k", None, SI + 10));
    records.push(("k", Some("vp5"), SI + 5));
    records.push(("k", Some("vn5"), SI - 5));
    records.push(("k", Some("vn6"), SI - 6));

    restore(&st, &records);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of_null(&st, "k", SI + 15);
    verify_as_of(&st, "k", SI + 6, "vp5", SI + 5, SI + 10);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn5", SI - 5, SI - 1);
    verify_as_of(&st, "k", SI - 6, "vn6", SI - 6, SI - 5);
    verify_as_of_null(&st, "k", SI - 8);
}

// RocksDBVersionedStoreTest.shouldRestoreWithNullsAndRepeatTimestamps
#[test]
fn should_restore_with_nulls_and_repeat_timestamps() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k", Some("to_be_replaced"), SI + 20));
    records.push(("k", None, SI - 10));
    records.push(("k", Some("to_be_replaced"), SI - 10)); // replaces existing null with non-null, with timestamps spanning segments
    records.push(("k", None, SI - 10)); // replaces existing non-null with null
    records.push(("k", Some("to_be_replaced"), SI - 1));
    records.push(("k", Some("to_be_replaced"), SI + 1));
    records.push(("k", None, SI - 1)); // replaces existing non-null with null
    records.push(("k", None, SI + 1)); // replaces existing non-null with null, with timestamps spanning segments
    records.push(("k", None, SI + 10));
    records.push(("k", None, SI + 5));
    records.push(("k", Some("vp5"), SI + 5)); // replaces existing null with non-null
    records.push(("k", Some("to_be_replaced"), SI - 5));
    records.push(("k", Some("vn5"), SI - 5)); // replaces existing non-null with non-null
    records.push(("k", None, SI + 20)); // replaces existing non-null (latest value) with null
    records.push(("k", None, SI + 20)); // replaces existing null with null
    records.push(("k", Some("vn6"), SI - 6));

    restore(&st, &records);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of_null(&st, "k", SI + 15);
    verify_as_of(&st, "k", SI + 6, "vp5", SI + 5, SI + 10);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn5", SI - 5, SI - 1);
    verify_as_of(&st, "k", SI - 6, "vn6", SI - 6, SI - 5);
    verify_as_of_null(&st, "k", SI - 8);
}

// RocksDBVersionedStoreTest.shouldRestoreMultipleBatches
#[test]
fn should_restore_multiple_batches() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k", None, SI - 20));
    records.push(("k", Some("vn10"), SI - 10));
    records.push(("k", None, SI - 1));

    let mut more_records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    more_records.push(("k", None, SI + 1));
    more_records.push(("k", Some("vp10"), SI + 10));
    more_records.push(("k", None, SI + 20));

    restore(&st, &records);
    restore(&st, &more_records);

    verify_get_null(&st, "k");
    verify_as_of_null(&st, "k", SI + 30);
    verify_as_of(&st, "k", SI + 15, "vp10", SI + 10, SI + 20);
    verify_as_of_null(&st, "k", SI + 5);
    verify_as_of_null(&st, "k", SI + 2);
    verify_as_of_null(&st, "k", SI);
    verify_as_of_null(&st, "k", SI - 1);
    verify_as_of(&st, "k", SI - 5, "vn10", SI - 10, SI - 1);
    verify_as_of_null(&st, "k", SI - 15);
}

// RocksDBVersionedStoreTest.shouldNotRestoreExpired
#[test]
fn should_not_restore_expired() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k", Some("v"), HR + 10));
    records.push(("k1", Some("v1"), HR + 10 - GP)); // grace period has not elapsed
    records.push(("k2", Some("v2"), HR + 9 - GP)); // grace period has elapsed, so this record should not be restored

    restore(&st, &records);

    verify_get(&st, "k", "v", HR + 10);
    verify_get(&st, "k1", "v1", HR + 10 - GP);
    verify_get_null(&st, "k2");

    // not applicable: verifyExpiredRecordSensor(0) (stores do not count dropped records here)
}

// RocksDBVersionedStoreTest.shouldRestoreEvenIfRecordWouldBeExpiredByEndOfBatch
#[test]
fn should_restore_even_if_record_would_be_expired_by_end_of_batch() {
    let (_d, st) = store();

    let mut records: Vec<(&str, Option<&str>, i64)> = Vec::new();
    records.push(("k2", Some("v2"), HR - GP)); // this record will be older than grace period by the end of the batch, but should still be restored
    records.push(("k", Some("v"), HR + 10));

    restore(&st, &records);

    verify_get(&st, "k2", "v2", HR - GP);
    verify_get(&st, "k", "v", HR + 10);
}

// RocksDBVersionedStoreTest.shouldAllowZeroHistoryRetention
#[test]
fn should_allow_zero_history_retention() {
    // the store is recreated with zero history retention
    let (_d, st) = store_with_retention(0);

    // recreate store with zero history retention

    // put and get
    put(&st, "k", Some("v"), BASE, UNDEF);
    verify_get(&st, "k", "v", BASE);
    verify_as_of(&st, "k", BASE, "v", BASE, UNDEF);
    verify_as_of(&st, "k", BASE + 1, "v", BASE, UNDEF); // query in "future" is allowed

    // update existing record at same timestamp
    put(&st, "k", Some("updated"), BASE, UNDEF);
    verify_get(&st, "k", "updated", BASE);
    verify_as_of(&st, "k", BASE, "updated", BASE, UNDEF);

    // put new record version
    put(&st, "k", Some("v2"), BASE + 2, UNDEF);
    verify_get(&st, "k", "v2", BASE + 2);
    verify_as_of(&st, "k", BASE + 2, "v2", BASE + 2, UNDEF);

    // query in past (history retention expired) returns null
    verify_as_of_null(&st, "k", BASE + 1);

    // delete existing key
    delete(&st, "k", BASE + 3);
    verify_get_null(&st, "k");

    // put in past (grace period expired) does not update the store
    put(&st, "k2", Some("v"), BASE + 2, NOT_PUT);
    verify_get_null(&st, "k2");
    // not applicable: verifyExpiredRecordSensor(1) (stores do not count dropped records here)
}

// Not from Kafka (its restore test drives `restoreBatch` directly, above): the store survives
// a task restart, restored from its changelog (local state wiped) or reopened from RocksDB,
// with its versions, tombstones and observed stream time.
#[test]
fn versions_survive_a_restart_from_the_changelog_and_from_local_state() {
    for wipe in [true, false] {
        let (driver, st) = store();
        put(&st, "k", Some("v1"), 10, UNDEF);
        put(&st, "k", Some("v3"), 30, UNDEF);
        put(&st, "k", Some("v2"), 20, 30);
        put(&st, "k", None, 40, UNDEF);
        // Advances the observed stream time: the history now starts at 25.
        put(&st, "ko", Some("x"), HR + 25, UNDEF);
        let task = driver.task_ids()[0];
        driver.restart_task(task, wipe).unwrap();
        let st: Store = driver.get_state_store(STORE_NAME).unwrap();
        verify_get_null(&st, "k");
        verify_as_of_null(&st, "k", 45);
        verify_as_of(&st, "k", 35, "v3", 30, 40);
        verify_as_of(&st, "k", 25, "v2", 20, 30);
        verify_as_of_null(&st, "k", 15);
        verify_get(&st, "ko", "x", HR + 25);
        put(&st, "k", Some("late"), 24, NOT_PUT);
        put(&st, "k", Some("v4"), 50, UNDEF);
        verify_as_of_null(&st, "k", 45);
        verify_get(&st, "k", "v4", 50);
    }
}
