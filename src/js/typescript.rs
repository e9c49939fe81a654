//! TypeScript code files: types are blanked out, nothing else changes.
//!
//! serverless-appsync-plugin bundles `.ts` resolvers with esbuild before
//! deploying; locally we erase the type syntax in place instead, replacing
//! each annotation, type declaration and type-only import with spaces (as
//! Node's `--experimental-strip-types` does). Line breaks stay, so every
//! line and column in the result is the one in the user's file, and errors
//! point into the `.ts` file. Syntax that is not erasable (enums,
//! namespaces, parameter properties) is refused with its position; a
//! bundled `.js` file is the way to use it.

use oxc::allocator::Allocator;
use oxc::ast::ast::*;
use oxc::ast_visit::{Visit, walk};
use oxc::parser::Parser;
use oxc::span::{GetSpan, SourceType, Span};

use super::{CodeErrorKind, CodeProblem};

/// The JavaScript left when `source`'s types are erased.
pub(crate) fn strip(name: &str, source: &str) -> Result<String, Vec<CodeProblem>> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::ts()).parse();
    if !parsed.diagnostics.is_empty() || parsed.panicked {
        return Err(super::compile::parser_problems(
            name,
            source,
            &parsed.diagnostics,
        ));
    }
    let mut strip = Strip {
        source,
        blank: Vec::new(),
        refused: Vec::new(),
    };
    strip.visit_program(&parsed.program);
    if !strip.refused.is_empty() {
        return Err(strip
            .refused
            .into_iter()
            .map(|(span, what)| {
                CodeProblem::at(
                    CodeErrorKind::LintError,
                    name,
                    source,
                    span,
                    format!(
                        "TypeScript {what} cannot be erased to JavaScript: bundle the file with esbuild, or use a plain object"
                    ),
                )
            })
            .collect());
    }
    let mut out = source.as_bytes().to_vec();
    for span in strip.blank {
        for byte in &mut out[span.start as usize..span.end as usize] {
            // Keep line breaks (and the bytes of multi-byte characters
            // inside comments would be replaced whole: every byte of the
            // range goes).
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    }
    // Only whole ranges of the original text became ASCII spaces, so the
    // result is UTF-8 when every blanked range starts and ends on a
    // character boundary, which spans from the parser do.
    String::from_utf8(out).map_err(|_| {
        vec![CodeProblem::whole_file(
            CodeErrorKind::ParserError,
            name,
            "Parsing error: the types could not be erased".to_owned(),
        )]
    })
}

struct Strip<'s> {
    source: &'s str,
    blank: Vec<Span>,
    refused: Vec<(Span, &'static str)>,
}

impl Strip<'_> {
    /// The span of a list item with the comma after it, if any.
    fn with_comma(&self, span: Span) -> Span {
        let rest = &self.source[span.end as usize..];
        let skipped = rest.len() - rest.trim_start().len();
        if rest[skipped..].starts_with(',') {
            Span::new(span.start, span.end + skipped as u32 + 1)
        } else {
            span
        }
    }
}

