//! Shared by the example tests: an independent reading of `data/rides.csv` and of Kafka's
//! windowing rules, so that expected results never come from the code under test.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

/// One minute in ms: the windowed example's window size.
pub const MINUTE: i64 = 60_000;

/// A row of `data/rides.csv`, read by splitting lines (the file has no quoted fields).
#[derive(Debug, Clone)]
pub struct CsvRide {
    /// Column name -> text.
    pub fields: BTreeMap<String, String>,
    /// 1-based line in the file.
    pub line: usize,
}

impl CsvRide {
    pub fn get(&self, column: &str) -> &str {
        &self.fields[column]
    }

    /// `PULocationID`.
    pub fn pickup(&self) -> String {
        self.get("PULocationID").to_string()
    }

    /// The pickup time in ms since the epoch (UTC).
    pub fn pickup_ms(&self) -> i64 {
        NaiveDateTime::parse_from_str(self.get("tpep_pickup_datetime"), "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    /// Asserts that `json` (a ride as produced) holds this row's fields: the date-times and
    /// the flag as the same text, every other column as the same number.
    pub fn assert_json_matches(&self, json: &serde_json::Value) {
        let object = json
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {json}"));
        assert_eq!(object.len(), self.fields.len(), "columns of {json}");
        for (column, text) in &self.fields {
            let value = &object[column];
            match column.as_str() {
                "tpep_pickup_datetime" | "tpep_dropoff_datetime" | "store_and_fwd_flag" => {
                    assert_eq!(
                        value.as_str(),
                        Some(text.as_str()),
                        "line {}: {column}",
                        self.line
                    )
                }
                _ => assert_eq!(
                    value.as_f64(),
                    Some(text.parse::<f64>().unwrap()),
                    "line {}: {column} in {json}",
                    self.line
                ),
            }
        }
    }
}

/// The rows of `data/rides.csv` in file order.
pub fn csv_rides() -> Vec<CsvRide> {
    let text = std::fs::read_to_string(streams_examples::data_dir().join("rides.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| CsvRide {
            fields: header
                .iter()
                .cloned()
                .zip(l.split(',').map(|s| s.trim().to_string()))
                .collect(),
            line: i + 2,
        })
        .collect()
}

/// Rides per pickup location in `data/rides.csv`.
pub fn csv_counts() -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for ride in csv_rides() {
        *counts.entry(ride.pickup()).or_default() += 1;
    }
    counts
}

/// Kafka's rules, written independently of the engine, for the records of one task (one
/// partition) in offset order: stream time is the largest timestamp seen, updated before the
/// check; a ride is counted in window `[s, s + 1 min)` iff `s + 1 min > stream time - grace`;
/// a window's final count is emitted once `s + 1 min <= stream time - grace`. Returns the final
/// results keyed by (location, window start), and the number of dropped rides.
pub fn simulate(rides: &[(String, i64)], grace_ms: i64) -> (BTreeMap<(String, i64), i64>, u64) {
    let mut stream_time = i64::MIN;
    let mut counts: BTreeMap<(String, i64), i64> = BTreeMap::new();
    let mut dropped = 0;
    for (key, ts) in rides {
        stream_time = stream_time.max(*ts);
        let start = ts - ts.rem_euclid(MINUTE);
        if start + MINUTE > stream_time - grace_ms {
            *counts.entry((key.clone(), start)).or_default() += 1;
        } else {
            dropped += 1;
        }
    }
    counts.retain(|(_, start), _| start + MINUTE <= stream_time - grace_ms);
    (counts, dropped)
}
