//! Request-level authorization: decides whether a request may run at all and
//! builds the [`RequestContext`] the templates see.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use serde_json::Value as Json;

use crate::graphql::{AuthConfig, AuthType, RequestContext};

/// The request is not authorized; AppSync answers 401 `UnauthorizedException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthorized;

/// Checks the request against the API's authorization modes.
///
/// Only API_KEY is checked so far. The other modes are accepted unchecked, so
/// projects using Cognito, IAM, OIDC or Lambda authorization can be served
/// before those modes exist: an API without an API_KEY mode (or without any
/// mode) accepts every request, and an API with API_KEY plus other modes
/// accepts a request that carries an `Authorization` header under its first
/// other mode. As in AppSync, an `x-api-key` header selects API_KEY.
pub fn authorize(auth: &AuthConfig, parts: &Parts) -> Result<RequestContext, Unauthorized> {
    let other_mode = auth
        .modes
        .iter()
        .copied()
        .find(|mode| *mode != AuthType::ApiKey);
    let api_key = parts.headers.get("x-api-key");
    let auth_type = if !auth.modes.contains(&AuthType::ApiKey) {
        other_mode.unwrap_or_default()
    } else if let Some(api_key) = api_key {
        let presented = api_key.to_str().map_err(|_| Unauthorized)?;
        if !api_key_is_valid(auth, presented, now_epoch_seconds()) {
            return Err(Unauthorized);
        }
        AuthType::ApiKey
    } else {
        match other_mode {
            Some(mode)
                if parts
                    .headers
                    .contains_key(axum::http::header::AUTHORIZATION) =>
            {
                mode
            }
            _ => return Err(Unauthorized),
        }
    };
    Ok(RequestContext {
        headers: collect_headers(parts),
        // AppSync sets `$ctx.identity` to null for API_KEY; the modes that are
        // accepted unchecked have no identity to offer either.
        identity: Json::Null,
        auth_type,
        source_ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string()),
    })
}

/// A key is valid when it is listed and not expired. AppSync keeps expired
/// keys for 60 days but rejects them, so expiry is checked here.
pub fn api_key_is_valid(auth: &AuthConfig, presented: &str, now: i64) -> bool {
    auth.api_keys
        .iter()
        .any(|key| key.value == presented && key.expires.is_none_or(|expires| now < expires))
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
fn collect_headers(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::ApiKey;

    fn config(keys: &[(&str, Option<i64>)]) -> AuthConfig {
        AuthConfig {
            modes: vec![AuthType::ApiKey],
            api_keys: keys
                .iter()
                .map(|(value, expires)| ApiKey {
                    value: (*value).to_owned(),
                    expires: *expires,
                })
                .collect(),
        }
    }

    #[test]
    fn api_key_validity() {
        let auth = config(&[("da2-live", None), ("da2-old", Some(1_000))]);
        let cases = [
            ("da2-live", 5_000, true),
            ("da2-old", 999, true),
            // Expiry is exclusive: at the expiry second the key is dead.
            ("da2-old", 1_000, false),
            ("da2-old", 5_000, false),
            ("da2-unknown", 0, false),
            ("", 0, false),
        ];
        for (key, now, expected) in cases {
            assert_eq!(
                api_key_is_valid(&auth, key, now),
                expected,
                "{key} at {now}"
            );
        }
    }
}
