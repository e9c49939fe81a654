//! The subscription registry and the fan-out of published results.
//!
//! A mutation hands its [`Publication`]s to [`Hub::publish`], which only
//! queues them: one fan-out task finds the matching subscriptions and puts
//! each one's `data` message on its connection's bounded queue with
//! `try_send`, so neither the mutation nor the other subscribers ever wait
//! for a slow reader. A connection whose queue overflows is closed.
//!
//! Matching costs O(matching), not a scan of every subscription, where the
//! filter allows it: subscriptions filtered by arguments are bucketed by the
//! argument names they pass and then by those arguments' values, so a
//! publication looks up one bucket per distinct set of names. Enhanced
//! filters are evaluated once per distinct filter, whatever the number of
//! subscribers that share it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value as Json};
use tokio::sync::{Notify, mpsc};

use crate::metrics::Histogram;
use crate::realtime::filter::SubscriptionFilter;
use crate::realtime::projection::Projection;
use crate::realtime::protocol::ServerMessage;

/// AppSync's real-time limits; each can be changed for local use.
#[derive(Debug, Clone)]
pub struct RealtimeLimits {
    /// AppSync allows 200 subscriptions per connection.
    pub max_subscriptions_per_connection: usize,
    /// Messages larger than this are refused from clients and silently
    /// dropped towards them, as AppSync does (240 KB).
    pub max_message_bytes: usize,
    /// Announced in `connection_ack` as `connectionTimeoutMs`: a client that
    /// hears no `ka` for this long drops the connection.
    pub connection_timeout: Duration,
    /// How often the server sends `ka`.
    pub keep_alive: Duration,
    /// AppSync closes connections after 24 hours.
    pub max_connection_duration: Duration,
    /// Messages waiting for one slow connection before it is closed. Not an
    /// AppSync setting: AppSync documents no such queue.
    pub queue_capacity: usize,
}

impl Default for RealtimeLimits {
    fn default() -> Self {
        Self {
            max_subscriptions_per_connection: 200,
            max_message_bytes: 240 * 1024,
            connection_timeout: Duration::from_millis(300_000),
            // AppSync does not document its interval; clients see about a
            // minute.
            keep_alive: Duration::from_secs(60),
            max_connection_duration: Duration::from_secs(24 * 3600),
            queue_capacity: 1_000,
        }
    }
}

/// A subscription as `start` resolved it: which field, how it filters, and
/// what the subscriber selected.
#[derive(Debug, Clone)]
pub struct SubscriptionPlan {
    /// The subscription field's name.
    pub field: String,
    /// The arguments the subscriber passed (basic filtering), after
    /// coercion; unused once an enhanced filter is set.
    pub arguments: Map<String, Json>,
    /// `extensions.setSubscriptionFilter`, replacing argument filtering.
    pub filter: Option<EnhancedFilter>,
    /// `extensions.setSubscriptionInvalidationFilter`.
    pub invalidation_filter: Option<SubscriptionFilter>,
    pub projection: Arc<Projection>,
}

/// Why `start` refused a subscription request.
#[derive(Debug, Clone, PartialEq)]
pub enum StartError {
    /// Not a subscription (the operation's type, or empty when the request
    /// names none of several): AppSync serves only subscriptions over the
    /// real-time channel.
    UnsupportedOperation(String),
    /// GraphQL errors in AppSync's shape (validation, authorization, the
    /// subscription resolver's own).
    Errors(Vec<Json>),
}

/// A checked enhanced filter with its canonical text, under which equal
/// filters share one evaluation.
#[derive(Debug, Clone)]
pub struct EnhancedFilter {
    pub key: String,
    pub filter: SubscriptionFilter,
}

/// What a successful mutation (or an invalidation) publishes to one
/// subscription field.
#[derive(Debug, Clone, PartialEq)]
pub enum Publication {
    /// `@aws_subscribe`: the mutation field's result, as the mutation
    /// selected it, to subscribers of `subscription_field`.
    Result {
        subscription_field: String,
        result: Arc<Json>,
    },
    /// `extensions.invalidateSubscriptions({subscriptionField, payload})`.
    Invalidate {
        subscription_field: String,
        payload: Json,
    },
}