impl<'a> Visit<'a> for Strip<'_> {
    fn visit_statement(&mut self, it: &Statement<'a>) {
        let whole = match it {
            Statement::TSTypeAliasDeclaration(_) | Statement::TSInterfaceDeclaration(_) => true,
            Statement::ImportDeclaration(d) => d.import_kind.is_type(),
            Statement::ExportNamedDeclaration(d) => d.export_kind.is_type(),
            Statement::ExportFromDeclaration(d) => d.export_kind.is_type(),
            Statement::ExportAllDeclaration(d) => d.export_kind.is_type(),
            Statement::ExportDeclaration(d) => {
                matches!(
                    d.declaration,
                    Declaration::TSTypeAliasDeclaration(_) | Declaration::TSInterfaceDeclaration(_)
                ) || d.declaration.declare()
            }
            Statement::VariableDeclaration(d) => d.declare,
            Statement::FunctionDeclaration(f) => f.declare || f.body.is_none(),
            _ => false,
        };
        if whole {
            self.blank.push(it.span());
            return;
        }
        match it {
            Statement::TSEnumDeclaration(d) if d.declare => self.blank.push(d.span),
            Statement::TSEnumDeclaration(d) => self.refused.push((d.span, "enums")),
            Statement::TSNamespaceDeclaration(d) if !d.declare => {
                self.refused.push((d.span, "namespaces"))
            }
            Statement::TSNamespaceDeclaration(_)
            | Statement::TSExternalModuleDeclaration(_)
            | Statement::TSGlobalDeclaration(_) => self.blank.push(it.span()),
            _ => walk::walk_statement(self, it),
        }
    }

    fn visit_import_specifier(&mut self, it: &ImportSpecifier<'a>) {
        if it.import_kind.is_type() {
            self.blank.push(self.with_comma(it.span));
        }
    }

    fn visit_export_specifier(&mut self, it: &ExportSpecifier<'a>) {
        if it.export_kind.is_type() {
            self.blank.push(self.with_comma(it.span));
        }
    }

    fn visit_ts_type_annotation(&mut self, it: &TSTypeAnnotation<'a>) {
        self.blank.push(it.span);
    }

    fn visit_ts_type_parameter_declaration(&mut self, it: &TSTypeParameterDeclaration<'a>) {
        self.blank.push(it.span);
    }

    fn visit_ts_type_parameter_instantiation(&mut self, it: &TSTypeParameterInstantiation<'a>) {
        self.blank.push(it.span);
    }

    fn visit_ts_as_expression(&mut self, it: &TSAsExpression<'a>) {
        self.blank
            .push(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_satisfies_expression(&mut self, it: &TSSatisfiesExpression<'a>) {
        self.blank
            .push(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_non_null_expression(&mut self, it: &TSNonNullExpression<'a>) {
        self.blank
            .push(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_type_assertion(&mut self, it: &TSTypeAssertion<'a>) {
        self.blank
            .push(Span::new(it.span.start, it.expression.span().start));
        self.visit_expression(&it.expression);
    }

    fn visit_formal_parameter(&mut self, it: &FormalParameter<'a>) {
        if it.accessibility.is_some() || it.readonly {
            self.refused.push((it.span, "parameter properties"));
        }
        if it.optional {
            // The `?` after the name.
            let end = it
                .type_annotation
                .as_ref()
                .map_or(it.span.end, |t| t.span.start);
            self.blank.push(Span::new(it.pattern.span().end, end));
        }
        walk::walk_formal_parameter(self, it);
    }

    fn visit_ts_this_parameter(&mut self, it: &TSThisParameter<'a>) {
        self.blank.push(self.with_comma(it.span));
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if it.definite {
            // The `!` of `let x!: T`.
            let end = it
                .type_annotation
                .as_ref()
                .map_or(it.id.span().end + 1, |t| t.span.start);
            self.blank.push(Span::new(it.id.span().end, end));
        }
        walk::walk_variable_declarator(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_become_spaces_and_positions_hold() {
        let ts = "import type { X } from './x';\nimport { util, type Y } from '@aws-appsync/utils';\ntype T = { a: string };\ninterface I { b: number }\nexport function request(ctx: Context<{ id: string }>, n?: number): T {\n  const v = ctx.args.id as string;\n  return { a: v!, n: f<number>(1) } satisfies T;\n}\n";
        let js = strip("t.ts", ts).expect("strips");
        assert_eq!(js.len(), ts.len());
        assert_eq!(js.lines().count(), ts.lines().count());
        // Every line keeps its length; only type syntax became spaces.
        for (stripped, original) in js.lines().zip(ts.lines()) {
            assert_eq!(stripped.len(), original.len(), "{stripped:?}");
        }
        let compact: Vec<String> = js
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            compact,
            [
                "",
                "import { util, } from '@aws-appsync/utils';",
                "",
                "",
                "export function request(ctx , n ) {",
                "const v = ctx.args.id ;",
                "return { a: v , n: f (1) } ;",
                "}",
            ]
        );
    }

    #[test]
    fn enums_are_refused_with_their_position() {
        let err = strip("t.ts", "export const a = 1;\nenum Color { Red }\n").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (2, 1));
        assert!(err[0].message.contains("enums"), "{}", err[0].message);
    }
}
