use std::path::PathBuf;
use std::process::ExitCode;

use crate::loader::{LambdaOptions, LoadOptions, Project};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The project directory (holding appsync.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// The Invoke API `serve` will send functions not declared under
    /// `functions:` to, so they are not reported as unknown.
    #[arg(long, value_name = "URL", value_parser = super::serve::parse_lambda_endpoint)]
    pub lambda_endpoint: Option<axum::http::Uri>,
    /// The stage a serverless.yml project is read for.
    #[arg(long)]
    pub stage: Option<String>,
    /// A parameter, as NAME=VALUE: a serverless.yml's `${param:NAME}`, a template's `Parameters`.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = super::serve::parse_param)]
    pub params: Vec<(String, String)>,
}

/// Lists every problem in a project; exits non-zero when there is any, so
/// users can run it in CI.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Checking needs no data: the seed is validated, not loaded.
    let options = LoadOptions {
        no_seed: true,
        lambda: LambdaOptions {
            endpoint: args.lambda_endpoint.clone(),
            ..LambdaOptions::default()
        },
        deploy: super::serve::deploy_options(&args.stage, &args.params),
        ..LoadOptions::default()
    };
    match Project::load_with(&args.project, &options) {
        Ok(api) => {
            for notice in api.manifest.notices() {
                println!("notice: {notice}");
            }
            println!(
                "{}: ok ({} types, {} resolvers)",
                api.name,
                api.schema.model.types.len(),
                api.resolver_count()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(ExitCode::FAILURE)
        }
    }
}
