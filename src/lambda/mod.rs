//! Lambda functions: the user's own handlers run on this machine, or
//! Lambda's Invoke API at an endpoint.
//!
//! Local functions run in worker processes that speak AWS Lambda's Runtime
//! API ([`worker`]): the user's `bootstrap` for `provided*` runtimes, or a
//! bootstrap we ship for `nodejs*` and `python3.*` that loads the handler
//! as Lambda does. Workers stay warm in a per-function [`pool`] that grows
//! to the function's concurrency and shrinks when idle. [`remote`] sends
//! Invoke API calls to `sam local start-lambda`, LocalStack or AWS.
//!
//! This module does IO (processes, sockets); data sources reach it through
//! [`Invoker`] with the event's bytes and never see a process.

mod pool;
mod remote;
mod spare;
mod worker;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::graphql::BoxFuture;
use crate::metrics::Histogram;

pub use pool::FunctionPool;
pub use remote::RemoteFunction;
pub use spare::Spares;

/// Lambda's synchronous request limit (6 MiB).
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// Lambda's synchronous response limit: 6 MiB and 100 bytes, as its
/// `Function.ResponseSizeTooLarge` message states.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// Serverless Framework's default function timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(6);

/// The runtimes a local function may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Python,
    /// A custom runtime: the user's `bootstrap` executable.
    Provided,
}

impl Runtime {
    /// `nodejs20.x`, `python3.12`, `provided.al2023`, ...
    pub fn parse(name: &str) -> Option<Runtime> {
        if name.starts_with("nodejs") {
            Some(Runtime::Node)
        } else if name.starts_with("python3") {
            Some(Runtime::Python)
        } else if matches!(name, "provided" | "provided.al2" | "provided.al2023") {
            Some(Runtime::Provided)
        } else {
            None
        }
    }

    /// The interpreter a worker runs, or `None` for a custom runtime.
    pub fn interpreter(self) -> Option<&'static str> {
        match self {
            Runtime::Node => Some("node"),
            Runtime::Python => Some("python3"),
            Runtime::Provided => None,
        }
    }
}

/// A local function, settled at load.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    /// As written in the manifest (`_HANDLER`).
    pub handler: String,
    pub runtime: Runtime,
    /// As written (`nodejs20.x`), for `AWS_EXECUTION_ENV` and messages.
    pub runtime_name: String,
    /// What the worker process runs: the interpreter (found on `PATH` at
    /// the first start when not given) or the `bootstrap` executable.
    pub program: Option<PathBuf>,
    pub project_dir: PathBuf,
    pub environment: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_size: u32,
    /// The most workers at once.
    pub concurrency: usize,
    /// Workers started at load (`provisionedConcurrency`).
    pub provisioned: usize,
    /// Workers idle this long are stopped.
    pub idle_timeout: Duration,
}

impl FunctionSpec {
    /// `arn:aws:lambda:us-east-1:000000000000:function:NAME`, as the
    /// Runtime API hands it to the handler.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", self.name)
    }
}

/// A function as a data source or an authorizer names it: a name, or an
/// ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// Looked up among the local functions.
    pub name: String,
    /// What the Invoke API is called with: the name or the ARN.
    pub invoke_as: String,
    /// `functionAlias`, or the ARN's qualifier.
    pub qualifier: Option<String>,
    /// The ARN's region.
    pub region: Option<String>,
}

impl FunctionRef {
    /// `None` for an ARN that is not a Lambda function's.
    pub fn parse(name_or_arn: &str, alias: Option<&str>) -> Option<FunctionRef> {
        let alias = alias.map(str::to_owned);
        if !name_or_arn.starts_with("arn:") {
            return Some(FunctionRef {
                name: name_or_arn.to_owned(),
                invoke_as: name_or_arn.to_owned(),
                qualifier: alias,
                region: None,
            });
        }
        let parts: Vec<&str> = name_or_arn.split(':').collect();
        if parts.len() < 7 || parts[2] != "lambda" || parts[5] != "function" {
            return None;
        }
        Some(FunctionRef {
            name: parts[6].to_owned(),
            invoke_as: name_or_arn.to_owned(),
            qualifier: alias.or_else(|| parts.get(7).map(|q| (*q).to_owned())),
            region: Some(parts[3].to_owned()),
        })
    }
}

/// The region outbound calls are signed for when nothing names one:
/// `AWS_REGION`, as AWS's SDKs read it, else the local region.
pub fn default_region() -> String {
    std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| REGION.to_owned())
}

/// Local functions report this region and account, like other emulators.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "000000000000";

/// `RequestResponse` waits for the result; `Event` returns at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
}

/// A failed invocation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LambdaError {
    /// The function ran and failed: it threw, timed out or crashed. Lambda
    /// answers these with `X-Amz-Function-Error`.
    #[error("{message}")]
    Function {
        /// `errorType` from the function's error, when it gave one.
        error_type: Option<String>,
        message: String,
    },
    /// Lambda refused or could not run the call (payload too large, no
    /// such function, no interpreter); `error_type` is Lambda's exception
    /// name.
    #[error("{error_type}: {message}")]
    Service { error_type: String, message: String },
}

impl LambdaError {
    pub fn service(error_type: &str, message: impl Into<String>) -> Self {
        LambdaError::Service {
            error_type: error_type.to_owned(),
            message: message.into(),
        }
    }

