//! Load generator for the real-time endpoint (`scripts/bench-realtime.sh`
//! runs it against a release server serving `tests/projects/realtime`).
//!
//! 1. Opens `--connections` idle connections and reads the server's
//!    resident memory before and after: bytes per idle connection.
//! 2. Adds `--per-connection` subscriptions on each (`onNote`, no
//!    argument: every one matches), sends `--mutations` mutations, each once
//!    the last one's messages all arrived, and measures, for every
//!    delivery, the time from the mutation's HTTP response to the
//!    message's arrival (p50, p99, max), and the mutations' round trips
//!    against the same mutation with no subscriber.
//! 3. Sends 100 more back to back, their fan-outs overlapping.
//! 4. Replaces the subscriptions with argument-filtered ones, of which one
//!    in `--buckets` matches each mutation, and compares the server's
//!    fan-out time (its `appsync_realtime_fan_out_seconds`) with the
//!    unfiltered run.
//!
//! `--server-pid` names the server process, whose `VmRSS` is read from
//! `/proc`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use appsync_local::realtime::protocol;
use async_graphql::futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value as Json, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

struct Args {
    url: String,
    key: String,
    connections: usize,
    per_connection: usize,
    mutations: usize,
    buckets: usize,
    server_pid: Option<u32>,
}

fn args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:4000/graphql".into(),
        key: "da2-realtime".into(),
        connections: 1000,
        per_connection: 10,
        mutations: 20,
        buckets: 100,
        server_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--key" => args.key = value,
            "--connections" => args.connections = value.parse().expect("a count"),
            "--per-connection" => args.per_connection = value.parse().expect("a count"),
            "--mutations" => args.mutations = value.parse().expect("a count"),
            "--buckets" => args.buckets = value.parse().expect("a count"),
            "--server-pid" => args.server_pid = Some(value.parse().expect("a pid")),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// The server's resident memory in bytes, once it has settled (two reads
/// 200 ms apart within 1%).
async fn settled_rss(pid: Option<u32>) -> Option<u64> {
    let pid = pid?;
    let read = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    let mut last = read()?;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read()?;
        if now.abs_diff(last) * 100 <= last {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(host: &str, header: &Json) -> Socket {
    let url = format!("ws://{host}/graphql/realtime");
    let mut request = url.into_client_request().unwrap();
    let protocol = format!(
        "{}, {}",
        protocol::SUBPROTOCOL,
        protocol::header_subprotocol(header)
    );
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    socket
        .send(Message::text(r#"{"type":"connection_init"}"#))
        .await
        .unwrap();
    expect(&mut socket, "connection_ack").await;
    socket
}

async fn expect(socket: &mut Socket, kind: &str) -> Json {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let message: Json = serde_json::from_str(text.as_str()).unwrap();
                if message["type"] == kind {
                    return message;
                }
                assert_eq!(message["type"], "ka", "expected {kind}: {message}");
            }
            other => panic!("expected {kind}: {other:?}"),
        }
    }
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str, header: &Json) {
    let start = json!({
        "id": id,
        "type": "start",
        "payload": {
            "data": json!({"query": query}).to_string(),
            "extensions": {"authorization": header},
        },
    });
    socket.send(Message::text(start.to_string())).await.unwrap();
    expect(socket, "start_ack").await;
}

/// Reads `data` messages until `expected` arrived, counting each in
/// `delivered`; each arrival's instant under the mutation number it
/// carries (`m<N>`). Only the number is read out of the text, so the
/// client spends little of the machine's two cores.
async fn collect(
    mut socket: Socket,
    expected: usize,
    delivered: Arc<AtomicUsize>,
) -> (Socket, Vec<(usize, Instant)>) {
    const MARK: &str = r#""onNote":{"id":"m"#;
    let mut arrivals = Vec::with_capacity(expected);
    while arrivals.len() < expected {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the connection ended");
        };
        let at = Instant::now();
        let Some(start) = text.as_str().find(MARK) else {
            continue;
        };
        let digits = &text.as_str()[start + MARK.len()..];
        let end = digits.find('"').unwrap();
        arrivals.push((digits[..end].parse().unwrap(), at));
        delivered.fetch_add(1, Ordering::Relaxed);
    }
    (socket, arrivals)
}

