//! A Tansu broker in a child process, one per test (see `docs/testing.md`, section The brokers
//! the tests run against).
//!
//! The binary is installed by `make tansu` (`tests/broker/install-tansu.sh`) to
//! `target/tansu/tansu`; `TANSU_BIN` overrides the path. Each broker keeps its data in memory,
//! listens on a free loopback port and writes its output to `target/tansu/logs/tansu-<port>.log`.
//! Dropping the [`TansuBroker`] kills the process and deletes the log, unless the test is
//! failing (the drop happens during a panic) or `TANSU_KEEP_LOGS` is set.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a starting broker may take to accept connections (it is usually ready in < 250 ms).
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between readiness checks.
const READY_POLL: Duration = Duration::from_millis(20);
/// Starts tried before giving up when the chosen port turns out to be taken.
const START_ATTEMPTS: u32 = 3;
/// Lines of the broker log quoted in error messages.
const LOG_TAIL_LINES: usize = 30;
/// Tansu prints this once its listener is bound (and never when binding failed).
const READY_MARKER: &str = "ready in";

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.join(".."))
}

/// Where the Tansu binary is looked for: `$TANSU_BIN` if set, else `target/tansu/tansu` in the
/// workspace root (where `make tansu` installs it).
pub fn tansu_bin() -> PathBuf {
    match std::env::var_os("TANSU_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join("target").join("tansu").join("tansu"),
    }
}

/// The directory broker logs are written to: `target/tansu/logs` in the workspace root.
pub fn log_dir() -> PathBuf {
    workspace_root().join("target").join("tansu").join("logs")
}

/// A running Tansu broker with in-memory storage on `127.0.0.1:<port>`. Killed on drop.
#[derive(Debug)]
pub struct TansuBroker {
    child: Child,
    port: u16,
    log_path: PathBuf,
    /// Whether drop keeps the log (it is quoted by a start-up failure).
    keep_log: bool,
}

/// Why one start attempt failed.
enum StartError {
    /// Another process took the port between choosing it and the broker binding it.
    PortTaken(String),
    Fatal(String),
}

impl TansuBroker {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    ///
    /// Fails (with a message to act on) when the binary is missing (run `make tansu`), when
    /// the broker exits or is not ready within 10 s (the message quotes the broker's log), or
    /// when the port was taken three times in a row.
    pub fn start() -> Result<TansuBroker, String> {
        let bin = tansu_bin();
        if !bin.is_file() {
            let origin = if std::env::var_os("TANSU_BIN").is_some_and(|v| !v.is_empty()) {
                "TANSU_BIN"
            } else {
                "the default location; set TANSU_BIN to use another"
            };
            return Err(format!(
                "Tansu broker binary not found at {} ({origin}): run `make tansu` \
                 (tests/broker/install-tansu.sh) to install it",
                bin.display()
            ));
        }
        let logs = log_dir();
        fs::create_dir_all(&logs).map_err(|e| {
            format!(
                "cannot create the broker log directory {}: {e}",
                logs.display()
            )
        })?;

        let mut taken = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::start_once(&bin, &logs) {
                Ok(broker) => return Ok(broker),
                Err(StartError::PortTaken(msg)) => taken.push(msg),
                Err(StartError::Fatal(msg)) => return Err(msg),
            }
        }
        Err(format!(
            "could not start Tansu: the chosen port was taken {START_ATTEMPTS} times:\n{}",
            taken.join("\n")
        ))
    }

    fn start_once(bin: &Path, logs: &Path) -> Result<TansuBroker, StartError> {
        let port = free_port().map_err(StartError::Fatal)?;
        let url = format!("tcp://127.0.0.1:{port}");
        let log_path = logs.join(format!("tansu-{port}.log"));
        let log = File::create(&log_path).map_err(|e| {
            StartError::Fatal(format!(
                "cannot create broker log {}: {e}",
                log_path.display()
            ))
        })?;
        let log_err = log.try_clone().map_err(|e| {
            StartError::Fatal(format!(
                "cannot open broker log {}: {e}",
                log_path.display()
            ))
        })?;
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            // Tansu also reads its settings from the environment: keep the test's out.
            .env_remove("CLUSTER_ID")
            .env_remove("SCHEMA_REGISTRY")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env("NO_COLOR", "1")
            .current_dir(logs)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(|e| StartError::Fatal(format!("cannot run {}: {e}", bin.display())))?;
        // From here on, dropping `broker` kills the process, also on the error paths.
        let mut broker = TansuBroker {
            child,
            port,
            log_path,
            keep_log: false,
        };
        match broker.wait_ready() {
            Ok(()) => Ok(broker),
            Err(e) => {
                broker.keep_log = matches!(e, StartError::Fatal(_));
                Err(e)
            }
        }
    }

    /// Waits until the broker has bound its port and a TCP connection to it succeeds.
    fn wait_ready(&mut self) -> Result<(), StartError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let start = Instant::now();
        loop {
            let log = read_log(&self.log_path);
            if is_addr_in_use(&log) {
                return Err(StartError::PortTaken(format!(
                    "port {} was already in use",
                    self.port
                )));
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return Err(StartError::Fatal(format!(
                        "Tansu exited during start-up ({status}); log {}:\n{}",
                        self.log_path.display(),
                        tail(&log, LOG_TAIL_LINES)
                    )))
                }
                Ok(None) => {}
                Err(e) => return Err(StartError::Fatal(format!("cannot check on Tansu: {e}"))),
            }
            // The marker rules out answering a connection to some other process that holds
            // the port while our broker fails to bind it.
            if log.contains(READY_MARKER)
                && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            {
                return Ok(());
            }
            if start.elapsed() >= READY_TIMEOUT {
                return Err(StartError::Fatal(format!(
                    "Tansu did not accept connections on {addr} within {READY_TIMEOUT:?}; \
                     log {}:\n{}",
                    self.log_path.display(),
                    tail(&log, LOG_TAIL_LINES)
                )));
            }
            thread::sleep(READY_POLL);
        }
    }

    /// The bootstrap address for clients: `127.0.0.1:<port>`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker process's id (benchmarks read its CPU time from `/proc/<pid>/stat`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file the broker's stdout and stderr go to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last `lines` lines of the broker's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&read_log(&self.log_path), lines)
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        // SIGKILL: Tansu takes ~6 s to exit on SIGTERM while clients are connected, and keeps
        // nothing worth flushing (memory storage). Waiting reaps the process and frees the port.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failed test (dropped while panicking), or when asked to.
        if !self.keep_log && !thread::panicking() && std::env::var_os("TANSU_KEEP_LOGS").is_none() {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// A port that was free on 127.0.0.1 a moment ago (the OS picks it; the listener is closed).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot bind 127.0.0.1:0 to find a free port: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot read the address of a bound listener: {e}"))?
        .port();
    drop(listener);
    Ok(port)
}

fn is_addr_in_use(log: &str) -> bool {
    log.contains("AddrInUse") || log.contains("Address in use") || log.contains("os error 98")
}

/// The broker's log so far (at most its last 64 KiB), or a note why it cannot be read.
fn read_log(path: &Path) -> String {
    const MAX: u64 = 64 * 1024;
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    if all.is_empty() {
        "(empty log)".to_string()
    } else {
        all[start..].join("\n")
    }
}