    /// Reads a function error body, `{errorMessage, errorType, ...}`.
    pub fn from_function_body(body: &[u8], header_type: Option<&str>) -> Self {
        let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let message = match parsed.get("errorMessage") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::from_utf8_lossy(body).into_owned(),
        };
        let error_type = parsed
            .get("errorType")
            .and_then(serde_json::Value::as_str)
            .or(header_type)
            .map(str::to_owned);
        LambdaError::Function {
            error_type,
            message,
        }
    }
}

/// Something that runs a function: a local pool or a remote endpoint.
pub trait Invoker: Send + Sync + std::fmt::Debug {
    /// Runs the function with `event` (JSON bytes); its JSON result.
    fn invoke(
        &self,
        event: Bytes,
        invocation_type: InvocationType,
    ) -> BoxFuture<'_, Result<Bytes, LambdaError>>;
}

/// Per-function series for `/metrics`.
#[derive(Debug, Default)]
pub struct FunctionMetrics {
    pub invocations: AtomicU64,
    pub errors: AtomicU64,
    pub cold_starts: AtomicU64,
    /// From spawning a worker to its first `next` call.
    pub cold_start: Histogram,
    /// From handing the event over to the response, warm or cold.
    pub duration: Histogram,
    /// Workers running now.
    pub workers: AtomicU64,
}

/// A series' name, help text, and how to read it from a function's metrics.
type Series<T> = (&'static str, &'static str, fn(&FunctionMetrics) -> T);
type HistogramSeries = (
    &'static str,
    &'static str,
    fn(&FunctionMetrics) -> &Histogram,
);

/// The local functions of one loaded project, by name.
#[derive(Debug)]
pub struct Functions {
    pools: HashMap<String, Arc<FunctionPool>>,
    spares: Arc<Spares>,
    /// Serverless's `name:` (the deployed name) to the function's key.
    aliases: HashMap<String, String>,
}

impl Default for Functions {
    fn default() -> Self {
        Functions {
            pools: HashMap::new(),
            spares: Spares::new(),
            aliases: HashMap::new(),
        }
    }
}

impl Functions {
    /// The load's spare Node.js worker, shared by its pools.
    pub fn spares(&self) -> &Arc<Spares> {
        &self.spares
    }

    pub fn insert(&mut self, pool: Arc<FunctionPool>, aliases: Vec<String>) {
        for alias in aliases {
            self.aliases.insert(alias, pool.spec().name.clone());
        }
        self.pools.insert(pool.spec().name.clone(), pool);
    }

    /// By key, or by deployed name.
    pub fn get(&self, name: &str) -> Option<&Arc<FunctionPool>> {
        self.pools
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|key| self.pools.get(key)))
    }

    /// What runs `target`: its local pool, else the Invoke API at
    /// `endpoint` (`serve --lambda-endpoint`); `None` when neither exists.
    pub fn invoker(
        &self,
        target: &FunctionRef,
        endpoint: Option<&axum::http::Uri>,
    ) -> Option<Arc<dyn Invoker>> {
        match self.get(&target.name) {
            Some(pool) => Some(Arc::clone(pool) as Arc<dyn Invoker>),
            None => endpoint.map(|e| Arc::new(RemoteFunction::new(e.clone(), target)) as _),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// Appends the per-function series.
    pub fn write_metrics(&self, out: &mut String) {
        if self.pools.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "# HELP appsync_lambda_spare_workers Interpreters started ahead of a cold start.\n# TYPE appsync_lambda_spare_workers gauge\nappsync_lambda_spare_workers {}\n# HELP appsync_lambda_spare_workers_taken_total Cold starts that took a spare worker.\n# TYPE appsync_lambda_spare_workers_taken_total counter\nappsync_lambda_spare_workers_taken_total {}",
            self.spares.ready(),
            self.spares.taken()
        );
        let mut pools: Vec<&Arc<FunctionPool>> = self.pools.values().collect();
        pools.sort_by(|a, b| a.spec().name.cmp(&b.spec().name));
        let counters: [Series<u64>; 4] = [
            (
                "appsync_lambda_invocations_total",
                "Invocations of local Lambda functions (a batch counts once).",
                |m| m.invocations.load(Ordering::Relaxed),
            ),
            (
                "appsync_lambda_errors_total",
                "Invocations that ended in a function error, timeout or crash.",
                |m| m.errors.load(Ordering::Relaxed),
            ),
            (
                "appsync_lambda_cold_starts_total",
                "Worker processes started.",
                |m| m.cold_starts.load(Ordering::Relaxed),
            ),
            (
                "appsync_lambda_workers",
                "Worker processes running now.",
                |m| m.workers.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, read) in counters {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for pool in &pools {
                let _ = writeln!(
                    out,
                    "{name}{{function=\"{}\"}} {}",
                    pool.spec().name,
                    read(pool.metrics())
                );
            }
        }
        let histograms: [HistogramSeries; 2] = [
            (
                "appsync_lambda_cold_start_seconds",
                "From starting a worker process to its first Runtime API call.",
                |m| &m.cold_start,
            ),
            (
                "appsync_lambda_duration_seconds",
                "From handing an event to a worker to its response.",
                |m| &m.duration,
            ),
        ];
        for (name, help, read) in histograms {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for pool in &pools {
                read(pool.metrics()).write(
                    out,
                    name,
                    &format!("function=\"{}\"", pool.spec().name),
                );
            }
        }
    }
}

/// Lambda's timeout message: `RequestId: <id> Error: Task timed out after
/// 6.00 seconds` (errorType `Sandbox.Timedout`).
pub fn timeout_message(request_id: &str, timeout: Duration) -> String {
    format!(
        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    )
}