impl Publication {
    fn subscription_field(&self) -> &str {
        match self {
            Publication::Result {
                subscription_field, ..
            }
            | Publication::Invalidate {
                subscription_field, ..
            } => subscription_field,
        }
    }
}

/// Why `start` could not register a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddError {
    Duplicate,
    MaxSubscriptionsReached,
}

/// Why a connection was closed, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed it, or the socket failed.
    Client,
    /// Refused at connect.
    Unauthorized,
    /// Its outgoing queue overflowed: the client read too slowly.
    SlowConsumer,
    /// It reached the maximum connection duration.
    MaxDuration,
    /// A message broke the protocol or a limit.
    ProtocolError,
    /// A subscription on it was invalidated.
    Invalidated,
}

impl CloseReason {
    const ALL: [CloseReason; 6] = [
        CloseReason::Client,
        CloseReason::Unauthorized,
        CloseReason::SlowConsumer,
        CloseReason::MaxDuration,
        CloseReason::ProtocolError,
        CloseReason::Invalidated,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CloseReason::Client => "client",
            CloseReason::Unauthorized => "unauthorized",
            CloseReason::SlowConsumer => "slow_consumer",
            CloseReason::MaxDuration => "max_duration",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::Invalidated => "invalidated",
        }
    }
}

/// Why a subscription ended, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndReason {
    Stop,
    Disconnect,
    Invalidated,
    FieldRemoved,
}

impl EndReason {
    const ALL: [EndReason; 4] = [
        EndReason::Stop,
        EndReason::Disconnect,
        EndReason::Invalidated,
        EndReason::FieldRemoved,
    ];

    fn as_str(self) -> &'static str {
        match self {
            EndReason::Stop => "stop",
            EndReason::Disconnect => "disconnect",
            EndReason::Invalidated => "invalidated",
            EndReason::FieldRemoved => "field_removed",
        }
    }
}

/// A message queued for a connection.
#[derive(Debug)]
pub enum Outgoing {
    /// A whole message.
    Text(String),
    /// A `data` message: the subscription's id, already JSON-quoted, and
    /// the payload every subscriber with the same selection shares. The
    /// connection's task joins them, so the fan-out only clones pointers.
    Data { id: Arc<str>, payload: Arc<str> },
}

