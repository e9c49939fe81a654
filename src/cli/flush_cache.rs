//! `appsync-local flush-cache`: empties a running server's cache, like
//! `aws appsync flush-api-cache`. A few lines of HTTP/1.1 over tokio keep
//! an HTTP client library out of the binary.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The running server's base URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    pub url: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let authority = authority_of(&args.url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime.block_on(status_of(&authority, "DELETE", "/v1/apis/local/FlushCache"))?;
    if status == 200 {
        println!("flushed the cache of {}", args.url);
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("the server answered HTTP {status}")
    }
}

/// `host:port` from `http://host[:port][/...]`.
pub(super) fn authority_of(url: &str) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("--url must start with http:// (the local server speaks plain HTTP)");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("--url has no host");
    }
    Ok(if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

/// Sends one bodiless request and returns the response's status code.
pub(super) async fn status_of(authority: &str, method: &str, path: &str) -> anyhow::Result<u16> {
    Ok(request(authority, method, path).await?.0)
}

/// Sends one bodiless request; the response's status code and body.
pub(super) async fn request(
    authority: &str,
    method: &str,
    path: &str,
) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot connect to {authority}"))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .context("the server's answer is not HTTP")?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::authority_of;

    #[test]
    fn reads_the_authority_of_a_url() {
        assert_eq!(
            authority_of("http://127.0.0.1:4000").ok().as_deref(),
            Some("127.0.0.1:4000")
        );
        assert_eq!(
            authority_of("http://localhost/x").ok().as_deref(),
            Some("localhost:80")
        );
        assert!(authority_of("https://x").is_err());
        assert!(authority_of("http:///").is_err());
    }
}
