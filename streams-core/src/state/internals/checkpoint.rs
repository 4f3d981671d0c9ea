//! A task's `.checkpoint` file, in Kafka Streams' `OffsetCheckpoint` format: the changelog
//! offsets up to which the local stores hold the data, so a restart restores only from there.
//!
//! ```text
//! 0                      <- version
//! 2                      <- number of entries
//! app-counts-changelog 0 1234
//! app-other-changelog 0 17
//! ```
//!
//! Offsets are `>= 0`, or `-4` (Kafka's `OFFSET_UNKNOWN`). Like Kafka Streams, reading skips
//! other negative offsets (with a warning) and writing refuses them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StreamsError};

/// The only checkpoint file version.
pub(crate) const VERSION: i32 = 0;
/// Kafka's `OFFSET_UNKNOWN`: a store is checkpointed but its position is not known.
pub(crate) const OFFSET_UNKNOWN: i64 = -4;

/// Changelog offsets of a task's stores, by (topic, partition).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// By changelog (topic, partition): the offset of the last changelog record the local
    /// store holds; restoration resumes at the next one (Kafka Streams >= 2.6 semantics).
    pub offsets: BTreeMap<(String, i32), i64>,
}

fn valid_offset(offset: i64) -> bool {
    offset >= 0 || offset == OFFSET_UNKNOWN
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

fn io_error(action: &str, path: &Path, source: std::io::Error) -> StreamsError {
    StreamsError::StateIo {
        action: action.to_string(),
        path: path.to_path_buf(),
        source,
    }
}

impl Checkpoint {
    /// Reads the checkpoint at `path`: `None` if there is no file. An empty file is an empty
    /// checkpoint (as in Kafka Streams); a malformed one is [`StreamsError::CorruptCheckpoint`].
    pub(crate) fn read(path: &Path) -> Result<Option<Checkpoint>> {
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read checkpoint file", path, e)),
        };
        let bad = |line: usize, reason: String| StreamsError::CorruptCheckpoint {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let text = String::from_utf8(text).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            bad(line, "not UTF-8 text".into())
        })?;
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));

        let Some((_, version)) = lines.next() else {
            return Ok(Some(Checkpoint::default()));
        };
        match version.parse::<i32>() {
            Ok(VERSION) => {}
            Ok(v) => return Err(bad(1, format!("unknown version {v} (expected {VERSION})"))),
            Err(_) => {
                return Err(bad(
                    1,
                    format!("expected the version {VERSION}, found `{version}`"),
                ))
            }
        }
        let expected = match lines.next() {
            Some((_, count)) => count.parse::<usize>().map_err(|_| {
                bad(
                    2,
                    format!("expected the number of entries, found `{count}`"),
                )
            })?,
            None => return Err(bad(2, "missing the number of entries".into())),
        };

        let mut offsets = BTreeMap::new();
        let mut entries = 0;
        let mut last_line = 2;
        for (n, line) in lines {
            last_line = n;
            if line.is_empty() {
                continue;
            }
            entries += 1;
            if entries > expected {
                return Err(bad(
                    n,
                    format!("more entries than the {expected} announced on line 2"),
                ));
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [topic, partition, offset] = fields[..] else {
                return Err(bad(
                    n,
                    format!("expected `<topic> <partition> <offset>`, found `{line}`"),
                ));
            };
            let partition = partition
                .parse::<i32>()
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| bad(n, format!("invalid partition `{partition}`")))?;
            let offset = offset
                .parse::<i64>()
                .map_err(|_| bad(n, format!("invalid offset `{offset}`")))?;
            if !valid_offset(offset) {
                tracing::warn!(
                    path = %path.display(),
                    topic,
                    partition,
                    offset,
                    "ignoring invalid offset in checkpoint file"
                );
                continue;
            }
            if offsets
                .insert((topic.to_string(), partition), offset)
                .is_some()
            {
                return Err(bad(n, format!("duplicate entry for {topic}-{partition}")));
            }
        }
        if entries < expected {
            return Err(bad(
                last_line,
                format!("expected {expected} entries (line 2) but found {entries}"),
            ));
        }
        Ok(Some(Checkpoint { offsets }))
    }

    /// Writes the checkpoint to `path` atomically: to `<path>.tmp`, fsync, rename over `path`,
    /// fsync the directory. A crash leaves either the old or the new file.
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let mut text = format!("{VERSION}\n{}\n", self.offsets.len());
        for ((topic, partition), offset) in &self.offsets {
            if topic.is_empty() || topic.chars().any(char::is_whitespace) || *partition < 0 {
                return Err(StreamsError::Internal(format!(
                    "cannot checkpoint changelog partition `{topic}`-{partition}: invalid topic \
                     or partition"
                )));
            }
            if !valid_offset(*offset) {
                return Err(StreamsError::Internal(format!(
                    "cannot checkpoint negative offset {offset} for {topic}-{partition}"
                )));
            }
            text.push_str(&format!("{topic} {partition} {offset}\n"));
        }
        let tmp = tmp_path(path);
        let mut file =
            File::create(&tmp).map_err(|e| io_error("create checkpoint file", &tmp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("write checkpoint file", &tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| io_error("replace checkpoint file", path, e))?;
        sync_parent(path)
    }

    /// Deletes the checkpoint at `path` (and a leftover `<path>.tmp`); a missing file is fine.
    pub(crate) fn delete(path: &Path) -> Result<()> {
        for p in [tmp_path(path), path.to_path_buf()] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("delete checkpoint file", &p, e)),
            }
        }
        Ok(())
    }
}

