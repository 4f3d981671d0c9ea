//! Conformance: Kafka Streams' tests of `print` (`KStreamPrintTest`, `PrintedTest`, the print
//! case of `StreamsBuilderTest`) and of `processValues` (`KStreamImplTest`,
//! `KStreamNewProcessorApiTest`), translated case by case. Kafka's expected outputs are kept
//! unchanged.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::common::{cached, drain, s};
use streams_core::*;

/// An in-memory writer to read back (Kafka's tests print to a `ByteArrayOutputStream`).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("conformance-process-{}-{name}", std::process::id()))
}

/// Runs `print` over `records` (key, value) on a one-source topology and closes the driver.
fn print_records<K: Data, V: Data, M: PrintMapper<K, V>>(
    key_serde: impl Serde<K> + Clone,
    value_serde: impl Serde<V> + Clone,
    printed: Printed<K, V, M>,
    records: Vec<(K, V)>,
) {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "input",
            Consumed::with(key_serde.clone(), value_serde.clone()),
        )
        .named("processor")
        .print(printed);
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("print")).unwrap();
    let input = driver.input_topic("input", key_serde, value_serde);
    for (k, v) in records {
        input.pipe_input_at(k, v, 0).unwrap();
    }
    driver.close().unwrap();
}

// ---------------------------------------------------------------------------------------------
// print
// ---------------------------------------------------------------------------------------------

// KStreamPrintTest.testPrintStreamWithProvidedKeyValueMapper
#[test]
fn test_print_stream_with_provided_key_value_mapper() {
    let out = Captured::default();
    print_records(
        I32Serde,
        StringSerde,
        Printed::to_writer(out.clone())
            .with_label("test-stream")
            .with_key_value_mapper(|k: &i32, v: &String| format!("{k}, {v}")),
        vec![
            (0, s("zero")),
            (1, s("one")),
            (2, s("two")),
            (3, s("three")),
        ],
    );
    let expected = [
        "[test-stream]: 0, zero",
        "[test-stream]: 1, one",
        "[test-stream]: 2, two",
        "[test-stream]: 3, three",
    ];
    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, expected);
}

// PrintedTest.shouldCreateProcessorThatPrintsToFile
#[test]
fn should_create_processor_that_prints_to_file() {
    let path = temp_file("to-file");
    print_records(
        StringSerde,
        I32Serde,
        Printed::to_file(&path).unwrap(),
        vec![(s("hi"), 1)],
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(text, "[processor]: hi, 1\n");
}

// PrintedTest.shouldCreateProcessorThatPrintsToStdOut
// Standard output cannot be captured from a test here: the same processor prints to a writer
// (`to_sysout` differs only by flushing every line).
#[test]
fn should_create_processor_that_prints_to_std_out() {
    let out = Captured::default();
    print_records(
        StringSerde,
        I32Serde,
        Printed::to_writer(out.clone()),
        vec![(s("good"), 2)],
    );
    assert_eq!(out.text(), "[processor]: good, 2\n");
}

// PrintedTest.shouldPrintWithLabel (to a writer, as above)
#[test]
fn should_print_with_label() {
    let out = Captured::default();
    print_records(
        StringSerde,
        I32Serde,
        Printed::to_writer(out.clone()).with_label("label"),
        vec![(s("hello"), 3)],
    );
    assert_eq!(out.text(), "[label]: hello, 3\n");
}

// PrintedTest.shouldPrintWithKeyValueMapper (to a writer, as above)
#[test]
fn should_print_with_key_value_mapper() {
    let out = Captured::default();
    print_records(
        StringSerde,
        I32Serde,
        Printed::to_writer(out.clone())
            .with_key_value_mapper(|k: &String, v: &i32| format!("{k} -> {v}")),
        vec![(s("hello"), 1)],
    );
    assert_eq!(out.text(), "[processor]: hello -> 1\n");
}

// PrintedTest.shouldThrowTopologyExceptionIfFilePathIsEmpty
#[test]
fn should_throw_topology_exception_if_file_path_is_empty() {
    assert!(matches!(
        Printed::<String, i32>::to_file(""),
        Err(StreamsError::InvalidTopology(_))
    ));
}

// PrintedTest.shouldThrowTopologyExceptionIfFilePathDoesntExist
#[test]
fn should_throw_topology_exception_if_file_path_doesnt_exist() {
    assert!(matches!(
        Printed::<String, i32>::to_file("/this/should/not/exist"),
        Err(StreamsError::InvalidTopology(_))
    ));
}

// StreamsBuilderTest.shouldUseSpecifiedNameForPrintOperation
#[test]
fn should_use_specified_name_for_print_operation() {
    let builder = StreamsBuilder::new();
    builder
        .stream("topic", Consumed::with(StringSerde, StringSerde))
        .print(Printed::to_sysout().with_name("print-processor"));
    let described = builder.build().unwrap().describe().to_string();
    assert!(
        described.contains(
            "Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n      --> print-processor\n"
        ) && described.contains("Processor: print-processor (stores: [])\n      --> none\n"),
        "{described}"
    );
}

/// Not a Kafka test: without a label, a line starts with the generated node name, as
/// `PrintedInternal.build` does.
#[test]
fn print_labels_lines_with_the_generated_node_name() {
    let out = Captured::default();
    let builder = StreamsBuilder::new();
    builder
        .stream("input", Consumed::with(StringSerde, I64Serde))
        .print(Printed::to_writer(out.clone()));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("print")).unwrap();
    driver
        .input_topic("input", StringSerde, I64Serde)
        .pipe_input(s("a"), 7)
        .unwrap();
    assert_eq!(out.text(), "[KSTREAM-PRINTER-0000000001]: a, 7\n");
}

