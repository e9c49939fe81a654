//! AppSync's real-time WebSocket protocol (subprotocol `graphql-ws`): the
//! messages both ways, and the connection's authorization, which clients
//! send in one of three places.
//!
//! Client: `connection_init`, `start` (`payload.data` is the GraphQL request
//! as a JSON string, `payload.extensions.authorization` its credential),
//! `stop`. Server: `connection_ack` (with `connectionTimeoutMs`), `ka`,
//! `start_ack`, `data`, `complete`, `error`, `connection_error`.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::execution::errors;

/// The subprotocol AppSync clients ask for.
pub const SUBPROTOCOL: &str = "graphql-ws";

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Json>,
    },
    Start {
        id: String,
        payload: StartPayload,
    },
    Stop {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StartPayload {
    /// The GraphQL request (`{"query", "variables", "operationName"}`) as a
    /// JSON string.
    pub data: String,
    #[serde(default)]
    pub extensions: StartExtensions,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct StartExtensions {
    /// The subscription's credential, as header names to values (`host`
    /// plus `x-api-key`, `Authorization`, or SigV4's headers).
    #[serde(default)]
    pub authorization: Option<Map<String, Json>>,
}

/// A message to the client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    ConnectionAck {
        payload: Json,
    },
    Ka,
    StartAck {
        id: String,
    },
    Data {
        id: String,
        payload: Json,
    },
    Complete {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<Json>,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Json,
    },
    ConnectionError {
        payload: Json,
    },
}

impl ServerMessage {
    pub fn connection_ack(timeout: std::time::Duration) -> Self {
        ServerMessage::ConnectionAck {
            payload: json!({ "connectionTimeoutMs": timeout.as_millis() as u64 }),
        }
    }

    /// `error` for one subscription, or for the connection when `id` is
    /// `None`, with AppSync's `{"errors": [{"errorType", "message"}]}`.
    pub fn error(id: Option<&str>, error_type: &str, message: &str) -> Self {
        ServerMessage::Error {
            id: id.map(str::to_owned),
            payload: errors::request_rejection(error_type, message),
        }
    }

    /// `error` for a refused `start`, in AppSync's shape for it.
    pub fn start_errors(id: &str, errors: Vec<Json>) -> Self {
        ServerMessage::Error {
            id: Some(id.to_owned()),
            payload: errors::subscription_rejection(errors),
        }
    }

    /// A message type the real-time channel does not serve (an unknown
    /// `type`, a `start` without `payload.data`, or a query or mutation):
    /// AppSync names the operation, `unknown` when it has none.
    pub fn unsupported(id: Option<&str>, operation: &str) -> Self {
        Self::error(
            id,
            "UnsupportedOperation",
            &format!("{operation} not supported through the realtime channel"),
        )
    }

    /// A `start` beyond the connection's subscription limit.
    pub fn max_subscriptions_reached(id: &str, max: usize) -> Self {
        ServerMessage::Error {
            id: Some(id.to_owned()),
            payload: errors::max_subscriptions_reached(max),
        }
    }

    /// What a subscription ended by `invalidateSubscriptions` gets before
    /// its connection closes. AppSync documents the body
    /// `{"message": "Subscription complete."}`; that it travels in a
    /// `complete` message is our reading.
    pub fn invalidated(id: &str) -> Self {
        ServerMessage::Complete {
            id: id.to_owned(),
            payload: Some(json!({ "message": "Subscription complete." })),
        }
    }

    /// A second `start` with an id already in use.
    pub fn duplicated_operation(id: &str) -> Self {
        Self::error(
            Some(id),
            "DuplicatedOperationError",
            &format!("Duplicated operation with id {id}"),
        )
    }

    /// A connection refused at `connection_init` or at the upgrade.
    pub fn unauthorized_connection() -> Self {
        ServerMessage::ConnectionError {
            payload: errors::connection_rejection(
                "UnauthorizedException",
                "You are not authorized to make this call.",
                401,
            ),
        }
    }

    pub fn to_text(&self) -> String {
        // Serializing these plain enums cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a connection's authorization could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the authorization header is not base64: {0}")]
    NotBase64(String),
    #[error("the authorization header is not a JSON object of strings")]
    NotAnObject,
}

/// The `header-` subprotocol carrying a connection's credential (base64url
/// of the header JSON, unpadded), as Amplify JS v6 sends it; clients ask
/// for it beside [`SUBPROTOCOL`].
pub fn header_subprotocol(header: &Json) -> String {
    format!(
        "header-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string())
    )
}

/// Decodes a `header` query parameter or a `header-` subprotocol: base64
/// (standard or URL-safe, padded or not) of a JSON object.
pub fn decode_header(encoded: &str) -> Result<Map<String, Json>, ProtocolError> {
    let trimmed = encoded.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|e| ProtocolError::NotBase64(e.to_string()))?;
    match serde_json::from_slice::<Json>(&bytes) {
        Ok(Json::Object(map)) if map.values().all(Json::is_string) => Ok(map),
        _ => Err(ProtocolError::NotAnObject),
    }
}

