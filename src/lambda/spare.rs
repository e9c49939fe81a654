//! One spare worker per interpreter (Node.js, Python) and loaded project:
//! an interpreter already started, waiting to be told which function it
//! runs. A function's cold start takes it and pays only for loading the
//! handler; a new spare starts in the background. The first cold start on
//! an interpreter starts its first spare, so a project that never runs one
//! starts none.
//!
//! AWS starts a fresh process per execution environment; what a handler can
//! observe is the same here, because the bootstrap applies the function's
//! environment and working directory before it loads any user code.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::Runtime;
use super::worker::Worker;

#[derive(Debug)]
pub struct Spares {
    /// The spare of each interpreter, by its program.
    slots: Mutex<HashMap<PathBuf, Worker>>,
    /// Interpreters whose spare is being started.
    starting: Mutex<HashSet<PathBuf>>,
    /// Spares that became a function's worker.
    taken: AtomicU64,
    this: Weak<Spares>,
}

impl Spares {
    pub fn new() -> Arc<Spares> {
        Arc::new_cyclic(|this| Spares {
            slots: Mutex::new(HashMap::new()),
            starting: Mutex::new(HashSet::new()),
            taken: AtomicU64::new(0),
            this: this.clone(),
        })
    }

    /// How many spares are up and waiting for a function.
    pub fn ready(&self) -> usize {
        self.slots
            .lock()
            .map_or(0, |slots| slots.values().filter(|w| w.is_waiting()).count())
    }

    /// The spare of `program`, if it is alive; a new one starts in the
    /// background either way.
    pub(super) fn take(&self, runtime: Runtime, program: &Path, cwd: &Path) -> Option<Worker> {
        let taken = self.slots.lock().ok().and_then(|mut s| s.remove(program));
        self.refill(runtime, program, cwd);
        let mut worker = taken?;
        let usable = worker.is_alive();
        if usable {
            self.taken.fetch_add(1, Ordering::Relaxed);
        }
        usable.then_some(worker)
    }

    /// How many spares became a function's worker.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    fn refill(&self, runtime: Runtime, program: &Path, cwd: &Path) {
        let fresh = self
            .starting
            .lock()
            .is_ok_and(|mut starting| starting.insert(program.to_path_buf()));
        if !fresh {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.done_starting(program);
            return;
        };
        let this = self.this.clone();
        let program = program.to_path_buf();
        let cwd = cwd.to_path_buf();
        handle.spawn(async move {
            let started = Worker::start_spare(runtime, &program, &cwd).await;
            let Some(spares) = this.upgrade() else { return };
            match started {
                Ok(worker) => {
                    if let Ok(mut slots) = spares.slots.lock() {
                        slots.insert(program.clone(), worker);
                    }
                }
                Err(e) => tracing::debug!(
                    target: "appsync_local::lambda",
                    "cannot start a spare worker: {e}"
                ),
            }
            spares.done_starting(&program);
        });
    }

    fn done_starting(&self, program: &Path) {
        if let Ok(mut starting) = self.starting.lock() {
            starting.remove(program);
        }
    }
}
