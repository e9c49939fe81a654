//! The demo's benchmark suite, driven by `scripts/bench-demo.sh`: starts
//! `appsync-local serve` on the demo with a fresh data directory, measures
//! start-up to the first successful response, load-tests the demo's main
//! operations with `examples/loadgen.rs` beside the static-endpoint ceiling of
//! `examples/bench_server.rs`, reads the server's peak RSS, and prints a
//! Markdown section (written into docs/benchmarks.md with `--write`).
//!
//! The public catalogue scenarios send the API key; the booking scenarios
//! send Cognito user pool tokens from the server's local issuer (`POST
//! /admin/token`), as the demo's customers and staff do.
//!
//! Scenarios that fail (a resolver missing, a data set empty) are reported
//! with their failure counts and a sample response; they never stop the run.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

const BEGIN: &str = "<!-- bench-demo:begin -->";
const END: &str = "<!-- bench-demo:end -->";

/// The `sub` of the staff member (in the `Admin` group) who searches and
/// reads every customer's bookings.
const BENCH_ADMIN: &str = "bench-admin";
/// The `sub` of the customer whose bookings `createBooking` makes.
const BENCH_CUSTOMER: &str = "bench-customer";

/// A request header, name and value.
type Header = (String, String);

/// Who a scenario calls as.
#[derive(Clone, Copy)]
enum Caller {
    /// The API key: the public catalogue queries.
    ApiKey,
    /// A token of the `Admin` group: every customer's bookings.
    Admin,
    /// A customer's token: their own bookings.
    Customer,
}

