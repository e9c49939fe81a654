//! Adapts an HTTP request to `crate::auth`, which decides; builds the
//! [`RequestContext`] the templates see.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::auth::sigv4::ALGORITHM;
use crate::auth::{AuthConfig, AuthFailure, CredentialRequest};
use crate::graphql::RequestContext;

/// Whether authenticating needs the body: a SigV4 signature covers it, and
/// a Lambda authorizer receives the operation.
pub fn needs_body(auth: &AuthConfig, parts: &Parts) -> bool {
    auth.lambda.is_some() || is_signed(parts)
}

/// Whether the request carries a SigV4 `Authorization` header.
pub fn is_signed(parts: &Parts) -> bool {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes().starts_with(ALGORITHM.as_bytes()))
}

/// Authenticates the request (`body` for SigV4) and builds its context.
pub async fn authorize(
    auth: &AuthConfig,
    parts: &Parts,
    body: Option<&[u8]>,
) -> Result<RequestContext, AuthFailure> {
    let peer = peer_ip(parts);
    let request = CredentialRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body,
        peer_ip: peer.as_deref(),
        now_epoch_seconds: now_epoch_seconds(),
    };
    Ok(RequestContext {
        principal: auth.authenticate(&request).await?,
        headers: collect_headers(&parts.headers),
        source_ip: peer,
    })
}

/// Authenticates a real-time credential: the headers a client sent inside
/// the connection's `header` or a `start`'s `extensions.authorization`, as
/// if they came with `POST {path}` and `body` (what SigV4 signs there).
pub async fn authorize_headers(
    auth: &AuthConfig,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    peer: Option<String>,
) -> Result<RequestContext, AuthFailure> {
    let request = CredentialRequest {
        method: "POST",
        path,
        query: "",
        headers,
        body: Some(body),
        peer_ip: peer.as_deref(),
        now_epoch_seconds: now_epoch_seconds(),
    };
    Ok(RequestContext {
        principal: auth.authenticate(&request).await?,
        headers: collect_headers(headers),
        source_ip: peer,
    })
}

pub fn peer_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

pub fn now_epoch_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Header names are already lower case in `http`; repeated headers are kept,
/// one entry each. `cookie` is never exposed, as in AppSync.
fn collect_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| *name != axum::http::header::COOKIE)
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}
