//! `appsync-local healthcheck`: the container healthcheck. The runtime image
//! has no curl, so the binary checks `/health` itself.

use std::process::ExitCode;

use anyhow::bail;
use axum::http::Method;

use super::http;

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
    let url = http::parse_url(&args.url)?;
    let answer = http::send(Method::GET, &url, http::seconds(args.timeout)?)?;
    if answer.status == 200 {
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("{} answered HTTP {}", args.url, answer.status)
    }
}
