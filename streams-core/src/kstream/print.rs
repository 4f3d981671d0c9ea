//! `KStream::print` (Kafka's `KStreamPrint` / `PrintForeachAction`): one line
//! `[<label>]: <key>, <value>` per record, to standard output, a file or any writer.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::error::{Result, StreamsError};
use crate::kstream::data::Data;
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;

/// Turns a record into the text [`KStream::print`] prints after `[<label>]: `. Closures
/// `Fn(&K, &V) -> String` are mappers; [`DisplayKeyValue`] is the default.
pub trait PrintMapper<K, V>: Send + Sync + 'static {
    /// The text for one record.
    fn map(&self, key: &K, value: &V) -> String;
}

/// The default [`PrintMapper`]: `<key>, <value>` with their `Display` forms (Kafka's
/// `"%s, %s"` of `toString`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DisplayKeyValue;

impl<K: fmt::Display, V: fmt::Display> PrintMapper<K, V> for DisplayKeyValue {
    fn map(&self, key: &K, value: &V) -> String {
        format!("{key}, {value}")
    }
}

impl<K, V, F> PrintMapper<K, V> for F
where
    F: Fn(&K, &V) -> String + Send + Sync + 'static,
{
    fn map(&self, key: &K, value: &V) -> String {
        self(key, value)
    }
}

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

#[derive(Clone)]
enum Target {
    /// Flushed after every line.
    Stdout,
    /// Shared by the tasks; flushed at commit and close.
    Writer(SharedWriter),
}

/// Where and how [`KStream::print`] prints (Kafka's `Printed`).
///
/// ```
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// let rides = builder.stream("rides", Consumed::with(StringSerde, I64Serde));
/// rides.print(Printed::to_sysout().with_label("rides"));           // [rides]: 75, 3
/// rides.print(
///     Printed::to_sysout().with_key_value_mapper(|zone: &String, miles: &i64| format!("{zone}={miles}")),
/// );                                                               // [KSTREAM-PRINTER-0000000002]: 75=3
/// # builder.build()?;
/// # Ok::<(), StreamsError>(())
/// ```
pub struct Printed<K, V, M = DisplayKeyValue> {
    target: Target,
    label: Option<String>,
    name: Option<String>,
    mapper: M,
    _types: PhantomData<fn(&K, &V)>,
}

impl<K, V> Printed<K, V, DisplayKeyValue> {
    /// Prints to standard output, flushing every line.
    pub fn to_sysout() -> Self {
        Self::new(Target::Stdout)
    }

    /// Prints to the file at `path` (created, or truncated, now); the lines are flushed at
    /// each commit and when the tasks close. Fails, as Kafka's `toFile`, if the path is empty
    /// or the file cannot be created.
    pub fn to_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() || path.to_string_lossy().trim().is_empty() {
            return Err(StreamsError::InvalidTopology(
                "Printed::to_file: the file path can't be an empty string".to_string(),
            ));
        }
        let file = File::create(path).map_err(|e| {
            StreamsError::InvalidTopology(format!(
                "Unable to write stream to file at [{}] {e}",
                path.display()
            ))
        })?;
        Ok(Self::to_writer(BufWriter::new(file)))
    }

    /// Prints to `writer` (shared by all tasks); flushed at each commit and when the tasks
    /// close.
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        Self::new(Target::Writer(Arc::new(Mutex::new(Box::new(writer)))))
    }

    fn new(target: Target) -> Self {
        Printed {
            target,
            label: None,
            name: None,
            mapper: DisplayKeyValue,
            _types: PhantomData,
        }
    }
}

impl<K, V, M> Printed<K, V, M> {
    /// The label between brackets at the start of each line (default: the node's name).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Names the printing node (default `KSTREAM-PRINTER-<n>`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Prints `mapper(key, value)` after the label instead of `<key>, <value>`.
    pub fn with_key_value_mapper<F>(self, mapper: F) -> Printed<K, V, F>
    where
        F: Fn(&K, &V) -> String + Send + Sync + 'static,
    {
        Printed {
            target: self.target,
            label: self.label,
            name: self.name,
            mapper,
            _types: PhantomData,
        }
    }
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Prints each record as a line `[<label>]: <key>, <value>` (a terminal operation, for
    /// debugging; Kafka's `print`). See [`Printed`].
    pub fn print<M: PrintMapper<K, V>>(&self, printed: Printed<K, V, M>) {
        let name = match (&printed.name, &self.next_name) {
            (Some(n), _) | (None, Some(n)) => n.clone(),
            _ => self.builder.borrow_mut().new_name("KSTREAM-PRINTER-"),
        };
        let label: Arc<str> = Arc::from(printed.label.unwrap_or_else(|| name.clone()));
        let mapper = Arc::new(printed.mapper);
        let target = printed.target;
        self.named(name).add_node::<K, V, _, _>(
            "",
            move || Print {
                label: label.clone(),
                mapper: mapper.clone(),
                target: target.clone(),
                line: String::new(),
            },
            &[],
        );
    }
}

struct Print<M> {
    label: Arc<str>,
    mapper: Arc<M>,
    target: Target,
    /// Reused line buffer.
    line: String,
}

fn io_error(e: std::io::Error) -> StreamsError {
    StreamsError::user(e)
}

impl<M> Print<M> {
    fn flush(&self) -> Result<()> {
        match &self.target {
            Target::Stdout => Ok(()),
            Target::Writer(w) => {
                let mut w = w
                    .lock()
                    .map_err(|_| StreamsError::Internal("print writer poisoned".to_string()))?;
                w.flush().map_err(io_error)
            }
        }
    }
}

impl<K: Data, V: Data, M: PrintMapper<K, V>> Processor<K, V> for Print<M> {
    fn process(&mut self, r: Record<K, V>, _ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        // Writing to a String cannot fail.
        let _ = writeln!(
            self.line,
            "[{}]: {}",
            self.label,
            self.mapper.map(&r.key, &r.value)
        );
        match &self.target {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(self.line.as_bytes()).map_err(io_error)?;
                out.flush().map_err(io_error)
            }
            Target::Writer(w) => {
                let mut w = w
                    .lock()
                    .map_err(|_| StreamsError::Internal("print writer poisoned".to_string()))?;
                w.write_all(self.line.as_bytes()).map_err(io_error)
            }
        }
    }

    fn flush(&mut self, _ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        Print::flush(self)
    }

    fn close(&mut self, _ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        Print::flush(self)
    }
}
