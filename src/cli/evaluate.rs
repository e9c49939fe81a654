//! `appsync-local evaluate`: renders one mapping template against a context,
//! like `aws appsync evaluate-mapping-template`, or runs one handler of an
//! APPSYNC_JS file, like `aws appsync evaluate-code`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value as Json, json};

use crate::js::JsLimits;
use crate::runtime::Phase;
use crate::vtl::{Context, Host, Rendered, Template};

#[derive(Debug, Default, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["template", "code"])))]
pub struct Args {
    /// The VTL mapping template to render.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// The APPSYNC_JS file (an ES module exporting `request` and
    /// `response`) to run; local imports resolve next to it.
    #[arg(long)]
    pub code: Option<PathBuf>,
    /// The handler `--code` runs.
    #[arg(long, value_enum, default_value = "request", requires = "code")]
    pub function: Function,
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

#[derive(Debug, Default, Clone, Copy, clap::ValueEnum)]
pub enum Function {
    #[default]
    Request,
    Response,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut ctx = read_context(&args)?;
    let host = host(&args);
    let response = match (&args.template, &args.code) {
        (Some(template), _) => evaluate_template(template, &mut ctx, host)?,
        (None, Some(code)) => evaluate_code(code, args.function, &mut ctx, host)?,
        (None, None) => anyhow::bail!("give --template or --code"),
    };
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(if response.get("error").is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn host(args: &Args) -> Host {
    let mut host = Host::system();
    if let Some(now) = args.now {
        host = host.with_fixed_clock(now);
    }
    if let Some(seed) = args.seed {
        host = host.with_seed(seed);
    }
    host
}

fn evaluate_code(
    path: &Path,
    function: Function,
    ctx: &mut Context,
    host: Host,
) -> anyhow::Result<Json> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read code {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = file_name(path);
    let mut read = |relative: &str| std::fs::read_to_string(dir.join(relative));
    let phase = match function {
        Function::Request => Phase::Request,
        Function::Response => Phase::Response,
    };
    let response = crate::js::evaluate_code(
        &name,
        &source,
        &mut read,
        phase,
        ctx,
        host,
        JsLimits::default(),
    );
    Ok(serde_json::to_value(response)?)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read_context(args: &Args) -> anyhow::Result<Context> {
    Ok(match &args.context {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read context {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid context object", path.display()))?
        }
        None => Context::default(),
    })
}

fn evaluate_template(path: &Path, ctx: &mut Context, mut host: Host) -> anyhow::Result<Json> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read template {}", path.display()))?;
    let name = file_name(path);
    Ok(match Template::parse(&name, &source) {
        Err(err) => json!({
            "error": {"message": format!("{err:#}"), "errorType": "MappingTemplate"},
            "logs": [],
        }),
        Ok(template) => {
            let out = template.render_with(ctx, &mut host);
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
    })
}
