//! AMAZON_EVENTBRIDGE: `{operation: PutEvents, events: [...]}`. Events are
//! recorded in the stores' event log (`GET /admin/events`) and, with
//! `config.endpoint`, also sent to an EventBridge API. `$ctx.result` is
//! PutEvents' `{Entries, FailedEntryCount}`; failed entries are not errors.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Request, Uri};
use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{DataSource, DataSourceError, InvocationInfo, parse_request};
use crate::auth::sigv4::{SigningCredentials, sign};
use crate::graphql::BoxFuture;
use crate::stores::Stores;

/// PutEvents takes 1 to 10 entries.
const MAX_ENTRIES: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutEventsRequest {
    operation: String,
    #[serde(default)]
    events: Vec<Json>,
}

#[derive(Debug)]
pub struct EventBridgeDataSource {
    pub name: String,
    /// The bus name, the last part of `eventBusArn` (`default` without).
    pub event_bus: String,
    pub stores: Arc<Stores>,
    /// Also send the events to an EventBridge API.
    pub forward: Option<Forwarding>,
}

/// Where events also go, and how the calls are signed (settled at load).
#[derive(Debug)]
pub struct Forwarding {
    pub endpoint: Uri,
    /// The environment's credentials; unsigned without them.
    pub credentials: Option<SigningCredentials>,
    pub region: String,
}

/// EventBridge's per-entry check: what PutEvents refuses for one entry.
fn entry_problem(event: &Json) -> Option<String> {
    let field = |name: &str| {
        event
            .get(name)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    };
    if field("source").is_none() {
        return Some(
            "Parameter Source is not valid. Reason: Source is a required argument.".into(),
        );
    }
    if field("detailType").is_none() {
        return Some(
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.".into(),
        );
    }
    match event.get("detail") {
        Some(Json::Object(_)) => {}
        Some(Json::String(s)) if serde_json::from_str::<Json>(s).is_ok_and(|d| d.is_object()) => {}
        _ => return Some("Detail is malformed.".into()),
    }
    if let Some(time) = event.get("time")
        && time
            .as_str()
            .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
    {
        return Some(
            "Parameter Time is not valid. Reason: Time must be an RFC 3339 timestamp.".into(),
        );
    }
    None
}

impl EventBridgeDataSource {
    async fn put_events(
        &self,
        request: Json,
        info: InvocationInfo<'_>,
    ) -> Result<Json, DataSourceError> {
        let request = parse_request::<PutEventsRequest>(request)?;
        if request.operation != "PutEvents" {
            return Err(DataSourceError::new(
                "MappingTemplate",
                format!(
                    "unsupported operation `{}`: EventBridge data sources take `PutEvents`",
                    request.operation
                ),
            ));
        }
        if request.events.is_empty() || request.events.len() > MAX_ENTRIES {
            return Err(DataSourceError::new(
                "MappingTemplate",
                format!(
                    "PutEvents takes 1 to {MAX_ENTRIES} events; this request has {}",
                    request.events.len()
                ),
            ));
        }
        let mut entries = Vec::with_capacity(request.events.len());
        let mut failed = 0;
        let mut accepted = Vec::new();
        for event in &request.events {
            if let Some(message) = entry_problem(event) {
                failed += 1;
                entries.push(json!({"ErrorCode": "InvalidArgument", "ErrorMessage": message}));
                continue;
            }
            let id = uuid::Uuid::new_v4().to_string();
            let detail = match &event["detail"] {
                Json::String(s) => serde_json::from_str(s).unwrap_or_default(),
                other => other.clone(),
            };
            let time = event
                .get("time")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
            accepted.push(json!({
                "EventId": id,
                "EventBusName": self.event_bus,
                "Source": event["source"],
                "DetailType": event["detailType"],
                "Detail": detail,
                "Resources": event.get("resources").cloned().unwrap_or_else(|| json!([])),
                "Time": time,
                "DataSource": self.name,
                "Field": format!("{}.{}", info.parent_type_name, info.field_name),
            }));
            entries.push(json!({"EventId": id}));
        }
        if let Some(forwarding) = &self.forward
            && !accepted.is_empty()
        {
            // The API's answers replace the entries it was sent, in order.
            let mut remote = self.send(forwarding, &accepted).await?.into_iter();
            for entry in entries.iter_mut().filter(|e| e.get("EventId").is_some()) {
                *entry = remote.next().unwrap_or_else(|| {
                    json!({"ErrorCode": "InternalFailure", "ErrorMessage": "no answer for this entry"})
                });
                if entry.get("EventId").is_none() {
                    failed += 1;
                }
            }
            return Ok(json!({"Entries": entries, "FailedEntryCount": failed}));
        }
        for event in accepted {
            self.stores.events.record(event);
        }
        Ok(json!({"Entries": entries, "FailedEntryCount": failed}))
    }

    /// Sends the entries to an EventBridge API; its entries, in order. What
    /// it accepted is recorded too.
    async fn send(
        &self,
        forwarding: &Forwarding,
        accepted: &[Json],
    ) -> Result<Vec<Json>, DataSourceError> {
        let endpoint = &forwarding.endpoint;
        let entries: Vec<Json> = accepted
            .iter()
            .map(|e| {
                json!({
                    "Source": e["Source"],
                    "DetailType": e["DetailType"],
                    "Detail": e["Detail"].to_string(),
                    "Resources": e["Resources"],
                    "Time": e["Time"],
                    "EventBusName": e["EventBusName"],
                })
            })
            .collect();
        let body = Bytes::from(json!({"Entries": entries}).to_string());
        let service_error =
            |message: String| DataSourceError::new("EventBridge:ServiceException", message);
        let request = Request::post(endpoint.clone())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "AWSEvents.PutEvents")
            .body(Full::new(body.clone()))
            .map_err(|e| service_error(e.to_string()))?;
        let (mut parts, full) = request.into_parts();
        if let Some(credentials) = &forwarding.credentials {
            sign(
                &mut parts,
                &body,
                credentials,
                &forwarding.region,
                "events",
                chrono::Utc::now().timestamp(),
            );
        }
        let response =
            crate::outbound::send(Request::from_parts(parts, full), Duration::from_secs(30))
                .await
                .map_err(|e| service_error(e.to_string()))?;
        let result: Json = serde_json::from_slice(response.body()).unwrap_or_default();
        if !response.status().is_success() {
            let message = result
                .get("message")
                .or_else(|| result.get("Message"))
                .and_then(Json::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{endpoint} answered {}", response.status()));
            return Err(service_error(message));
        }
        let entries = result["Entries"].as_array().cloned().unwrap_or_default();
        for (event, entry) in accepted.iter().zip(&entries) {
            if let Some(id) = entry.get("EventId") {
                let mut event = event.clone();
                event["EventId"] = id.clone();
                self.stores.events.record(event);
            }
        }
        Ok(entries)
    }
}

impl DataSource for EventBridgeDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        Box::pin(self.put_events(request, info))
    }
}
