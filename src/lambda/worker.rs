//! One worker: a process running the function's runtime, and the Lambda
//! Runtime API it polls, served on its own loopback port.
//!
//! The Runtime API has no way to say which process is calling, so each
//! worker gets its own listener; `AWS_LAMBDA_RUNTIME_API` points the
//! process at it. An invocation is handed over through a channel that the
//! `next` long poll reads, and answered through the `response` or `error`
//! call that names its request id.

use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{FunctionMetrics, FunctionSpec, LambdaError, MAX_RESPONSE_BYTES, Runtime};

/// The bootstraps we ship for interpreted runtimes; each speaks the
/// Runtime API and loads the handler as Lambda's own runtime does.
const NODE_BOOTSTRAP: &str = include_str!("bootstrap/node.mjs");
const PYTHON_BOOTSTRAP: &str = include_str!("bootstrap/python.py");

/// Lambda gives a function's initialization 10 s of its own, apart from
/// the invocation's timeout.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Beyond this the Runtime API refuses a response outright; between it and
/// Lambda's 6 MB limit the invocation fails with Lambda's error.
const MAX_RUNTIME_BODY: usize = 64 * 1024 * 1024;

struct Invocation {
    request_id: String,
    event: Bytes,
    timeout: Duration,
    /// Fired when the runtime takes the event, which starts the timeout.
    picked: oneshot::Sender<()>,
    reply: oneshot::Sender<Result<Bytes, LambdaError>>,
}

struct InFlight {
    request_id: String,
    reply: oneshot::Sender<Result<Bytes, LambdaError>>,
}

/// What the Runtime API routes share.
struct RuntimeApi {
    /// Set when the worker gets its function (at once, or when a spare is
    /// assigned).
    function_arn: Mutex<String>,
    /// The function's name, for log lines.
    function: Mutex<Arc<str>>,
    inbox: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    in_flight: Mutex<Option<InFlight>>,
    /// The request id being handled, for log lines.
    current: Mutex<Option<String>>,
    init_error: Mutex<Option<LambdaError>>,
    /// When the worker got its function: its cold start runs from here to
    /// its first poll.
    spawned_at: Mutex<Instant>,
    first_poll: OnceLock<()>,
    metrics: OnceLock<Arc<FunctionMetrics>>,
    /// A spare's function, until its bootstrap asks for it.
    assignment: Mutex<Option<serde_json::Value>>,
    assigned: tokio::sync::Notify,
    /// A spare's bootstrap is up and waiting for its function.
    waiting: std::sync::atomic::AtomicBool,
}

impl RuntimeApi {
    /// The worker now runs `spec`.
    fn adopt(&self, spec: &FunctionSpec, metrics: Arc<FunctionMetrics>) {
        if let Ok(mut arn) = self.function_arn.lock() {
            *arn = spec.arn();
        }
        if let Ok(mut function) = self.function.lock() {
            *function = Arc::from(spec.name.as_str());
        }
        if let Ok(mut at) = self.spawned_at.lock() {
            *at = Instant::now();
        }
        let _ = self.metrics.set(metrics);
    }
}

