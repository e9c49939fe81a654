//! A function's warm workers: up to its concurrency at once, reused most
//! recently used first (so a steady load keeps few processes hot), and
//! stopped after sitting idle.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{OnceCell, Semaphore};

use super::spare::Spares;
use super::worker::Worker;
use super::{
    FunctionMetrics, FunctionSpec, InvocationType, Invoker, LambdaError, MAX_REQUEST_BYTES, Runtime,
};
use crate::graphql::BoxFuture;

pub struct FunctionPool {
    spec: FunctionSpec,
    metrics: Arc<FunctionMetrics>,
    idle: Mutex<Vec<Worker>>,
    permits: Semaphore,
    /// The program workers run, found once.
    program: OnceCell<Result<PathBuf, LambdaError>>,
    reaper: std::sync::Once,
    /// The load's spare Node.js worker, which a cold start takes.
    spares: Option<Arc<Spares>>,
    this: Weak<FunctionPool>,
}

impl std::fmt::Debug for FunctionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionPool")
            .field("function", &self.spec.name)
            .finish_non_exhaustive()
    }
}

/// Looks a program up on `PATH`, as a shell would.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

impl FunctionPool {
    pub fn new(spec: FunctionSpec, spares: Option<Arc<Spares>>) -> Arc<FunctionPool> {
        let permits = Semaphore::new(spec.concurrency.max(1));
        Arc::new_cyclic(|this| FunctionPool {
            spec,
            metrics: Arc::default(),
            idle: Mutex::new(Vec::new()),
            permits,
            program: OnceCell::new(),
            reaper: std::sync::Once::new(),
            spares,
            this: this.clone(),
        })
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    pub fn metrics(&self) -> &FunctionMetrics {
        &self.metrics
    }

    async fn program(&self) -> Result<PathBuf, LambdaError> {
        self.program
            .get_or_init(|| async {
                if let Some(program) = &self.spec.program {
                    return Ok(program.clone());
                }
                let Some(name) = self.spec.runtime.interpreter() else {
                    return Err(LambdaError::service(
                        "ServiceException",
                        format!("function `{}` has no bootstrap", self.spec.name),
                    ));
                };
                find_on_path(name).ok_or_else(|| {
                    let flag = if name == "node" { "--node" } else { "--python" };
                    LambdaError::service(
                        "ServiceException",
                        format!(
                            "function `{}` ({}) needs `{name}`, which is not on PATH: install it or pass {flag} <path>",
                            self.spec.name, self.spec.runtime_name
                        ),
                    )
                })
            })
            .await
            .clone()
    }

    /// Stops workers idle longer than the function's idle timeout; ends
    /// with the pool.
    fn start_reaper(&self) {
        let this = self.this.clone();
        let idle_timeout = self.spec.idle_timeout;
        let every = (idle_timeout / 2).clamp(Duration::from_millis(100), Duration::from_secs(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(pool) = this.upgrade() else { return };
                let stopped: Vec<Worker> = match pool.idle.lock() {
                    Ok(mut idle) => {
                        let (keep, stop) = idle
                            .drain(..)
                            .partition(|w: &Worker| w.last_used.elapsed() < idle_timeout);
                        *idle = keep;
                        stop
                    }
                    Err(_) => Vec::new(),
                };
                pool.metrics
                    .workers
                    .fetch_sub(stopped.len() as u64, Ordering::Relaxed);
            }
        });
    }

    /// Starts the function's provisioned workers in the background, so the
    /// first calls find them warm. Outside a tokio runtime (`check`) it does
    /// nothing.
    pub fn provision(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for _ in 0..self.spec.provisioned.min(self.spec.concurrency) {
            let this = self.this.clone();
            runtime.spawn(async move {
                let Some(pool) = this.upgrade() else { return };
                match pool.start_worker().await {
                    Ok(worker) => {
                        if let Ok(mut idle) = pool.idle.lock() {
                            idle.push(worker);
                        }
                    }
                    Err(e) => tracing::warn!(
                        target: "appsync_local::lambda",
                        function = %pool.spec.name,
                        "cannot start a provisioned worker: {e}"
                    ),
                }
            });
        }
    }

    async fn start_worker(&self) -> Result<Worker, LambdaError> {
        let program = self.program().await?;
        self.reaper.call_once(|| self.start_reaper());
        // NODE_OPTIONS, PYTHONPATH and the like act when the interpreter
        // starts, before a spare could receive them: such functions start
        // their own process.
        let startup_prefix = match self.spec.runtime {
            Runtime::Node => Some("NODE_"),
            Runtime::Python => Some("PYTHON"),
            Runtime::Provided => None,
        };
        let spare = match (&self.spares, startup_prefix) {
            (Some(spares), Some(prefix))
                if !self
                    .spec
                    .environment
                    .iter()
                    .any(|(name, _)| name.starts_with(prefix)) =>
            {
                spares.take(self.spec.runtime, &program, &self.spec.project_dir)
            }
            _ => None,
        };
        let worker = match spare {
            Some(worker) => {
                worker.assign(&self.spec, Arc::clone(&self.metrics));
                worker
            }
            None => Worker::start(&self.spec, &program, Arc::clone(&self.metrics)).await?,
        };
        self.metrics.cold_starts.fetch_add(1, Ordering::Relaxed);
        self.metrics.workers.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            target: "appsync_local::lambda",
            function = %self.spec.name,
            "started a worker"
        );
        Ok(worker)
    }

    /// Runs one synchronous invocation on a warm worker, or a new one.
    pub async fn run(&self, event: Bytes) -> Result<Bytes, LambdaError> {
        if event.len() > MAX_REQUEST_BYTES {
            return Err(LambdaError::service(
                "RequestEntityTooLargeException",
                format!(
                    "Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation"
                ),
            ));
        }
        let _permit =
            self.permits.acquire().await.map_err(|_| {
                LambdaError::service("ServiceException", "the function is stopping")
            })?;
        let mut worker = loop {
            let candidate = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            match candidate {
                Some(mut worker) => {
                    if worker.is_alive() {
                        break worker;
                    }
                    self.metrics.workers.fetch_sub(1, Ordering::Relaxed);
                }
                None => break self.start_worker().await?,
            }
        };
        let started = Instant::now();
        let (result, reusable) = worker.invoke(event, self.spec.timeout).await;
        let elapsed = started.elapsed();
        self.metrics.duration.observe(elapsed);
        self.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        }
        tracing::debug!(
            target: "appsync_local::lambda",
            function = %self.spec.name,
            millis = elapsed.as_secs_f64() * 1000.0,
            ok = result.is_ok(),
            "invoked"
        );
        if reusable {
            worker.last_used = Instant::now();
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(worker);
            }
        } else {
            self.metrics.workers.fetch_sub(1, Ordering::Relaxed);
        }
        result
    }
}

impl Invoker for FunctionPool {
    fn invoke(
        &self,
        event: Bytes,
        invocation_type: InvocationType,
    ) -> BoxFuture<'_, Result<Bytes, LambdaError>> {
        Box::pin(async move {
            match invocation_type {
                InvocationType::RequestResponse => self.run(event).await,
                InvocationType::Event => {
                    // Lambda queues the event and answers 202 at once.
                    if let Some(pool) = self.this.upgrade() {
                        tokio::spawn(async move {
                            if let Err(e) = pool.run(event).await {
                                tracing::warn!(
                                    target: "appsync_local::lambda",
                                    function = %pool.spec.name,
                                    "asynchronous invocation failed: {e}"
                                );
                            }
                        });
                    }
                    Ok(Bytes::new())
                }
            }
        })
    }
}
