//! `appsync-local flush-cache`: empties a running server's cache, like
//! `aws appsync flush-api-cache`.

use std::process::ExitCode;

use anyhow::bail;
use axum::http::Method;

use super::http;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The running server's base URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let url = http::on_server(&http::parse_url(&args.url)?, "/v1/apis/local/FlushCache")?;
    let answer = http::send(Method::DELETE, &url, http::seconds(args.timeout)?)?;
    if answer.status == 200 {
        println!("flushed the cache of {}", args.url);
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("the server answered HTTP {}", answer.status)
    }
}