/// A running worker, checked out of its pool for one invocation at a time.
pub(super) struct Worker {
    child: Child,
    outbox: mpsc::Sender<Invocation>,
    api: Arc<RuntimeApi>,
    server: JoinHandle<()>,
    pub last_used: Instant,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.server.abort();
        self.kill();
    }
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorMessage": message, "errorType": error_type})),
    )
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    if api.first_poll.set(()).is_ok()
        && let (Some(metrics), Ok(at)) = (api.metrics.get(), api.spawned_at.lock())
    {
        let elapsed = at.elapsed();
        metrics.cold_start.observe(elapsed);
        let function = api.function.lock().map(|f| f.clone()).unwrap_or_default();
        tracing::info!(
            target: "appsync_local::lambda",
            function = %function,
            "cold start: {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
    let invocation = {
        let mut inbox = api.inbox.lock().await;
        inbox.recv().await
    };
    let Some(invocation) = invocation else {
        return runtime_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the worker is shutting down",
        );
    };
    let deadline = chrono::Utc::now().timestamp_millis()
        + i64::try_from(invocation.timeout.as_millis()).unwrap_or(i64::MAX);
    let _ = invocation.picked.send(());
    if let Ok(mut current) = api.current.lock() {
        *current = Some(invocation.request_id.clone());
    }
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set("lambda-runtime-deadline-ms", &deadline.to_string());
    let arn = api
        .function_arn
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default();
    set("lambda-runtime-invoked-function-arn", &arn);
    // X-Ray's shape, from the request id's hex digits.
    let hex = invocation.request_id.replace('-', "");
    set(
        "lambda-runtime-trace-id",
        &format!(
            "Root=1-{:08x}-{};Parent={};Sampled=0",
            chrono::Utc::now().timestamp(),
            &hex[..24],
            &hex[..16]
        ),
    );
    set("content-type", "application/json");
    if let Ok(mut in_flight) = api.in_flight.lock() {
        *in_flight = Some(InFlight {
            request_id: invocation.request_id,
            reply: invocation.reply,
        });
    }
    (StatusCode::OK, headers, invocation.event).into_response()
}

/// The Runtime API's answer to a request id that is not in flight.
fn invalid_request_id() -> Response {
    runtime_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

/// Takes the in-flight invocation if `request_id` names it.
fn take(api: &RuntimeApi, request_id: &str) -> Option<InFlight> {
    let mut in_flight = api.in_flight.lock().ok()?;
    if in_flight.as_ref()?.request_id != request_id {
        return None;
    }
    if let Ok(mut current) = api.current.lock() {
        *current = None;
    }
    in_flight.take()
}

async fn response(
    State(api): State<Arc<RuntimeApi>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take(&api, &request_id) else {
        return invalid_request_id();
    };
    if body.len() > MAX_RESPONSE_BYTES {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
            body.len()
        );
        let _ = in_flight.reply.send(Err(LambdaError::Function {
            error_type: Some("Function.ResponseSizeTooLarge".to_owned()),
            message: message.clone(),
        }));
        return runtime_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }
    let _ = in_flight.reply.send(Ok(body));
    accepted()
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take(&api, &request_id) else {
        return invalid_request_id();
    };
    let _ = in_flight.reply.send(Err(function_error(&headers, &body)));
    accepted()
}

/// An `error` or `init/error` call's error: its body, typed by the body or
/// the `Lambda-Runtime-Function-Error-Type` header.
fn function_error(headers: &HeaderMap, body: &[u8]) -> LambdaError {
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok());
    LambdaError::from_function_body(body, header_type)
}

async fn init_error(
    State(api): State<Arc<RuntimeApi>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Ok(mut slot) = api.init_error.lock() {
        *slot = Some(function_error(&headers, &body));
    }
    accepted()
}

/// Copies a worker's output into our log, line by line, tagged with the
/// function and the request being handled.
fn forward_output(
    api: Arc<RuntimeApi>,
    stream: &'static str,
    reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let request_id = api
                .current
                .lock()
                .ok()
                .and_then(|c| c.clone())
                .unwrap_or_default();
            let function = api.function.lock().map(|f| f.clone()).unwrap_or_default();
            tracing::info!(
                target: "appsync_local::lambda",
                function = %function,
                request_id = %request_id,
                stream,
                "{line}"
            );
        }
    });
}

