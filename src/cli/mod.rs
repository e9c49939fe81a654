//! The command line. The only place that uses `anyhow`.

use clap::{Parser, Subcommand};

mod check;
mod data;
mod evaluate;
mod flush_cache;
mod healthcheck;
mod http;
mod serve;
mod subscribe;
mod token;

#[derive(Debug, Parser)]
#[command(
    name = "appsync-local",
    version,
    about = "Run an AWS AppSync API locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a project over GraphQL (the default command).
    Serve(serve::Args),
    /// Validate a project's manifest, schema, templates and bindings.
    Check(check::Args),
    /// Render one mapping template against a context, like `aws appsync evaluate-mapping-template`.
    Evaluate(evaluate::Args),
    /// Empty a running server's cache, like `aws appsync flush-api-cache`.
    FlushCache(flush_cache::Args),
    /// Exit 0 when a running server answers `/health`: the container healthcheck.
    Healthcheck(healthcheck::Args),
    /// Load the manifest's seed data (items with the same keys are replaced).
    Seed(data::SeedArgs),
    /// Empty every table and index, then seed again unless --no-seed.
    Reset(data::ResetArgs),
    /// Print a signed JWT the project's Cognito or OIDC provider accepts.
    Token(token::Args),
    /// Watch a subscription of a running server, one JSON line per message.
    Subscribe(subscribe::Args),
}

/// The command-line definition, for tests that check a command line (the
/// Dockerfile's, docker-compose's) against it without running it.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Entry point for the binary.
pub fn run() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        None => serve::run(serve::Args::default()),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Evaluate(args)) => evaluate::run(args),
        Some(Command::FlushCache(args)) => flush_cache::run(args),
        Some(Command::Healthcheck(args)) => healthcheck::run(args),
        Some(Command::Seed(args)) => data::seed(args),
        Some(Command::Reset(args)) => data::reset(args),
        Some(Command::Token(args)) => token::run(args),
        Some(Command::Subscribe(args)) => subscribe::run(args),
    }
}
