//! `GET /metrics`: a small hand-written Prometheus text exposition of the
//! cache counters and resolver invocations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use super::CacheStats;

/// Data-source invocations per `Type.field` and data source.
#[derive(Debug, Default)]
pub struct Invocations {
    counts: Mutex<BTreeMap<(String, String), u64>>,
}

impl Invocations {
    pub fn record(&self, field: &str, data_source: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry((field.to_owned(), data_source.to_owned()))
                .or_default() += 1;
        }
    }

    /// How many times `field` (`Type.field`) called `data_source`.
    pub fn count(&self, field: &str, data_source: &str) -> u64 {
        self.counts
            .lock()
            .ok()
            .and_then(|c| c.get(&(field.to_owned(), data_source.to_owned())).copied())
            .unwrap_or(0)
    }

    fn snapshot(&self) -> Vec<((String, String), u64)> {
        self.counts
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text. `cache` is `None` when the API has no cache.
pub fn render(cache: Option<CacheStats>, invocations: &Invocations) -> String {
    let mut out = String::new();
    if let Some(s) = cache {
        let levels = [
            ("resolver", s.resolver_hits, s.resolver_misses),
            ("operation", s.operation_hits, s.operation_misses),
        ];
        out.push_str("# HELP appsync_cache_hits_total Requests answered from the cache.\n");
        out.push_str("# TYPE appsync_cache_hits_total counter\n");
        for (level, hits, _) in levels {
            let _ = writeln!(out, "appsync_cache_hits_total{{level=\"{level}\"}} {hits}");
        }
        out.push_str("# HELP appsync_cache_misses_total Requests that ran and filled the cache.\n");
        out.push_str("# TYPE appsync_cache_misses_total counter\n");
        for (level, _, misses) in levels {
            let _ = writeln!(
                out,
                "appsync_cache_misses_total{{level=\"{level}\"}} {misses}"
            );
        }
        out.push_str("# HELP appsync_cache_evictions_total Entries removed by evictFromApiCache, expiry or the size budget.\n");
        out.push_str("# TYPE appsync_cache_evictions_total counter\n");
        let _ = writeln!(out, "appsync_cache_evictions_total {}", s.evictions);
        out.push_str("# HELP appsync_cache_entries Entries in the cache.\n");
        out.push_str("# TYPE appsync_cache_entries gauge\n");
        let _ = writeln!(out, "appsync_cache_entries {}", s.entries);
        out.push_str("# HELP appsync_cache_weighted_size_bytes The cache's weighted size.\n");
        out.push_str("# TYPE appsync_cache_weighted_size_bytes gauge\n");
        let _ = writeln!(
            out,
            "appsync_cache_weighted_size_bytes {}",
            s.weighted_bytes
        );
    }
    out.push_str("# HELP appsync_resolver_invocations_total Data-source invocations by field and data source.\n");
    out.push_str("# TYPE appsync_resolver_invocations_total counter\n");
    for ((field, data_source), count) in invocations.snapshot() {
        let _ = writeln!(
            out,
            "appsync_resolver_invocations_total{{field=\"{}\",data_source=\"{}\"}} {count}",
            escape(&field),
            escape(&data_source)
        );
    }
    out
}
