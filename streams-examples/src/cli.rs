//! Small pieces the example command lines share: durations, data files, Ctrl-C.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use streams_core::StreamsConfig;

use crate::{data_dir, ExampleError};

/// Parses a duration written as a number with a unit: `250ms`, `90s`, `5m`, `1h`, `2d`; a bare
/// number is seconds. For flags such as `--grace` and `--timeout`.
///
/// ```
/// use std::time::Duration;
/// use streams_examples::parse_duration;
/// assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration like 250ms, 90s, 5m, 1h or 2d (a number, then a unit)")
    })?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use ms, s, m, h or d)"
            ))
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

/// Finds one of the course's data files (`rides.csv`, `taxi_zone_lookup.csv`, ...): `data/NAME`
/// in the current directory (running from `streams-examples/`), then
/// `streams-examples/data/NAME` (running from the repository root), then [`data_dir`] (the
/// crate's source directory, wherever the program runs from). Returns the first that exists,
/// else the last candidate (whose absence the caller reports).
pub fn find_data_file(name: &str) -> PathBuf {
    let candidates = [
        Path::new("data").join(name),
        Path::new("streams-examples").join("data").join(name),
        data_dir().join(name),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| data_dir().join(name))
}

/// The Kafka Streams flags the counting programs share (`#[command(flatten)]` them).
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct StreamsArgs {
    /// Kafka cluster [default: an embedded cluster in this process, whose address is printed;
    /// feed it with `produce-rides --bootstrap-servers ADDRESS`].
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_servers: Option<String>,
    /// `state.dir` [default: $TMPDIR/kafka-streams].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// `commit.interval.ms`.
    #[arg(long, default_value_t = 1000)]
    pub commit_interval_ms: u64,
    /// `num.stream.threads`.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// `processing.guarantee`.
    #[arg(long, default_value = "at_least_once", value_parser = ["at_least_once", "exactly_once_v2"])]
    pub processing_guarantee: String,
    /// Any other `StreamsConfig` setting, e.g. `--config rocksdb.total.memory.bytes=8388608`
    /// (repeatable; checked when the application starts).
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub settings: Vec<(String, String)>,
}

/// `KEY=VALUE`.
fn parse_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

impl StreamsArgs {
    /// The `StreamsConfig` these flags say, for `application_id`.
    pub fn config(&self, application_id: &str) -> StreamsConfig {
        let mut config = StreamsConfig::new(application_id)
            .with("commit.interval.ms", self.commit_interval_ms.to_string())
            .with("num.stream.threads", self.threads.to_string())
            .with("processing.guarantee", &self.processing_guarantee);
        if let Some(b) = &self.bootstrap_servers {
            config.set("bootstrap.servers", b);
        }
        if let Some(d) = &self.state_dir {
            config.set("state.dir", d.to_string_lossy());
        }
        for (k, v) in &self.settings {
            config.set(k, v);
        }
        config
    }
}

/// The `main` of an example program: parses the command line (printing help, version or usage
/// errors as clap does), runs `run`, and turns its error into a message on stderr and exit
/// status 1. A closed stdout (`program | head`) ends the program quietly with status 0.
pub fn main_with<C: clap::Parser>(
    program: &str,
    run: impl FnOnce(&C) -> Result<(), ExampleError>,
) -> ExitCode {
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(ExampleError::Io { source, .. }) if source.kind() == ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{program}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Installs a Ctrl-C (and SIGTERM) handler that sets the returned flag. A second Ctrl-C exits
/// at once with status 130. Call once per process.
pub fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>, ExampleError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .map_err(|e| ExampleError::Usage(format!("cannot install the Ctrl-C handler: {e}")))?;
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(
            parse_duration("3w"),
            Err("`3w`: unknown unit `w` (use ms, s, m, h or d)".to_string())
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn data_files_are_found_from_anywhere() {
        let rides = find_data_file("rides.csv");
        assert!(rides.is_file(), "{}", rides.display());
        assert_eq!(
            find_data_file("no-such-file.csv"),
            data_dir().join("no-such-file.csv")
        );
    }
}
