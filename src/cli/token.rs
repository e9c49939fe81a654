//! `appsync-local token`: prints a JWT that the project's Cognito (or OIDC)
//! provider accepts, signed with the local issuer key of the data directory
//! a server of the project uses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::auth::{TokenProvider, TokenRequest};
use crate::loader::{LoadOptions, Project};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Project directory (holding appsync.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Data directory of the server that should accept the token
    /// [default: PROJECT/.appsync-local].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Mint for the project's first provider of this kind [default: its
    /// first Cognito or OIDC provider].
    #[arg(long, value_parser = ["cognito", "oidc"])]
    pub provider: Option<String>,
    /// The user's `sub`.
    #[arg(long)]
    pub sub: String,
    /// `cognito:username` (or `preferred_username`) [default: the sub].
    #[arg(long)]
    pub username: Option<String>,
    /// Groups, comma-separated (`cognito:groups`).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Extra claims, a JSON object merged over the generated ones.
    #[arg(long)]
    pub claims: Option<String>,
    /// Seconds until expiry; zero or negative mints an expired token.
    #[arg(long, default_value_t = crate::auth::DEFAULT_EXPIRES_IN, allow_negative_numbers = true)]
    pub expires_in: i64,
    /// The `aud` claim [default: derived from the provider's client id
    /// pattern].
    #[arg(long)]
    pub client_id: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let project = std::path::absolute(&args.project)
        .with_context(|| format!("invalid project path {}", args.project.display()))?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| project.join(".appsync-local"));
    let claims = match &args.claims {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => anyhow::bail!("--claims must be a JSON object"),
            Err(e) => anyhow::bail!("--claims is not JSON: {e}"),
        },
    };
    let auth = Project::auth_with(
        &project,
        &LoadOptions {
            data_dir: Some(data),
            no_seed: true,
            ..LoadOptions::default()
        },
    )
    .map_err(|errors| anyhow::anyhow!("{errors}"))
    .with_context(|| format!("cannot load the project in {}", project.display()))?;
    let request = TokenRequest {
        provider: args.provider.as_deref().map(|p| match p {
            "oidc" => TokenProvider::Oidc,
            _ => TokenProvider::Cognito,
        }),
        sub: args.sub,
        username: args.username,
        groups: args.groups.into_iter().filter(|g| !g.is_empty()).collect(),
        claims,
        expires_in: Some(args.expires_in),
        client_id: args.client_id,
    };
    let minted = auth
        .mint(&request, chrono::Utc::now().timestamp())
        .context("cannot mint a token")?;
    println!("{}", minted.token);
    Ok(ExitCode::SUCCESS)
}
