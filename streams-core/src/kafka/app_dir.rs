//! The application's state directory, `<state.dir>/<application.id>`: created owner-only (mode
//! 0700: it holds the application's data) and locked while a client uses it, so that a second
//! instance started on the same directory fails at once with [`StreamsError::StateDirectoryLocked`]
//! instead of corrupting the first one's stores (or, under exactly-once, the two fencing each
//! other's producers forever).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Result, StreamsError};

/// The lock file inside the application directory.
const LOCK_FILE: &str = ".lock";

/// An exclusive lock on an application's state directory. Released when dropped, and by the
/// operating system when the process ends, so a crash leaves no stale lock behind.
#[derive(Debug)]
pub(crate) struct StateDirLock {
    _file: File,
}

/// Creates `app_dir` (owner-only) if needed and takes its lock without waiting.
pub(crate) fn lock(app_dir: &Path) -> Result<StateDirLock> {
    create_private_dir(app_dir)?;
    let path = app_dir.join(LOCK_FILE);
    let io = |action: &str, path: PathBuf, source| StreamsError::StateIo {
        action: action.into(),
        path,
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io("open the state directory's lock file", path.clone(), e))?;
    match file.try_lock() {
        Ok(()) => Ok(StateDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(StreamsError::StateDirectoryLocked {
            path: app_dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(io("lock the state directory", path, e)),
    }
}

/// Deletes everything in the locked application directory `app_dir` but the lock file: the
/// task directories with their stores and checkpoints, and the process id.
pub(crate) fn clean(app_dir: &Path, _lock: &StateDirLock) -> Result<()> {
    let entries = match std::fs::read_dir(app_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StreamsError::StateIo {
                action: "list the state directory".into(),
                path: app_dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| StreamsError::StateIo {
            action: "list the state directory".into(),
            path: app_dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|source| StreamsError::StateIo {
            action: "delete local state".into(),
            path,
            source,
        })?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents with mode 0700 (owner only). A directory that already
/// exists keeps its mode.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StreamsError::StateIo {
        action: "create the state directory".into(),
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("state-dir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_second_lock_on_the_same_directory_fails_until_the_first_is_released() {
        let dir = temp("lock").join("app");
        let first = lock(&dir).unwrap();
        match lock(&dir) {
            Err(StreamsError::StateDirectoryLocked { path }) => assert_eq!(path, dir),
            other => panic!("expected StateDirectoryLocked, got {other:?}"),
        }
        drop(first);
        let again = lock(&dir).unwrap();
        drop(again);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn clean_deletes_everything_but_the_lock() {
        let dir = temp("clean").join("app");
        let lock = lock(&dir).unwrap();
        std::fs::create_dir_all(dir.join("0_1").join("counts")).unwrap();
        std::fs::write(dir.join("0_1").join(".checkpoint"), "0\n0\n").unwrap();
        std::fs::write(dir.join("kafka-streams-process-metadata"), "id\n").unwrap();
        clean(&dir, &lock).unwrap();
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from(LOCK_FILE)]);
        drop(lock);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn state_directories_are_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let root = temp("mode");
        let dir = root.join("app");
        let _lock = lock(&dir).unwrap();
        for d in [&root, &dir] {
            let mode = std::fs::metadata(d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{} has mode {mode:o}", d.display());
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
