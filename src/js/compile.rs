//! From source text to a module factory: parse, lint, and rewrite the ES
//! module as a function.
//!
//! Each module becomes `export default function (__imports) { <body>
//! return {<exports>}; }`: its imports read `__imports[i]` and its exports
//! are the returned object. Calling the factory per request gives the code a
//! fresh module scope each time, so nothing a handler leaves in a top-level
//! `let` reaches the next request, at the cost of one function call.
//!
//! The rewrite only replaces `import`/`export` syntax, padding replacements
//! with spaces and keeping every line break, so a line and column in the
//! rewritten text are the line and column in the user's file (except on the
//! first line, shifted by [`PREFIX`]).

use std::collections::HashMap;

use oxc::allocator::Allocator;
use oxc::ast::ast::*;
use oxc::parser::Parser;
use oxc::span::{GetSpan, SourceType, Span};

use super::lint;
use super::{CodeErrorKind, CodeProblem};

/// What the rewrite puts before the first line.
pub(crate) const PREFIX: &str = "export default function (__imports) {";

/// One module, rewritten.
#[derive(Debug, Clone)]
pub(crate) struct FactorySource {
    pub text: String,
    /// Import specifiers, in the order of `__imports`.
    pub imports: Vec<String>,
    /// Where each specifier is first written, for problems about it.
    pub import_spans: Vec<Span>,
    /// Names the module exports, for checking importers' named imports.
    pub exports: Vec<String>,
    /// Modules re-exported whole (`export * from`), by index in `imports`.
    pub star_exports: Vec<usize>,
    /// Named imports per specifier, with their spans, checked once the
    /// imported module's exports are known.
    pub named_imports: Vec<(usize, String, Span)>,
}

/// Who wrote a module: user code is held to the APPSYNC_JS subset, the
/// runtime's own built-in modules are not (they may throw and recurse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    User,
    Builtin,
}

/// Parses, lints (user code) and rewrites one module.
pub(crate) fn factory(
    name: &str,
    source: &str,
    origin: Origin,
) -> Result<FactorySource, Vec<CodeProblem>> {
    let allocator = Allocator::default();
    let source_type = SourceType::mjs();
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if !parsed.diagnostics.is_empty() || parsed.panicked {
        return Err(parser_problems(name, source, &parsed.diagnostics));
    }
    let violations = match origin {
        Origin::User => lint::check(&parsed.program),
        Origin::Builtin => Vec::new(),
    };
    if !violations.is_empty() {
        return Err(violations
            .into_iter()
            .map(|v| CodeProblem::at(CodeErrorKind::LintError, name, source, v.span, v.message))
            .collect());
    }
    Ok(Rewrite::new(source).run(&parsed.program))
}

/// The parser's diagnostics as `PARSER_ERROR`s.
pub(crate) fn parser_problems(
    name: &str,
    source: &str,
    diagnostics: &[oxc::diagnostics::OxcDiagnostic],
) -> Vec<CodeProblem> {
    let mut problems: Vec<CodeProblem> = diagnostics
        .iter()
        .map(|d| {
            let span = d
                .labels
                .first()
                .map(|l| Span::new(l.offset(), l.offset() + l.len()))
                .unwrap_or_default();
            CodeProblem::at(
                CodeErrorKind::ParserError,
                name,
                source,
                span,
                format!("Parsing error: {}", aws_wording(&d.message)),
            )
        })
        .collect();
    if problems.is_empty() {
        problems.push(CodeProblem::whole_file(
            CodeErrorKind::ParserError,
            name,
            "Parsing error: the code could not be parsed".to_owned(),
        ));
    }
    problems
}

/// oxc's wording where AppSync's parser is known to word it otherwise
/// (EvaluateCode's example answer says "Unterminated string literal").
fn aws_wording(message: &str) -> &str {
    match message {
        "Unterminated string" => "Unterminated string literal",
        other => other,
    }
}

struct Rewrite<'s> {
    source: &'s str,
    edits: Vec<(Span, String)>,
    imports: Vec<String>,
    import_spans: Vec<Span>,
    import_index: HashMap<String, usize>,
    /// Exported name → local expression.
    exports: Vec<(String, String)>,
    star_exports: Vec<usize>,
    named_imports: Vec<(usize, String, Span)>,
    reexports: usize,
}

impl<'s> Rewrite<'s> {
    fn new(source: &'s str) -> Self {
        Rewrite {
            source,
            edits: Vec::new(),
            imports: Vec::new(),
            import_spans: Vec::new(),
            import_index: HashMap::new(),
            exports: Vec::new(),
            star_exports: Vec::new(),
            named_imports: Vec::new(),
            reexports: 0,
        }
    }

