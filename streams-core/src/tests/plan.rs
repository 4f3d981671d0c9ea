//! Unit tests of the topology plan, built through the Processor API and the DSL above it.

use crate::error::{Result, StreamsError};
use crate::processor::endpoints::{Consumed, Produced};
use crate::processor::internals::plan::*;
use crate::processor::topology::Topology;
use crate::serdes::StringSerde;

fn topology(build: impl FnOnce(&mut Topology) -> Result<()>) -> Result<TopologyPlan> {
    let mut t = Topology::new();
    build(&mut t)?;
    t.plan()
}

fn build_error(build: impl FnOnce(&mut Topology) -> Result<()>) -> StreamsError {
    match topology(build) {
        Ok(_) => panic!("the topology was accepted"),
        Err(e) => e,
    }
}

fn strings() -> Consumed<String, String> {
    Consumed::with(StringSerde, StringSerde)
}

fn source_topics(plan: &TopologyPlan) -> Vec<(String, usize)> {
    plan.subtopologies
        .iter()
        .flat_map(|s| &s.sources)
        .map(|s| (s.topic.resolve("app"), s.slot))
        .collect()
}

fn names(topics: &[&str]) -> Vec<String> {
    topics.iter().map(|t| t.to_string()).collect()
}

#[test]
fn a_pattern_expands_to_the_matching_topics_sorted_one_slot_each() {
    let mut plan = topology(|t| {
        t.add_source_pattern("rides", strings(), "rides-\\d+")?;
        t.add_source("zones", strings(), &["zones"])?;
        t.add_sink(
            "out",
            "out",
            Produced::with(StringSerde, StringSerde),
            &["rides"],
        )?;
        t.add_sink(
            "out2",
            "out2",
            Produced::with(StringSerde, StringSerde),
            &["zones"],
        )?;
        Ok(())
    })
    .unwrap();
    assert!(plan.has_patterns());
    let cluster = names(&[
        "rides-2025",
        "rides",
        "zones",
        "rides-2024",
        "rides-2024x",
        "app-rides-1-repartition",
        "app-counts-changelog",
    ]);
    plan.expand_patterns("app", &cluster).unwrap();
    assert!(!plan.has_patterns());
    assert_eq!(
        source_topics(&plan),
        [
            ("rides-2024".into(), 0),
            ("rides-2025".into(), 1),
            ("zones".into(), 0)
        ]
    );
}

#[test]
fn internal_topics_of_the_application_are_never_matched() {
    // A re-keyed count: one repartition topic and one changelog of this application.
    let builder = crate::kstream::builder::StreamsBuilder::new();
    builder
        .stream_pattern::<String, String>(".*", strings())
        .select_key(|_, v| v.clone())
        .group_by_key()
        .count(crate::kstream::ktable::Materialized::named("counts"))
        .to_stream()
        .to("out", Produced::new());
    let mut plan = builder.build().unwrap().plan().unwrap();
    let repartition = TopicName::Internal(plan.internal_topics[0].name.clone()).resolve("app");
    let cluster = names(&[
        &repartition,
        "app-counts-changelog",
        "other-app-KSTREAM-REPARTITION-0000000001-repartition",
        // Named like one of this application's topics, but none of them: a user topic.
        "app-lookalike-changelog",
        "out",
    ]);
    plan.expand_patterns("app", &cluster).unwrap();
    let topics: Vec<String> = source_topics(&plan).into_iter().map(|(t, _)| t).collect();
    assert!(
        topics.contains(&repartition),
        "read back by the aggregation: {topics:?}"
    );
    let pattern_topics: Vec<(String, usize)> = plan.subtopologies[0]
        .sources
        .iter()
        .map(|s| (s.topic.resolve("app"), s.slot))
        .collect();
    assert_eq!(
        pattern_topics,
        [
            ("app-lookalike-changelog".into(), 0),
            (
                "other-app-KSTREAM-REPARTITION-0000000001-repartition".into(),
                1
            ),
            ("out".into(), 2)
        ]
    );
}

#[test]
fn a_pattern_matching_nothing_or_a_topic_of_another_pattern_is_an_error() {
    let plan = topology(|t| {
        t.add_source_pattern("a", strings(), "a-.*")?;
        t.add_source_pattern("b", strings(), ".*-x")?;
        t.add_sink(
            "out",
            "out",
            Produced::with(StringSerde, StringSerde),
            &["a", "b"],
        )?;
        Ok(())
    })
    .unwrap();
    let err = plan
        .clone()
        .expand_patterns("app", &names(&["b"]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`a-.*` of source `a` matches no topic"),
        "{err}"
    );
    let err = plan
        .clone()
        .expand_patterns("app", &names(&["a-1", "b-x", "a-x"]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("topic `a-x` matches both pattern `a-.*` and pattern `.*-x`"),
        "{err}"
    );
    let mut ok = plan;
    ok.expand_patterns("app", &names(&["a-1", "b-x"])).unwrap();
    assert_eq!(source_topics(&ok), [("a-1".into(), 0), ("b-x".into(), 0)]);
}

#[test]
fn a_pattern_overlapping_a_named_source_or_invalid_fails_the_build() {
    let err = build_error(|t| {
        t.add_source("named", strings(), &["rides-1"])?;
        t.add_source_pattern("pattern", strings(), "rides-.*")?;
        Ok(())
    });
    assert!(
        err.to_string().contains("overlaps topic `rides-1`"),
        "{err}"
    );
    let err = build_error(|t| {
        t.add_source_pattern("pattern", strings(), "rides-.*")?;
        t.add_source("named", strings(), &["rides-1"])?;
        Ok(())
    });
    assert!(
        err.to_string().contains("overlaps topic `rides-.*`"),
        "{err}"
    );
    let err = build_error(|t| {
        t.add_source_pattern("pattern", strings(), "rides-(")?;
        Ok(())
    });
    assert!(
        err.to_string()
            .contains("`rides-(` is not a valid regular expression"),
        "{err}"
    );
}
