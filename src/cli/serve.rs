//! `appsync-local serve`: load a project and serve it over HTTP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::server::{
    AppState, CorsOrigins, DEFAULT_BODY_LIMIT, ProjectLoader, ProjectWatcher, ServerOptions,
    WatchOptions, app, stderr_writer,
};
use anyhow::Context as _;
use axum::http::HeaderValue;
use tracing_subscriber::EnvFilter;

use crate::graphql::GraphQLService;
use crate::loader::{DeployOptions, LambdaOptions, LoadOptions, Project, load_project_with};
use crate::realtime::RealtimeLimits;

/// Port of the GraphQL endpoint when `--port` is not given.
pub const DEFAULT_PORT: u16 = 4000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Project directory (holding appsync.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Directory for table and index data [default: PROJECT/.appsync-local].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Reload the project when its manifest, schema or templates change.
    #[arg(long)]
    pub watch: bool,
    /// Log each resolver's evaluated templates (debug level).
    #[arg(long, short)]
    pub verbose: bool,
    /// Largest accepted request body in bytes, after decompression.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Origin allowed by CORS; repeat for several. Default: any origin.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Accept only tokens signed by the Cognito pools' and OIDC issuers'
    /// own keys, not the local issuer's (`appsync-local token`).
    #[arg(long)]
    pub no_local_issuer: bool,
    /// Token the admin routes require in `x-appsync-local-admin-token`.
    /// Required beyond loopback: without one, a random token is printed.
    #[arg(long, env = "APPSYNC_LOCAL_ADMIN_TOKEN", value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Node.js for nodejs* functions [default: `node` on PATH].
    #[arg(long, value_name = "PATH")]
    pub node: Option<PathBuf>,
    /// Python for python3.* functions [default: `python3` on PATH].
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Lambda Invoke API (`sam local start-lambda`, LocalStack, AWS) for
    /// functions not defined under `functions:`.
    #[arg(long, value_name = "URL", value_parser = parse_lambda_endpoint)]
    pub lambda_endpoint: Option<axum::http::Uri>,
    /// The stage a serverless.yml project is read for (`${sls:stage}`,
    /// `${opt:stage}`) [default: provider.stage, else dev].
    #[arg(long)]
    pub stage: Option<String>,
    /// A parameter, as NAME=VALUE: a serverless.yml's `${param:NAME}`, a template's `Parameters`; repeat for several.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Subscriptions one real-time connection may hold (AppSync: 200).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub realtime_max_subscriptions: usize,
    /// Largest real-time message in bytes, either way (AppSync: 240 KB).
    #[arg(long, value_name = "BYTES", default_value_t = 240 * 1024)]
    pub realtime_max_message_bytes: usize,
    /// Seconds between `ka` messages on real-time connections.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub realtime_keep_alive: f64,
    /// The `connectionTimeoutMs` announced to real-time clients (AppSync: 300000).
    #[arg(long, value_name = "MS", default_value_t = 300_000)]
    pub realtime_connection_timeout_ms: u64,
    /// Seconds after which a real-time connection is closed (AppSync: 24 hours).
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400.0)]
    pub realtime_max_connection_duration: f64,
    /// Messages queued for one real-time client before a client that does
    /// not read is disconnected.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub realtime_queue: usize,
}

impl Default for Args {
    /// The same values clap gives when no flag is passed.
    fn default() -> Self {
        Self {
            project: PathBuf::from("."),
            port: DEFAULT_PORT,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            data: None,
            watch: false,
            verbose: false,
            body_limit: DEFAULT_BODY_LIMIT,
            cors_origins: Vec::new(),
            no_local_issuer: false,
            admin_token: None,
            node: None,
            python: None,
            lambda_endpoint: None,
            stage: None,
            params: Vec::new(),
            realtime_max_subscriptions: 200,
            realtime_max_message_bytes: 240 * 1024,
            realtime_keep_alive: 60.0,
            realtime_connection_timeout_ms: 300_000,
            realtime_max_connection_duration: 86_400.0,
            realtime_queue: 1_000,
        }
    }
}

/// The real-time limits the flags set.
fn realtime_limits(args: &Args) -> anyhow::Result<RealtimeLimits> {
    let seconds = |value: f64, flag: &str| {
        std::time::Duration::try_from_secs_f64(value)
            .ok()
            .filter(|d| !d.is_zero())
            .with_context(|| format!("--{flag} must be a positive number of seconds"))
    };
    Ok(RealtimeLimits {
        max_subscriptions_per_connection: args.realtime_max_subscriptions,
        max_message_bytes: args.realtime_max_message_bytes,
        connection_timeout: std::time::Duration::from_millis(args.realtime_connection_timeout_ms),
        keep_alive: seconds(args.realtime_keep_alive, "realtime-keep-alive")?,
        max_connection_duration: seconds(
            args.realtime_max_connection_duration,
            "realtime-max-connection-duration",
        )?,
        queue_capacity: args.realtime_queue.max(1),
    })
}

/// `--param NAME=VALUE`.
pub fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

/// What `--stage` and `--param` give.
pub fn deploy_options(stage: &Option<String>, params: &[(String, String)]) -> DeployOptions {
    DeployOptions {
        stage: stage.clone(),
        params: params.iter().cloned().collect(),
    }
}

