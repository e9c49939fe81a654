//! A small HTTP/1.1 load generator: N keep-alive connections for T seconds,
//! reporting req/s, p50, p90 and p99. It speaks just enough HTTP for the
//! server's responses (Content-Length bodies), so it costs little CPU beside
//! the server. Responses whose body has an `"errors":` key count as
//! GraphQL errors, apart from non-2xx statuses and I/O errors.
//!
//! ```text
//! cargo run --release --example loadgen -- --url http://127.0.0.1:4000/graphql \
//!     --body '{"query":"{ hello }"}' --connections 32 --duration 10 \
//!     --header 'x-api-key: da2-...'
//! cargo run --release --example loadgen -- --url ... --once   # one request; exit 0 on 2xx without errors
//! cargo run --release --example loadgen -- --url ... --bodies FILE --json
//! ```
//!
//! `--bodies FILE` takes one request body per line and sends them in turn
//! across all connections (to rotate ids or variables); `--json` prints the
//! result as one JSON object, with the first failed response as a sample.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    url: String,
    body: Option<String>,
    bodies: Option<String>,
    headers: Vec<String>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    threads: usize,
    once: bool,
    json: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        url: String::new(),
        body: None,
        bodies: None,
        headers: Vec::new(),
        connections: 32,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(1),
        threads: 1,
        once: false,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => options.url = value()?,
            "--body" => options.body = Some(value()?),
            "--bodies" => options.bodies = Some(value()?),
            "--header" => options.headers.push(value()?),
            "--connections" => options.connections = number(&value()?)?,
            "--duration" => options.duration = Duration::from_secs_f64(number(&value()?)?),
            "--warmup" => options.warmup = Duration::from_secs_f64(number(&value()?)?),
            "--threads" => options.threads = number(&value()?)?,
            "--once" => options.once = true,
            "--json" => options.json = true,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.url.is_empty() {
        return Err("--url is required".to_owned());
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// `http://host:port/path` into the address to connect to and the bytes of
/// each request: one, or one per line of `--bodies`.
fn build_requests(options: &Options) -> Result<(String, Vec<Vec<u8>>), String> {
    let Some(file) = &options.bodies else {
        let (address, request) = build_request(options, options.body.as_deref())?;
        return Ok((address, vec![request]));
    };
    let text = std::fs::read_to_string(file).map_err(|err| format!("{file}: {err}"))?;
    let mut address = String::new();
    let mut requests = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let (to, request) = build_request(options, Some(line))?;
        address = to;
        requests.push(request);
    }
    if requests.is_empty() {
        return Err(format!("{file} has no bodies"));
    }
    Ok((address, requests))
}

fn build_request(options: &Options, body: Option<&str>) -> Result<(String, Vec<u8>), String> {
    let rest = options
        .url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let method = if body.is_some() { "POST" } else { "GET" };
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    for header in &options.headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    Ok((address, bytes))
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    non_2xx: u64,
    graphql_errors: u64,
    errors: u64,
    /// The first non-2xx or GraphQL-error response: status and body start.
    sample: Option<String>,
}

/// A GraphQL response with errors. A quoted `"errors":` cannot occur inside
/// a JSON string (its quotes would be escaped), so it is the key.
fn has_graphql_errors(body: &[u8]) -> bool {
    body.windows(9).any(|window| window == b"\"errors\":")
}

fn sample(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    format!("HTTP {status}: {text}")
}

/// Sends one request and reads one response into `buffer`; returns the
/// status code and where the body starts.
async fn round_trip(
    stream: &mut TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> std::io::Result<(u16, usize)> {
    stream.write_all(request).await?;
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let (head_end, status, length) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]);
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse().ok())
                .ok_or_else(|| std::io::Error::other("bad status line"))?;
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .ok_or_else(|| std::io::Error::other("response without Content-Length"))?;
            break (end + 4, status, length);
        }
    };
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok((status, head_end))
}

async fn connection(
    address: String,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    start: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut buffer = Vec::with_capacity(16 * 1024);
    let mut stream = None;
    while Instant::now() < end {
        if stream.is_none() {
            match TcpStream::connect(&address).await {
                Ok(connected) => {
                    let _ = connected.set_nodelay(true);
                    stream = Some(connected);
                }
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(open) = stream.as_mut() else {
            continue;
        };
        let request = &requests[next.fetch_add(1, Ordering::Relaxed) % requests.len()];
        let sent = Instant::now();
        match round_trip(open, request, &mut buffer).await {
            Ok((status, body_start)) if sent >= start => {
                tally
                    .latencies_us
                    .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                let body = &buffer[body_start..];
                let failed = if !(200..300).contains(&status) {
                    tally.non_2xx += 1;
                    true
                } else if has_graphql_errors(body) {
                    tally.graphql_errors += 1;
                    true
                } else {
                    false
                };
                if failed && tally.sample.is_none() {
                    tally.sample = Some(sample(status, body));
                }
            }
            Ok(_) => {}
            Err(_) => {
                tally.errors += 1;
                stream = None;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u32], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    f64::from(sorted[index]) / 1_000.0
}

async fn run(options: Options) -> Result<ExitCode, String> {
    let (address, requests) = build_requests(&options)?;
    if options.once {
        let mut stream = TcpStream::connect(&address)
            .await
            .map_err(|err| err.to_string())?;
        let mut buffer = Vec::new();
        let (status, body_start) = round_trip(&mut stream, &requests[0], &mut buffer)
            .await
            .map_err(|err| err.to_string())?;
        let body = &buffer[body_start..];
        return Ok(
            if (200..300).contains(&status) && !has_graphql_errors(body) {
                ExitCode::SUCCESS
            } else {
                eprintln!("loadgen: {}", sample(status, body));
                ExitCode::FAILURE
            },
        );
    }
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + options.warmup;
    let end = start + options.duration;
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| {
            tokio::spawn(connection(
                address.clone(),
                Arc::clone(&requests),
                Arc::clone(&next),
                start,
                end,
            ))
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.map_err(|err| err.to_string())?;
        total.latencies_us.extend(tally.latencies_us);
        total.non_2xx += tally.non_2xx;
        total.graphql_errors += tally.graphql_errors;
        total.errors += tally.errors;
        total.sample = total.sample.or(tally.sample);
    }
    total.latencies_us.sort_unstable();
    let count = total.latencies_us.len();
    let seconds = options.duration.as_secs_f64();
    let (p50, p90, p99) = (
        percentile(&total.latencies_us, 0.50),
        percentile(&total.latencies_us, 0.90),
        percentile(&total.latencies_us, 0.99),
    );
    if options.json {
        let report = serde_json::json!({
            "connections": options.connections,
            "seconds": seconds,
            "requests": count,
            "rps": count as f64 / seconds,
            "p50_ms": p50,
            "p90_ms": p90,
            "p99_ms": p99,
            "max_ms": percentile(&total.latencies_us, 1.0),
            "non_2xx": total.non_2xx,
            "graphql_errors": total.graphql_errors,
            "io_errors": total.errors,
            "sample": total.sample,
        });
        println!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} connections, {:.0}s: {} requests, {:.0} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, non-2xx {}, GraphQL errors {}, errors {}",
        options.connections,
        seconds,
        count,
        count as f64 / seconds,
        p50,
        p90,
        p99,
        total.non_2xx,
        total.graphql_errors,
        total.errors,
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("loadgen: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(options)),
        Err(err) => Err(err.to_string()),
    };
    result.unwrap_or_else(|err| {
        eprintln!("loadgen: {err}");
        ExitCode::FAILURE
    })
}
