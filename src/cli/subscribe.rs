//! `appsync-local subscribe`: watches a subscription of a running server
//! from a terminal over AppSync's real-time protocol, printing each
//! message's payload as one JSON line.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use async_graphql::futures_util::{SinkExt as _, StreamExt as _};
use axum::http::{HeaderValue, Method};
use serde_json::{Map, Value as Json, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::http;
use crate::realtime::protocol;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subscription document, e.g. 'subscription { onBookingCreated { id } }'.
    #[arg(long)]
    pub query: String,
    /// Its variables, as a JSON object.
    #[arg(long, default_value = "{}")]
    pub variables: String,
    /// The operation to run when the document holds several.
    #[arg(long)]
    pub operation_name: Option<String>,
    /// The running server's base URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    pub url: String,
    /// The API key to subscribe with. Default: the server's first key.
    #[arg(long, env = "APPSYNC_API_KEY")]
    pub api_key: Option<String>,
    /// A Cognito or OIDC token (or a Lambda authorizer's token) instead of
    /// an API key, e.g. from `appsync-local token`.
    #[arg(long, conflicts_with = "api_key")]
    pub token: Option<String>,
    /// Exit after this many messages. Default: until Ctrl-C.
    #[arg(long)]
    pub count: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(watch(args))
}

async fn watch(args: Args) -> anyhow::Result<ExitCode> {
    let base = http::parse_url(&args.url)?;
    let authority = base.authority().context("--url has no host")?.to_string();
    let variables: Map<String, Json> =
        serde_json::from_str(&args.variables).context("--variables must be a JSON object")?;
    let mut header = Map::new();
    header.insert("host".into(), Json::String(authority.clone()));
    match (&args.api_key, &args.token) {
        (Some(key), _) => {
            header.insert("x-api-key".into(), Json::String(key.clone()));
        }
        (None, Some(token)) => {
            header.insert("Authorization".into(), Json::String(token.clone()));
        }
        (None, None) => {
            if let Some(key) = first_api_key(&base).await {
                header.insert("x-api-key".into(), Json::String(key));
            }
        }
    }
    let header = Json::Object(header);
    let url = format!("ws://{authority}/graphql/realtime");
    let mut request = url.as_str().into_client_request()?;
    let protocols = format!(
        "{}, {}",
        protocol::SUBPROTOCOL,
        protocol::header_subprotocol(&header)
    );
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_str(&protocols)?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await?;
    let data = json!({
        "query": args.query,
        "variables": variables,
        "operationName": args.operation_name,
    });
    let start = json!({
        "id": "1",
        "type": "start",
        "payload": {"data": data.to_string(), "extensions": {"authorization": header}},
    });
    let mut received = 0;
    let mut stdout = std::io::stdout();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let message = tokio::select! {
            next = socket.next() => next,
            _ = &mut interrupted => {
                stop(&mut socket).await;
                return Ok(ExitCode::SUCCESS);
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => bail!("the server closed the connection"),
            Some(Err(err)) => return Err(anyhow!(err).context("the connection failed")),
            Some(Ok(_)) => continue,
        };
        let message: Json = serde_json::from_str(text.as_str())?;
        match message["type"].as_str().unwrap_or_default() {
            "connection_ack" => socket.send(Message::text(start.to_string())).await?,
            "start_ack" => eprintln!("subscribed; waiting for messages (Ctrl-C to stop)"),
            "data" => {
                writeln!(stdout, "{}", message["payload"])?;
                stdout.flush()?;
                received += 1;
                if args.count.is_some_and(|count| received >= count) {
                    stop(&mut socket).await;
                    return Ok(ExitCode::SUCCESS);
                }
            }
            "ka" => {}
            "complete" => {
                eprintln!("the server ended the subscription: {}", message["payload"]);
                return Ok(ExitCode::SUCCESS);
            }
            _ => bail!(
                "the server refused the subscription: {}",
                message["payload"]
            ),
        }
    }
}

/// Sends `stop` and waits a moment for `complete`, so the server ends the
/// subscription cleanly.
async fn stop<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let stop = json!({"type": "stop", "id": "1"}).to_string();
    if socket.send(Message::text(stop)).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message
                && text.as_str().contains("\"complete\"")
            {
                break;
            }
        }
    })
    .await;
    let _ = socket.close(None).await;
}

/// The server's first API key, from `/admin/auth` (what the GraphiQL page
/// reads too).
async fn first_api_key(base: &axum::http::Uri) -> Option<String> {
    let url = http::on_server(base, "/admin/auth").ok()?;
    let answer = http::exchange(Method::GET, &url, Duration::from_secs(5))
        .await
        .ok()?;
    let summary: Json = serde_json::from_str(&answer.body).ok()?;
    summary["apiKeys"]
        .as_array()?
        .iter()
        .find_map(|key| key["value"].as_str().map(str::to_owned))
}
