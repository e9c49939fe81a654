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

/// What `connection_ack` announces: a client that hears no `ka` for this
/// long drops the connection.
pub const CONNECTION_TIMEOUT_MS: u64 = 300_000;

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
    pub fn connection_ack() -> Self {
        ServerMessage::ConnectionAck {
            payload: json!({ "connectionTimeoutMs": CONNECTION_TIMEOUT_MS }),
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
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if key == "header" {
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

/// Basic (argument) filtering: every argument the subscriber passed must
/// equal the published result's field of the same name; an omitted
/// argument matches anything, and an explicit null matches a null or absent
/// field.
pub fn arguments_match(arguments: &Map<String, Json>, result: &Json) -> bool {
    arguments.iter().all(|(name, wanted)| {
        let field = result.get(name).unwrap_or(&Json::Null);
        match (wanted, field) {
            (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
            _ => wanted == field,
        }
    })
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
            ServerMessage::connection_ack().to_text(),
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

    #[test]
    fn arguments_filter_by_equality() {
        let result = json!({"id": "1", "price": 10, "note": null});
        let args = |v: Json| v.as_object().unwrap().clone();
        assert!(arguments_match(&args(json!({})), &result));
        assert!(arguments_match(&args(json!({"id": "1"})), &result));
        assert!(arguments_match(&args(json!({"price": 10.0})), &result));
        assert!(!arguments_match(&args(json!({"id": "2"})), &result));
        assert!(arguments_match(&args(json!({"note": null})), &result));
        assert!(arguments_match(&args(json!({"absent": null})), &result));
        assert!(!arguments_match(&args(json!({"id": null})), &result));
    }
}