/// Makes a rename in the directory of `path` durable.
#[cfg(unix)]
fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error("sync directory", parent, e))
}

#[cfg(not(unix))]
fn sync_parent(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "streams-core-checkpoint-{test}-{}-{nanos}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn checkpoint(entries: &[(&str, i32, i64)]) -> Checkpoint {
        Checkpoint {
            offsets: entries
                .iter()
                .map(|(t, p, o)| ((t.to_string(), *p), *o))
                .collect(),
        }
    }

    #[test]
    fn round_trip_in_kafka_format() {
        let tmp = TempDir::new("roundtrip");
        let path = tmp.0.join(".checkpoint");
        let cp = checkpoint(&[
            ("app-counts-changelog", 3, 1234),
            ("app-counts-changelog", 0, 0),
            ("app-other-changelog", 1, OFFSET_UNKNOWN),
        ]);
        cp.write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "0\n3\napp-counts-changelog 0 0\napp-counts-changelog 3 1234\n\
             app-other-changelog 1 -4\n"
        );
        assert_eq!(Checkpoint::read(&path).unwrap(), Some(cp));
        Checkpoint::default().write(&path).unwrap();
        assert_eq!(
            Checkpoint::read(&path).unwrap(),
            Some(Checkpoint::default())
        );
    }

    #[test]
    fn reads_files_written_by_kafka_streams() {
        let tmp = TempDir::new("kafka");
        let path = tmp.0.join(".checkpoint");
        // Extra spaces, CRLF, a trailing blank line, a skipped invalid offset.
        std::fs::write(&path, "0\r\n3\r\nt  0 5\r\nt 1 -1\r\nu 2 7\r\n\r\n").unwrap();
        assert_eq!(
            Checkpoint::read(&path).unwrap(),
            Some(checkpoint(&[("t", 0, 5), ("u", 2, 7)]))
        );
        // An empty file is an empty checkpoint, as in Kafka Streams.
        std::fs::write(&path, "").unwrap();
        assert_eq!(
            Checkpoint::read(&path).unwrap(),
            Some(Checkpoint::default())
        );
    }

    #[test]
    fn absent_file_is_none_and_delete_is_idempotent() {
        let tmp = TempDir::new("absent");
        let path = tmp.0.join(".checkpoint");
        assert_eq!(Checkpoint::read(&path).unwrap(), None);
        Checkpoint::delete(&path).unwrap();
        checkpoint(&[("t", 0, 1)]).write(&path).unwrap();
        std::fs::write(tmp_path(&path), "leftover").unwrap();
        Checkpoint::delete(&path).unwrap();
        assert_eq!(Checkpoint::read(&path).unwrap(), None);
        assert!(!tmp_path(&path).exists());
    }

    #[test]
    fn malformed_files_name_the_path_and_line() {
        let tmp = TempDir::new("malformed");
        let path = tmp.0.join(".checkpoint");
        let cases: &[(&str, usize, &str)] = &[
            ("1\n0\n", 1, "unknown version 1"),
            ("zero\n0\n", 1, "expected the version"),
            ("0\n", 2, "missing the number"),
            ("0\nmany\n", 2, "number of entries"),
            ("0\n2\nt 0 1\n", 3, "expected 2 entries"),
            ("0\n1\nt 0 1\nt 1 2\n", 4, "more entries"),
            ("0\n1\nt 0\n", 3, "<topic> <partition> <offset>"),
            ("0\n1\nt x 1\n", 3, "invalid partition `x`"),
            ("0\n1\nt 0 1.5\n", 3, "invalid offset `1.5`"),
            ("0\n2\nt 0 1\nt 0 2\n", 4, "duplicate entry"),
            ("0\n1\nt 0 1 extra\n", 3, "<topic> <partition> <offset>"),
        ];
        for (text, line, reason) in cases {
            std::fs::write(&path, text).unwrap();
            let err = Checkpoint::read(&path).unwrap_err();
            let msg = err.to_string();
            match &err {
                StreamsError::CorruptCheckpoint {
                    path: p,
                    line: l,
                    reason: r,
                } => {
                    assert_eq!(p, &path, "{text:?}");
                    assert_eq!(l, line, "{text:?}: {msg}");
                    assert!(r.contains(reason), "{text:?}: {msg}");
                }
                other => panic!("{text:?}: expected CorruptCheckpoint, got {other:?}"),
            }
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains("delete the task directory"), "{msg}");
        }
        std::fs::write(&path, b"0\n1\nt 0 \xff\n").unwrap();
        assert!(matches!(
            Checkpoint::read(&path).unwrap_err(),
            StreamsError::CorruptCheckpoint { line: 3, .. }
        ));
    }

    #[test]
    fn write_replaces_atomically() {
        let tmp = TempDir::new("atomic");
        let path = tmp.0.join(".checkpoint");
        checkpoint(&[("t", 0, 1), ("t", 1, 2)])
            .write(&path)
            .unwrap();
        // A crash during an earlier write left a partial temp file: it is overwritten, and
        // readers never see it.
        std::fs::write(tmp_path(&path), "0\n9\ngarb").unwrap();
        assert_eq!(
            Checkpoint::read(&path).unwrap(),
            Some(checkpoint(&[("t", 0, 1), ("t", 1, 2)]))
        );
        let newer = checkpoint(&[("t", 0, 100)]);
        newer.write(&path).unwrap();
        assert_eq!(Checkpoint::read(&path).unwrap(), Some(newer));
        assert!(!tmp_path(&path).exists());
        let names: Vec<_> = std::fs::read_dir(&tmp.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(".checkpoint")]);
    }

    #[test]
    fn write_refuses_what_cannot_be_read_back() {
        let tmp = TempDir::new("refuse");
        let path = tmp.0.join(".checkpoint");
        for cp in [
            checkpoint(&[("t", 0, -1)]),
            checkpoint(&[("a topic", 0, 1)]),
            checkpoint(&[("t", -1, 1)]),
        ] {
            assert!(matches!(cp.write(&path), Err(StreamsError::Internal(_))));
        }
        assert!(!path.exists());
        // A write into a missing directory is an I/O error naming the file.
        let err = checkpoint(&[("t", 0, 1)])
            .write(&tmp.0.join("missing/.checkpoint"))
            .unwrap_err();
        assert!(matches!(err, StreamsError::StateIo { .. }), "{err}");
    }
}
