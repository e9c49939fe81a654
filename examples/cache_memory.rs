//! Memory of the server-side cache under a load of distinct keys: drives
//! many distinct operation entries (each with the memo the server adds) and
//! resolver entries through `ApiCache`, and reports the cache's weighted
//! size and the process's resident memory beside the budget.
//!
//! ```text
//! cargo run --release --example cache_memory -- --budget-mib 16 --keys 300000
//! # calibration: a budget nothing reaches, so every entry stays; compares
//! # the weights with the memory they really hold
//! cargo run --release --example cache_memory -- --budget-mib 4096 --keys 100000
//! ```
//!
//! Entries look like the demo's: an operation key of about 120 bytes, a
//! `getFlight` response of about 150 bytes, a resolver result of a flight
//! item as a JSON value.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use appsync_local::cache::ApiCache;
use appsync_local::model::manifest::CachingBehavior;
use serde_json::{Value as Json, json};

/// Resident and peak resident memory of this process, in bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn flight(i: usize) -> Json {
    json!({
        "id": format!("FL{i:07}"),
        "departureCity": "London",
        "arrivalCity": "Frankfurt",
        "ticketPrice": 100 + i % 400,
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut budget_mib = 16u64;
    let mut keys = 300_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--budget-mib", Some(v)) => budget_mib = v,
            ("--keys", Some(v)) => keys = usize::try_from(v).unwrap_or(usize::MAX),
            _ => {
                eprintln!("usage: cache_memory [--budget-mib N] [--keys N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let budget = budget_mib * 1024 * 1024;
    let (base, _) = rss();
    // Operation entries and resolver entries share one store and budget;
    // the behavior only decides which the executor asks for.
    let cache = ApiCache::new(
        CachingBehavior::OperationLevelCaching,
        Duration::from_secs(3600),
        budget,
        HashMap::new(),
    );
    let ttl = Duration::from_secs(3600);
    let mut max_weighted = 0;
    println!(
        "budget {budget_mib} MiB, {keys} distinct keys (each: an operation entry, its memo, a resolver entry)"
    );
    for i in 0..keys {
        let query = format!(
            "query{{getFlight(id:\"FL{i:07}\"){{id departureCity arrivalCity ticketPrice}}}}"
        );
        let key = format!("operation\0{query}\0\0{{}}\0null");
        let shared: Arc<str> = Arc::from(key.as_str());
        let data = json!({"getFlight": flight(i)});
        let served = cache
            .resolve_operation::<(), _>(key, async move { Ok(data) })
            .await;
        if served.is_err() {
            eprintln!("entry {i} failed");
            return ExitCode::FAILURE;
        }
        let memo = format!("memo\0{}:{query}-{{}}null", query.len());
        cache.remember(memo, shared).await;
        let resolver_key = format!("resolver\0Query.getFlight\0[\"FL{i:07}\"]");
        let _: (Json, Vec<()>) = cache
            .resolve(resolver_key, ttl, async { (flight(i), Vec::new()) })
            .await;
        if (i + 1) % (keys / 10).max(1) == 0 {
            let stats = cache.stats().await;
            max_weighted = max_weighted.max(stats.weighted_bytes);
            let (now, peak) = rss();
            println!(
                "{:>9} keys: {:>8} entries, weighted {:>8.2} MiB, RSS growth {:>8.2} MiB (peak {:>8.2} MiB)",
                i + 1,
                stats.entries,
                mib(stats.weighted_bytes),
                mib(now.saturating_sub(base)),
                mib(peak.saturating_sub(base)),
            );
        }
    }
    let stats = cache.stats().await;
    max_weighted = max_weighted.max(stats.weighted_bytes);
    let (now, peak) = rss();
    let growth = peak.saturating_sub(base);
    println!(
        "result: budget {:.2} MiB, largest weighted size {:.2} MiB ({}), entries {}, evictions {}, RSS growth {:.2} MiB now / {:.2} MiB peak = {:.2}x the weighted size, {:.2}x the budget",
        mib(budget),
        mib(max_weighted),
        if max_weighted <= budget {
            "within the budget"
        } else {
            "OVER the budget"
        },
        stats.entries,
        stats.evictions,
        mib(now.saturating_sub(base)),
        mib(growth),
        growth as f64 / stats.weighted_bytes.max(1) as f64,
        growth as f64 / budget as f64,
    );
    if max_weighted <= budget {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