impl Outgoing {
    pub fn into_text(self) -> String {
        match self {
            Outgoing::Text(text) => text,
            Outgoing::Data { id, payload } => {
                let mut message = String::with_capacity(payload.len() + id.len() + 36);
                message.push_str(r#"{"type":"data","id":"#);
                message.push_str(&id);
                message.push_str(r#","payload":"#);
                message.push_str(&payload);
                message.push('}');
                message
            }
        }
    }
}

/// One WebSocket connection as the hub sees it: where its messages go, and
/// a flag the connection's task watches to close it.
#[derive(Debug)]
pub struct Connection {
    sender: mpsc::Sender<Outgoing>,
    /// Client subscription id to the hub's id.
    subscriptions: Mutex<HashMap<Arc<str>, u64>>,
    close: Mutex<Option<Closing>>,
    closing: Notify,
    closed: AtomicBool,
}

/// Why the hub asks a connection to close, and its last message.
#[derive(Debug, Clone)]
pub struct Closing {
    pub reason: CloseReason,
    /// Sent before the close when the client can still read.
    pub message: Option<String>,
}

impl Connection {
    /// Resolves when the hub asks this connection to close.
    pub async fn closing(&self) -> Closing {
        loop {
            let notified = self.closing.notified();
            if let Some(closing) = self.requested_close() {
                return closing;
            }
            notified.await;
        }
    }

    fn requested_close(&self) -> Option<Closing> {
        self.close
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn request_close(&self, closing: Closing) {
        let mut slot = self.close.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(closing);
            self.closing.notify_one();
        }
    }

    /// How many subscriptions the connection holds.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the client's id `id` is in use.
    pub fn has_subscription(&self, id: &str) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(id)
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

struct Entry {
    connection: Arc<Connection>,
    client_id: Arc<str>,
    /// `client_id` as a JSON string, for `data` messages.
    id_json: Arc<str>,
    field: String,
    route: Route,
    invalidation: Option<SubscriptionFilter>,
    projection: Arc<Projection>,
}

enum Route {
    Arguments { names: Arc<[String]>, key: String },
    Filter { key: String },
}

#[derive(Default)]
struct FieldIndex {
    /// Sorted argument names → canonical argument values → subscriptions.
    by_arguments: FxHashMap<Arc<[String]>, FxHashMap<String, FxHashSet<u64>>>,
    /// Canonical filter text → the filter and its subscriptions.
    by_filter: FxHashMap<String, (Arc<SubscriptionFilter>, FxHashSet<u64>)>,
    /// Subscriptions with an invalidation filter.
    invalidatable: FxHashSet<u64>,
    count: usize,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    entries: FxHashMap<u64, Entry>,
    fields: FxHashMap<String, FieldIndex>,
    /// Equal selections share one projection (with its subscriber count),
    /// so a publication renders each distinct selection once.
    projections: FxHashMap<Arc<Projection>, usize>,
}

#[derive(Default)]
struct HubMetrics {
    connections: AtomicUsize,
    subscriptions: AtomicUsize,
    published: AtomicU64,
    delivered: AtomicU64,
    filtered_out: AtomicU64,
    dropped_too_large: AtomicU64,
    invalidated: AtomicU64,
    closed: [AtomicU64; CloseReason::ALL.len()],
    ended: [AtomicU64; EndReason::ALL.len()],
    fan_out: Histogram,
    fan_out_queued: Histogram,
}

/// The server's subscriptions, shared by every connection and kept across
/// reloads.
pub struct Hub {
    limits: RwLock<RealtimeLimits>,
    registry: RwLock<Registry>,
    queue: OnceLock<mpsc::UnboundedSender<(Publication, Instant)>>,
    metrics: HubMetrics,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.metrics.connections)
            .field("subscriptions", &self.metrics.subscriptions)
            .finish_non_exhaustive()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(RealtimeLimits::default())
    }
}

impl Hub {
    pub fn new(limits: RealtimeLimits) -> Self {
        Self {
            limits: RwLock::new(limits),
            registry: RwLock::new(Registry::default()),
            queue: OnceLock::new(),
            metrics: HubMetrics::default(),
        }
    }

    pub fn limits(&self) -> RealtimeLimits {
        self.limits
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies the server's options; connections opened before keep theirs.
    pub fn set_limits(&self, limits: RealtimeLimits) {
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a connection: its handle, and the receiver of its messages.
    pub fn connect(&self) -> (Arc<Connection>, mpsc::Receiver<Outgoing>) {
        let capacity = self.limits().queue_capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        self.metrics.connections.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            sender,
            subscriptions: Mutex::new(HashMap::new()),
            close: Mutex::new(None),
            closing: Notify::new(),
            closed: AtomicBool::new(false),
        });
        (connection, receiver)
    }

