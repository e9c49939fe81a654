//! APPSYNC_JS: resolvers and pipeline functions written in JavaScript.
//!
//! A code file is an ES module exporting `request(ctx)` and `response(ctx)`.
//! At load, [`JsProgram::compile`] parses it with oxc, checks it against the
//! APPSYNC_JS subset (`lint`), rewrites each module as a factory function
//! (`compile`) and compiles that to QuickJS bytecode once. Per request,
//! [`JsCode`] runs a step in the worker thread's pooled QuickJS runtime
//! (`engine`): a fresh module instance, a `ctx` built from the same
//! [`Context`] the VTL runtime reads, and `util`, `extensions`, `runtime`
//! and `console` bound to the shared `$util` implementation (`bindings`).
//!
//! Architecture invariant: like `vtl/`, this module is pure. It reads no
//! files (the loader hands it sources through a callback), does no network
//! IO and reads the clock and randomness only through the [`Host`]; the one
//! real-time read is the runaway-code budget, which bounds how long a step
//! may run, never what it computes. Enforced by `tests/architecture.rs`.

mod bindings;
mod compile;
mod engine;
mod lint;
mod typescript;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value as Json;

use crate::runtime::{CodeError, Context, Evaluation, Host, Outcome, Phase, ResolverCode};

pub use engine::engine_memory_bytes;

/// AppSync's limit on a code file.
pub const MAX_CODE_BYTES: usize = 32 * 1024;

/// The built-in modules, by specifier.
const BUILTINS: [(&str, Builtin); 3] = [
    ("@aws-appsync/utils", Builtin::Utils),
    ("@aws-appsync/utils/dynamodb", Builtin::Dynamodb),
    ("@aws-appsync/utils/rds", Builtin::Rds),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Builtin {
    Utils,
    Dynamodb,
    Rds,
}

impl Builtin {
    fn from_specifier(spec: &str) -> Option<Builtin> {
        BUILTINS
            .iter()
            .find(|(name, _)| *name == spec)
            .map(|&(_, b)| b)
    }

    /// What each module exports, for checking named imports at load.
    fn exports(self) -> &'static [&'static str] {
        match self {
            Builtin::Utils => &["util", "extensions", "runtime"],
            Builtin::Dynamodb => bindings::DYNAMODB_EXPORTS,
            Builtin::Rds => &[
                "select",
                "insert",
                "update",
                "remove",
                "sql",
                "createPgStatement",
                "createMySQLStatement",
                "typeHint",
                "agg",
                "toJsonObject",
            ],
        }
    }
}

/// EvaluateCode's two kinds of problems found before code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CodeErrorKind {
    /// The code is not valid JavaScript.
    ParserError,
    /// The code uses a construct or module the runtime rejects.
    LintError,
}

/// A problem in a code file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct CodeProblem {
    pub kind: CodeErrorKind,
    pub file: String,
    pub message: String,
    /// 1-based; 0 when the problem has no position.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// The length of the offending text, in characters.
    pub span: u32,
    /// The source line, for rendering.
    pub snippet: Option<String>,
}

impl CodeProblem {
    fn at(
        kind: CodeErrorKind,
        file: &str,
        source: &str,
        span: oxc::span::Span,
        message: String,
    ) -> CodeProblem {
        let start = (span.start as usize).min(source.len());
        let before = &source[..start];
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..start].chars().count() as u32 + 1;
        let end = (span.end as usize).clamp(start, source.len());
        CodeProblem {
            kind,
            file: file.to_owned(),
            message,
            line,
            column,
            span: source[start..end].chars().count() as u32,
            snippet: source[line_start..].lines().next().map(str::to_owned),
        }
    }

    fn whole_file(kind: CodeErrorKind, file: &str, message: String) -> CodeProblem {
        CodeProblem {
            kind,
            file: file.to_owned(),
            message,
            line: 0,
            column: 0,
            span: 0,
            snippet: None,
        }
    }
}

/// The problems that stop a code file from loading.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeProblems(pub Vec<CodeProblem>);

impl fmt::Display for CodeProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CodeProblems {}

