//! A resolver's or function's code: its APPSYNC_JS module, or its VTL
//! templates, read, substituted and compiled at load.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Loader, MAX_TEMPLATE_BYTES, Problem, substitute};
use crate::execution::resolver::CodeRef;
use crate::js::{CodeErrorKind, CodeProblem, JsCode, JsProgram, MAX_CODE_BYTES};
use crate::model::manifest::RuntimeConfig;
use crate::vtl::{Template, VtlCode};

impl Loader {
    /// The code of a resolver or function: its APPSYNC_JS module when it
    /// names one, else its two templates (by default
    /// `<default_base>.req.vtl` and `.res.vtl`). `None` means a problem was
    /// recorded.
    pub(super) fn code(
        &mut self,
        key: &[&str; 2],
        config: CodeConfig<'_>,
        default_base: &str,
        subs: &IndexMap<String, String>,
        role: CodeRole,
    ) -> Option<CodeRef> {
        let Some(path) = config.code else {
            if config.runtime.is_some() {
                self.manifest_problem(
                    &[key[0], key[1], "runtime"],
                    "`runtime: APPSYNC_JS` needs `code`: the JavaScript file to run",
                );
                return None;
            }
            // Functions and unit resolvers need both templates; a pipeline
            // resolver's are optional.
            let required = role != CodeRole::Pipeline;
            let request = self.template(
                key,
                "request",
                config.request,
                &format!("{default_base}.req.vtl"),
                subs,
                required,
            );
            let response = self.template(
                key,
                "response",
                config.response,
                &format!("{default_base}.res.vtl"),
                subs,
                required,
            );
            return match (request?, response?) {
                (Some(req), Some(res)) => Some(vtl_code(Some(req), Some(res))),
                (req, res) if !required => Some(vtl_code(req, res)),
                _ => None,
            };
        };
        if config.request.is_some() || config.response.is_some() {
            self.manifest_problem(
                &[key[0], key[1], "code"],
                "a resolver or function has either `code` or `request`/`response` templates, not both",
            );
            return None;
        }
        let source = match self.read_source(path) {
            Ok(text) => text,
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("code file `{path}` does not exist")
                } else {
                    format!("cannot read code file `{path}`: {e}")
                };
                self.manifest_problem(&[key[0], key[1], "code"], message);
                return None;
            }
        };
        if source.len() > MAX_CODE_BYTES {
            self.file_problem(
                path,
                format!(
                    "the code is {} bytes; AppSync allows at most {MAX_CODE_BYTES}",
                    source.len()
                ),
            );
            return None;
        }
        let dir = self.dir.clone();
        let mut read = |relative: &str| std::fs::read_to_string(dir.join(relative));
        match JsProgram::compile(path, &source, &mut read) {
            Ok(program) => Some(Arc::new(JsCode {
                program,
                pipeline_resolver: role == CodeRole::Pipeline,
            })),
            Err(problems) => {
                for p in problems.0 {
                    self.code_problem(p);
                }
                None
            }
        }
    }

    fn code_problem(&mut self, p: CodeProblem) {
        let kind = match p.kind {
            CodeErrorKind::ParserError => "PARSER_ERROR",
            CodeErrorKind::LintError => "LINT_ERROR",
        };
        let positioned = p.line > 0;
        self.problems.push(Problem {
            file: p.file,
            line: positioned.then_some(p.line as usize),
            column: positioned.then_some(p.column as usize),
            key_path: None,
            message: format!("{kind}: {}", p.message),
            snippet: p.snippet,
        });
    }

    /// Reads, substitutes and parses one template. `Some(None)` means "not
    /// configured and no default file" (allowed when `required` is false);
    /// `None` means a problem was recorded.
    fn template(
        &mut self,
        key: &[&str; 2],
        which: &str,
        configured: Option<&str>,
        default: &str,
        subs: &IndexMap<String, String>,
        required: bool,
    ) -> Option<Option<Template>> {
        let path = configured.unwrap_or(default);
        let text = match self.read_source(path) {
            Ok(t) => t,
            Err(_) if configured.is_none() && !required => return Some(None),
            Err(e) => {
                let message = if configured.is_some() {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        format!("{which} template `{path}` does not exist")
                    } else {
                        format!("cannot read {which} template `{path}`: {e}")
                    }
                } else {
                    format!("no {which} template: set `{which}` or create `{path}`")
                };
                if configured.is_some() {
                    self.manifest_problem(&[key[0], key[1], which], message);
                } else {
                    self.manifest_problem(key, message);
                }
                return None;
            }
        };
        if text.len() > MAX_TEMPLATE_BYTES {
            self.file_problem(
                path,
                format!(
                    "the template is {} bytes; AppSync allows at most {MAX_TEMPLATE_BYTES}",
                    text.len()
                ),
            );
            return None;
        }
        let text = substitute(&text, subs);
        match Template::parse(path, &text) {
            Ok(t) => Some(Some(t)),
            Err(e) => {
                self.file_problem(path, format!("{e:#}"));
                None
            }
        }
    }
}

/// Where a resolver or function names its code.
#[derive(Clone, Copy)]
pub(super) struct CodeConfig<'m> {
    pub request: Option<&'m str>,
    pub response: Option<&'m str>,
    pub code: Option<&'m str>,
    pub runtime: Option<&'m RuntimeConfig>,
}

impl CodeConfig<'_> {
    /// Neither code nor templates configured.
    pub fn is_empty(&self) -> bool {
        self.code.is_none() && self.request.is_none() && self.response.is_none()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeRole {
    Unit,
    Pipeline,
    Function,
}

fn vtl_code(request: Option<Template>, response: Option<Template>) -> CodeRef {
    Arc::new(VtlCode { request, response })
}