    fn import(&mut self, specifier: &StringLiteral<'_>) -> usize {
        let span = specifier.span;
        let specifier = specifier.value.as_str();
        if let Some(&i) = self.import_index.get(specifier) {
            return i;
        }
        let i = self.imports.len();
        self.imports.push(specifier.to_owned());
        self.import_spans.push(span);
        self.import_index.insert(specifier.to_owned(), i);
        i
    }

    /// Replaces `span` with `text`, padded with spaces and the line breaks
    /// the original held, so later positions keep their line and column.
    fn replace(&mut self, span: Span, text: String) {
        let original = &self.source[span.start as usize..span.end as usize];
        let breaks = original.matches('\n').count();
        let mut text = text;
        if breaks == 0 && text.len() < original.len() {
            text.push_str(&" ".repeat(original.len() - text.len()));
        }
        for _ in 0..breaks {
            text.push('\n');
        }
        self.edits.push((span, text));
    }

    /// Blanks the `export ` (or `export default `) keyword before a declaration.
    fn strip_keyword(&mut self, from: u32, to: u32) {
        let len = (to - from) as usize;
        self.edits.push((Span::new(from, to), " ".repeat(len)));
    }

    fn run(mut self, program: &Program<'_>) -> FactorySource {
        for stmt in &program.body {
            match stmt {
                Statement::ImportDeclaration(decl) => self.import_declaration(decl),
                Statement::ExportDeclaration(decl) => {
                    self.strip_keyword(decl.span.start, decl.declaration.span().start);
                    for name in declared_names(&decl.declaration) {
                        self.exports.push((name.clone(), name));
                    }
                }
                Statement::ExportNamedDeclaration(decl) => {
                    for s in &decl.specifiers {
                        self.exports
                            .push((s.exported.name().to_string(), s.local.name().to_string()));
                    }
                    self.replace(decl.span, String::new());
                }
                Statement::ExportFromDeclaration(decl) => {
                    let i = self.import(&decl.source);
                    let local = format!("__reexport{}", self.reexports);
                    self.reexports += 1;
                    for s in &decl.specifiers {
                        let imported = s.local.name().to_string();
                        self.named_imports.push((i, imported.clone(), s.span));
                        self.exports.push((
                            s.exported.name().to_string(),
                            format!("{local}[{}]", quote(&imported)),
                        ));
                    }
                    self.replace(decl.span, format!("const {local} = __imports[{i}];"));
                }
                Statement::ExportAllDeclaration(decl) => {
                    let i = self.import(&decl.source);
                    match &decl.exported {
                        Some(name) => {
                            self.exports
                                .push((name.name().to_string(), format!("__imports[{i}]")));
                        }
                        None => self.star_exports.push(i),
                    }
                    self.replace(decl.span, String::new());
                }
                Statement::ExportDefaultDeclaration(decl) => self.export_default(decl),
                _ => {}
            }
        }
        self.finish()
    }

    fn import_declaration(&mut self, decl: &ImportDeclaration<'_>) {
        let i = self.import(&decl.source);
        let mut parts = Vec::new();
        let mut named = Vec::new();
        for spec in decl.specifiers.iter().flatten() {
            match spec {
                ImportDeclarationSpecifier::ImportSpecifier(s) => {
                    let imported = s.imported.name().to_string();
                    self.named_imports.push((i, imported.clone(), s.span));
                    named.push(format!("{}: {}", quote(&imported), s.local.name));
                }
                ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                    self.named_imports.push((i, "default".to_owned(), s.span));
                    parts.push(format!("{} = __imports[{i}].default", s.local.name));
                }
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                    parts.push(format!("{} = __imports[{i}]", s.local.name));
                }
            }
        }
        if !named.is_empty() {
            parts.push(format!("{{ {} }} = __imports[{i}]", named.join(", ")));
        }
        let text = if parts.is_empty() {
            String::new()
        } else {
            format!("const {};", parts.join(", "))
        };
        self.replace(decl.span, text);
    }

    fn export_default(&mut self, decl: &ExportDefaultDeclaration<'_>) {
        match &decl.declaration {
            ExportDefaultDeclarationKind::FunctionDeclaration(f) if f.id.is_some() => {
                let name =
                    f.id.as_ref()
                        .map(|id| id.name.to_string())
                        .unwrap_or_default();
                self.strip_keyword(decl.span.start, f.span.start);
                self.exports.push(("default".to_owned(), name));
            }
            kind => {
                let start = kind.span().start;
                self.edits.push((
                    Span::new(decl.span.start, start),
                    "const __default = ".to_owned(),
                ));
                self.exports
                    .push(("default".to_owned(), "__default".to_owned()));
            }
        }
    }

    fn finish(mut self) -> FactorySource {
        self.edits.sort_by_key(|(span, _)| span.start);
        let mut text = String::with_capacity(self.source.len() + 128);
        text.push_str(PREFIX);
        let mut at = 0usize;
        for (span, replacement) in &self.edits {
            text.push_str(&self.source[at..span.start as usize]);
            text.push_str(replacement);
            at = span.end as usize;
        }
        text.push_str(&self.source[at..]);
        let fields: Vec<String> = self
            .exports
            .iter()
            .map(|(name, local)| format!("{}: {local}", quote(name)))
            .collect();
        let own = format!("{{{}}}", fields.join(", "));
        text.push_str("\n;return ");
        if self.star_exports.is_empty() {
            text.push_str(&own);
        } else {
            let stars: Vec<String> = self
                .star_exports
                .iter()
                .map(|i| format!("__imports[{i}]"))
                .collect();
            text.push_str(&format!("Object.assign({{}}, {}, {own})", stars.join(", ")));
        }
        text.push_str(";\n}\n");
        FactorySource {
            text,
            imports: self.imports,
            import_spans: self.import_spans,
            exports: self.exports.into_iter().map(|(name, _)| name).collect(),
            star_exports: self.star_exports,
            named_imports: self.named_imports,
        }
    }
}

