//! AppSync's real-time endpoint: WebSocket connections on
//! `/graphql/realtime` (and on `/graphql` for an upgrade request), speaking
//! the `graphql-ws` subprotocol AppSync's clients use.
//!
//! Each connection is one task: it reads client messages, writes what the
//! hub queued for it, sends `ka`, and closes when the hub asks (a slow
//! reader, an invalidated subscription) or the maximum duration passes.
//! Subscriptions are resolved by the current service at `start`, so a
//! reload applies to new subscriptions while open connections stay.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::futures_util::SinkExt as _;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;

use crate::auth::AuthFailure;
use crate::execution::errors;
use crate::graphql::{GraphQLRequest, GraphQLService, RequestContext, StartError};
use crate::realtime::hub::{AddError, CloseReason, Connection, Hub, Outgoing, RealtimeLimits};
use crate::realtime::protocol::{self, ClientMessage, ServerMessage, StartPayload};
use crate::server::auth::{authorize, authorize_headers, peer_ip};
use crate::server::state::ServiceCell;

/// Whether a request asks for a WebSocket upgrade.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Accepts the upgrade, authenticates the connection's credential, and
/// hands the socket to its task.
pub async fn upgrade(cell: ServiceCell, mut parts: Parts) -> Response {
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let limits = cell.realtime().limits();
    let peer = peer_ip(&parts);
    let service = cell.current();
    let subprotocols: Vec<String> = ws
        .requested_protocols()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let subprotocols: Vec<&str> = subprotocols.iter().map(String::as_str).collect();
    let connect = match protocol::connection_authorization(parts.uri.query(), &subprotocols) {
        Ok(Some(header)) => {
            authorize_header(&*service, &header, "/graphql/connect", b"{}", peer.clone()).await
        }
        // Plain HTTP headers on the upgrade request.
        Ok(None) => authorize(service.auth(), &parts, None).await,
        Err(_) => Err(AuthFailure::not_authorized()),
    };
    // Small buffers: an idle connection must cost little memory. Frames a
    // little over the message limit are read so that the client hears why
    // they are refused; far larger ones end the connection.
    ws.protocols([protocol::SUBPROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(limits.max_message_bytes + 64 * 1024)
        .on_upgrade(move |socket| async move {
            let hub = Arc::clone(cell.realtime());
            let (connection, queue) = hub.connect();
            let mut session = Session {
                socket,
                cell,
                hub: Arc::clone(&hub),
                connection: Arc::clone(&connection),
                limits,
                peer,
            };
            let reason = session.serve(connect, queue).await;
            hub.disconnect(&connection, reason);
        })
}

/// Authenticates a real-time credential (the header JSON of the connection
/// or of a `start`) as a `POST` of `body` to `path`, which is what SigV4
/// signs there; a header JSON that is no set of HTTP headers is refused.
async fn authorize_header(
    service: &dyn GraphQLService,
    header: &Map<String, Json>,
    path: &str,
    body: &[u8],
    peer: Option<String>,
) -> Result<RequestContext, AuthFailure> {
    let mut headers = HeaderMap::new();
    for (name, value) in header {
        let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes());
        let value = value.as_str().map(HeaderValue::from_str);
        match (name, value) {
            (Ok(name), Some(Ok(value))) => {
                headers.append(name, value);
            }
            _ => return Err(AuthFailure::not_authorized()),
        }
    }
    authorize_headers(service.auth(), &headers, path, body, peer).await
}

/// How long the last messages of a closing connection may take to send.
const CLOSING_GRACE: Duration = Duration::from_secs(1);
/// How many queued messages go out in one write.
const WRITE_BATCH: usize = 64;

struct Session {
    socket: WebSocket,
    cell: ServiceCell,
    hub: Arc<Hub>,
    connection: Arc<Connection>,
    limits: RealtimeLimits,
    peer: Option<String>,
}

impl Session {
    async fn serve(
        &mut self,
        connect: Result<RequestContext, AuthFailure>,
        mut queue: mpsc::Receiver<Outgoing>,
    ) -> CloseReason {
        let context = match connect {
            Ok(context) => context,
            Err(failure) => {
                let message = ServerMessage::ConnectionError {
                    payload: errors::connection_rejection(
                        failure.error_type(),
                        &failure.to_string(),
                        failure.status(),
                    ),
                };
                self.finish(Some(message.to_text())).await;
                return CloseReason::Unauthorized;
            }
        };
        let keep_alive = self.limits.keep_alive.max(Duration::from_millis(10));
        let mut ka = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
        ka.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let expiry = tokio::time::sleep(self.limits.max_connection_duration);
        tokio::pin!(expiry);
        let connection = Arc::clone(&self.connection);
        loop {
            tokio::select! {
                closing = connection.closing() => {
                    self.finish(closing.message).await;
                    return closing.reason;
                }
                incoming = self.socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(reason) = self.handle(text.as_str(), &context).await {
                            return reason;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        self.send_now(ServerMessage::error(
                            None,
                            "UnsupportedOperation",
                            "Binary messages are not supported; send JSON text messages.",
                        ))
                        .await;
                    }
                    Some(Ok(Message::Close(_))) => {
                        // tungstenite queued the closing handshake's reply;
                        // send it, so the client sees a clean close.
                        let _ = tokio::time::timeout(CLOSING_GRACE, self.socket.flush()).await;
                        return CloseReason::Client;
                    }
                    None => return CloseReason::Client,
                    Some(Err(_)) => return CloseReason::ProtocolError,
                    // tungstenite answers pings itself.
                    Some(Ok(_)) => {}
                },
                Some(first) = queue.recv() => {
                    if let Some(reason) = self.write_queued(first, &mut queue).await {
                        return reason;
                    }
                }
                _ = ka.tick() => {
                    if self.socket.send(Message::text(ServerMessage::Ka.to_text())).await.is_err() {
                        return CloseReason::Client;
                    }
                }
                () = &mut expiry => {
                    self.finish(None).await;
                    return CloseReason::MaxDuration;
                }
            }
        }
    }

    /// Writes `first` and whatever else is queued, in one flush; gives up
    /// when the hub asks the connection to close meanwhile (a reader so
    /// slow that its socket stopped taking data).
    async fn write_queued(
        &mut self,
        first: Outgoing,
        queue: &mut mpsc::Receiver<Outgoing>,
    ) -> Option<CloseReason> {
        let connection = Arc::clone(&self.connection);
        let socket = &mut self.socket;
        let write = async {
            socket.feed(Message::text(first.into_text())).await?;
            for _ in 1..WRITE_BATCH {
                match queue.try_recv() {
                    Ok(next) => socket.feed(Message::text(next.into_text())).await?,
                    Err(_) => break,
                }
            }
            socket.flush().await
        };
        tokio::select! {
            written = write => written.err().map(|_| CloseReason::Client),
            closing = connection.closing() => {
                // The client cannot be reading: the last message would wait
                // behind everything it has not read.
                let _ = tokio::time::timeout(CLOSING_GRACE, self.socket.close()).await;
                Some(closing.reason)
            }
        }
    }

    /// Sends a last message, if any, and closes.
    async fn finish(&mut self, message: Option<String>) {
        let socket = &mut self.socket;
        let _ = tokio::time::timeout(CLOSING_GRACE, async {
            if let Some(message) = message {
                socket.send(Message::text(message)).await?;
            }
            socket
                .send(Message::Close(Some(CloseFrame {
                    code: 1000,
                    reason: "".into(),
                })))
                .await
        })
        .await;
    }

    async fn send_now(&mut self, message: ServerMessage) -> bool {
        self.socket
            .send(Message::text(message.to_text()))
            .await
            .is_ok()
    }

    /// Handles one client message; `Some` ends the connection.
    async fn handle(&mut self, text: &str, context: &RequestContext) -> Option<CloseReason> {
        // AppSync documents no answer to an oversized client message; an
        // error naming the limit is what a client can act on.
        if text.len() > self.limits.max_message_bytes {
            let sent = self
                .send_now(ServerMessage::error(
                    None,
                    "LimitExceededError",
                    &format!(
                        "The message is larger than the limit of {} bytes.",
                        self.limits.max_message_bytes
                    ),
                ))
                .await;
            return (!sent).then_some(CloseReason::Client);
        }
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(_) => {
                // AppSync names no operation for a message it cannot read,
                // and answers without the subscription's id.
                let sent = self
                    .send_now(ServerMessage::unsupported(None, "unknown"))
                    .await;
                return (!sent).then_some(CloseReason::Client);
            }
        };
        let reply = match message {
            ClientMessage::ConnectionInit { .. } => {
                ServerMessage::connection_ack(self.limits.connection_timeout)
            }
            ClientMessage::Start { id, payload } => self.start(&id, payload, context).await,
            ClientMessage::Stop { id } => {
                self.hub.remove(&self.connection, &id);
                ServerMessage::Complete { id, payload: None }
            }
        };
        (!self.send_now(reply).await).then_some(CloseReason::Client)
    }

    async fn start(
        &mut self,
        id: &str,
        payload: StartPayload,
        connection_context: &RequestContext,
    ) -> ServerMessage {
        if self.connection.has_subscription(id) {
            return ServerMessage::duplicated_operation(id);
        }
        if self.connection.subscription_count() >= self.limits.max_subscriptions_per_connection {
            return ServerMessage::max_subscriptions_reached(
                id,
                self.limits.max_subscriptions_per_connection,
            );
        }
        let request = match serde_json::from_str::<GraphQLRequest>(&payload.data) {
            Ok(request) => request,
            // AppSync's answer to a `start` it cannot read.
            Err(_) => return ServerMessage::unsupported(None, "unknown"),
        };
        let service = self.cell.current();
        // Each `start` carries its own credential (modes can differ per
        // subscription); without one, the connection's applies.
        let context = match &payload.extensions.authorization {
            Some(header) => {
                let body = payload.data.as_bytes();
                authorize_header(&*service, header, "/graphql", body, self.peer.clone()).await
            }
            None => Ok(connection_context.clone()),
        };
        let context = match context {
            Ok(context) => context,
            Err(failure) => {
                return ServerMessage::error(Some(id), failure.error_type(), &failure.to_string());
            }
        };
        match service.subscribe(request, context).await {
            Ok(plan) => match self.hub.add(&self.connection, id, plan) {
                Ok(()) => ServerMessage::StartAck { id: id.to_owned() },
                Err(AddError::Duplicate) => ServerMessage::duplicated_operation(id),
                Err(AddError::MaxSubscriptionsReached) => ServerMessage::max_subscriptions_reached(
                    id,
                    self.limits.max_subscriptions_per_connection,
                ),
            },
            Err(StartError::UnsupportedOperation(operation)) => {
                ServerMessage::unsupported(Some(id), &operation)
            }
            Err(StartError::Errors(errors)) => ServerMessage::start_errors(id, errors),
        }
    }
}