/// Limits on one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct JsLimits {
    /// How long a step may run before it is stopped.
    pub time_budget: Duration,
}

impl Default for JsLimits {
    fn default() -> Self {
        // AppSync documents no per-step limit; one second stops a runaway
        // loop long before AppSync's 30-second request timeout while no
        // real handler comes near it.
        JsLimits {
            time_budget: Duration::from_secs(1),
        }
    }
}

/// One compiled module of a program.
#[derive(Debug)]
struct ModuleCode {
    name: String,
    bytecode: Vec<u8>,
    imports: Vec<Import>,
}

#[derive(Debug, Clone, Copy)]
enum Import {
    /// Another module of the same program, by index.
    Local(usize),
    Builtin(Builtin),
}

/// A code file and the local modules it imports, compiled.
#[derive(Debug)]
pub struct JsProgram {
    /// Unique per compile: the key of the threads' factory caches.
    id: u64,
    /// The entry module is `modules[0]`; a module's imports come before it
    /// in instantiation order, never cyclically.
    modules: Vec<ModuleCode>,
}

/// Where a module's source comes from, by project-relative path: the loader
/// reads project files.
pub type ReadModule<'a> = dyn FnMut(&str) -> std::io::Result<String> + 'a;

impl JsProgram {
    /// Compiles `entry` (named by its project-relative path) and every local
    /// module it imports, read through `read` by project-relative path.
    pub fn compile(
        name: &str,
        source: &str,
        read: &mut ReadModule<'_>,
    ) -> Result<Arc<JsProgram>, CodeProblems> {
        let mut graph = Graph::default();
        graph.add(name, source.to_owned(), read, &mut Vec::new())?;
        let entry = &graph.modules[0].1;
        let missing: Vec<&str> = ["request", "response"]
            .into_iter()
            .filter(|h| !entry.exports.iter().any(|e| e == h) && entry.star_exports.is_empty())
            .collect();
        if !missing.is_empty() {
            return Err(CodeProblems(vec![CodeProblem::whole_file(
                CodeErrorKind::LintError,
                name,
                format!(
                    "the code must export `request` and `response` functions; `{}` is missing",
                    missing.join("` and `")
                ),
            )]));
        }
        let modules = graph
            .modules
            .into_iter()
            .map(|(name, source, imports)| {
                engine::compile_module(&name, &source.text)
                    .map(|bytecode| ModuleCode {
                        name,
                        bytecode,
                        imports,
                    })
                    .map_err(|e| CodeProblems(vec![e]))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(JsProgram {
            id: engine::next_program_id(),
            modules,
        }))
    }

    /// The entry file's name.
    pub fn name(&self) -> &str {
        &self.modules[0].name
    }

    /// Runs one handler (`request` or `response`) against `ctx` with the
    /// real clock; changes to the stash and arguments are written back.
    pub fn evaluate(self: &Arc<Self>, phase: Phase, ctx: &mut Context, host: Host) -> Evaluation {
        self.evaluate_with(phase, ctx, host, JsLimits::default())
    }

    pub fn evaluate_with(
        self: &Arc<Self>,
        phase: Phase,
        ctx: &mut Context,
        host: Host,
        limits: JsLimits,
    ) -> Evaluation {
        engine::evaluate(self, phase, ctx, host, limits)
    }
}

/// The modules of a program being compiled, entry first.
#[derive(Default)]
struct Graph {
    modules: Vec<(String, compile::FactorySource, Vec<Import>)>,
}

impl Graph {
    /// Adds `name` and, depth first, what it imports; returns its index.
    fn add(
        &mut self,
        name: &str,
        source: String,
        read: &mut ReadModule<'_>,
        path: &mut Vec<String>,
    ) -> Result<usize, CodeProblems> {
        if source.len() > MAX_CODE_BYTES {
            return Err(CodeProblems(vec![CodeProblem::whole_file(
                CodeErrorKind::LintError,
                name,
                format!(
                    "the code is {} bytes; AppSync allows at most {MAX_CODE_BYTES}",
                    source.len()
                ),
            )]));
        }
        // `.ts` files are erased to JavaScript in place, positions kept.
        let is_typescript = name.ends_with(".ts");
        let source = if is_typescript {
            typescript::strip(name, &source).map_err(CodeProblems)?
        } else {
            source
        };
        let factory =
            compile::factory(name, &source, compile::Origin::User).map_err(CodeProblems)?;
        let index = self.modules.len();
        self.modules
            .push((name.to_owned(), factory.clone(), Vec::new()));
        path.push(name.to_owned());
        let mut imports = Vec::new();
        let mut problems = Vec::new();
        let at = |i: usize, message: String| {
            CodeProblem::at(
                CodeErrorKind::LintError,
                name,
                &source,
                factory.import_spans[i],
                message,
            )
        };
        for (i, spec) in factory.imports.iter().enumerate() {
            if let Some(builtin) = Builtin::from_specifier(spec) {
                imports.push(Import::Builtin(builtin));
                continue;
            }
            let Some(target) = resolve(name, spec) else {
                problems.push(at(
                    i,
                    format!(
                        "cannot import `{spec}`: the runtime provides @aws-appsync/utils, @aws-appsync/utils/dynamodb and @aws-appsync/utils/rds, and local modules are imported by relative path"
                    ),
                ));
                continue;
            };
            if path.contains(&target) {
                problems.push(at(
                    i,
                    format!("`{spec}` imports this module back: import cycles are not supported"),
                ));
                continue;
            }
            if let Some(m) = self.modules.iter().position(|(n, ..)| *n == target) {
                imports.push(Import::Local(m));
                continue;
            }
            match read(&target) {
                Ok(text) => match self.add(&target, text, read, path) {
                    Ok(m) => imports.push(Import::Local(m)),
                    Err(nested) => problems.extend(nested.0),
                },
                Err(e) => problems.push(at(
                    i,
                    if e.kind() == std::io::ErrorKind::NotFound {
                        format!("cannot import `{spec}`: `{target}` does not exist")
                    } else {
                        format!("cannot import `{spec}`: cannot read `{target}`: {e}")
                    },
                )),
            }
        }
        path.pop();
        // TypeScript code imports types (`Context`) by name from the
        // built-in modules; bundlers drop those imports, so no check there.
        if problems.is_empty() && !is_typescript {
            problems = self.check_named_imports(name, &source, &factory, &imports);
        }
        if !problems.is_empty() {
            return Err(CodeProblems(problems));
        }
        self.modules[index].2 = imports;
        Ok(index)
    }

