//! A generated stream of rides: skewed over the TLC zones, with increasing pickup times.

use chrono::{DateTime, NaiveDateTime};

use crate::Ride;

/// The number of TLC taxi zones (`LocationID` 1 to 265 in `taxi_zone_lookup.csv`).
pub const ZONE_COUNT: u32 = 265;

/// The busiest yellow-taxi pickup zones of NYC, busiest first (Upper East Side, Midtown,
/// Lincoln Square, ...): the generator gives them the top ranks of its Zipf-like popularity;
/// the other zones follow in id order.
const BUSIEST_ZONES: [u32; 20] = [
    237, 161, 236, 162, 186, 230, 142, 170, 48, 234, 163, 239, 68, 141, 79, 107, 138, 132, 263, 140,
];

/// Settings of a [`RideGenerator`].
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Seed of the pseudo-random sequence: the same seed gives the same rides.
    pub seed: u64,
    /// Pickup time of the first ride.
    pub start: NaiveDateTime,
    /// Mean event-time gap between two pickups, in whole seconds (at least 1). Gaps are drawn
    /// from 1 to `2 * mean - 1` seconds, so pickup times strictly increase.
    pub mean_interval_secs: u32,
    /// Zipf exponent of the zone popularity (1.0: the k-th busiest zone gets 1/k of the
    /// busiest one's rides; 0: uniform).
    pub skew: f64,
}

impl Default for GeneratorConfig {
    /// Seed 42, first pickup at `2020-07-01 00:00:00`, one ride per second, Zipf exponent 1.
    fn default() -> Self {
        GeneratorConfig {
            seed: 42,
            start: DateTime::from_timestamp(1_593_561_600, 0)
                .map(|t| t.naive_utc())
                .unwrap_or_default(),
            mean_interval_secs: 1,
            skew: 1.0,
        }
    }
}

/// An endless, deterministic stream of plausible [`Ride`]s: pickup and drop-off zones drawn
/// from a Zipf-like popularity over the 265 zones (busiest Manhattan zones first), strictly
/// increasing pickup times, and fares, tips and totals that add up.
///
/// ```
/// use streams_examples::{GeneratorConfig, RideGenerator, ZONE_COUNT};
/// let rides: Vec<_> = RideGenerator::new(&GeneratorConfig::default()).take(1000).collect();
/// assert!(rides.windows(2).all(|w| w[0].pickup_millis() < w[1].pickup_millis()));
/// assert!(rides.iter().all(|r| (1..=ZONE_COUNT).contains(&r.pu_location_id)));
/// // Skewed: the busiest zone (237) has far more than 1/265 of the pickups.
/// assert!(rides.iter().filter(|r| r.pu_location_id == 237).count() > 100);
/// ```
#[derive(Debug, Clone)]
pub struct RideGenerator {
    state: u64,
    next_pickup_secs: i64,
    mean_interval_secs: i64,
    /// Zone ids by popularity rank.
    zones: Vec<u32>,
    /// Cumulative popularity by rank, ending at 1.0.
    cdf: Vec<f64>,
}

impl RideGenerator {
    /// A generator with the given settings.
    pub fn new(config: &GeneratorConfig) -> Self {
        let mut zones: Vec<u32> = BUSIEST_ZONES.to_vec();
        zones.extend((1..=ZONE_COUNT).filter(|z| !BUSIEST_ZONES.contains(z)));
        let skew = if config.skew.is_finite() && config.skew > 0.0 {
            config.skew
        } else {
            0.0
        };
        let weights: Vec<f64> = (1..=zones.len())
            .map(|rank| 1.0 / (rank as f64).powf(skew))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        RideGenerator {
            state: config.seed,
            next_pickup_secs: config.start.and_utc().timestamp(),
            mean_interval_secs: i64::from(config.mean_interval_secs.max(1)),
            zones,
            cdf,
        }
    }

