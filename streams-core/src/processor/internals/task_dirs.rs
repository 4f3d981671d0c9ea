//! Which task directories are in use, and the removal of the others (Kafka Streams'
//! `state.cleanup.delay.ms` cleaner).
//!
//! The application directory is locked by one client at a time (`kafka/app_dir.rs`), so the
//! only other users of a task directory are this process's own tasks. Each open task holds a
//! [`TaskDirGuard`] on its directory; [`remove_obsolete`] deletes only directories no guard
//! holds, under the same lock that guards take, so a task being created waits for a deletion
//! to finish (and then restores from its changelogs) instead of losing its files mid-way.
// Parts of this module serve only the Kafka runtime (the `kafka` feature).
#![cfg_attr(not(feature = "kafka"), allow(dead_code))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::error::{Result, StreamsError};

/// Open task directories → how many guards hold each.
static OPEN: Mutex<BTreeMap<PathBuf, usize>> = Mutex::new(BTreeMap::new());

/// Marks a task directory in use while alive.
#[derive(Debug)]
pub(crate) struct TaskDirGuard(PathBuf);

impl TaskDirGuard {
    pub(crate) fn new(dir: &Path) -> TaskDirGuard {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        *open.entry(dir.to_path_buf()).or_insert(0) += 1;
        TaskDirGuard(dir.to_path_buf())
    }
}

impl Drop for TaskDirGuard {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// Whether a directory name is a task id (`<sub-topology>_<partition>`).
fn is_task_dir_name(name: &str) -> bool {
    name.split_once('_').is_some_and(|(sub, partition)| {
        sub.parse::<u32>().is_ok() && partition.parse::<i32>().is_ok()
    })
}

/// Deletes the task directories under `app_dir` that no open task uses and that were last
/// modified more than `delay` ago (their tasks moved to other instances); returns them.
pub(crate) fn remove_obsolete(app_dir: &Path, delay: Duration) -> Result<Vec<PathBuf>> {
    let io = |action: &str, path: &Path, source| StreamsError::StateIo {
        action: action.into(),
        path: path.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(app_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list the state directory", app_dir, e)),
    };
    let now = SystemTime::now();
    let open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io("list the state directory", app_dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        if !name.to_str().is_some_and(is_task_dir_name) || open.contains_key(&path) {
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| io("read the task directory's metadata", &path, e))?;
        let idle = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if !meta.is_dir() || idle <= delay {
            continue;
        }
        std::fs::remove_dir_all(&path)
            .map_err(|e| io("delete an obsolete task directory", &path, e))?;
        tracing::info!(dir = %path.display(), idle_s = idle.as_secs(), "deleted an obsolete task directory (state.cleanup.delay.ms)");
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn age(dir: &Path, by: Duration) {
        let f = std::fs::File::open(dir).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn removes_old_task_directories_that_no_task_holds() {
        let tmp = TempDir::new("task-dirs");
        let app = tmp.path().join("app");
        for d in ["0_0", "0_1", "1_0", "global", "not_a_task"] {
            std::fs::create_dir_all(app.join(d).join("store")).unwrap();
        }
        std::fs::write(app.join("0_0").join(".checkpoint"), "0\n0\n").unwrap();
        for d in ["0_0", "0_1", "global", "not_a_task"] {
            age(&app.join(d), Duration::from_secs(3_600));
        }
        let held = TaskDirGuard::new(&app.join("0_1"));
        let removed = remove_obsolete(&app, Duration::from_secs(600)).unwrap();
        assert_eq!(removed, vec![app.join("0_0")]);
        assert!(app.join("0_1").exists(), "held by an open task");
        assert!(app.join("1_0").exists(), "modified recently");
        assert!(app.join("global").exists() && app.join("not_a_task").exists());
        drop(held);
        let removed = remove_obsolete(&app, Duration::from_secs(600)).unwrap();
        assert_eq!(removed, vec![app.join("0_1")]);
        assert!(remove_obsolete(&tmp.path().join("missing"), Duration::ZERO)
            .unwrap()
            .is_empty());
    }
}