    /// Ends every subscription of a closed connection.
    pub fn disconnect(&self, connection: &Arc<Connection>, reason: CloseReason) {
        if connection.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        let ids: Vec<u64> = std::mem::take(
            &mut *connection
                .subscriptions
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
        .into_values()
        .collect();
        if !ids.is_empty() {
            let mut registry = self.write();
            for id in ids {
                self.unregister(&mut registry, id, EndReason::Disconnect);
            }
        }
        self.metrics.connections.fetch_sub(1, Ordering::Relaxed);
        self.metrics.closed[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Registers a subscription under the client's id.
    pub fn add(
        &self,
        connection: &Arc<Connection>,
        client_id: &str,
        plan: SubscriptionPlan,
    ) -> Result<(), AddError> {
        let max = self.limits().max_subscriptions_per_connection;
        let mut owned = connection
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if owned.contains_key(client_id) {
            return Err(AddError::Duplicate);
        }
        if owned.len() >= max {
            return Err(AddError::MaxSubscriptionsReached);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let mut registry = self.write();
        registry.next_id += 1;
        let id = registry.next_id;
        let index = registry.fields.entry(plan.field.clone()).or_default();
        let route = match plan.filter {
            Some(EnhancedFilter { key, filter }) => {
                index
                    .by_filter
                    .entry(key.clone())
                    .or_insert_with(|| (Arc::new(filter), FxHashSet::default()))
                    .1
                    .insert(id);
                Route::Filter { key }
            }
            None => {
                let mut names: Vec<String> = plan.arguments.keys().cloned().collect();
                names.sort();
                let key = arguments_key(&names, |name| plan.arguments.get(name));
                let names: Arc<[String]> = match index.by_arguments.get_key_value(&names[..]) {
                    Some((existing, _)) => Arc::clone(existing),
                    None => Arc::from(names),
                };
                index
                    .by_arguments
                    .entry(Arc::clone(&names))
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .insert(id);
                Route::Arguments { names, key }
            }
        };
        if plan.invalidation_filter.is_some() {
            index.invalidatable.insert(id);
        }
        index.count += 1;
        let projection = match registry.projections.get_key_value(&plan.projection) {
            Some((shared, _)) => Arc::clone(shared),
            None => plan.projection,
        };
        *registry
            .projections
            .entry(Arc::clone(&projection))
            .or_insert(0) += 1;
        registry.entries.insert(
            id,
            Entry {
                connection: Arc::clone(connection),
                id_json: Arc::from(Json::String(client_id.to_string()).to_string()),
                client_id: Arc::clone(&client_id),
                field: plan.field,
                route,
                invalidation: plan.invalidation_filter,
                projection,
            },
        );
        owned.insert(client_id, id);
        self.metrics.subscriptions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Ends the client's subscription `client_id`; false when it has none.
    pub fn remove(&self, connection: &Arc<Connection>, client_id: &str) -> bool {
        let id = connection
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(client_id);
        match id {
            Some(id) => {
                self.unregister(&mut self.write(), id, EndReason::Stop);
                true
            }
            None => false,
        }
    }

    fn unregister(&self, registry: &mut Registry, id: u64, reason: EndReason) -> Option<Entry> {
        let entry = registry.entries.remove(&id)?;
        if let Some(count) = registry.projections.get_mut(&entry.projection) {
            *count -= 1;
            if *count == 0 {
                registry.projections.remove(&entry.projection);
            }
        }
        if let Some(index) = registry.fields.get_mut(&entry.field) {
            match &entry.route {
                Route::Arguments { names, key } => {
                    if let Some(buckets) = index.by_arguments.get_mut(names) {
                        if let Some(bucket) = buckets.get_mut(key) {
                            bucket.remove(&id);
                            if bucket.is_empty() {
                                buckets.remove(key);
                            }
                        }
                        if buckets.is_empty() {
                            index.by_arguments.remove(names);
                        }
                    }
                }
                Route::Filter { key } => {
                    if let Some((_, bucket)) = index.by_filter.get_mut(key) {
                        bucket.remove(&id);
                        if bucket.is_empty() {
                            index.by_filter.remove(key);
                        }
                    }
                }
            }
            index.invalidatable.remove(&id);
            index.count -= 1;
            if index.count == 0 {
                registry.fields.remove(&entry.field);
            }
        }
        self.metrics.subscriptions.fetch_sub(1, Ordering::Relaxed);
        self.metrics.ended[reason as usize].fetch_add(1, Ordering::Relaxed);
        Some(entry)
    }

    /// Whether any subscription listens on `field`.
    pub fn has_subscribers(&self, field: &str) -> bool {
        self.read().fields.contains_key(field)
    }

    /// Queues publications for the fan-out task and returns at once.
    /// Publications to fields nobody listens on are dropped here.
    pub fn publish(self: &Arc<Self>, publications: Vec<Publication>) {
        let now = Instant::now();
        for publication in publications {
            if !self.has_subscribers(publication.subscription_field()) {
                continue;
            }
            let queue = self.queue.get_or_init(|| self.start_fan_out());
            // The receiver lives as long as the hub's task, which holds
            // only a weak reference and ends when the hub is dropped.
            let _ = queue.send((publication, now));
        }
    }

    fn start_fan_out(self: &Arc<Self>) -> mpsc::UnboundedSender<(Publication, Instant)> {
        let (sender, mut receiver) = mpsc::unbounded_channel::<(Publication, Instant)>();
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some((publication, queued)) = receiver.recv().await {
                let Some(hub) = hub.upgrade() else {
                    return;
                };
                let started = Instant::now();
                hub.deliver(&publication);
                hub.metrics.fan_out.observe(started.elapsed());
                hub.metrics.fan_out_queued.observe(started - queued);
            }
        });
        sender
    }

    /// Delivers one publication now (the fan-out task calls this).
    pub fn deliver(&self, publication: &Publication) {
        match publication {
            Publication::Result {
                subscription_field,
                result,
            } => self.deliver_result(subscription_field, result),
            Publication::Invalidate {
                subscription_field,
                payload,
            } => self.invalidate(subscription_field, payload),
        }
    }

    fn deliver_result(&self, field: &str, result: &Json) {
        self.metrics.published.fetch_add(1, Ordering::Relaxed);
        let max_bytes = self.limits().max_message_bytes;
        let registry = self.read();
        let Some(index) = registry.fields.get(field) else {
            return;
        };
        let mut matched: Vec<u64> = Vec::new();
        for (names, buckets) in &index.by_arguments {
            let key = arguments_key(names, |name| result.get(name));
            if let Some(bucket) = buckets.get(&key) {
                matched.extend(bucket.iter().copied());
            }
        }
        for (filter, bucket) in index.by_filter.values() {
            if filter.matches(result) {
                matched.extend(bucket.iter().copied());
            }
        }
        self.metrics
            .filtered_out
            .fetch_add((index.count - matched.len()) as u64, Ordering::Relaxed);
        // Subscribers with the same selection share one rendering.
        let mut rendered: FxHashMap<*const Projection, Option<Arc<str>>> = FxHashMap::default();
        for id in matched {
            let Some(entry) = registry.entries.get(&id) else {
                continue;
            };
            if entry.connection.is_closed() {
                continue;
            }
            let payload = rendered
                .entry(Arc::as_ptr(&entry.projection))
                .or_insert_with(|| {
                    let mut missing = Vec::new();
                    let payload = entry
                        .projection
                        .apply_noting(result, &mut missing)
                        .to_string();
                    if !missing.is_empty() {
                        // AppSync sends them as null; users are surprised.
                        tracing::debug!(
                            target: "appsync_local::realtime",
                            field,
                            "subscribers select fields the mutation did not: {} arrive as null",
                            missing.join(", ")
                        );
                    }
                    // AppSync drops messages over its size limit without a word.
                    (payload.len() <= max_bytes).then(|| Arc::from(payload))
                });
            let Some(payload) = payload else {
                self.metrics
                    .dropped_too_large
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let message = Outgoing::Data {
                id: Arc::clone(&entry.id_json),
                payload: Arc::clone(payload),
            };
            self.send(&entry.connection, message);
        }
    }

    /// Puts a message on the connection's queue, or closes the connection
    /// when the queue is full.
    fn send(&self, connection: &Arc<Connection>, message: Outgoing) {
        match connection.sender.try_send(message) {
            Ok(()) => {
                self.metrics.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Not an AppSync behaviour (its queues are not documented):
                // a reader this slow would otherwise hold memory without
                // bound.
                connection.request_close(Closing {
                    reason: CloseReason::SlowConsumer,
                    message: Some(
                        ServerMessage::error(
                            None,
                            "LimitExceededError",
                            "The connection was closed because the client did not read its messages fast enough.",
                        )
                        .to_text(),
                    ),
                });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Ends the subscriptions on `field` whose invalidation filter matches
    /// `payload`, and closes their connections, as AppSync does.
    fn invalidate(&self, field: &str, payload: &Json) {
        let mut registry = self.write();
        let Some(index) = registry.fields.get(field) else {
            return;
        };
        let ids: Vec<u64> = index
            .invalidatable
            .iter()
            .copied()
            .filter(|id| {
                registry
                    .entries
                    .get(id)
                    .and_then(|e| e.invalidation.as_ref())
                    .is_some_and(|filter| filter.matches(payload))
            })
            .collect();
        for id in ids {
            let Some(entry) = self.end(&mut registry, id, EndReason::Invalidated) else {
                continue;
            };
            self.metrics.invalidated.fetch_add(1, Ordering::Relaxed);
            entry.connection.request_close(Closing {
                reason: CloseReason::Invalidated,
                message: Some(ServerMessage::invalidated(&entry.client_id).to_text()),
            });
        }
    }

    /// After a reload: ends the subscriptions whose field is gone, with an
    /// error each, and keeps the rest.
    pub fn retain_fields(&self, fields: &[String]) {
        let mut registry = self.write();
        let gone: Vec<u64> = registry
            .entries
            .iter()
            .filter(|(_, e)| !fields.contains(&e.field))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            let Some(entry) = self.end(&mut registry, id, EndReason::FieldRemoved) else {
                continue;
            };
            let message = ServerMessage::error(
                Some(&entry.client_id),
                "SubscriptionFieldRemoved",
                &format!(
                    "The subscription field '{}' no longer exists in the schema; the subscription was closed.",
                    entry.field
                ),
            );
            self.send(&entry.connection, Outgoing::Text(message.to_text()));
        }
    }

    /// Ends a subscription the hub decided to end: out of the registry
    /// and off its connection.
    fn end(&self, registry: &mut Registry, id: u64, reason: EndReason) -> Option<Entry> {
        let entry = self.unregister(registry, id, reason)?;
        entry
            .connection
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&entry.client_id);
        Some(entry)
    }

    pub fn connection_count(&self) -> usize {
        self.metrics.connections.load(Ordering::Relaxed)
    }

    pub fn subscription_count(&self) -> usize {
        self.metrics.subscriptions.load(Ordering::Relaxed)
    }

    /// The real-time series for `/metrics`.
    pub fn write_metrics(&self, out: &mut String) {
        let m = &self.metrics;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let gauges = [
            (
                "appsync_realtime_connections",
                "Open real-time WebSocket connections.",
                m.connections.load(Ordering::Relaxed) as u64,
            ),
            (
                "appsync_realtime_subscriptions",
                "Active subscriptions.",
                m.subscriptions.load(Ordering::Relaxed) as u64,
            ),
        ];
        let counters = [
            (
                "appsync_realtime_published_total",
                "Mutation results published to a subscription field with subscribers.",
                load(&m.published),
            ),
            (
                "appsync_realtime_delivered_total",
                "data messages queued to subscribers.",
                load(&m.delivered),
            ),
            (
                "appsync_realtime_filtered_out_total",
                "Subscriptions a publication skipped because their arguments or filter did not match.",
                load(&m.filtered_out),
            ),
            (
                "appsync_realtime_dropped_too_large_total",
                "data messages dropped for exceeding the message size limit.",
                load(&m.dropped_too_large),
            ),
            (
                "appsync_realtime_invalidated_total",
                "Subscriptions ended by extensions.invalidateSubscriptions.",
                load(&m.invalidated),
            ),
        ];
        for (kind, series) in [("gauge", &gauges[..]), ("counter", &counters[..])] {
            for (name, help, value) in series {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
                );
            }
        }
        let closed: Vec<(&str, u64)> = CloseReason::ALL
            .iter()
            .map(|r| (r.as_str(), load(&m.closed[*r as usize])))
            .collect();
        let ended: Vec<(&str, u64)> = EndReason::ALL
            .iter()
            .map(|r| (r.as_str(), load(&m.ended[*r as usize])))
            .collect();
        for (name, help, by_reason) in [
            (
                "appsync_realtime_connections_closed_total",
                "Closed connections by reason.",
                closed,
            ),
            (
                "appsync_realtime_subscriptions_ended_total",
                "Ended subscriptions by reason.",
                ended,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (reason, value) in by_reason {
                let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {value}");
            }
        }
        for (name, help, histogram) in [
            (
                "appsync_realtime_fan_out_seconds",
                "Time to find a publication's subscribers and queue their messages.",
                &m.fan_out,
            ),
            (
                "appsync_realtime_fan_out_wait_seconds",
                "Time a publication waited for the fan-out task.",
                &m.fan_out_queued,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            histogram.write(out, name, "");
        }
    }
}

/// The canonical text of the values of `names` (absent reads as null, and
/// numbers compare by value), under which argument buckets are keyed.
fn arguments_key<'v>(names: &[String], value: impl Fn(&str) -> Option<&'v Json>) -> String {
    let mut key = String::new();
    for name in names {
        canonical(value(name).unwrap_or(&Json::Null), &mut key);
        key.push('\u{1}');
    }
    key
}

fn canonical(value: &Json, out: &mut String) {
    match value {
        Json::Number(n) => {
            let _ = write!(out, "n{}", n.as_f64().unwrap_or(f64::NAN));
        }
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
                out.push(',');
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