    /// splitmix64: a fast, well-mixed 64-bit sequence.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `[lo, hi]`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    fn zone(&mut self) -> u32 {
        let u = self.unit();
        let rank = self.cdf.partition_point(|c| *c <= u);
        self.zones[rank.min(self.zones.len() - 1)]
    }
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn datetime(secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

impl Iterator for RideGenerator {
    type Item = Ride;

    fn next(&mut self) -> Option<Ride> {
        let pickup = self.next_pickup_secs;
        self.next_pickup_secs += self.between(1, 2 * self.mean_interval_secs - 1);
        let pu = self.zone();
        let dropoff_zone = self.zone();
        let duration_secs = self.between(120, 2400);
        let mph = 8.0 + 12.0 * self.unit();
        let distance = cents(duration_secs as f64 / 3600.0 * mph);
        let airport = pu == 132 || dropoff_zone == 132;
        let fare = if airport {
            52.0
        } else {
            cents(2.5 + 2.5 * distance + 0.25 * duration_secs as f64 / 60.0)
        };
        let card = self.unit() < 0.7;
        let tip = if card {
            cents(fare * (0.1 + 0.15 * self.unit()))
        } else {
            0.0
        };
        let extra = 0.5;
        let mta_tax = 0.5;
        let improvement = 0.3;
        let congestion = if self.unit() < 0.8 { 2.5 } else { 0.0 };
        Some(Ride {
            vendor_id: if self.unit() < 0.5 { 1 } else { 2 },
            pickup_datetime: datetime(pickup),
            dropoff_datetime: datetime(pickup + duration_secs),
            passenger_count: self.between(1, 4) as u32,
            trip_distance: distance,
            ratecode_id: if airport { 2 } else { 1 },
            store_and_fwd_flag: "N".to_string(),
            pu_location_id: pu,
            do_location_id: dropoff_zone,
            payment_type: if card { 1 } else { 2 },
            fare_amount: fare,
            extra,
            mta_tax,
            tip_amount: tip,
            tolls_amount: 0.0,
            improvement_surcharge: improvement,
            total_amount: cents(fare + extra + mta_tax + tip + improvement + congestion),
            congestion_surcharge: congestion,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_same_seed_gives_the_same_rides() {
        let config = GeneratorConfig::default();
        let a: Vec<Ride> = RideGenerator::new(&config).take(50).collect();
        let b: Vec<Ride> = RideGenerator::new(&config).take(50).collect();
        assert_eq!(a, b);
        let other = GeneratorConfig { seed: 7, ..config };
        let c: Vec<Ride> = RideGenerator::new(&other).take(50).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn pickups_start_at_the_start_and_strictly_increase_by_the_mean_gap() {
        let config = GeneratorConfig {
            mean_interval_secs: 3,
            ..GeneratorConfig::default()
        };
        let rides: Vec<Ride> = RideGenerator::new(&config).take(10_000).collect();
        assert_eq!(rides[0].pickup_millis(), 1_593_561_600_000);
        let gaps: Vec<i64> = rides
            .windows(2)
            .map(|w| (w[1].pickup_millis() - w[0].pickup_millis()) / 1000)
            .collect();
        assert!(gaps.iter().all(|g| (1..=5).contains(g)), "gaps 1..=5 s");
        let mean = gaps.iter().sum::<i64>() as f64 / gaps.len() as f64;
        assert!((mean - 3.0).abs() < 0.1, "mean gap {mean}");
        assert!(rides.iter().all(|r| r.dropoff_millis() > r.pickup_millis()));
    }

    #[test]
    fn zones_follow_a_zipf_like_popularity() {
        let rides: Vec<Ride> = RideGenerator::new(&GeneratorConfig::default())
            .take(100_000)
            .collect();
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for r in &rides {
            assert!((1..=ZONE_COUNT).contains(&r.pu_location_id));
            assert!((1..=ZONE_COUNT).contains(&r.do_location_id));
            *counts.entry(r.pu_location_id).or_default() += 1;
        }
        // Zipf(1) over 265 ranks: rank 1 gets 1/H(265) = 16.3%, rank 2 half of that.
        let share = |zone: u32| counts.get(&zone).copied().unwrap_or(0) as f64 / 100_000.0;
        assert!(
            (share(237) - 0.163).abs() < 0.01,
            "zone 237: {}",
            share(237)
        );
        assert!(
            (share(161) - 0.0816).abs() < 0.01,
            "zone 161: {}",
            share(161)
        );
        assert!(counts.len() > 250, "most zones appear: {}", counts.len());
    }

    #[test]
    fn amounts_add_up() {
        for r in RideGenerator::new(&GeneratorConfig::default()).take(1000) {
            let sum = r.fare_amount
                + r.extra
                + r.mta_tax
                + r.tip_amount
                + r.tolls_amount
                + r.improvement_surcharge
                + r.congestion_surcharge;
            assert!((r.total_amount - sum).abs() < 0.011, "{r:?}");
            assert!(r.has_distance_and_fare(), "{r:?}");
        }
    }
}
