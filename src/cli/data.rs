//! `appsync-local seed` and `appsync-local reset`: load the manifest's seed,
//! or empty every table and index (and seed again unless `--no-seed`),
//! either through a running server's admin API (`--url`) or offline on a
//! data directory no server holds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use axum::http::Method;
use serde_json::json;

use super::http;
use crate::loader::{LoadOptions, Project};
use crate::stores::Stores;

/// Where the data is.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// A running server's base URL: go through its admin API (and flush its cache).
    #[arg(long, conflicts_with_all = ["project", "data"])]
    pub url: Option<String>,
    /// Offline: the project directory (holding appsync.yaml).
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Offline: the data directory [default: PROJECT/.appsync-local].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// With --url: seconds to wait for the server's answer (a seed of many
    /// items takes a while).
    #[arg(long, default_value_t = 600.0, requires = "url")]
    pub timeout: f64,
}

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub target: Target,
    /// Leave the tables and indexes empty.
    #[arg(long)]
    pub no_seed: bool,
}

pub fn seed(args: SeedArgs) -> anyhow::Result<ExitCode> {
    match &args.target.url {
        Some(url) => remote(url, "/admin/seed", args.target.timeout),
        None => offline(&args.target, |stores| {
            Ok(json!({ "seeded": stores.seed()? }))
        }),
    }
}

pub fn reset(args: ResetArgs) -> anyhow::Result<ExitCode> {
    let reseed = !args.no_seed;
    match &args.target.url {
        Some(url) if reseed => remote(url, "/admin/reset", args.target.timeout),
        Some(url) => remote(url, "/admin/reset?seed=false", args.target.timeout),
        None => offline(&args.target, |stores| {
            let report = stores.reset(reseed)?;
            Ok(json!({ "cleared": report.cleared, "seeded": report.seeded }))
        }),
    }
}

/// POSTs to an admin route and prints its JSON answer.
fn remote(url: &str, path: &str, timeout: f64) -> anyhow::Result<ExitCode> {
    let url = http::on_server(&http::parse_url(url)?, path)?;
    let http::Answer { status, body } = http::send(Method::POST, &url, http::seconds(timeout)?)?;
    if status != 200 {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b["message"].as_str().map(str::to_owned))
            .unwrap_or(body);
        bail!("the server answered HTTP {status}: {message}");
    }
    println!("{}", body.trim());
    Ok(ExitCode::SUCCESS)
}

/// Opens the project's stores on its data directory, unseeded, runs
/// `operation` and prints its JSON report.
fn offline(
    target: &Target,
    operation: impl FnOnce(&Stores) -> Result<serde_json::Value, crate::stores::StoresError>,
) -> anyhow::Result<ExitCode> {
    let project = target.project.clone().unwrap_or_else(|| PathBuf::from("."));
    let data = target
        .data
        .clone()
        .unwrap_or_else(|| project.join(".appsync-local"));
    let api = Project::load_with(
        &project,
        &LoadOptions {
            data_dir: Some(data.clone()),
            stores: None,
            no_seed: true,
            no_local_issuer: true,
            lambda: Default::default(),
            deploy: Default::default(),
        },
    )
    .map_err(|errors| {
        anyhow::anyhow!(
            "cannot load the project in {}:\n{errors}{}",
            project.display(),
            busy_hint(&data)
        )
    })?;
    let report = operation(&api.stores).context("failed")?;
    api.stores.close().context("closing the stores")?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// A running server locks its data directory.
fn busy_hint(data: &Path) -> String {
    format!(
        "\n(if a server is running on {}, use --url to go through it)",
        data.display()
    )
}
