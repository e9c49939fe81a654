//! The HTTP client of the commands that talk to a running server
//! (`flush-cache`, `seed --url`, `reset --url`, `healthcheck`): hyper's,
//! which the server already builds, so chunked answers, IPv6 hosts and
//! keep-alive quirks are handled by a maintained client. Every exchange has
//! a deadline: a server that accepts and never answers cannot hang a
//! container healthcheck or a script.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use axum::body::Bytes;
use axum::http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A response: status code and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `--url` checked: plain HTTP with a host (an IPv6 host in brackets).
pub fn parse_url(url: &str) -> anyhow::Result<Uri> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("--url must start with http:// (the local server speaks plain HTTP)");
    };
    if rest.starts_with(['/', '?', '#']) || rest.is_empty() {
        bail!("--url has no host");
    }
    url.parse().with_context(|| format!("invalid --url {url}"))
}

/// The URL of `path` on the server that `base` names (its path is dropped).
pub fn on_server(base: &Uri, path: &str) -> anyhow::Result<Uri> {
    let authority = base.authority().context("--url has no host")?;
    format!("http://{authority}{path}")
        .parse()
        .with_context(|| format!("invalid path {path}"))
}

/// Seconds from the command line, as a timeout.
pub fn seconds(value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).context("invalid --timeout")
}

/// Sends one bodiless request and reads the whole answer, on a runtime of
/// its own (the commands are synchronous).
pub fn send(method: Method, url: &Uri, timeout: Duration) -> anyhow::Result<Answer> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(exchange(method, url, timeout))
}

/// Sends one bodiless request; the answer, or an error once `timeout` has
/// passed without the whole answer.
pub async fn exchange(method: Method, url: &Uri, timeout: Duration) -> anyhow::Result<Answer> {
    let authority = url.authority().map(ToString::to_string).unwrap_or_default();
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = Request::builder()
        .method(method)
        .uri(url.clone())
        .body(Empty::new())?;
    let answer = async {
        let response = client.request(request).await.map_err(|err| {
            if err.is_connect() {
                anyhow!(err).context(format!("cannot connect to {authority}"))
            } else {
                anyhow!(err).context(format!("no valid answer from {url}"))
            }
        })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer of {url}"))?
            .to_bytes();
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(timeout, answer)
        .await
        .map_err(|_| anyhow!("no answer from {url} within {timeout:?}"))?
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// Answers one connection with `response` once the request head is in.
    async fn answer_once(listener: TcpListener, response: &'static [u8]) {
        let (mut socket, _) = listener.accept().await.expect("a connection");
        let mut request = Vec::new();
        let mut buffer = [0; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let read = socket.read(&mut buffer).await.expect("the request");
            assert!(read > 0, "the request ended early");
            request.extend_from_slice(&buffer[..read]);
        }
        socket.write_all(response).await.expect("the response");
    }

    #[test]
    fn reads_urls() {
        let url = parse_url("http://127.0.0.1:4000/health").expect("a URL");
        assert_eq!(url.host(), Some("127.0.0.1"));
        assert_eq!(url.port_u16(), Some(4000));
        let url = parse_url("http://localhost").expect("a URL");
        assert_eq!((url.host(), url.port_u16()), (Some("localhost"), None));
        let root = on_server(&url, "/admin/seed").expect("a URL");
        assert_eq!(root.to_string(), "http://localhost/admin/seed");
        for (bad, message) in [
            ("https://x", "must start with http://"),
            ("http:///", "has no host"),
            ("http://", "has no host"),
            ("http://a b/", "invalid --url"),
        ] {
            let err = parse_url(bad).expect_err(bad);
            assert!(format!("{err:#}").contains(message), "{bad}: {err:#}");
        }
    }

    #[tokio::test]
    async fn reads_a_chunked_body() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/x", listener.local_addr().expect("address"));
        let server = tokio::spawn(answer_once(
            listener,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ));
        let url = parse_url(&url).expect("a URL");
        let answer = exchange(Method::GET, &url, 10 * SECOND)
            .await
            .expect("an answer");
        assert_eq!((answer.status, answer.body.as_str()), (200, "hello world"));
        server.await.expect("the server");
    }

    #[tokio::test]
    async fn talks_to_an_ipv6_host() {
        let url = parse_url("http://[::1]:4000/health").expect("a URL");
        assert_eq!(url.host(), Some("[::1]"));
        assert_eq!(url.port_u16(), Some(4000));
        assert_eq!(
            on_server(&url, "/admin/reset").expect("a URL").to_string(),
            "http://[::1]:4000/admin/reset"
        );
        match TcpListener::bind("[::1]:0").await {
            Ok(listener) => {
                let port = listener.local_addr().expect("address").port();
                let server = tokio::spawn(answer_once(
                    listener,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                ));
                let url = parse_url(&format!("http://[::1]:{port}/health")).expect("a URL");
                let answer = exchange(Method::GET, &url, 10 * SECOND)
                    .await
                    .expect("an answer");
                assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
                server.await.expect("the server");
            }
            // No IPv6 loopback here: the client must still read the address
            // and try to connect to it, not fail on the URL.
            Err(_) => {
                let err = exchange(Method::GET, &url, 10 * SECOND)
                    .await
                    .expect_err("nothing listens");
                assert!(
                    format!("{err:#}").contains("cannot connect to [::1]:4000"),
                    "{err:#}"
                );
            }
        }
    }

    #[tokio::test]
    async fn gives_up_on_a_server_that_never_answers() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        // Accepts, reads the request, and keeps the connection open.
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut buffer = [0; 1024];
            while socket.read(&mut buffer).await.is_ok_and(|read| read > 0) {}
        });
        let url = parse_url(&format!("http://{address}/health")).expect("a URL");
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        // The outer bound only turns a hang into a failure.
        let err = tokio::time::timeout(30 * SECOND, exchange(Method::GET, &url, timeout))
            .await
            .expect("the client gave up by itself")
            .expect_err("no answer");
        assert!(started.elapsed() >= timeout);
        assert_eq!(
            format!("{err:#}"),
            format!("no answer from http://{address}/health within 300ms")
        );
        server.abort();
    }
}