struct Options {
    bin: PathBuf,
    loadgen: PathBuf,
    bench_server: PathBuf,
    project: PathBuf,
    duration: f64,
    connections: usize,
    threads: usize,
    settle: f64,
    api_key: String,
    write: Option<PathBuf>,
    command: String,
    build: String,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        bin: PathBuf::new(),
        loadgen: PathBuf::new(),
        bench_server: PathBuf::new(),
        project: PathBuf::from("."),
        duration: 10.0,
        connections: 32,
        threads: 1,
        settle: 5.0,
        api_key: "da2-flightcatalog-local".to_owned(),
        write: None,
        command: "scripts/bench-demo.sh".to_owned(),
        build: "release".to_owned(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bin" => options.bin = value()?.into(),
            "--loadgen" => options.loadgen = value()?.into(),
            "--bench-server" => options.bench_server = value()?.into(),
            "--project" => options.project = value()?.into(),
            "--duration" => options.duration = number(&value()?)?,
            "--connections" => options.connections = number(&value()?)?,
            "--threads" => options.threads = number(&value()?)?,
            "--settle" => options.settle = number(&value()?)?,
            "--api-key" => options.api_key = value()?,
            "--write" => options.write = Some(value()?.into()),
            "--command" => options.command = value()?,
            "--build" => options.build = value()?,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    for (flag, path) in [
        ("--bin", &options.bin),
        ("--loadgen", &options.loadgen),
        ("--bench-server", &options.bench_server),
    ] {
        if path.as_os_str().is_empty() {
            return Err(format!("{flag} is required"));
        }
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// One HTTP/1.1 request on a fresh connection; status and body.
fn http(
    address: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(address).map_err(|err| format!("{address}: {err}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|err| err.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|err| err.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP head")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or("bad status line")?;
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .replace(' ', "")
            .starts_with("transfer-encoding:chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// `http://host:port/...` to `host:port`.
fn authority(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    rest.split('/').next().unwrap_or_default().to_owned()
}

/// A child process that is stopped (SIGINT, then SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `command` and waits for a stdout line starting with `prefix`
    /// that holds a URL.
    fn start(mut command: Command, prefix: &str, log: &Path) -> Result<(Server, Instant), String> {
        let log_file = std::fs::File::create(log).map_err(|err| err.to_string())?;
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|err| format!("cannot start {command:?}: {err}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = started + Duration::from_secs(600);
        let mut server = Server {
            child,
            url: String::new(),
        };
        while Instant::now() < deadline {
            match received.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if line.starts_with(prefix) => {
                    if let Some(at) = line.find("http://") {
                        server.url = line[at..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        return Ok((server, started));
                    }
                }
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("{command:?} exited with {status}:\n{log}"));
            }
        }
        Err(format!("no `{prefix}` line from {command:?}"))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A memory figure of `/proc/PID/status` in kB: `VmHWM` (peak resident
    /// set size) or `VmRSS` (resident now).
    fn memory_kb(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status_kb(&status, key)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A graceful stop lets the stores flush before the next server opens them.
        let _ = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
}

/// Polls `{ ping }` until it answers 2xx without errors; the time since
/// `started` in milliseconds.
fn first_response_ms(url: &str, api_key: &str, started: Instant) -> Result<f64, String> {
    let address = authority(url);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = String::new();
    while Instant::now() < deadline {
        match http(
            &address,
            "/graphql",
            &[("content-type", "application/json"), ("x-api-key", api_key)],
            r#"{"query":"{ ping }"}"#,
        ) {
            Ok((200..=299, body)) if !body.contains("\"errors\":") => {
                return Ok(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok((status, body)) => last = format!("HTTP {status}: {body}"),
            Err(err) => last = err,
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("no successful response to {{ ping }}: {last}"))
}

/// The body of `POST /admin/token` asking for a token for `sub` in `groups`.
fn token_request(sub: &str, groups: &[&str]) -> String {
    json!({"sub": sub, "groups": groups, "expiresIn": 3600}).to_string()
}

/// The token in `POST /admin/token`'s answer
/// (`{"token": "...", "expiresAt": ..., "provider": "AMAZON_COGNITO_USER_POOLS"}`).
fn parse_token(answer: &str) -> Result<String, String> {
    let answer_json: Json = serde_json::from_str(answer)
        .map_err(|err| format!("POST /admin/token answered no JSON ({err}): {answer}"))?;
    answer_json["token"]
        .as_str()
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("POST /admin/token answered no token: {answer}"))
}

/// A Cognito user pool token from the server's local issuer, as the
/// `Authorization` header (no `Bearer` prefix, as AppSync takes it).
fn token_header(url: &str, sub: &str, groups: &[&str]) -> Result<Header, String> {
    let (status, answer) = http(
        &authority(url),
        "/admin/token",
        &[("content-type", "application/json")],
        &token_request(sub, groups),
    )?;
    if !(200..300).contains(&status) {
        return Err(format!("POST /admin/token: HTTP {status}: {answer}"));
    }
    Ok(("authorization".to_owned(), parse_token(&answer)?))
}

/// Values of the string attributes `names` of up to `max` items of `table`,
/// through the DynamoDB API's Scan (no resolver involved).
fn scan(
    address: &str,
    table: &str,
    names: &[&str],
    max: usize,
) -> Result<Vec<Vec<Option<String>>>, String> {
    let placeholders: Vec<String> = (0..names.len()).map(|i| format!("#a{i}")).collect();
    let attribute_names: serde_json::Map<String, Json> = placeholders
        .iter()
        .zip(names)
        .map(|(placeholder, name)| (placeholder.clone(), json!(name)))
        .collect();
    let mut rows = Vec::new();
    let mut start_key = Json::Null;
    loop {
        let mut request = json!({
            "TableName": table,
            "ProjectionExpression": placeholders.join(", "),
            "ExpressionAttributeNames": attribute_names,
            "Limit": 1000,
        });
        if !start_key.is_null() {
            request["ExclusiveStartKey"] = start_key.clone();
        }
        let (status, body) = http(
            address,
            "/",
            &[
                ("x-amz-target", "DynamoDB_20120810.Scan"),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            &request.to_string(),
        )?;
        if status != 200 {
            return Err(format!("Scan {table}: HTTP {status}: {body}"));
        }
        let page: Json = serde_json::from_str(&body).map_err(|err| err.to_string())?;
        for item in page["Items"].as_array().into_iter().flatten() {
            rows.push(
                names
                    .iter()
                    .map(|name| item[*name]["S"].as_str().map(str::to_owned))
                    .collect(),
            );
        }
        start_key = page["LastEvaluatedKey"].clone();
        if rows.len() >= max || start_key.is_null() {
            rows.truncate(max);
            return Ok(rows);
        }
    }
}

/// Items in `table`, through a `Select: COUNT` Scan.
fn count(address: &str, table: &str) -> Result<u64, String> {
    let mut total = 0;
    let mut start_key = Json::Null;
    loop {
        let mut request = json!({"TableName": table, "Select": "COUNT"});
        if !start_key.is_null() {
            request["ExclusiveStartKey"] = start_key.clone();
        }
        let (status, body) = http(
            address,
            "/",
            &[
                ("x-amz-target", "DynamoDB_20120810.Scan"),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            &request.to_string(),
        )?;
        if status != 200 {
            return Err(format!("Scan {table}: HTTP {status}: {body}"));
        }
        let page: Json = serde_json::from_str(&body).map_err(|err| err.to_string())?;
        total += page["Count"].as_u64().unwrap_or(0);
        start_key = page["LastEvaluatedKey"].clone();
        if start_key.is_null() {
            return Ok(total);
        }
    }
}

/// Items per table.
type TableCounts = Vec<(&'static str, u64)>;

/// Waits until the demo's tables stop growing, in case seeding goes on
/// after the server answers; the counts and the time waited.
fn wait_for_data(url: &str) -> Result<(TableCounts, Duration), String> {
    let address = authority(url);
    let started = Instant::now();
    let counts = || -> Result<TableCounts, String> {
        ["Flights", "Bookings"]
            .into_iter()
            .map(|table| count(&address, table).map(|n| (table, n)))
            .collect()
    };
    let mut last = counts()?;
    while started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(500));
        let now = counts()?;
        if now == last {
            return Ok((now, started.elapsed()));
        }
        last = now;
    }
    Ok((last, started.elapsed()))
}

/// What the suite learns from the seeded tables to build request bodies.
#[derive(Default)]
struct Fixtures {
    flight_ids: Vec<String>,
    /// departureAirportCode, arrivalAirportCode, departure day.
    schedules: Vec<(String, String, String)>,
    booking_ids: Vec<String>,
    words: Vec<String>,
}

fn discover(url: &str) -> Result<Fixtures, String> {
    let address = authority(url);
    let mut fixtures = Fixtures::default();
    let flights = scan(
        &address,
        "Flights",
        &[
            "id",
            "departureAirportCode",
            "arrivalAirportCode",
            "departureDate",
        ],
        100_000,
    )?;
    let mut schedules = BTreeSet::new();
    for row in flights {
        if let Some(id) = &row[0] {
            fixtures.flight_ids.push(id.clone());
        }
        if let (Some(from), Some(to), Some(date)) = (&row[1], &row[2], &row[3]) {
            let day = date.get(..10).unwrap_or(date).to_owned();
            schedules.insert((from.clone(), to.clone(), day));
        }
    }
    fixtures.flight_ids.sort();
    fixtures.schedules = schedules.into_iter().collect();
    let bookings = scan(
        &address,
        "Bookings",
        &["id", "orderDescription", "bookingDescription"],
        5_000,
    )?;
    let mut words = BTreeSet::new();
    for row in bookings {
        if let Some(id) = &row[0] {
            fixtures.booking_ids.push(id.clone());
        }
        for text in row[1..].iter().flatten() {
            for word in text.split(|c: char| !c.is_alphabetic()) {
                if word.chars().count() >= 5 && words.len() < 64 {
                    words.insert(word.to_lowercase());
                }
            }
        }
    }
    fixtures.words = words.into_iter().collect();
    Ok(fixtures)
}

fn graphql_body(query: &str, variables: Json) -> String {
    json!({"query": operation(query), "variables": variables}).to_string()
}

// The operations are the validated files of examples/ (tests/examples.rs).
const GET_FLIGHT: &str = include_str!("getFlight.graphql");
const SCHEDULE: &str = include_str!("getFlightBySchedule.graphql");
const SEARCH_BOOKINGS: &str = include_str!("searchBookings.graphql");
const NESTED: &str = include_str!("bookingFlightBookings.graphql");
const CREATE_BOOKING: &str = include_str!("createBooking.graphql");

/// An operation without its header comment, on one line: the bytes sent.
fn operation(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A scenario's request bodies, or why it cannot run.
fn bodies(key: &str, fixtures: &Fixtures) -> Result<Vec<String>, String> {
    let need = |list_len: usize, what: &str| {
        if list_len == 0 {
            Err(format!("skipped: no {what} found in the seeded tables"))
        } else {
            Ok(())
        }
    };
    match key {
        "ping" => Ok(vec![graphql_body("{ ping }", json!({}))]),
        "getFlight-uncached" => {
            need(fixtures.flight_ids.len(), "flights")?;
            Ok(fixtures
                .flight_ids
                .iter()
                .map(|id| graphql_body(GET_FLIGHT, json!({"id": id})))
                .collect())
        }
        "getFlight-cached" => {
            need(fixtures.flight_ids.len(), "flights")?;
            Ok(vec![graphql_body(
                GET_FLIGHT,
                json!({"id": fixtures.flight_ids[0]}),
            )])
        }
        "getFlightBySchedule" => {
            need(fixtures.schedules.len(), "flights")?;
            Ok(fixtures
                .schedules
                .iter()
                .map(|(from, to, date)| {
                    graphql_body(
                        SCHEDULE,
                        json!({"from": from, "to": to, "date": date, "minSeats": 1, "limit": 10}),
                    )
                })
                .collect())
        }
        "searchBookings" => {
            need(fixtures.words.len(), "booking descriptions")?;
            Ok(fixtures
                .words
                .iter()
                .map(|word| graphql_body(SEARCH_BOOKINGS, json!({"text": word, "limit": 10})))
                .collect())
        }
        "nested" => {
            need(fixtures.booking_ids.len(), "bookings")?;
            Ok(fixtures
                .booking_ids
                .iter()
                .map(|id| graphql_body(NESTED, json!({"id": id, "limit": 5})))
                .collect())
        }
        "createBooking" => {
            need(fixtures.flight_ids.len(), "flights")?;
            // One booking per flight in turn, so no flight runs out of seats.
            // The customer is the caller: the token's sub.
            Ok(fixtures
                .flight_ids
                .iter()
                .map(|id| {
                    let input = json!({
                        "outboundFlightId": id,
                        "paymentToken": "tok_bench",
                        "bookingDescription": "Booked by the benchmark suite: aisle seat, no meal.",
                    });
                    graphql_body(CREATE_BOOKING, json!({"input": input}))
                })
                .collect())
        }
        other => Err(format!("unknown scenario {other}")),
    }
}

/// One row of the table.
struct Row {
    name: String,
    result: Result<Json, String>,
    /// What was wrong with a single request sent before the load, if anything.
    probe: Option<String>,
}

/// Sends `body` once and says what is wrong with the answer: a failure, or a
/// null root field (a field without a resolver answers null without error).
fn probe(url: &str, header: &Header, body: &str) -> Option<String> {
    let answer = http(
        &authority(url),
        "/graphql",
        &[
            ("content-type", "application/json"),
            (header.0.as_str(), header.1.as_str()),
        ],
        body,
    );
    let (status, text) = match answer {
        Ok(answer) => answer,
        Err(err) => return Some(err),
    };
    let response: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    if !(200..300).contains(&status) || response.get("errors").is_some() {
        return Some(format!("HTTP {status}: {text}"));
    }
    let data = response["data"].as_object()?;
    data.iter()
        .find(|(_, value)| value.is_null())
        .map(|(field, _)| {
            format!("data.{field} is null (no resolver yet, or no such item): {text}")
        })
}

/// Probes a GraphQL scenario once, then puts it under load, every request
/// carrying `header` (the API key or a token); without a header (no token
/// to be had), the row says why.
fn graphql_row(
    options: &Options,
    url: &str,
    name: &str,
    bodies: Result<Vec<String>, String>,
    file: &Path,
    header: Result<&Header, &String>,
) -> Row {
    let header = match header {
        Ok(header) => header,
        Err(why) => {
            return Row {
                name: name.to_owned(),
                result: Err(format!("no token: {why}")),
                probe: None,
            };
        }
    };
    let probe = bodies
        .as_ref()
        .ok()
        .and_then(|bodies| probe(url, header, &bodies[0]));
    Row {
        name: name.to_owned(),
        result: bodies.and_then(|bodies| run_load(options, url, &bodies, file, Some(header))),
        probe,
    }
}

fn run_load(
    options: &Options,
    url: &str,
    bodies: &[String],
    file: &Path,
    header: Option<&Header>,
) -> Result<Json, String> {
    std::fs::write(file, bodies.join("\n")).map_err(|err| err.to_string())?;
    let mut command = Command::new(&options.loadgen);
    command
        .arg("--url")
        .arg(url)
        .arg("--bodies")
        .arg(file)
        .args(["--connections", &options.connections.to_string()])
        .args(["--duration", &options.duration.to_string()])
        .args(["--threads", &options.threads.to_string()])
        .arg("--json");
    if let Some((name, value)) = header {
        command.args(["--header", &format!("{name}: {value}")]);
    }
    let output = command
        .output()
        .map_err(|err| format!("cannot run {}: {err}", options.loadgen.display()))?;
    if !output.status.success() {
        return Err(format!(
            "loadgen failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|err| format!("loadgen output: {err}"))
}

struct Report {
    date: String,
    machine: String,
    settings: String,
    command: String,
    rows: Vec<Row>,
    first_start_ms: Option<f64>,
    restart_ms: Option<f64>,
    peak_rss_kb: Option<u64>,
    end_rss_kb: Option<u64>,
    variant_peak_rss_kb: Option<u64>,
    notes: Vec<String>,
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn megabytes(kb: Option<u64>) -> String {
    kb.map_or("not measured".to_owned(), |kb| {
        format!("{:.0} MB", kb as f64 / 1024.0)
    })
}

fn render(report: &Report) -> String {
    let ceiling = report
        .rows
        .first()
        .and_then(|row| row.result.as_ref().ok())
        .and_then(|result| result["rps"].as_f64())
        .filter(|rps| *rps > 0.0);
    let mut out = String::new();
    out.push_str(&format!("{BEGIN}\n## Demo suite\n\n"));
    out.push_str(&format!(
        "Command: `{}`. {}; {}; {}.\n\n",
        report.command, report.date, report.machine, report.settings
    ));
    out.push_str(
        "| scenario | req/s | p50 | p99 | vs. static | non-2xx | GraphQL errors | I/O errors |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut failures = Vec::new();
    for row in &report.rows {
        if let Some(problem) = &row.probe {
            failures.push(format!(
                "{} (single request before the load): {}",
                row.name,
                one_line(problem)
            ));
        }
        match &row.result {
            Ok(result) => {
                let number = |key: &str| result[key].as_f64().unwrap_or(0.0);
                let rps = number("rps");
                let ratio =
                    ceiling.map_or("".to_owned(), |ceiling| format!("{:.2}", rps / ceiling));
                out.push_str(&format!(
                    "| {} | {} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |\n",
                    row.name,
                    thousands(rps),
                    number("p50_ms"),
                    number("p99_ms"),
                    ratio,
                    thousands(number("non_2xx")),
                    thousands(number("graphql_errors")),
                    thousands(number("io_errors")),
                ));
                if let Some(sample) = result["sample"].as_str() {
                    failures.push(format!("{}: {}", row.name, one_line(sample)));
                }
            }
            Err(reason) => {
                let state = if reason.starts_with("skipped") {
                    "skipped"
                } else {
                    "failed"
                };
                out.push_str(&format!("| {} | {state} | | | | | | |\n", row.name));
                failures.push(format!("{}: {}", row.name, one_line(reason)));
            }
        }
    }
    out.push('\n');
    let ms = |value: Option<f64>| {
        value.map_or("not measured".to_owned(), |ms| {
            format!("{} ms", thousands(ms))
        })
    };
    out.push_str(&format!(
        "- Start-up to the first successful response (`{{ ping }}`): {} on an empty data directory (seeding included), {} restarting on the seeded one.\n",
        ms(report.first_start_ms),
        ms(report.restart_ms)
    ));
    out.push_str(&format!(
        "- Memory of the server: peak RSS (VmHWM) {} for the demo, seeding included, and {} resident (VmRSS) after all its scenarios; peak {} for the no-cache variant, restarted on the seeded data.\n",
        megabytes(report.peak_rss_kb),
        megabytes(report.end_rss_kb),
        megabytes(report.variant_peak_rss_kb)
    ));
    for note in &report.notes {
        out.push_str(&format!("- {note}\n"));
    }
    if !failures.is_empty() {
        out.push_str("\nProblems (the first failed response per scenario):\n\n");
        for failure in failures {
            out.push_str(&format!("- {failure}\n"));
        }
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// Markdown-safe, one line, bounded.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(300).collect();
    format!("`{}`", cut.replace('`', "'"))
}

/// Replaces the marked section of `document`, or inserts it before the
/// first second-level heading (after the title).
fn replace_section(document: &str, section: &str) -> String {
    if let (Some(begin), Some(end)) = (document.find(BEGIN), document.find(END))
        && begin < end
    {
        let mut after = &document[end + END.len()..];
        after = after.strip_prefix('\n').unwrap_or(after);
        return format!("{}{section}{after}", &document[..begin]);
    }
    match document.find("\n## ") {
        Some(at) => format!("{}{section}{}", &document[..at + 1], &document[at..]),
        None if document.is_empty() => section.to_owned(),
        None => format!("{document}\n{section}"),
    }
}

/// The demo's project with caching turned off, for uncached `getFlight`: a
/// directory of symlinks to the project's files beside an edited manifest.
fn no_cache_variant(project: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|err| err.to_string())?;
    let manifest_path = project.join("appsync.yaml");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|err| format!("{}: {err}", manifest_path.display()))?;
    let mut manifest: Json = serde_norway::from_str(&text).map_err(|err| err.to_string())?;
    if let Some(root) = manifest.as_object_mut() {
        root.remove("caching");
        // The copy lives elsewhere: a schema outside the project (the JS
        // demo shares the root's) is named by its absolute path.
        let absolute = |path: &Json| -> Json {
            match path.as_str() {
                Some(p) => std::path::absolute(project.join(p))
                    .map(|p| Json::String(p.display().to_string()))
                    .unwrap_or_else(|_| path.clone()),
                None => path.clone(),
            }
        };
        if let Some(schema) = root.get_mut("schema") {
            let rewritten = match &*schema {
                Json::Array(paths) => Json::Array(paths.iter().map(absolute).collect()),
                other => absolute(other),
            };
            *schema = rewritten;
        }
        // Lambda handlers outside the project (the JS demo runs the root's).
        if let Some(functions) = root.get_mut("functions").and_then(Json::as_object_mut) {
            for function in functions.values_mut() {
                if let Some(handler) = function.get_mut("handler") {
                    *handler = absolute(handler);
                }
            }
        }
    }
    if let Some(resolvers) = manifest["resolvers"].as_object_mut() {
        for resolver in resolvers.values_mut() {
            if let Some(resolver) = resolver.as_object_mut() {
                resolver.remove("caching");
            }
        }
    }
    let edited = serde_norway::to_string(&manifest).map_err(|err| err.to_string())?;
    std::fs::write(dir.join("appsync.yaml"), edited).map_err(|err| err.to_string())?;
    let entries = std::fs::read_dir(project).map_err(|err| err.to_string())?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("appsync.yaml" | "target" | ".git" | ".appsync-local")
        ) {
            continue;
        }
        let source = std::path::absolute(entry.path()).map_err(|err| err.to_string())?;
        std::os::unix::fs::symlink(&source, dir.join(&name)).map_err(|err| err.to_string())?;
    }
    Ok(())
}

fn serve_command(options: &Options, project: &Path, data: &Path) -> Command {
    let mut command = Command::new(&options.bin);
    command
        .arg("serve")
        .arg("--project")
        .arg(project)
        .args(["--port", "0"])
        .arg("--data")
        .arg(data);
    command
}

fn settle(options: &Options) {
    std::thread::sleep(Duration::from_secs_f64(options.settle));
}

fn run(options: &Options) -> Result<Report, String> {
    let work = tempfile::tempdir().map_err(|err| err.to_string())?;
    let data = work.path().join("data");
    let project = std::path::absolute(&options.project).map_err(|err| err.to_string())?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let body_file = |name: &str| work.path().join(format!("{name}.jsonl"));

    eprintln!("bench-demo: static ceiling");
    {
        let (ceiling, _) = Server::start(
            Command::new(&options.bench_server),
            "static ",
            &work.path().join("bench_server.log"),
        )?;
        let body = r#"{"query":"{ __typename }"}"#.to_owned();
        rows.push(Row {
            name: "static axum endpoint (ceiling)".to_owned(),
            result: run_load(options, &ceiling.url, &[body], &body_file("static"), None),
            probe: None,
        });
    }

    eprintln!("bench-demo: starting the demo on an empty data directory");
    let (server, started) = Server::start(
        serve_command(options, &project, &data),
        "listening on ",
        &work.path().join("serve.log"),
    )?;
    let first_start_ms = first_response_ms(&server.url, &options.api_key, started)
        .map_err(|err| notes.push(format!("Start-up: {err}")))
        .ok();
    match wait_for_data(&server.url) {
        Ok((counts, waited)) => notes.push(format!(
            "Seeded data: {}; stable {} ms after the first response.",
            counts
                .iter()
                .map(|(table, count)| format!("{} items in {table}", thousands(*count as f64)))
                .collect::<Vec<_>>()
                .join(", "),
            thousands(waited.as_secs_f64() * 1000.0)
        )),
        Err(err) => notes.push(format!("Counting the seeded items failed: {err}")),
    }
    settle(options);
    let fixtures = discover(&server.url).unwrap_or_else(|err| {
        notes.push(format!(
            "Discovering ids through the DynamoDB API failed: {err}"
        ));
        Fixtures::default()
    });
    notes.push(format!(
        "Request bodies rotate over {} flights, {} routes and days, {} bookings and {} search words read from the seeded tables.",
        thousands(fixtures.flight_ids.len() as f64),
        thousands(fixtures.schedules.len() as f64),
        thousands(fixtures.booking_ids.len() as f64),
        fixtures.words.len()
    ));
    let api_key: Header = ("x-api-key".to_owned(), options.api_key.clone());
    let admin = token_header(&server.url, BENCH_ADMIN, &["Admin"]);
    let customer = token_header(&server.url, BENCH_CUSTOMER, &[]);
    notes.push(format!(
        "`ping` and the `getFlight*` scenarios send the API key; `searchBookings` and the nested query send a token of the `Admin` group (every customer's bookings, and `Flight.bookings` is for Admin only), `createBooking` the token of one customer (`{BENCH_CUSTOMER}`), both from the local issuer (`POST /admin/token`)."
    ));
    let scenarios = [
        ("ping", "`ping`: NONE + VTL", Caller::ApiKey),
        (
            "getFlight-cached",
            "`getFlight`, cached (one id, per-resolver cache hit)",
            Caller::ApiKey,
        ),
        (
            "getFlightBySchedule",
            "`getFlightBySchedule`: GSI Query, filter, limit 10",
            Caller::ApiKey,
        ),
        (
            "searchBookings",
            "`searchBookings`: full text, 10 hits with highlights",
            Caller::Admin,
        ),
        (
            "nested",
            "`getBooking` → `outboundFlight` → `bookings(limit: 5)` (3 levels)",
            Caller::Admin,
        ),
        (
            "createBooking",
            "`createBooking`: pipeline, transaction, eviction",
            Caller::Customer,
        ),
    ];
    for (key, name, caller) in scenarios {
        eprintln!("bench-demo: {key}");
        let header = match caller {
            Caller::ApiKey => Ok(&api_key),
            Caller::Admin => admin.as_ref(),
            Caller::Customer => customer.as_ref(),
        };
        rows.push(graphql_row(
            options,
            &server.url,
            name,
            bodies(key, &fixtures),
            &body_file(key),
            header,
        ));
    }
    let peak_rss_kb = server.memory_kb("VmHWM");
    let end_rss_kb = server.memory_kb("VmRSS");
    drop(server);

    eprintln!("bench-demo: getFlight without caching");
    let variant = work.path().join("no-cache");
    let mut restart_ms = None;
    let mut variant_peak_rss_kb = None;
    let uncached = "`getFlight`, uncached (GetItem, ids rotating, caching off)".to_owned();
    match no_cache_variant(&project, &variant).and_then(|()| {
        Server::start(
            serve_command(options, &variant, &data),
            "listening on ",
            &work.path().join("serve-no-cache.log"),
        )
    }) {
        Ok((server, started)) => {
            restart_ms = first_response_ms(&server.url, &options.api_key, started).ok();
            settle(options);
            let row = graphql_row(
                options,
                &server.url,
                &uncached,
                bodies("getFlight-uncached", &fixtures),
                &body_file("uncached"),
                Ok(&api_key),
            );
            // Listed first among getFlight rows, as the issue orders them.
            rows.insert(2, row);
            variant_peak_rss_kb = server.memory_kb("VmHWM");
        }
        Err(err) => rows.insert(
            2,
            Row {
                name: uncached,
                result: Err(err),
                probe: None,
            },
        ),
    }
    notes.push(
        "Uncached `getFlight` runs on a copy of the demo with `caching` removed from the manifest (same data directory, server restarted): rotating ids alone would hit the 60 s per-resolver cache after the first pass.".to_owned(),
    );
    notes.push(
        "`createBooking` books one seat on each flight in turn, so no flight runs out of seats; it runs last so its writes do not slow the reads.".to_owned(),
    );

    Ok(Report {
        date: utc_now(),
        machine: machine(),
        settings: format!(
            "{} build, {} s per scenario after 1 s warm-up, {} keep-alive connections, {} load generator thread(s) on the same machine, {} s pause after start-up",
            options.build, options.duration, options.connections, options.threads, options.settle
        ),
        command: options.command.clone(),
        rows,
        first_start_ms,
        restart_ms,
        peak_rss_kb,
        end_rss_kb,
        variant_peak_rss_kb,
        notes,
    })
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, Linux {}", kernel.trim())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("bench-demo: {err}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&options) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("bench-demo: {err}");
            return ExitCode::FAILURE;
        }
    };
    let section = render(&report);
    print!("{section}");
    if let Some(file) = &options.write {
        let document = std::fs::read_to_string(file).unwrap_or_default();
        if let Err(err) = std::fs::write(file, replace_section(&document, &section)) {
            eprintln!("bench-demo: cannot write {}: {err}", file.display());
            return ExitCode::FAILURE;
        }
        eprintln!("bench-demo: wrote the table into {}", file.display());
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rows: Vec<Row>) -> Report {
        Report {
            date: "2026-11-26 20:00 UTC".to_owned(),
            machine: "2 cores, Linux 6".to_owned(),
            settings: "debug build".to_owned(),
            command: "scripts/bench-demo.sh".to_owned(),
            rows,
            first_start_ms: Some(1234.4),
            restart_ms: None,
            peak_rss_kb: Some(204_800),
            end_rss_kb: Some(102_400),
            variant_peak_rss_kb: None,
            notes: vec!["a note".to_owned()],
        }
    }

    #[test]
    fn renders_rows_ratios_and_failures() {
        let rows = vec![
            Row {
                name: "static".to_owned(),
                result: Ok(
                    json!({"rps": 100000.0, "p50_ms": 0.2, "p99_ms": 0.5, "non_2xx": 0, "graphql_errors": 0, "io_errors": 0, "sample": null}),
                ),
                probe: None,
            },
            Row {
                name: "getBooking".to_owned(),
                result: Ok(
                    json!({"rps": 25000.0, "p50_ms": 1.0, "p99_ms": 2.5, "non_2xx": 0, "graphql_errors": 1500, "io_errors": 0, "sample": "HTTP 200: {\"errors\":[...]}"}),
                ),
                probe: Some("data.getBooking is null".to_owned()),
            },
            Row {
                name: "nested".to_owned(),
                result: Err("skipped: no bookings found".to_owned()),
                probe: None,
            },
        ];
        let text = render(&report(rows));
        assert!(
            text.starts_with(BEGIN) && text.ends_with(&format!("{END}\n")),
            "{text}"
        );
        assert!(
            text.contains("| static | 100,000 | 0.20 ms | 0.50 ms | 1.00 | 0 | 0 | 0 |"),
            "{text}"
        );
        assert!(
            text.contains("| getBooking | 25,000 | 1.00 ms | 2.50 ms | 0.25 | 0 | 1,500 | 0 |"),
            "{text}"
        );
        assert!(text.contains("| nested | skipped |"), "{text}");
        assert!(
            text.contains(
                "- getBooking (single request before the load): `data.getBooking is null`"
            ),
            "{text}"
        );
        assert!(
            text.contains("- getBooking: `HTTP 200: {\"errors\":[...]}`"),
            "{text}"
        );
        assert!(
            text.contains("- nested: `skipped: no bookings found`"),
            "{text}"
        );
        assert!(
            text.contains("1,234 ms on an empty data directory"),
            "{text}"
        );
        assert!(text.contains("200 MB for the demo"), "{text}");
    }

    #[test]
    fn replaces_the_marked_section_or_inserts_it_after_the_title() {
        let section = format!("{BEGIN}\nnew\n{END}\n");
        let fresh = replace_section("# Benchmarks\n\n## Server\n\ntext\n", &section);
        assert_eq!(
            fresh,
            format!("# Benchmarks\n\n{section}\n## Server\n\ntext\n")
        );
        let again = replace_section(&fresh, &format!("{BEGIN}\nnewer\n{END}\n"));
        assert_eq!(
            again,
            format!("# Benchmarks\n\n{BEGIN}\nnewer\n{END}\n\n## Server\n\ntext\n")
        );
        assert_eq!(replace_section("", &section), section);
    }

    #[test]
    fn reads_vm_hwm_and_dechunks() {
        assert_eq!(
            status_kb("Name:\tx\nVmPeak:\t 9 kB\nVmHWM:\t  20480 kB\n", "VmHWM"),
            Some(20480)
        );
        assert_eq!(status_kb("VmRSS:\t 512 kB\n", "VmRSS"), Some(512));
        assert_eq!(status_kb("Name:\tx\n", "VmHWM"), None);
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(12.0), "12");
    }

    #[test]
    fn rotating_bodies_cover_every_flight_and_skip_missing_data() {
        let fixtures = Fixtures {
            flight_ids: vec!["FL00001".to_owned(), "FL00002".to_owned()],
            ..Fixtures::default()
        };
        let created = bodies("createBooking", &fixtures).expect("flights exist");
        assert_eq!(created.len(), 2);
        assert!(created[1].contains("FL00002"), "{}", created[1]);
        assert_eq!(
            bodies("getFlight-cached", &fixtures).map(|b| b.len()),
            Ok(1)
        );
        assert!(bodies("nested", &fixtures).is_err_and(|why| why.starts_with("skipped")));
        // The bodies carry the example files' operations without their comments.
        let body: Json = serde_json::from_str(&created[0]).expect("JSON body");
        let query = body["query"].as_str().expect("query");
        assert!(query.starts_with("mutation CreateBooking("), "{query}");
        assert!(!query.contains('#') && !query.contains('\n'), "{query}");
        // The booking's customer is the caller's token, not the input.
        assert_eq!(
            body["variables"]["input"],
            json!({
                "outboundFlightId": "FL00001",
                "paymentToken": "tok_bench",
                "bookingDescription": "Booked by the benchmark suite: aisle seat, no meal.",
            })
        );
    }

    #[test]
    fn asks_the_local_issuer_for_tokens() {
        let request: Json =
            serde_json::from_str(&token_request("bench-admin", &["Admin"])).expect("JSON");
        assert_eq!(
            request,
            json!({"sub": "bench-admin", "groups": ["Admin"], "expiresIn": 3600})
        );
        let request: Json =
            serde_json::from_str(&token_request("bench-customer", &[])).expect("JSON");
        assert_eq!(request["groups"], json!([]));
        assert_eq!(
            parse_token(
                r#"{"token":"eyJ.a.b","expiresAt":1,"provider":"AMAZON_COGNITO_USER_POOLS"}"#
            ),
            Ok("eyJ.a.b".to_owned())
        );
        assert!(parse_token(r#"{"errorType":"NotFound"}"#).is_err());
        assert!(parse_token("not json").is_err());
    }
}