/// The connection's credential, from wherever the client put it: the
/// `header` query parameter (Amplify JS v5, subscription-link 3.x), a
/// `header-` subprotocol (Amplify JS v6, subscription-link 4.x), or `None`
/// when the upgrade request's own headers must be used.
pub fn connection_authorization(
    query: Option<&str>,
    subprotocols: &[&str],
) -> Result<Option<Map<String, Json>>, ProtocolError> {
    if let Some(query) = query {
        // Not form decoding: clients put standard base64 there unescaped,
        // and its `+` must not become a space.
        for pair in query.split('&') {
            if let Some(value) = pair.strip_prefix("header=") {
                let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                return decode_header(&value).map(Some);
            }
        }
    }
    for protocol in subprotocols {
        if let Some(encoded) = protocol.trim().strip_prefix("header-") {
            return decode_header(encoded).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse() {
        let start: ClientMessage = serde_json::from_str(
            r#"{"id":"1","type":"start","payload":{"data":"{\"query\":\"subscription { a }\"}","extensions":{"authorization":{"host":"h","x-api-key":"k"}}}}"#,
        )
        .unwrap();
        let ClientMessage::Start { id, payload } = start else {
            panic!("a start");
        };
        assert_eq!(id, "1");
        assert_eq!(
            serde_json::from_str::<Json>(&payload.data).unwrap()["query"],
            "subscription { a }"
        );
        assert_eq!(payload.extensions.authorization.unwrap()["x-api-key"], "k");
        assert_eq!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"connection_init"}"#).unwrap(),
            ClientMessage::ConnectionInit { payload: None }
        );
        assert_eq!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"stop","id":"1"}"#).unwrap(),
            ClientMessage::Stop { id: "1".into() }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe"}"#).is_err());
    }

    #[test]
    fn server_messages_have_appsyncs_shapes() {
        assert_eq!(
            ServerMessage::connection_ack(std::time::Duration::from_millis(300_000)).to_text(),
            r#"{"type":"connection_ack","payload":{"connectionTimeoutMs":300000}}"#
        );
        assert_eq!(ServerMessage::Ka.to_text(), r#"{"type":"ka"}"#);
        assert_eq!(
            ServerMessage::duplicated_operation("7").to_text(),
            r#"{"type":"error","id":"7","payload":{"errors":[{"errorType":"DuplicatedOperationError","message":"Duplicated operation with id 7"}]}}"#
        );
        assert_eq!(
            ServerMessage::error(None, "LimitExceededError", "Rate limit exceeded").to_text(),
            r#"{"type":"error","payload":{"errors":[{"errorType":"LimitExceededError","message":"Rate limit exceeded"}]}}"#
        );
        let refused: Json =
            serde_json::from_str(&ServerMessage::unauthorized_connection().to_text()).unwrap();
        assert_eq!(refused["type"], "connection_error");
        assert_eq!(refused["payload"]["errors"][0]["errorCode"], 401);
    }

    #[test]
    fn authorization_comes_from_the_query_or_a_subprotocol() {
        let header = r#"{"host":"example.com","x-api-key":"da2-key"}"#;
        let standard = base64::engine::general_purpose::STANDARD.encode(header);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
        let query = format!("header={}&payload=e30=", urlencode(&standard));
        // subscription-link 3.x sends standard base64 unescaped, `+` and all.
        let plus = r#"{"host":"h","x-api-key":"k>>>"}"#;
        let raw = base64::engine::general_purpose::STANDARD.encode(plus);
        assert!(raw.contains('+') || raw.contains('/'));
        let unescaped = connection_authorization(Some(&format!("header={raw}&payload=e30=")), &[])
            .unwrap()
            .unwrap();
        assert_eq!(unescaped["x-api-key"], "k>>>");
        let from_query = connection_authorization(Some(&query), &[])
            .unwrap()
            .unwrap();
        assert_eq!(from_query["x-api-key"], "da2-key");
        let protocol = format!("header-{url_safe}");
        let from_protocol = connection_authorization(None, &["graphql-ws", &protocol])
            .unwrap()
            .unwrap();
        assert_eq!(from_protocol["host"], "example.com");
        assert_eq!(connection_authorization(None, &["graphql-ws"]), Ok(None));
        assert!(matches!(
            connection_authorization(Some("header=%%%"), &[]),
            Err(ProtocolError::NotBase64(_))
        ));
        let not_object = base64::engine::general_purpose::STANDARD.encode("[1]");
        assert_eq!(decode_header(&not_object), Err(ProtocolError::NotAnObject));
    }

    fn urlencode(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }
}