/// `--lambda-endpoint`: an http:// or https:// URL.
pub fn parse_lambda_endpoint(text: &str) -> Result<axum::http::Uri, String> {
    crate::outbound::parse_endpoint(text).map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Writes the buffered log lines when `run` returns.
    let _log = init_tracing(args.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<ExitCode> {
    let project = std::path::absolute(&args.project)
        .with_context(|| format!("invalid project path {}", args.project.display()))?;
    let data = match &args.data {
        Some(data) => std::path::absolute(data)
            .with_context(|| format!("invalid data path {}", data.display()))?,
        None => project.join(".appsync-local"),
    };
    let lambda = LambdaOptions {
        node: args.node.clone(),
        python: args.python.clone(),
        endpoint: args.lambda_endpoint.clone(),
        idle_timeout: None,
    };
    // The first load opens the stores; reloads reuse them (a sled directory
    // can be opened once per process).
    let api = Project::load_with(
        &project,
        &LoadOptions {
            data_dir: Some(data.clone()),
            no_local_issuer: args.no_local_issuer,
            lambda: lambda.clone(),
            deploy: deploy_options(&args.stage, &args.params),
            ..LoadOptions::default()
        },
    )
    .map_err(|errors| {
        anyhow::anyhow!(
            "cannot load the project in {}:\n{errors}",
            project.display()
        )
    })?;
    for notice in api.manifest.notices() {
        tracing::info!("{notice}");
    }
    // AWS would generate these; locally they are set (or named) by the
    // project, so say which value each key has.
    for key in &api.auth.api_keys {
        tracing::info!("API key `{}`: {}", key.name, key.value);
    }
    if args.no_local_issuer {
        // Without the local issuer, a provider's own keys are all that can
        // verify its tokens: fetch them now, so a machine without network
        // fails here with the reason rather than refusing every request.
        for provider in &api.auth.jwt {
            if let Err(message) = provider.prefetch().await {
                anyhow::bail!(
                    "cannot get the signing keys of {}: {message}\nname a local JWKS file in the provider's `config.jwks`, or serve without --no-local-issuer",
                    provider.issuer
                );
            }
        }
    }
    let stores = Arc::clone(&api.stores);
    let service: Arc<dyn GraphQLService> = Arc::new(api);
    let loader: ProjectLoader = {
        let options = LoadOptions {
            data_dir: Some(data.clone()),
            stores: Some(Arc::clone(&stores)),
            no_local_issuer: args.no_local_issuer,
            lambda,
            deploy: deploy_options(&args.stage, &args.params),
            ..LoadOptions::default()
        };
        Arc::new(move |dir: &Path| load_project_with(dir, &options).map_err(|errors| errors.into()))
    };

    let admin_token = match (&args.admin_token, args.host.is_loopback()) {
        (Some(token), _) => Some(token.clone()),
        (None, true) => None,
        (None, false) => {
            let token = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            eprintln!(
                "listening beyond loopback: admin routes need `x-appsync-local-admin-token: {token}` (set your own with --admin-token or APPSYNC_LOCAL_ADMIN_TOKEN)"
            );
            Some(token)
        }
    };
    let options = ServerOptions {
        body_limit: args.body_limit,
        cors_origins: cors_origins(&args.cors_origins)?,
        admin_token,
        realtime: realtime_limits(&args)?,
        ..ServerOptions::default()
    }
    .with_stores(&stores);
    let state = AppState::new(service).with_options(options);
    let _watcher = if args.watch {
        let options = WatchOptions {
            ignore: vec![data],
            ..WatchOptions::default()
        };
        Some(
            ProjectWatcher::spawn(&project, state.service.clone(), loader, options)
                .context("cannot watch the project")?,
        )
    } else {
        None
    };

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let shutdown = shutdown_signal();
    let address = listener.local_addr()?;
    // Tests and scripts parse this line for the port.
    println!("listening on http://{address}/graphql");
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("server error")?;
    // In-flight requests are done: record that the indexes are in step, so
    // the next start skips reconciling them.
    tokio::task::spawn_blocking(move || stores.close())
        .await
        .context("closing the stores")?
        .context("closing the stores")?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM as `docker stop` and process managers send it (as a
/// container's PID 1 the process would otherwise ignore it). The handlers
/// are installed when this is called, not when the future is first polled:
/// a signal that arrives right after "listening on" must not kill the
/// process with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn cors_origins(origins: &[String]) -> anyhow::Result<CorsOrigins> {
    if origins.is_empty() || origins.iter().any(|origin| origin == "*") {
        return Ok(CorsOrigins::Any);
    }
    let list = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin).with_context(|| format!("invalid CORS origin {origin:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsOrigins::List(list))
}

/// One access-log line per request by default; `--verbose` adds the debug
/// events of the crate, among them the resolver logs under
/// `appsync_local::resolver`. `RUST_LOG` overrides the default filter.
/// A background thread writes the lines (see `stderr_writer`): a request
/// queues its line instead of writing to stderr itself.
fn init_tracing(verbose: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,appsync_local=info"));
    let filter = if verbose {
        match "appsync_local=debug".parse() {
            Ok(directive) => filter.add_directive(directive),
            Err(_) => filter,
        }
    } else {
        filter
    };
    let (writer, guard) = stderr_writer();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    guard
}
