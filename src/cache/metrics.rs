//! The cache's part of `GET /metrics` (see `crate::metrics` for the rest).

use std::fmt::Write as _;

use super::CacheStats;

/// Appends the cache series; nothing when the API has no cache.
pub fn render(cache: Option<CacheStats>, out: &mut String) {
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
        // One level stores entries per API (its behavior decides), so these
        // carry that level's label.
        let level = s.level;
        let _ = writeln!(
            out,
            "appsync_cache_evictions_total{{level=\"{level}\"}} {}",
            s.evictions
        );
        out.push_str("# HELP appsync_cache_entries Entries in the cache.\n");
        out.push_str("# TYPE appsync_cache_entries gauge\n");
        let _ = writeln!(
            out,
            "appsync_cache_entries{{level=\"{level}\"}} {}",
            s.entries
        );
        out.push_str("# HELP appsync_cache_weighted_size_bytes The cache's weighted size.\n");
        out.push_str("# TYPE appsync_cache_weighted_size_bytes gauge\n");
        let _ = writeln!(
            out,
            "appsync_cache_weighted_size_bytes {}",
            s.weighted_bytes
        );
    }
}
