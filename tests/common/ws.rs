//! A WebSocket client speaking AppSync's real-time protocol, for tests:
//! the three ways clients pass their credential, and reads with a
//! deadline that skip `ka`.

use std::time::Duration;

use async_graphql::futures_util::{SinkExt as _, StreamExt as _};
use base64::Engine as _;
use serde_json::{Value as Json, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use appsync_local::realtime::protocol;
use appsync_local::testing::TestServer;

/// Where the connection's credential goes.
pub enum Auth<'a> {
    /// `?header=<base64 JSON>&payload=e30=` (Amplify JS v5, link 3.x).
    Query(Json),
    /// `Sec-WebSocket-Protocol: graphql-ws, header-<base64url JSON>`.
    Subprotocol(Json),
    /// Plain HTTP headers on the upgrade request.
    Headers(&'a [(&'a str, &'a str)]),
}

pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server chose.
    pub protocol: Option<String>,
}

/// The header JSON for an API key.
pub fn api_key_header(server: &TestServer, key: &str) -> Json {
    json!({"host": server.address().to_string(), "x-api-key": key})
}

/// The header JSON for a Cognito or OIDC token.
pub fn token_header(server: &TestServer, token: &str) -> Json {
    json!({"host": server.address().to_string(), "Authorization": token})
}

const READ_DEADLINE: Duration = Duration::from_secs(10);

impl Ws {
    /// Connects to `url` (`ws://…`) with the credential in `auth`.
    pub async fn connect(url: &str, auth: Auth<'_>) -> Ws {
        let url = match &auth {
            Auth::Query(header) => format!(
                "{url}?header={}&payload=e30=",
                base64::engine::general_purpose::STANDARD.encode(header.to_string())
            ),
            _ => url.to_owned(),
        };
        let mut request = url.into_client_request().expect("a WebSocket URL");
        let mut protocols = protocol::SUBPROTOCOL.to_owned();
        if let Auth::Subprotocol(header) = &auth {
            protocols.push_str(", ");
            protocols.push_str(&protocol::header_subprotocol(header));
        }
        if let Auth::Headers(headers) = auth {
            for (name, value) in headers {
                request.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
        }
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the upgrade succeeds");
        let protocol = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ws { socket, protocol }
    }

    /// Connects with an API key in the query string and sends
    /// `connection_init`, expecting `connection_ack`.
    pub async fn open(server: &TestServer, key: &str) -> Ws {
        let mut ws = Ws::connect(
            &server.realtime_url(),
            Auth::Query(api_key_header(server, key)),
        )
        .await;
        ws.init().await;
        ws
    }

    pub async fn init(&mut self) -> Json {
        self.send(json!({"type": "connection_init"})).await;
        let ack = self.recv().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ack
    }

    pub async fn send(&mut self, message: Json) {
        self.send_text(message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("the message is sent");
    }

    /// The next message other than `ka`; panics after 10 s or on close.
    pub async fn recv(&mut self) -> Json {
        loop {
            let message = self.recv_any().await;
            if message["type"] != "ka" {
                return message;
            }
        }
    }

    /// The next message, `ka` included.
    pub async fn recv_any(&mut self) -> Json {
        loop {
            let next = tokio::time::timeout(READ_DEADLINE, self.socket.next())
                .await
                .expect("a message within 10 s");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("a JSON message");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Waits for the server to close the connection, returning the text
    /// messages that came first (`ka` excluded).
    pub async fn until_closed(&mut self) -> Vec<Json> {
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(READ_DEADLINE, self.socket.next())
                .await
                .expect("the server closes within 10 s");
            match next {
                Some(Ok(Message::Text(text))) => {
                    let message: Json = serde_json::from_str(text.as_str()).unwrap();
                    if message["type"] != "ka" {
                        seen.push(message);
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return seen,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Sends `start` with the header JSON in its extensions and returns the
    /// answer (`start_ack` or `error`).
    pub async fn start(
        &mut self,
        id: &str,
        query: &str,
        variables: Json,
        authorization: &Json,
    ) -> Json {
        self.send(json!({
            "id": id,
            "type": "start",
            "payload": {
                "data": json!({"query": query, "variables": variables}).to_string(),
                "extensions": {"authorization": authorization},
            },
        }))
        .await;
        self.recv().await
    }

    /// [`Self::start`], failing unless the server acknowledged it.
    pub async fn subscribe(
        &mut self,
        id: &str,
        query: &str,
        variables: Json,
        authorization: &Json,
    ) {
        let answer = self.start(id, query, variables, authorization).await;
        assert_eq!(answer, json!({"type": "start_ack", "id": id}));
    }

    /// The next `data` message's payload, checking its subscription id.
    pub async fn data(&mut self, id: &str) -> Json {
        let message = self.recv().await;
        assert_eq!(message["type"], "data", "{message}");
        assert_eq!(message["id"], id, "{message}");
        message["payload"].clone()
    }
}