async fn mutate(http: &reqwest::Client, args: &Args, id: &str) -> Instant {
    let response = http
        .post(&args.url)
        .header("x-api-key", &args.key)
        .json(&json!({"query": format!("mutation {{ putNote(id: \"{id}\", text: \"bench\") {{ id text }} }}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let at = Instant::now();
    assert!(body.contains(id), "{body}");
    at
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn metrics_text(http: &reqwest::Client, base: &str) -> String {
    let response = http.get(format!("{base}/metrics")).send().await.unwrap();
    response.text().await.unwrap()
}

/// A histogram's `_sum` and `_count` in the server's `/metrics`.
async fn histogram(http: &reqwest::Client, base: &str, name: &str, labels: &str) -> (f64, f64) {
    let text = metrics_text(http, base).await;
    let value = |series: String| {
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|rest| rest.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (
        value(format!("{name}_sum{labels} ")),
        value(format!("{name}_count{labels} ")),
    )
}

/// The server's own time for mutations (its request histogram).
async fn server_mutation_time(http: &reqwest::Client, base: &str) -> (f64, f64) {
    let labels = r#"{operation="mutation"}"#;
    histogram(http, base, "appsync_request_duration_seconds", labels).await
}

async fn fan_out_mean(http: &reqwest::Client, base: &str) -> (f64, f64) {
    histogram(http, base, "appsync_realtime_fan_out_seconds", "").await
}

/// Mean mutation round trip over `n` mutations, `gap` apart.
async fn mutation_mean(
    http: &reqwest::Client,
    args: &Args,
    n: usize,
    prefix: &str,
    gap: Duration,
) -> Duration {
    let mut spent = Duration::ZERO;
    for i in 0..n {
        let started = Instant::now();
        mutate(http, args, &format!("{prefix}{i}")).await;
        spent += started.elapsed();
        tokio::time::sleep(gap).await;
    }
    spent / n as u32
}

/// The pause between timed mutations, so each starts on idle processes.
const GAP: Duration = Duration::from_millis(20);

#[tokio::main]
async fn main() {
    let args = args();
    let host = args
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned();
    let base = format!("http://{host}");
    let header = json!({"host": host, "x-api-key": args.key});
    let http = reqwest::Client::new();
    let subscriptions = args.connections * args.per_connection;
    println!(
        "{} connections × {} subscriptions = {subscriptions}; {} mutations",
        args.connections, args.per_connection, args.mutations
    );

    // Mutations with no subscriber at all, for the comparison below.
    mutation_mean(&http, &args, 50, "w", Duration::ZERO).await;
    let (s0, c0) = server_mutation_time(&http, &base).await;
    let alone = mutation_mean(&http, &args, 50, "a", GAP).await;
    let (s1, c1) = server_mutation_time(&http, &base).await;
    let server_alone = (s1 - s0) / (c1 - c0);

    let before = settled_rss(args.server_pid).await;
    let mut sockets = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        sockets.push(open(&host, &header).await);
    }
    let idle = settled_rss(args.server_pid).await;
    if let (Some(before), Some(idle)) = (before, idle) {
        println!(
            "idle connections: server RSS {:.1} MiB → {:.1} MiB: {:.1} KiB per connection",
            before as f64 / 1048576.0,
            idle as f64 / 1048576.0,
            (idle.saturating_sub(before)) as f64 / args.connections as f64 / 1024.0
        );
    }

    let query = "subscription { onNote { id } }";
    for socket in &mut sockets {
        for s in 0..args.per_connection {
            subscribe(socket, &format!("s{s}"), query, &header).await;
        }
    }
    if let (Some(idle), Some(subscribed)) = (idle, settled_rss(args.server_pid).await) {
        println!(
            "subscriptions: server RSS +{:.1} MiB: {:.2} KiB per subscription",
            subscribed.saturating_sub(idle) as f64 / 1048576.0,
            subscribed.saturating_sub(idle) as f64 / subscriptions as f64 / 1024.0
        );
    }

    // Every subscription matches every mutation. One mutation at a time:
    // the next is sent once all of the last one's messages arrived, and
    // its round trip is timed too.
    let expected = args.per_connection * args.mutations;
    let delivered = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|socket| tokio::spawn(collect(socket, expected, Arc::clone(&delivered))))
        .collect();
    let (fan_sum0, fan_count0) = fan_out_mean(&http, &base).await;
    let (s0, c0) = server_mutation_time(&http, &base).await;
    let mut responded = Vec::with_capacity(args.mutations);
    let mut round_trips = Duration::ZERO;
    for n in 0..args.mutations {
        let sent = Instant::now();
        let at = mutate(&http, &args, &format!("m{n}")).await;
        round_trips += at - sent;
        responded.push(at);
        while delivered.load(Ordering::Relaxed) < (n + 1) * subscriptions {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Let both processes go idle, so the next mutation's time is its
        // own and not the tail of this one's deliveries.
        tokio::time::sleep(GAP).await;
    }
    let loaded = round_trips / args.mutations as u32;
    let (s1, c1) = server_mutation_time(&http, &base).await;
    let server_loaded = (s1 - s0) / (c1 - c0);
    let mut latencies = Vec::with_capacity(subscriptions * args.mutations);
    let mut early = 0;
    let mut sockets = Vec::with_capacity(args.connections);
    for reader in readers {
        let (socket, arrivals) = reader.await.unwrap();
        sockets.push(socket);
        for (n, at) in arrivals {
            match at.checked_duration_since(responded[n]) {
                Some(latency) => latencies.push(latency),
                // Arrived before the client had read the mutation's response.
                None => {
                    early += 1;
                    latencies.push(Duration::ZERO);
                }
            }
        }
    }
    latencies.sort();
    let (fan_sum1, fan_count1) = fan_out_mean(&http, &base).await;
    let all_fan_out = (fan_sum1 - fan_sum0) / (fan_count1 - fan_count0).max(1.0);
    println!(
        "delivery after the mutation's response, {} messages ({early} before it): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    println!(
        "server fan-out per mutation, all {subscriptions} matching: {:.2} ms",
        all_fan_out * 1e3
    );
    println!(
        "mutation, server time: {:.3} ms alone, {:.3} ms publishing to {subscriptions} subscribers ({:.2}×)",
        server_alone * 1e3,
        server_loaded * 1e3,
        server_loaded / server_alone
    );
    println!(
        "mutation round trip at the client: {:.2} ms alone, {:.2} ms publishing to {subscriptions} subscribers ({:.2}×)",
        alone.as_secs_f64() * 1e3,
        loaded.as_secs_f64() * 1e3,
        loaded.as_secs_f64() / alone.as_secs_f64()
    );

    // Back to back: each mutation's fan-out overlaps the next ones, and
    // the two cores are shared by the server, its fan-out and this client.
    let drains: Vec<_> = sockets
        .into_iter()
        .map(|socket| tokio::spawn(drain(socket)))
        .collect();
    let burst = mutation_mean(&http, &args, 100, "l", Duration::ZERO).await;
    println!(
        "mutation round trip back to back, each to {subscriptions} subscribers: {:.2} ms ({:.2}× alone)",
        burst.as_secs_f64() * 1e3,
        burst.as_secs_f64() / alone.as_secs_f64()
    );
    for drain in drains {
        drain.abort();
    }
    wait_for_no_subscriptions(&http, &base).await;

    // Argument filtering: one subscription in `buckets` matches each
    // mutation; the fan-out looks up one bucket instead of scanning.
    let mut sockets = Vec::with_capacity(args.connections);
    for c in 0..args.connections {
        let mut socket = open(&host, &header).await;
        for s in 0..args.per_connection {
            let bucket = (c * args.per_connection + s) % args.buckets;
            let query = format!("subscription {{ onNote(id: \"b{bucket}\") {{ id }} }}");
            subscribe(&mut socket, &format!("s{s}"), &query, &header).await;
        }
        sockets.push(socket);
    }
    let drains: Vec<_> = sockets
        .into_iter()
        .map(|socket| tokio::spawn(drain(socket)))
        .collect();
    let (sum0, count0) = fan_out_mean(&http, &base).await;
    for n in 0..args.mutations {
        mutate(&http, &args, &format!("b{}", n % args.buckets)).await;
    }
    // The last fan-out is done once the server counted it.
    let (sum1, count1) = loop {
        let (sum, count) = fan_out_mean(&http, &base).await;
        if count - count0 >= args.mutations as f64 {
            break (sum, count);
        }
        tokio::time::sleep(GAP).await;
    };
    let filtered = (sum1 - sum0) / (count1 - count0);
    println!(
        "server fan-out per mutation, {} of {subscriptions} matching by argument: {:.3} ms ({:.1}% of the all-matching fan-out)",
        subscriptions / args.buckets,
        filtered * 1e3,
        filtered / all_fan_out * 100.0
    );
    for drain in drains {
        drain.abort();
    }
}

/// Reads and drops messages until the connection ends.
async fn drain(mut socket: Socket) {
    while let Some(Ok(_)) = socket.next().await {}
}

async fn wait_for_no_subscriptions(http: &reqwest::Client, base: &str) {
    loop {
        let text = metrics_text(http, base).await;
        if text
            .lines()
            .any(|l| l == "appsync_realtime_subscriptions 0")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
