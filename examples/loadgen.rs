//! A small HTTP/1.1 load generator: N keep-alive connections for T seconds,
//! reporting req/s, p50 and p99. It speaks just enough HTTP for the server's
//! responses (Content-Length bodies), so it costs little CPU beside the server.
//!
//! ```text
//! cargo run --release --example loadgen -- --url http://127.0.0.1:4000/graphql \
//!     --body '{"query":"{ hello }"}' --connections 32 --duration 10 \
//!     --header 'x-api-key: da2-...'
//! cargo run --release --example loadgen -- --url ... --once   # one request; exit 0 on 2xx
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    url: String,
    body: Option<String>,
    headers: Vec<String>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    threads: usize,
    once: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        url: String::new(),
        body: None,
        headers: Vec::new(),
        connections: 32,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(1),
        threads: 1,
        once: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => options.url = value()?,
            "--body" => options.body = Some(value()?),
            "--header" => options.headers.push(value()?),
            "--connections" => options.connections = number(&value()?)?,
            "--duration" => options.duration = Duration::from_secs_f64(number(&value()?)?),
            "--warmup" => options.warmup = Duration::from_secs_f64(number(&value()?)?),
            "--threads" => options.threads = number(&value()?)?,
            "--once" => options.once = true,
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

/// `http://host:port/path` into the address to connect to and the request bytes.
fn build_request(options: &Options) -> Result<(String, Vec<u8>), String> {
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
    let method = if options.body.is_some() {
        "POST"
    } else {
        "GET"
    };
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(body) = &options.body {
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
    bytes.extend_from_slice(options.body.as_deref().unwrap_or_default().as_bytes());
    Ok((address, bytes))
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    non_2xx: u64,
    errors: u64,
}

/// Sends one request and reads one response; returns the status code.
async fn round_trip(
    stream: &mut TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> std::io::Result<u16> {
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
    Ok(status)
}

async fn connection(address: String, request: Vec<u8>, start: Instant, end: Instant) -> Tally {
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
        let sent = Instant::now();
        match round_trip(open, &request, &mut buffer).await {
            Ok(status) if sent >= start => {
                tally
                    .latencies_us
                    .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !(200..300).contains(&status) {
                    tally.non_2xx += 1;
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
    let (address, request) = build_request(&options)?;
    if options.once {
        let mut stream = TcpStream::connect(&address)
            .await
            .map_err(|err| err.to_string())?;
        let status = round_trip(&mut stream, &request, &mut Vec::new())
            .await
            .map_err(|err| err.to_string())?;
        return Ok(if (200..300).contains(&status) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let start = Instant::now() + options.warmup;
    let end = start + options.duration;
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(connection(address.clone(), request.clone(), start, end)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.map_err(|err| err.to_string())?;
        total.latencies_us.extend(tally.latencies_us);
        total.non_2xx += tally.non_2xx;
        total.errors += tally.errors;
    }
    total.latencies_us.sort_unstable();
    let count = total.latencies_us.len();
    println!(
        "{} connections, {:.0}s: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}, errors {}",
        options.connections,
        options.duration.as_secs_f64(),
        count,
        count as f64 / options.duration.as_secs_f64(),
        percentile(&total.latencies_us, 0.50),
        percentile(&total.latencies_us, 0.99),
        total.non_2xx,
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