// ---------------------------------------------------------------------------------------------
// processValues
// ---------------------------------------------------------------------------------------------

/// `record.value().length()`, forwarded with the record's key.
struct Length;

impl FixedKeyProcessor<String, String, i32> for Length {
    fn process(
        &mut self,
        record: FixedKeyRecord<String, String>,
        ctx: &mut FixedKeyProcessorContext<'_, String, i32>,
    ) -> Result<()> {
        let len = record.value().len() as i32;
        ctx.forward(record.with_value(len))
    }
}

// KStreamImplTest.shouldProcessValues
#[test]
fn should_process_values() {
    let builder = StreamsBuilder::new();
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .named("fkp")
        .process_values(|| Length, &[])
        .to("output", Produced::with(StringSerde, I32Serde));
    let topology = builder.build().unwrap();
    assert_eq!(
        topology.describe().to_string(),
        concat!(
            "Topologies:\n",
            "   Sub-topology: 0\n",
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n",
            "      --> fkp\n",
            "    Processor: fkp (stores: [])\n",
            "      --> KSTREAM-SINK-0000000001\n",
            "      <-- KSTREAM-SOURCE-0000000000\n",
            "    Sink: KSTREAM-SINK-0000000001 (topic: output)\n",
            "      <-- fkp\n\n",
        )
    );
    let driver = TopologyTestDriver::new(topology, cached("process-values")).unwrap();
    let input = driver.input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in [
        ("A", "0", 5),
        ("B", "00", 100),
        ("C", "000", 0),
        ("D", "0000", 0),
        ("A", "00000", 10),
        ("A", "000000", 8),
    ] {
        input.pipe_input_at(s(k), s(v), ts).unwrap();
    }
    assert_eq!(
        drain(&driver, "output", StringSerde, I32Serde),
        vec![
            (s("A"), 1, 5),
            (s("B"), 2, 100),
            (s("C"), 3, 0),
            (s("D"), 4, 0),
            (s("A"), 5, 10),
            (s("A"), 6, 8),
        ]
    );
}

/// `TransformerSupplier` of `KStreamNewProcessorApiTest`: puts `value + "Updated"` into the
/// store if absent and forwards it.
struct Updater {
    store: Option<KeyValueStore<String, String>>,
}

impl FixedKeyProcessor<String, String> for Updater {
    fn init(&mut self, ctx: &mut FixedKeyProcessorContext<'_, String, String>) -> Result<()> {
        self.store = Some(ctx.get_state_store("store")?);
        Ok(())
    }
    fn process(
        &mut self,
        record: FixedKeyRecord<String, String>,
        ctx: &mut FixedKeyProcessorContext<'_, String, String>,
    ) -> Result<()> {
        let store = self.store.as_ref().expect("init ran");
        let updated = format!("{}Updated", record.value());
        if store.get(record.key())?.is_none() {
            store.put(record.key(), updated.clone())?;
        }
        ctx.forward(record.with_value(updated))
    }
}

// KStreamNewProcessorApiTest.shouldGetStateStoreWithStreamBuilder
#[test]
fn should_get_state_store_with_stream_builder() {
    let builder = StreamsBuilder::new();
    builder.add_state_store(Stores::in_memory_key_value_store(
        "store",
        StringSerde,
        StringSerde,
    ));
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .process_values(|| Updater { store: None }, &["store"])
        .to("output", Produced::with(StringSerde, StringSerde));
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), cached("process-values")).unwrap();
    let input = driver.input_topic("input", StringSerde, StringSerde);
    for (k, v) in [("a", "foo"), ("b", "bar"), ("c", "baz")] {
        input.pipe_input(s(k), s(v)).unwrap();
    }
    let output = driver.output_topic("output", StringSerde, StringSerde);
    assert_eq!(
        output.read_values_to_list().unwrap(),
        vec![s("fooUpdated"), s("barUpdated"), s("bazUpdated")]
    );
    let store: KeyValueStore<String, String> = driver.get_state_store("store").unwrap();
    assert_eq!(store.get(&s("a")).unwrap(), Some(s("fooUpdated")));
    assert_eq!(store.get(&s("b")).unwrap(), Some(s("barUpdated")));
    assert_eq!(store.get(&s("c")).unwrap(), Some(s("bazUpdated")));
}

/// Not a Kafka test (KIP-820's point): after `process_values` a `group_by_key` aggregation
/// reads the records where they are, with no repartition topic; after `process` it
/// repartitions.
#[test]
fn process_values_keeps_partitioning_where_process_repartitions() {
    struct Upper;
    impl FixedKeyProcessor<String, String> for Upper {
        fn process(
            &mut self,
            record: FixedKeyRecord<String, String>,
            ctx: &mut FixedKeyProcessorContext<'_, String, String>,
        ) -> Result<()> {
            let v = record.value().to_uppercase();
            ctx.forward(record.with_value(v))
        }
    }
    struct Pass;
    impl Processor<String, String> for Pass {
        fn process(
            &mut self,
            r: Record<String, String>,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            ctx.forward(r)
        }
    }

    let builder = StreamsBuilder::new();
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .process_values(|| Upper, &[])
        .group_by_key()
        .count(Materialized::new())
        .to_stream()
        .to("counts", Produced::with(StringSerde, Nullable(I64Serde)));
    let described = builder.build().unwrap().describe().to_string();
    assert!(!described.contains("repartition"), "{described}");
    assert_eq!(described.matches("Sub-topology").count(), 1, "{described}");

    let builder = StreamsBuilder::new();
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .process(|| Pass, &[])
        .group_by_key()
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .count(Materialized::new());
    let described = builder.build().unwrap().describe().to_string();
    assert!(described.contains("-repartition"), "{described}");
}
