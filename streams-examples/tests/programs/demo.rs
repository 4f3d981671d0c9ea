//! `make demo` as a user runs it: the demo binary on the embedded cluster exits 0 and prints the
//! top pickup locations with the counts an independent count of `data/rides.csv` gives.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn demo_prints_the_top_pickup_locations_with_exact_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--top", "10", "--timeout-secs", "120"])
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // Independent count: the CSV's PULocationID column (8th field), read without our loader.
    let csv = std::fs::read_to_string(streams_examples::data_dir().join("rides.csv")).unwrap();
    let mut expected: HashMap<String, i64> = HashMap::new();
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let pickup = line.split(',').nth(7).unwrap().trim().to_string();
        *expected.entry(pickup).or_default() += 1;
    }
    assert_eq!(expected.values().sum::<i64>(), 266);

    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Top 10 pickup locations (266 rides"))
        .skip(1)
        .take(10)
        .collect();
    assert_eq!(table.len(), 10, "no top-10 table in:\n{stdout}");
    let best = *expected.values().max().unwrap();
    assert!(
        table[0].trim_end().ends_with(&format!(" {best}")),
        "first row has the top count {best}: `{}`",
        table[0]
    );
    let mut previous = i64::MAX;
    for row in table {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let (id, count) = (fields[0], fields[fields.len() - 1].parse::<i64>().unwrap());
        assert_eq!(
            Some(&count),
            expected.get(id),
            "location {id} in row `{row}`"
        );
        assert!(count <= previous, "rows sorted by count: `{row}`");
        previous = count;
    }
}