/// The variables Lambda sets for a function, beside the Runtime API's.
fn function_environment(spec: &FunctionSpec) -> Vec<(String, String)> {
    let stream_name = format!(
        "{}/[$LATEST]{}",
        chrono::Utc::now().format("%Y/%m/%d"),
        uuid::Uuid::new_v4().simple()
    );
    let mut vars = vec![
        ("_HANDLER".to_owned(), spec.handler.clone()),
        (
            "LAMBDA_TASK_ROOT".to_owned(),
            spec.project_dir.display().to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
            "$LATEST".to_owned(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            spec.memory_size.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
            format!("/aws/lambda/{}", spec.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".to_owned(), stream_name),
        (
            "AWS_EXECUTION_ENV".to_owned(),
            format!("AWS_Lambda_{}", spec.runtime_name),
        ),
    ];
    vars.extend(spec.environment.iter().cloned());
    vars
}

/// A spare's assignment: `GET /2018-06-01/appsync-local/assignment` waits
/// for the function the worker will run (local to appsync-local; see
/// `Worker::start_spare`).
async fn assignment(State(api): State<Arc<RuntimeApi>>) -> Response {
    api.waiting
        .store(true, std::sync::atomic::Ordering::Release);
    loop {
        let assigned = api.assigned.notified();
        let taken = api.assignment.lock().ok().and_then(|mut a| a.take());
        if let Some(assignment) = taken {
            return (StatusCode::OK, axum::Json(assignment)).into_response();
        }
        assigned.await;
    }
}

impl Worker {
    /// Starts a worker process for `spec` and its Runtime API; it is ready
    /// for an invocation at once (the event waits for the runtime's first
    /// poll).
    pub(super) async fn start(
        spec: &FunctionSpec,
        program: &std::path::Path,
        metrics: Arc<FunctionMetrics>,
    ) -> Result<Worker, LambdaError> {
        let worker = Worker::spawn(
            spec.runtime,
            program,
            &spec.project_dir,
            function_environment(spec),
            &spec.name,
        )
        .await
        .map_err(|e| {
            LambdaError::service(
                "ServiceException",
                format!(
                    "cannot start function `{}` ({}): {}: {e}",
                    spec.name,
                    spec.runtime_name,
                    program.display()
                ),
            )
        })?;
        worker.api.adopt(spec, metrics);
        Ok(worker)
    }

    /// Starts an interpreter for no function yet: a spare, which
    /// [`Worker::assign`] gives a function later. Its bootstrap waits for
    /// the assignment before loading anything, so a cold start then costs
    /// the handler's load, not the interpreter's start. Our bootstraps only:
    /// a `provided` runtime's is the user's.
    pub(super) async fn start_spare(
        runtime: Runtime,
        program: &std::path::Path,
        cwd: &std::path::Path,
    ) -> std::io::Result<Worker> {
        let spare = vec![("APPSYNC_LOCAL_SPARE".to_owned(), "1".to_owned())];
        Worker::spawn(runtime, program, cwd, spare, "(spare)").await
    }

    /// Whether this spare's interpreter is up and waiting for a function.
    pub(super) fn is_waiting(&self) -> bool {
        self.api.waiting.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Gives a spare its function: the function's environment and working
    /// directory reach the bootstrap before it loads the handler.
    pub(super) fn assign(&self, spec: &FunctionSpec, metrics: Arc<FunctionMetrics>) {
        self.api.adopt(spec, metrics);
        let environment: serde_json::Map<String, serde_json::Value> = function_environment(spec)
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        if let Ok(mut slot) = self.api.assignment.lock() {
            *slot = Some(json!({
                "environment": environment,
                "cwd": spec.project_dir.display().to_string(),
            }));
        }
        self.api.assigned.notify_one();
    }

    async fn spawn(
        runtime: Runtime,
        program: &std::path::Path,
        cwd: &std::path::Path,
        environment: Vec<(String, String)>,
        name: &str,
    ) -> std::io::Result<Worker> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (outbox, inbox) = mpsc::channel(1);
        let api = Arc::new(RuntimeApi {
            function_arn: Mutex::new(String::new()),
            function: Mutex::new(Arc::from(name)),
            inbox: tokio::sync::Mutex::new(inbox),
            in_flight: Mutex::new(None),
            current: Mutex::new(None),
            init_error: Mutex::new(None),
            spawned_at: Mutex::new(Instant::now()),
            first_poll: OnceLock::new(),
            metrics: OnceLock::new(),
            assignment: Mutex::new(None),
            assigned: tokio::sync::Notify::new(),
            waiting: std::sync::atomic::AtomicBool::new(false),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/response",
                post(response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/error",
                post(error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/2018-06-01/appsync-local/assignment", get(assignment))
            .layer(DefaultBodyLimit::max(MAX_RUNTIME_BODY))
            .with_state(Arc::clone(&api));
        // The runtime pipelines its answer and its next poll in one write;
        // without TCP_NODELAY the second small answer waits on a delayed ACK.
        let server = tokio::spawn(async move {
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, router).await;
        });

        let mut command = Command::new(program);
        match runtime {
            Runtime::Node => {
                command
                    .arg("--input-type=module")
                    .arg("--eval")
                    .arg(NODE_BOOTSTRAP);
            }
            Runtime::Python => {
                command.arg("-u").arg("-c").arg(PYTHON_BOOTSTRAP);
            }
            Runtime::Provided => {}
        }
        command
            .current_dir(cwd)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_REGION", super::REGION)
            .env("AWS_DEFAULT_REGION", super::REGION)
            .env("TZ", ":UTC")
            .envs(environment)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own process group, so stopping a worker also stops what its
        // runtime started (a shell bootstrap's `curl`, a handler's child).
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn().inspect_err(|_| server.abort())?;
        if let Some(stdout) = child.stdout.take() {
            forward_output(Arc::clone(&api), "stdout", stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            forward_output(Arc::clone(&api), "stderr", stderr);
        }
        Ok(Worker {
            child,
            outbox,
            api,
            server,
            last_used: Instant::now(),
        })
    }

    /// Kills the worker's process group (see `start`).
    fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) on a process group we created; no memory is shared.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }

    /// Whether the process is still running.
    pub(super) fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Runs one invocation. The flag says whether the worker can be reused:
    /// a timeout or a crash retires it.
    pub(super) async fn invoke(
        &mut self,
        event: Bytes,
        timeout: Duration,
    ) -> (Result<Bytes, LambdaError>, bool) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (picked_tx, picked) = oneshot::channel();
        let (reply_tx, reply) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.clone(),
            event,
            timeout,
            picked: picked_tx,
            reply: reply_tx,
        };
        if self.outbox.try_send(invocation).is_err() {
            return (
                Err(LambdaError::service(
                    "ServiceException",
                    "the worker is not accepting invocations",
                )),
                false,
            );
        }
        // Initialization, then the handler: each has its own limit.
        tokio::select! {
            biased;
            picked = picked => {
                if picked.is_err() {
                    return (Err(self.exit_error(&request_id, None)), false);
                }
            }
            status = self.child.wait() => {
                return (Err(self.exit_error(&request_id, status.ok())), false);
            }
            () = tokio::time::sleep(INIT_TIMEOUT) => {
                self.kill();
                return (
                    Err(LambdaError::Function {
                        error_type: Some("Runtime.InitError".to_owned()),
                        message: format!(
                            "INIT_REPORT Init Duration: {:.2} ms Phase: init Status: timeout",
                            INIT_TIMEOUT.as_secs_f64() * 1000.0
                        ),
                    }),
                    false,
                );
            }
        }
        tokio::select! {
            biased;
            reply = reply => match reply {
                Ok(result) => (result, true),
                Err(_) => (Err(self.exit_error(&request_id, None)), false),
            },
            status = self.child.wait() => (Err(self.exit_error(&request_id, status.ok())), false),
            () = tokio::time::sleep(timeout) => {
                self.kill();
                (
                    Err(LambdaError::Function {
                        error_type: Some("Sandbox.Timedout".to_owned()),
                        message: super::timeout_message(&request_id, timeout),
                    }),
                    false,
                )
            }
        }
    }

    /// Lambda's error for a runtime that exited: its init error when it
    /// reported one, else `Runtime.ExitError`.
    fn exit_error(
        &self,
        request_id: &str,
        status: Option<std::process::ExitStatus>,
    ) -> LambdaError {
        if let Some(init) = self.api.init_error.lock().ok().and_then(|e| e.clone()) {
            return init;
        }
        let status = match status {
            Some(s) => match s.code() {
                Some(code) => format!("exit status {code}"),
                None => format!("{s}"),
            },
            None => "the process ended".to_owned(),
        };
        LambdaError::Function {
            error_type: Some("Runtime.ExitError".to_owned()),
            message: format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
        }
    }
}