/// The names a declaration binds.
fn declared_names(decl: &Declaration<'_>) -> Vec<String> {
    match decl {
        Declaration::VariableDeclaration(v) => v
            .declarations
            .iter()
            .flat_map(|d| d.id.get_binding_identifiers())
            .map(|id| id.name.to_string())
            .collect(),
        Declaration::FunctionDeclaration(f) => f.id.iter().map(|id| id.name.to_string()).collect(),
        Declaration::ClassDeclaration(c) => c.id.iter().map(|id| id.name.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn quote(name: &str) -> String {
    serde_json::to_string(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factory_user(name: &str, source: &str) -> Result<FactorySource, Vec<CodeProblem>> {
        factory(name, source, Origin::User)
    }

    fn body(source: &str) -> String {
        let out = factory_user("t.js", source).expect("compiles");
        out.text[PREFIX.len()..].to_owned()
    }

    #[test]
    fn exports_become_the_returned_object_and_positions_hold() {
        let src = "import { util } from '@aws-appsync/utils';\nexport function request(ctx) { return 1; }\nexport const response = (ctx) => ctx.result;\n";
        let out = body(src);
        let lines: Vec<&str> = out.lines().collect();
        let original: Vec<&str> = src.lines().collect();
        assert_eq!(
            lines[0].trim_end(),
            "const { \"util\": util } = __imports[0];"
        );
        assert_eq!(lines[0].len(), original[0].len());
        // `export ` is blanked, so columns on the line are unchanged.
        assert_eq!(lines[1].find("request"), original[1].find("request"));
        assert!(out.contains(";return {\"request\": request, \"response\": response};"));
    }

    #[test]
    fn multi_line_imports_keep_their_line_breaks() {
        let src = "import {\n  get,\n  put\n} from '@aws-appsync/utils/dynamodb';\nexport function request() { return get({}); }\nexport function response() {}\n";
        let out = body(src);
        assert_eq!(
            out.lines().position(|l| l.contains("function request")),
            Some(4)
        );
    }

    #[test]
    fn default_namespace_and_reexports() {
        let out = factory_user(
            "t.js",
            "import d, * as ns from './a.js';\nexport { x as y } from './b.js';\nexport * from './c.js';\nexport default 5;\n",
        )
        .expect("compiles");
        assert_eq!(out.imports, ["./a.js", "./b.js", "./c.js"]);
        assert_eq!(out.exports, ["y", "default"]);
        assert_eq!(out.star_exports, [2]);
        assert!(
            out.text
                .contains("const d = __imports[0].default, ns = __imports[0];")
        );
        assert!(out.text.contains(
            "Object.assign({}, __imports[2], {\"y\": __reexport0[\"x\"], \"default\": __default})"
        ));
    }

    #[test]
    fn syntax_errors_are_parser_errors_with_a_position() {
        let err =
            factory_user("t.js", "export function request(ctx) {\n  return 'x;\n}\n").unwrap_err();
        assert_eq!(err[0].kind, CodeErrorKind::ParserError);
        assert_eq!((err[0].line, err[0].column), (2, 10));
    }

    #[test]
    fn rejected_constructs_are_lint_errors() {
        let err = factory_user(
            "t.js",
            "export function request(ctx) {\n  let i = 0;\n  i++;\n  while (i) {}\n  return f(1);\n}\nfunction f(n) { return f(n); }\nexport function response() {}\n",
        )
        .unwrap_err();
        let found: Vec<(u32, &str)> = err.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            found,
            [
                (3, "The operator ++ is not supported"),
                (4, "While statements are not supported."),
                (
                    7,
                    "Recursive function calls not supported. Detected cycle in f <-f"
                )
            ]
        );
    }
}
