//! `appsync-local healthcheck`: the container healthcheck. The runtime image
//! has no curl, so the binary checks `/health` itself.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::flush_cache::{authority_of, status_of};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The health endpoint of the running server (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4000/health")]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let authority = authority_of(&args.url)?;
    let path = path_of(&args.url);
    let timeout = Duration::try_from_secs_f64(args.timeout).context("invalid --timeout")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime
        .block_on(async { tokio::time::timeout(timeout, status_of(&authority, "GET", path)).await })
        .with_context(|| format!("no answer from {} within {timeout:?}", args.url))??;
    if status == 200 {
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("{} answered HTTP {status}", args.url)
    }
}

/// The path of `http://host[:port]/path`, `/` when there is none.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.find('/').map_or("/", |slash| &rest[slash..])
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn reads_the_path_of_a_url() {
        assert_eq!(path_of("http://127.0.0.1:4000/health"), "/health");
        assert_eq!(path_of("http://localhost:4000"), "/");
        assert_eq!(path_of("http://h/a/b?c"), "/a/b?c");
    }
}
