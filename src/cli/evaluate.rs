//! `appsync-local evaluate`: renders one mapping template against a context,
//! like `aws appsync evaluate-mapping-template`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value as Json, json};

use crate::vtl::{Context, Host, Rendered, Template};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The VTL mapping template to render.
    #[arg(long)]
    pub template: PathBuf,
    /// A JSON context object (`arguments`, `source`, `result`, `identity`,
    /// `stash`, `prev`, `request`, `info`, `error`); `{}` when omitted.
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Pin the clock (`$util.time.now*`, `autoUlid`) at these milliseconds
    /// since the Unix epoch, instead of the real time.
    #[arg(long, value_name = "EPOCH_MILLIS")]
    pub now: Option<i64>,
    /// Seed the generator behind `autoId`, `autoUlid`, `autoKsuid` and
    /// `$util.math.random*`, so runs repeat.
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.template)
        .with_context(|| format!("cannot read template {}", args.template.display()))?;
    let mut ctx: Context = match &args.context {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read context {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid context object", path.display()))?
        }
        None => Context::default(),
    };
    let name = args.template.file_name().map_or_else(
        || args.template.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let response = match Template::parse(&name, &source) {
        Err(err) => json!({
            "error": {"message": format!("{err:#}"), "errorType": "MappingTemplate"},
            "logs": [],
        }),
        Ok(template) => {
            let mut host = Host::system();
            if let Some(now) = args.now {
                host = host.with_fixed_clock(now);
            }
            if let Some(seed) = args.seed {
                host = host.with_seed(seed);
            }
            let out = template.render_with(&mut ctx, &mut host);
            let mut response = serde_json::Map::new();
            match out.result {
                Ok(Rendered::Text(text)) => {
                    response.insert("evaluationResult".into(), Json::String(text));
                }
                Ok(Rendered::Return(value)) => {
                    response.insert(
                        "evaluationResult".into(),
                        Json::String(serde_json::to_string(&value)?),
                    );
                }
                Err(err) => {
                    let mut error = serde_json::Map::new();
                    error.insert("message".into(), Json::String(err.message));
                    if let Some(t) = err.error_type {
                        error.insert("errorType".into(), Json::String(t));
                    }
                    if let Some(data) = err.data {
                        error.insert("data".into(), data);
                    }
                    if let Some(info) = err.error_info {
                        error.insert("errorInfo".into(), info);
                    }
                    response.insert("error".into(), Json::Object(error));
                }
            }
            response.insert("logs".into(), json!(out.logs));
            if !ctx.stash.is_empty() {
                response.insert("stash".into(), Json::Object(ctx.stash.clone()));
            }
            if !out.appended_errors.is_empty() {
                response.insert(
                    "outErrors".into(),
                    serde_json::to_value(&out.appended_errors)?,
                );
            }
            Json::Object(response)
        }
    };
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(if response.get("error").is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
