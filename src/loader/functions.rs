//! The project's local Lambda functions (`functions:`, and inline
//! `function:` on a Lambda data source), checked and turned into pools.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use std::sync::Arc;

use super::Loader;
use crate::auth::AuthConfig;
use crate::lambda::{DEFAULT_TIMEOUT, FunctionPool, FunctionRef, FunctionSpec, Functions, Runtime};
use crate::model::manifest::{AuthenticationType, DataSourceType, FunctionConfig, Manifest};

/// Command-line settings for local functions.
#[derive(Debug, Clone, Default)]
pub struct LambdaOptions {
    /// `--node`: the Node.js interpreter (else `node` on PATH).
    pub node: Option<PathBuf>,
    /// `--python`: the Python interpreter (else `python3` on PATH).
    pub python: Option<PathBuf>,
    /// `--lambda-endpoint`: an Invoke API for functions not defined here.
    pub endpoint: Option<axum::http::Uri>,
    /// Idle workers are stopped after this long (default 5 minutes).
    pub idle_timeout: Option<Duration>,
}

/// Default pool size: one worker per core, as the issue of warm, parallel
/// workers asks; `reservedConcurrency` overrides it.
fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a handler cannot be found; reported at the function's `handler`.
#[derive(Debug, thiserror::Error)]
#[error("handler `{handler}`: {reason}")]
struct HandlerProblem {
    handler: String,
    reason: String,
}

impl HandlerProblem {
    fn new(handler: &str, reason: impl Into<String>) -> Self {
        HandlerProblem {
            handler: handler.to_owned(),
            reason: reason.into(),
        }
    }
}

impl Loader {
    pub(super) fn local_functions(&mut self, manifest: &Manifest) -> Functions {
        let mut functions = Functions::default();
        let spares = Some(Arc::clone(functions.spares()));
        for (name, config) in &manifest.functions {
            if let Some(spec) = self.function_spec(name, config, &["functions", name]) {
                let aliases = config.name.iter().cloned().collect();
                let pool = FunctionPool::new(spec, spares.clone());
                pool.provision();
                functions.insert(pool, aliases);
            }
        }
        for (name, ds) in &manifest.data_sources {
            let inline = ds.config.as_ref().and_then(|c| c.get("function"));
            let (DataSourceType::AwsLambda, Some(inline)) = (ds.kind, inline) else {
                continue;
            };
            let path = ["dataSources", name.as_str(), "config", "function"];
            match serde_json::from_value::<FunctionConfig>(inline.clone()) {
                Ok(config) => {
                    if let Some(spec) = self.function_spec(name, &config, &path) {
                        functions.insert(FunctionPool::new(spec, spares.clone()), Vec::new());
                    }
                }
                Err(e) => self.manifest_problem(&path, format!("invalid inline function: {e}")),
            }
        }
        functions
    }

    /// Gives the AWS_LAMBDA mode its function: a local one (declared, or
    /// inline under `config.function`), or the Invoke API endpoint.
    pub(super) fn bind_lambda_authorizer(
        &mut self,
        manifest: &Manifest,
        auth: &mut AuthConfig,
        functions: &Functions,
    ) {
        let Some(authorizer) = auth.lambda.as_mut() else {
            return;
        };
        let entry = std::iter::once(("authentication", manifest.authentication.as_ref()))
            .chain(
                manifest
                    .additional_authentications
                    .iter()
                    .map(|a| ("additionalAuthentications", Some(a))),
            )
            .find_map(|(key, a)| {
                a.filter(|a| a.kind == AuthenticationType::AwsLambda)
                    .map(|a| (key, a.config.clone().unwrap_or_default()))
            });
        let Some((key, settings)) = entry else {
            return;
        };
        if let Some(inline) = &settings.function {
            let path = [key, "config", "function"];
            match serde_json::from_value::<FunctionConfig>(inline.clone()) {
                Ok(config) => {
                    if let Some(spec) = self.function_spec(&authorizer.function, &config, &path) {
                        authorizer.invoker = Some(FunctionPool::new(
                            spec,
                            Some(Arc::clone(functions.spares())),
                        ));
                    }
                }
                Err(e) => self.manifest_problem(&path, format!("invalid inline function: {e}")),
            }
            return;
        }
        let field = if settings.function_arn.is_some() {
            "functionArn"
        } else {
            "functionName"
        };
        let Some(target) =
            FunctionRef::parse(&authorizer.function, settings.function_alias.as_deref())
        else {
            self.manifest_problem(
                &[key, "config", field],
                format!(
                    "`{}` is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
                    authorizer.function
                ),
            );
            return;
        };
        authorizer.invoker = functions.invoker(&target, self.options.lambda.endpoint.as_ref());
        if authorizer.invoker.is_none() {
            self.manifest_problem(
                &[key, "config", field],
                format!(
                    "unknown function `{}`: define the authorizer under `functions:`, or pass `serve --lambda-endpoint`",
                    target.name
                ),
            );
        }
    }

