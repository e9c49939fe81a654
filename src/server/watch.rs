//! `serve --watch`: reload the project when its files change.
//!
//! The watcher polls file metadata every [`WatchOptions::interval`] instead of
//! using OS notifications: a project is a few dozen files, so a scan costs
//! microseconds; polling also works where inotify events never arrive (Docker
//! bind mounts, network and WSL file systems) and needs no extra dependency.
//! A change is loaded once the files have stayed the same for one more
//! interval, so an editor's multi-step save is read whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::graphql::GraphQLService;
use crate::server::state::ServiceCell;

/// Loads a project directory into a service; the error lists every problem
/// (the loader's `ProjectErrors`; any error the watcher can log).
pub type ProjectLoader = Arc<
    dyn Fn(&Path) -> Result<Arc<dyn GraphQLService>, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// Files whose extension is one of these are project files: manifest,
/// schema, templates, APPSYNC_JS resolvers, and Lambda handlers. A reload
/// builds new function pools, so a handler change restarts its workers.
const WATCHED_EXTENSIONS: &[&str] = &[
    "yaml", "yml", "graphql", "graphqls", "gql", "vtl", "js", "mjs", "cjs", "ts", "py", "json",
];

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub interval: Duration,
    /// Directories never scanned, e.g. the data directory when it lives in
    /// the project. Hidden directories, `target` and `node_modules` are
    /// always skipped.
    pub ignore: Vec<PathBuf>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(500),
            ignore: Vec::new(),
        }
    }
}

/// A running watcher; dropping it stops the thread.
pub struct ProjectWatcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    scans: Arc<AtomicU64>,
}

impl ProjectWatcher {
    /// Watches `project`; on a change, runs `loader` and installs its service
    /// in `cell`. A failed load keeps the current service and logs the errors.
    pub fn spawn(
        project: &Path,
        cell: ServiceCell,
        loader: ProjectLoader,
        options: WatchOptions,
    ) -> std::io::Result<Self> {
        let project = std::path::absolute(project)?;
        let ignore = options
            .ignore
            .iter()
            .map(|path| std::path::absolute(project.join(path)))
            .collect::<std::io::Result<Vec<_>>>()?;
        let scanner = Scanner {
            root: project,
            ignore,
        };
        // Scanned before returning, so a change made right after `spawn` counts.
        let loaded = scanner.scan();
        let (stop, stopped) = mpsc::channel();
        let scans = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&scans);
        let thread = std::thread::Builder::new()
            .name("project-watcher".to_owned())
            .spawn(move || {
                watch_loop(
                    &scanner,
                    loaded,
                    &cell,
                    &loader,
                    options.interval,
                    &stopped,
                    &counter,
                )
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
            scans,
        })
    }

    /// How many scans the watcher has begun. A scan begins only after the
    /// previous one, and the reload it started, has finished: tests wait on
    /// this to know that a change was looked at, instead of sleeping.
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Acquire)
    }
}

impl Drop for ProjectWatcher {
    fn drop(&mut self) {
        // Disconnecting the channel wakes the thread, which then exits.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Snapshot = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

fn watch_loop(
    scanner: &Scanner,
    mut loaded: Snapshot,
    cell: &ServiceCell,
    loader: &ProjectLoader,
    interval: Duration,
    stopped: &mpsc::Receiver<()>,
    scans: &AtomicU64,
) {
    let mut pending: Option<Snapshot> = None;
    loop {
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        scans.fetch_add(1, Ordering::Release);
        let current = scanner.scan();
        if current == loaded {
            pending = None;
            continue;
        }
        if pending.as_ref() != Some(&current) {
            pending = Some(current);
            continue;
        }
        tracing::info!("project changed, reloading {}", scanner.root.display());
        // A panicking loader is a bug, but must not end watching for good.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loader(&scanner.root)))
                .unwrap_or_else(|_| Err("the project loader panicked".into()));
        match result {
            Ok(service) => {
                cell.replace(service);
                tracing::info!("reloaded {}", scanner.root.display());
            }
            Err(errors) => {
                tracing::error!("reload failed; still serving the last good project:\n{errors}")
            }
        }
        // A broken change is not retried until the files change again.
        loaded = current;
        pending = None;
    }
}

struct Scanner {
    root: PathBuf,
    ignore: Vec<PathBuf>,
}

impl Scanner {
    /// Modification time and length of every project file. Unreadable
    /// entries are skipped: the loader reports what is really missing.
    fn scan(&self) -> Snapshot {
        let mut snapshot = Snapshot::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(file_type) = entry.file_type() else {
                    continue;
                };
                if file_type.is_dir() {
                    if !self.skips_dir(&path) {
                        dirs.push(path);
                    }
                } else if is_project_file(&path)
                    && let Ok(metadata) = std::fs::metadata(&path)
                {
                    snapshot.insert(path, (metadata.modified().ok(), metadata.len()));
                }
            }
        }
        snapshot
    }

    fn skips_dir(&self, path: &Path) -> bool {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        name.starts_with('.')
            || name == "target"
            || name == "node_modules"
            || self.ignore.iter().any(|ignored| path.starts_with(ignored))
    }
}

fn is_project_file(path: &Path) -> bool {
    // A custom runtime's executable has no extension.
    path.file_name().is_some_and(|name| name == "bootstrap")
        || path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| WATCHED_EXTENSIONS.contains(&ext))
}
