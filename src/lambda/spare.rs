//! One spare Node.js worker per loaded project: an interpreter already
//! started, waiting to be told which function it runs. A function's cold
//! start takes it and pays only for loading the handler; a new spare starts
//! in the background. The first Node.js cold start of a load starts the
//! first spare, so projects that never run Node.js start none.
//!
//! AWS starts a fresh process per execution environment; what a handler can
//! observe is the same here, because the bootstrap applies the function's
//! environment and working directory before it loads any user code.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::worker::Worker;

#[derive(Debug)]
pub struct Spares {
    /// The interpreter it runs, and the spare.
    slot: Mutex<Option<(PathBuf, Worker)>>,
    starting: AtomicBool,
    /// Spares that became a function's worker.
    taken: AtomicU64,
    this: Weak<Spares>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Spares {
    pub fn new() -> Arc<Spares> {
        Arc::new_cyclic(|this| Spares {
            slot: Mutex::new(None),
            starting: AtomicBool::new(false),
            taken: AtomicU64::new(0),
            this: this.clone(),
        })
    }

    /// Whether a spare's interpreter is up and waiting for a function.
    pub fn ready(&self) -> bool {
        self.slot
            .lock()
            .is_ok_and(|slot| slot.as_ref().is_some_and(|(_, w)| w.is_waiting()))
    }

    /// The spare, if it runs `program` and is alive; a new one starts in
    /// the background either way.
    pub(super) fn take(&self, program: &Path, cwd: &Path) -> Option<Worker> {
        let taken = self.slot.lock().ok().and_then(|mut slot| slot.take());
        self.refill(program, cwd);
        let (spare_program, mut worker) = taken?;
        let usable = spare_program == program && worker.is_alive();
        if usable {
            self.taken.fetch_add(1, Ordering::Relaxed);
        }
        usable.then_some(worker)
    }

    /// How many spares became a function's worker.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    fn refill(&self, program: &Path, cwd: &Path) {
        if self.starting.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.starting.store(false, Ordering::Release);
            return;
        };
        let this = self.this.clone();
        let program = program.to_path_buf();
        let cwd = cwd.to_path_buf();
        runtime.spawn(async move {
            let started = Worker::start_spare(&program, &cwd).await;
            let Some(spares) = this.upgrade() else { return };
            match started {
                Ok(worker) => {
                    if let Ok(mut slot) = spares.slot.lock() {
                        *slot = Some((program, worker));
                    }
                }
                Err(e) => tracing::debug!(
                    target: "appsync_local::lambda",
                    "cannot start a spare worker: {e}"
                ),
            }
            spares.starting.store(false, Ordering::Release);
        });
    }
}