    fn function_spec(
        &mut self,
        name: &str,
        config: &FunctionConfig,
        path: &[&str],
    ) -> Option<FunctionSpec> {
        let at = |key: &str| {
            let mut p: Vec<&str> = path.to_vec();
            p.push(key);
            p.into_iter().map(str::to_owned).collect::<Vec<String>>()
        };
        let mut ok = true;
        let runtime_name = config.runtime.as_deref().unwrap_or("nodejs20.x");
        let runtime = Runtime::parse(runtime_name);
        if runtime.is_none() {
            self.problem_at(
                &at("runtime"),
                format!(
                    "unknown runtime `{runtime_name}`: local functions run on nodejs*, python3.*, provided, provided.al2 or provided.al2023"
                ),
            );
            ok = false;
        }
        let timeout = match config.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) if (1.0..=900.0).contains(&t) => Duration::from_secs_f64(t),
            Some(t) => {
                self.problem_at(
                    &at("timeout"),
                    format!("`timeout` is in seconds, from 1 to 900 (Lambda's range); got {t}"),
                );
                ok = false;
                DEFAULT_TIMEOUT
            }
        };
        let memory_size = config.memory_size.unwrap_or(1024);
        if !(128..=10240).contains(&memory_size) {
            self.problem_at(
                &at("memorySize"),
                format!("`memorySize` is in MB, from 128 to 10240; got {memory_size}"),
            );
            ok = false;
        }
        let mut environment = Vec::new();
        for (key, value) in &config.environment {
            let text = match value {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                _ => {
                    self.problem_at(
                        &at("environment"),
                        format!("environment variable `{key}` must be a string, number or boolean"),
                    );
                    ok = false;
                    continue;
                }
            };
            environment.push((key.clone(), text));
        }
        let runtime = runtime?;
        let program = match runtime {
            Runtime::Provided => match self.bootstrap(&config.handler) {
                Ok(path) => Some(path),
                Err(problem) => {
                    self.problem_at(&at("handler"), problem.to_string());
                    return None;
                }
            },
            Runtime::Node | Runtime::Python => {
                if let Err(problem) = self.handler_file(runtime, &config.handler) {
                    self.problem_at(&at("handler"), problem.to_string());
                    ok = false;
                }
                None
            }
        };
        ok.then(|| FunctionSpec {
            name: name.to_owned(),
            handler: config.handler.clone(),
            runtime,
            runtime_name: runtime_name.to_owned(),
            program: program.or_else(|| self.interpreter(runtime)),
            project_dir: std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone()),
            environment,
            timeout,
            memory_size,
            concurrency: config
                .reserved_concurrency
                .map_or_else(default_concurrency, |n| n as usize),
            provisioned: config.provisioned_concurrency.unwrap_or(0) as usize,
            idle_timeout: self.options.lambda.idle_timeout.unwrap_or(IDLE_TIMEOUT),
        })
    }

    fn problem_at(&mut self, path: &[String], message: String) {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        self.manifest_problem(&path, message);
    }

    fn interpreter(&self, runtime: Runtime) -> Option<PathBuf> {
        match runtime {
            Runtime::Node => self.options.lambda.node.clone(),
            Runtime::Python => self.options.lambda.python.clone(),
            Runtime::Provided => None,
        }
    }

    /// `dir/file.export` names `dir/file.js` (or `.mjs`, `.cjs`) for Node
    /// and `dir/file.py` for Python.
    fn handler_file(&self, runtime: Runtime, handler: &str) -> Result<PathBuf, HandlerProblem> {
        let (dir, file) = match handler.rsplit_once('/') {
            Some((dir, file)) => (Some(dir), file),
            None => (None, handler),
        };
        let Some((module, export)) = file.split_once('.') else {
            return Err(HandlerProblem::new(
                handler,
                "must be `path/file.export`, e.g. `src/handler.main`",
            ));
        };
        if module.is_empty() || export.is_empty() {
            return Err(HandlerProblem::new(handler, "must be `path/file.export`"));
        }
        let base = match dir {
            Some(dir) => Path::new(dir).join(module),
            None => PathBuf::from(module),
        };
        let extensions: &[&str] = match runtime {
            Runtime::Node => &["js", "mjs", "cjs"],
            _ => &["py"],
        };
        extensions
            .iter()
            .map(|ext| base.with_extension(ext))
            .find(|candidate| self.dir.join(candidate).is_file())
            .ok_or_else(|| {
                let tried: Vec<String> = extensions
                    .iter()
                    .map(|ext| format!("`{}`", base.with_extension(ext).display()))
                    .collect();
                HandlerProblem::new(
                    handler,
                    format!("no file {} in the project", tried.join(" or ")),
                )
            })
    }

    /// A custom runtime's `bootstrap`: the handler path itself, or a
    /// `bootstrap` file in the handler's directory.
    fn bootstrap(&self, handler: &str) -> Result<PathBuf, HandlerProblem> {
        let direct = self.dir.join(handler);
        let candidates = [
            direct.clone(),
            direct.join("bootstrap"),
            direct
                .parent()
                .map(|p| p.join("bootstrap"))
                .unwrap_or_default(),
        ];
        let found = candidates
            .into_iter()
            .find(|c| c.is_file())
            .ok_or_else(|| {
                HandlerProblem::new(
                    handler,
                    "no `bootstrap` executable at that path or in its directory",
                )
            })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&found)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o111 == 0 {
                return Err(HandlerProblem::new(
                    handler,
                    format!(
                        "`{}` is not executable (chmod +x it)",
                        found.strip_prefix(&self.dir).unwrap_or(&found).display()
                    ),
                ));
            }
        }
        std::path::absolute(&found).map_err(|e| HandlerProblem::new(handler, e.to_string()))
    }
}