    /// A named import the imported module does not export is a load error,
    /// as linking an ES module fails.
    fn check_named_imports(
        &self,
        name: &str,
        source: &str,
        factory: &compile::FactorySource,
        imports: &[Import],
    ) -> Vec<CodeProblem> {
        let mut problems = Vec::new();
        for (i, imported, span) in &factory.named_imports {
            let (exports, stars): (Vec<&str>, bool) = match imports[*i] {
                Import::Builtin(b) => (b.exports().to_vec(), false),
                Import::Local(m) => {
                    let f = &self.modules[m].1;
                    (
                        f.exports.iter().map(String::as_str).collect(),
                        !f.star_exports.is_empty(),
                    )
                }
            };
            if !stars && !exports.contains(&imported.as_str()) {
                problems.push(CodeProblem::at(
                    CodeErrorKind::LintError,
                    name,
                    source,
                    *span,
                    format!("`{}` does not export `{imported}`", factory.imports[*i]),
                ));
            }
        }
        problems
    }
}

/// The project-relative path a relative specifier names; `None` for a bare
/// specifier or one that leaves the project. A specifier without an
/// extension gets the importing file's (`.js` or `.ts`), as bundlers
/// resolve it.
fn resolve(from: &str, spec: &str) -> Option<String> {
    if !(spec.starts_with("./") || spec.starts_with("../")) {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in spec.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let mut path = parts.join("/");
    let file = parts.last()?;
    if !file.contains('.') {
        path.push_str(if from.ends_with(".ts") { ".ts" } else { ".js" });
    }
    Some(path)
}

/// JavaScript code behind the [`ResolverCode`] seam.
#[derive(Debug, Clone)]
pub struct JsCode {
    pub program: Arc<JsProgram>,
    /// The code of a pipeline resolver (its before and after steps), where
    /// `runtime.earlyReturn` skips every function and runs the after step.
    pub pipeline_resolver: bool,
}

impl ResolverCode for JsCode {
    fn name(&self, _phase: Phase) -> &str {
        self.program.name()
    }

    fn evaluate(&self, phase: Phase, ctx: &mut Context) -> Evaluation {
        let mut out = self.program.evaluate(phase, ctx, Host::system());
        if self.pipeline_resolver
            && let Outcome::EarlyReturn(v) = out.outcome
        {
            out.outcome = Outcome::SkipToEnd(v);
        }
        out
    }

    fn requests_carry_version(&self) -> bool {
        false
    }
}

/// `aws appsync evaluate-code`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateCodeResponse {
    /// The handler's value, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EvaluateCodeError>,
    pub logs: Vec<String>,
    /// The stash after the handler, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stash: Option<String>,
    /// `util.appendError` entries, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_errors: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateCodeError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_errors: Vec<CodeErrorEntry>,
    /// The type a raised error carries (`util.error`'s second argument).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_info: Option<Json>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeErrorEntry {
    pub error_type: CodeErrorKind,
    pub value: String,
    pub location: CodeLocation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeLocation {
    pub line: u32,
    pub column: u32,
    pub span: i64,
}

/// Compiles `source` and runs one handler, as `evaluate-code` does. `read`
/// supplies local modules.
pub fn evaluate_code(
    name: &str,
    source: &str,
    read: &mut ReadModule<'_>,
    function: Phase,
    ctx: &mut Context,
    host: Host,
    limits: JsLimits,
) -> EvaluateCodeResponse {
    let program = match JsProgram::compile(name, source, read) {
        Ok(p) => p,
        Err(problems) => {
            return EvaluateCodeResponse {
                evaluation_result: None,
                error: Some(EvaluateCodeError {
                    message: "The code contains one or more errors.".to_owned(),
                    code_errors: problems
                        .0
                        .iter()
                        .map(|p| CodeErrorEntry {
                            error_type: p.kind,
                            value: p.message.clone(),
                            location: CodeLocation {
                                line: p.line,
                                column: p.column,
                                span: if p.line == 0 { -1 } else { i64::from(p.span) },
                            },
                        })
                        .collect(),
                    error_type: None,
                    data: None,
                    error_info: None,
                }),
                logs: Vec::new(),
                stash: None,
                out_errors: None,
            };
        }
    };
    let out = program.evaluate_with(function, ctx, host, limits);
    let (result, error) = match out.outcome {
        Outcome::Value(v) | Outcome::EarlyReturn(v) | Outcome::SkipToEnd(v) => (Some(v), None),
        Outcome::Failed(e) => (None, Some(e)),
    };
    let text = |v: &Json| serde_json::to_string(v).unwrap_or_default();
    EvaluateCodeResponse {
        evaluation_result: result.as_ref().map(text),
        error: error.map(|e: CodeError| EvaluateCodeError {
            message: e.message,
            code_errors: Vec::new(),
            error_type: e.error_type,
            data: e.data,
            error_info: e.error_info,
        }),
        logs: out.logs,
        stash: Some(text(&Json::Object(ctx.stash.clone()))),
        out_errors: Some(
            serde_json::to_string(&out.appended_errors).unwrap_or_else(|_| "[]".to_owned()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_specifiers_resolve_inside_the_project() {
        assert_eq!(
            resolve("resolvers/a.js", "./lib/b.js").as_deref(),
            Some("resolvers/lib/b.js")
        );
        assert_eq!(
            resolve("resolvers/a.js", "../shared/c").as_deref(),
            Some("shared/c.js")
        );
        assert_eq!(resolve("a.js", "../../etc/passwd"), None);
        assert_eq!(resolve("a.js", "lodash"), None);
    }
}
