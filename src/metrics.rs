//! `GET /metrics`: counters and latency histograms in the Prometheus text
//! format, written by hand (a few atomics do not need a metrics crate).
//!
//! Everything recorded on the request path is a preallocated atomic: the
//! per-resolver series are created at load ([`DataSourceCalls`], held by
//! each resolver plan), so recording allocates nothing and takes no lock.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::parser::types::OperationType;

/// Upper bounds of the latency buckets, in seconds: 0.5 ms to 10 s covers a
/// cache hit as well as a slow scan.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let idx = BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[idx].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Writes `<name>_bucket`, `_sum` and `_count` lines; `labels` is the
    /// label text without braces (`operation="query"`).
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
        // A series without labels has no braces at all.
        let (open, sep, close) = if labels.is_empty() {
            ("", "", "")
        } else {
            ("{", ",", "}")
        };
        let mut cumulative = 0;
        for (idx, counter) in self.buckets.iter().enumerate() {
            cumulative += counter.load(Ordering::Relaxed);
            let le = match BUCKETS.get(idx) {
                Some(bound) => bound.to_string(),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{open}{labels}{close} {sum}");
        let _ = writeln!(out, "{name}_count{open}{labels}{close} {}", self.count());
    }
}

/// The operation type a request is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
    /// The request failed before an operation was chosen: a size guard,
    /// a parse or validation error, an unknown operation name.
    Unknown,
}

impl OperationKind {
    const ALL: [OperationKind; 4] = [
        OperationKind::Query,
        OperationKind::Mutation,
        OperationKind::Subscription,
        OperationKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
            OperationKind::Unknown => "unknown",
        }
    }
}

impl From<OperationType> for OperationKind {
    fn from(ty: OperationType) -> Self {
        match ty {
            OperationType::Query => OperationKind::Query,
            OperationType::Mutation => OperationKind::Mutation,
            OperationType::Subscription => OperationKind::Subscription,
        }
    }
}

/// A limit that rejected a request or a field, labelled by its manifest key.
// The variants are named after AppSync's settings (`queryDepthLimit`).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Counted per field that hit it.
    QueryDepthLimit,
    /// Counted per resolver that did not run.
    ResolverCountLimit,
    /// Counted per rejected request.
    Introspection,
    MaxAliases,
    MaxRootFields,
    MaxQueryBytes,
    MaxQueryTokens,
    /// Counted per list that was too long.
    MaxListFanOut,
}

impl Limit {
    const ALL: [Limit; 8] = [
        Limit::QueryDepthLimit,
        Limit::ResolverCountLimit,
        Limit::Introspection,
        Limit::MaxAliases,
        Limit::MaxRootFields,
        Limit::MaxQueryBytes,
        Limit::MaxQueryTokens,
        Limit::MaxListFanOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Limit::QueryDepthLimit => "queryDepthLimit",
            Limit::ResolverCountLimit => "resolverCountLimit",
            Limit::Introspection => "introspection",
            Limit::MaxAliases => "maxAliases",
            Limit::MaxRootFields => "maxRootFields",
            Limit::MaxQueryBytes => "maxQueryBytes",
            Limit::MaxQueryTokens => "maxQueryTokens",
            Limit::MaxListFanOut => "maxListFanOut",
        }
    }
}

/// Request-level series of one loaded API.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [Histogram; OperationKind::ALL.len()],
    rejections: [AtomicU64; Limit::ALL.len()],
}

impl Metrics {
    pub fn record_request(&self, kind: OperationKind, elapsed: Duration) {
        self.requests[kind as usize].observe(elapsed);
    }

    pub fn record_rejection(&self, limit: Limit) {
        self.rejections[limit as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn rejections(&self, limit: Limit) -> u64 {
        self.rejections[limit as usize].load(Ordering::Relaxed)
    }

    /// Appends the request and limit series.
    pub fn write(&self, out: &mut String) {
        out.push_str("# HELP appsync_requests_total GraphQL requests by operation type.\n");
        out.push_str("# TYPE appsync_requests_total counter\n");
        for kind in OperationKind::ALL {
            let _ = writeln!(
                out,
                "appsync_requests_total{{operation=\"{}\"}} {}",
                kind.as_str(),
                self.requests[kind as usize].count()
            );
        }
        out.push_str(
            "# HELP appsync_request_duration_seconds GraphQL request latency by operation type.\n",
        );
        out.push_str("# TYPE appsync_request_duration_seconds histogram\n");
        for kind in OperationKind::ALL {
            self.requests[kind as usize].write(
                out,
                "appsync_request_duration_seconds",
                &format!("operation=\"{}\"", kind.as_str()),
            );
        }
        out.push_str("# HELP appsync_limit_rejections_total Requests or fields rejected by a limit or guard.\n");
        out.push_str("# TYPE appsync_limit_rejections_total counter\n");
        for limit in Limit::ALL {
            let _ = writeln!(
                out,
                "appsync_limit_rejections_total{{limit=\"{}\"}} {}",
                limit.as_str(),
                self.rejections(limit)
            );
        }
    }
}

/// Calls from one resolver (`Type.field`) to one data source, created at
/// load so a call only bumps atomics.
#[derive(Debug)]
pub struct DataSourceCalls {
    pub field: String,
    pub data_source: String,
    invocations: AtomicU64,
    latency: Histogram,
}

impl DataSourceCalls {
    pub fn new(field: String, data_source: String) -> Self {
        DataSourceCalls {
            field,
            data_source,
            invocations: AtomicU64::new(0),
            latency: Histogram::default(),
        }
    }

    /// Counted when the call starts, so concurrent callers see it at once.
    pub fn started(&self) {
        self.invocations.fetch_add(1, Ordering::Relaxed);
    }

    pub fn finished(&self, elapsed: Duration) {
        self.latency.observe(elapsed);
    }

    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Appends the per-resolver series, sorted by field then data source.
pub fn write_resolvers(out: &mut String, calls: &mut [&DataSourceCalls]) {
    calls.sort_by(|a, b| (&a.field, &a.data_source).cmp(&(&b.field, &b.data_source)));
    out.push_str("# HELP appsync_resolver_invocations_total Data-source invocations by field and data source.\n");
    out.push_str("# TYPE appsync_resolver_invocations_total counter\n");
    for c in calls.iter() {
        let _ = writeln!(
            out,
            "appsync_resolver_invocations_total{{field=\"{}\",data_source=\"{}\"}} {}",
            escape(&c.field),
            escape(&c.data_source),
            c.invocations()
        );
    }
    out.push_str("# HELP appsync_resolver_duration_seconds Data-source call latency by field and data source.\n");
    out.push_str("# TYPE appsync_resolver_duration_seconds histogram\n");
    for c in calls.iter() {
        let labels = format!(
            "field=\"{}\",data_source=\"{}\"",
            escape(&c.field),
            escape(&c.data_source)
        );
        c.latency
            .write(out, "appsync_resolver_duration_seconds", &labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(20));
        let mut out = String::new();
        h.write(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.0005\"} 1\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.0025\"} 1\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.005\"} 2\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"10\"} 2\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"));
        assert!(out.contains("x_sum{a=\"b\"} 20.0033\n"));
        assert!(out.contains("x_count{a=\"b\"} 3\n"));
    }
}
