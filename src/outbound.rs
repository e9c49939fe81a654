//! The one HTTP client for calls the server makes outward: JWKS and OIDC
//! discovery, HTTP data sources, remote Lambda, EventBridge forwarding.
//!
//! hyper-util's pooled client over hyper-rustls (ring, webpki roots), so
//! connections are reused and no C TLS library is needed. Every call has a
//! deadline; a call never waits on a peer forever.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{Request, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why a call got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("{0} is not a valid URL")]
    InvalidUrl(String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {millis} ms")]
    Timeout { url: String, millis: u128 },
}

fn client() -> &'static HttpsClient {
    static CLIENT: OnceLock<HttpsClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector)
    })
}

/// Sends `request` and reads the whole response body, within `timeout`.
pub async fn send(
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<Response<Bytes>, OutboundError> {
    let url = request.uri().to_string();
    let call = async {
        let response = client()
            .request(request)
            .await
            .map_err(|e| OutboundError::Unreachable {
                url: url.clone(),
                reason: error_chain(&e),
            })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| OutboundError::Unreachable {
                url: url.clone(),
                reason: error_chain(&e),
            })?
            .to_bytes();
        Ok(Response::from_parts(parts, body))
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| OutboundError::Timeout {
            url: url.clone(),
            millis: timeout.as_millis(),
        })?
}

/// hyper's errors say "client error (Connect)" and keep the reason in their
/// sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Parses an `http://` or `https://` URL, as data sources configure them.
pub fn parse_endpoint(text: &str) -> Result<axum::http::Uri, OutboundError> {
    let uri: axum::http::Uri = text
        .parse()
        .map_err(|_| OutboundError::InvalidUrl(text.to_owned()))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(uri),
        _ => Err(OutboundError::InvalidUrl(text.to_owned())),
    }
}
