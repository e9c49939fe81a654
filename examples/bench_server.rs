//! The HTTP layer under load: `server::app` with a trivial service, beside a
//! static axum endpoint that sends the same bytes (the ceiling), in one process.
//!
//! Prints `graphql URL` and `static URL` lines, then serves until killed.
//! `--static-body TEXT` sets the static endpoint's body. `--log` turns on the default access log (one line per request, to stderr,
//! through the background writer `serve` uses).

use std::net::SocketAddr;
use std::sync::Arc;

use appsync_local::graphql::{
    AuthConfig, BoxFuture, GraphQLRequest, GraphQLResponse, GraphQLService, RequestContext,
};
use appsync_local::server::{AppState, app, stderr_writer};
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::post;
use serde_json::json;

const RESPONSE: &str = r#"{"data":{"hello":"world"}}"#;

/// Answers every request with `{"data":{"hello":"world"}}` without parsing
/// the query: what is measured is decoding, auth, encoding and the stack.
struct Hello(AuthConfig);

impl GraphQLService for Hello {
    fn auth(&self) -> &AuthConfig {
        &self.0
    }

    fn execute(&self, _: GraphQLRequest, _: RequestContext) -> BoxFuture<'_, GraphQLResponse> {
        Box::pin(async {
            GraphQLResponse {
                data: Some(json!({"hello": "world"})),
                ..GraphQLResponse::default()
            }
        })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // As `serve` logs: lines queued for a thread that writes them to stderr.
    let (writer, _flush) = stderr_writer();
    if std::env::args().any(|arg| arg == "--log") {
        tracing_subscriber::fmt()
            .with_env_filter("warn,appsync_local=info")
            .with_writer(writer)
            .init();
    }
    let service: Arc<dyn GraphQLService> = Arc::new(Hello(AuthConfig::default()));
    let graphql = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let fixed = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("graphql http://{}/graphql", graphql.local_addr()?);
    println!("static http://{}/static", fixed.local_addr()?);
    // `--static-body TEXT` makes the static endpoint send other bytes (the
    // response of the query a benchmark compares it with).
    let mut args = std::env::args().skip_while(|arg| arg != "--static-body");
    let static_body = Bytes::from(
        args.nth(1)
            .map_or_else(|| RESPONSE.as_bytes().to_vec(), String::into_bytes),
    );
    let static_app = Router::new().route(
        "/static",
        post(move || {
            let body = static_body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let graphql_app = app(AppState::new(service));
    tokio::try_join!(
        async {
            axum::serve(
                graphql,
                graphql_app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        },
        async { axum::serve(fixed, static_app).await },
    )?;
    Ok(())
}
