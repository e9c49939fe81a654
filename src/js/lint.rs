//! The APPSYNC_JS language subset, checked at load.
//!
//! AppSync refuses to save code that uses a construct its runtime does not
//! support ("The code contains one or more errors", with `LINT_ERROR`
//! entries). The list follows the developer guide's "Supported runtime
//! features" page and `@aws-appsync/eslint-plugin`'s `base` and
//! `recommended` rules; the messages name the rule, as the plugin does.

use std::collections::{HashMap, HashSet};

use oxc::ast::ast::*;
use oxc::ast_visit::{Visit, walk};
use oxc::span::{GetSpan, Span};
use oxc::syntax::operator::{BinaryOperator, UnaryOperator};
use oxc::syntax::scope::ScopeFlags;

/// One construct the runtime rejects, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The eslint-plugin rule, e.g. `no-try`.
    pub rule: &'static str,
    pub message: String,
    pub span: Span,
}

/// Every rejected construct in `program`, in source order.
pub fn check(program: &Program<'_>) -> Vec<Violation> {
    let mut lint = Lint::default();
    lint.visit_program(program);
    lint.recursion(program);
    lint.found.sort_by_key(|v| (v.span.start, v.span.end));
    lint.found
}

#[derive(Default)]
struct Lint {
    found: Vec<Violation>,
}

impl Lint {
    fn report(&mut self, rule: &'static str, message: &str, span: Span) {
        self.found.push(Violation {
            rule,
            message: message.to_owned(),
            span,
        });
    }

    /// Direct and mutual recursion among the module's top-level functions
    /// (`function f` and `const f = () => ...`), found by name. A local that
    /// shadows a top-level name counts as a call to it: AppSync's checker is
    /// not documented, and a false alarm here names the call to rename.
    fn recursion(&mut self, program: &Program<'_>) {
        // (name, where it is declared, the calls in its body)
        type Body = (String, Span, Vec<(String, Span)>);
        let mut bodies: Vec<Body> = Vec::new();
        for stmt in &program.body {
            let decl = match stmt {
                Statement::ExportDeclaration(e) => Some(&e.declaration),
                other => other.as_declaration(),
            };
            match decl {
                Some(Declaration::FunctionDeclaration(f)) => {
                    if let Some(id) = &f.id {
                        let mut calls = Calls::default();
                        calls.visit_function(f, ScopeFlags::Function);
                        bodies.push((id.name.to_string(), id.span, calls.found));
                    }
                }
                Some(Declaration::VariableDeclaration(v)) => {
                    for d in &v.declarations {
                        let (BindingPattern::BindingIdentifier(id), Some(init)) = (&d.id, &d.init)
                        else {
                            continue;
                        };
                        if matches!(
                            init,
                            Expression::ArrowFunctionExpression(_)
                                | Expression::FunctionExpression(_)
                        ) {
                            let mut calls = Calls::default();
                            calls.visit_expression(init);
                            bodies.push((id.name.to_string(), id.span, calls.found));
                        }
                    }
                }
                _ => {}
            }
        }
        let names: HashMap<&str, usize> = bodies
            .iter()
            .enumerate()
            .map(|(i, (name, ..))| (name.as_str(), i))
            .collect();
        let edges: Vec<Vec<(usize, Span)>> = bodies
            .iter()
            .map(|(_, _, calls)| {
                calls
                    .iter()
                    .filter_map(|(callee, span)| names.get(callee.as_str()).map(|&i| (i, *span)))
                    .collect()
            })
            .collect();
        // A function is recursive when it can reach itself; report the call
        // that starts the cycle, naming the cycle as the eslint plugin does
        // (`f <-g <-f`).
        for (start, (name, ..)) in bodies.iter().enumerate() {
            for &(next, span) in &edges[start] {
                if let Some(path) = path_back(&edges, next, start) {
                    let mut cycle = name.clone();
                    for step in path {
                        cycle.push_str(" <-");
                        cycle.push_str(&bodies[step].0);
                    }
                    self.report(
                        "no-recursion",
                        &format!(
                            "Recursive function calls not supported. Detected cycle in {cycle}"
                        ),
                        span,
                    );
                    break;
                }
            }
        }
    }
}

/// The functions on a call path from `from` to `to`, both included.
fn path_back(edges: &[Vec<(usize, Span)>], from: usize, to: usize) -> Option<Vec<usize>> {
    let mut seen = HashSet::new();
    let mut stack = vec![vec![from]];
    while let Some(path) = stack.pop() {
        let at = *path.last()?;
        if at == to {
            return Some(path);
        }
        if seen.insert(at) {
            for &(n, _) in &edges[at] {
                let mut next = path.clone();
                next.push(n);
                stack.push(next);
            }
        }
    }
    None
}

/// The array methods `no-function-passing` lets take a function.
const CALLBACK_METHODS: &[&str] = &[
    "map",
    "find",
    "filter",
    "findIndex",
    "findLast",
    "findLastIndex",
    "forEach",
    "reduce",
    "reduceRight",
    "every",
    "some",
    "flatMap",
];

/// The plain-identifier calls in a function body.
#[derive(Default)]
struct Calls {
    found: Vec<(String, Span)>,
}

impl<'a> Visit<'a> for Calls {
    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if let Expression::Identifier(id) = &it.callee {
            self.found.push((id.name.to_string(), it.span));
        }
        walk::walk_call_expression(self, it);
    }
}

impl<'a> Visit<'a> for Lint {
    fn visit_try_statement(&mut self, it: &TryStatement<'a>) {
        self.report("no-try", "Try statements are not supported.", it.span);
        walk::walk_try_statement(self, it);
    }

    fn visit_throw_statement(&mut self, it: &ThrowStatement<'a>) {
        // The developer guide lists `throw` as unsupported; the eslint
        // plugin has no rule for it, so the wording is ours.
        self.report(
            "no-throw",
            "Throw statements are not supported. Use util.error().",
            it.span,
        );
        walk::walk_throw_statement(self, it);
    }

    fn visit_while_statement(&mut self, it: &WhileStatement<'a>) {
        self.report("no-while", "While statements are not supported.", it.span);
        walk::walk_while_statement(self, it);
    }

    fn visit_do_while_statement(&mut self, it: &DoWhileStatement<'a>) {
        self.report(
            "no-while",
            "do...while statements are not supported.",
            it.span,
        );
        walk::walk_do_while_statement(self, it);
    }

    fn visit_for_statement(&mut self, it: &ForStatement<'a>) {
        self.report("no-for", "For statements are not supported.", it.span);
        walk::walk_for_statement(self, it);
    }

    fn visit_continue_statement(&mut self, it: &ContinueStatement<'a>) {
        self.report(
            "no-continue",
            "Continue statements are not supported",
            it.span,
        );
        walk::walk_continue_statement(self, it);
    }

    fn visit_labeled_statement(&mut self, it: &LabeledStatement<'a>) {
        self.report(
            "no-labels",
            "Labeled statements are not supported.",
            it.span,
        );
        walk::walk_labeled_statement(self, it);
    }

    fn visit_update_expression(&mut self, it: &UpdateExpression<'a>) {
        let op = it.operator.as_str();
        self.report(
            "no-disallowed-unary-operators",
            &format!("The operator {op} is not supported"),
            it.span,
        );
        walk::walk_update_expression(self, it);
    }

    fn visit_unary_expression(&mut self, it: &UnaryExpression<'a>) {
        if it.operator == UnaryOperator::BitwiseNot {
            self.report(
                "no-disallowed-unary-operators",
                "The operator ~ is not supported",
                it.span,
            );
        }
        walk::walk_unary_expression(self, it);
    }

    fn visit_binary_expression(&mut self, it: &BinaryExpression<'a>) {
        match it.operator {
            BinaryOperator::In => self.report(
                "no-in-operator",
                "in operator is not supported. Use Object.hasOwn().",
                it.span,
            ),
            BinaryOperator::Instanceof => self.report(
                "no-disallowed-binary-operators",
                "The operator instanceof is not supported",
                it.span,
            ),
            _ => {}
        }
        walk::walk_binary_expression(self, it);
    }

    fn visit_private_in_expression(&mut self, it: &PrivateInExpression<'a>) {
        self.report(
            "no-in-operator",
            "in operator is not supported. Use Object.hasOwn().",
            it.span,
        );
        walk::walk_private_in_expression(self, it);
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        if it.r#async {
            self.report("no-async", "Async functions are not supported.", it.span);
        }
        if it.generator {
            self.report(
                "no-generators",
                "Generator functions are not supported.",
                it.span,
            );
        }
        walk::walk_function(self, it, flags);
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        if it.r#async {
            self.report("no-async", "Async functions are not supported.", it.span);
        }
        walk::walk_arrow_function_expression(self, it);
    }

    fn visit_await_expression(&mut self, it: &AwaitExpression<'a>) {
        self.report("no-await", "The `await` keyword is not supported", it.span);
        walk::walk_await_expression(self, it);
    }

    fn visit_yield_expression(&mut self, it: &YieldExpression<'a>) {
        self.report("no-yield", "Yield statements are not supported", it.span);
        walk::walk_yield_expression(self, it);
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        self.report(
            "no-classes",
            "Class declarations are not supported.",
            it.span,
        );
        walk::walk_class(self, it);
    }

    fn visit_this_expression(&mut self, it: &ThisExpression) {
        self.report("no-this", "This expressions are not supported.", it.span);
    }

    fn visit_reg_exp_literal(&mut self, it: &RegExpLiteral<'a>) {
        self.report("no-regex", "Regex literals are not supported.", it.span);
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        if let Expression::Identifier(id) = &it.callee {
            match id.name.as_str() {
                "Promise" => self.report("no-promise", "Promise is not supported", it.span()),
                // The developer guide rejects `Function()`; no plugin rule.
                "Function" => self.report(
                    "no-function-constructor",
                    "The Function constructor is not supported.",
                    it.span(),
                ),
                _ => {}
            }
        }
        walk::walk_new_expression(self, it);
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        // `no-function-passing`: a function may be an argument only of the
        // array methods that take a callback (not `sort`: no comparator).
        let allowed = match &it.callee {
            Expression::StaticMemberExpression(m) => {
                CALLBACK_METHODS.contains(&m.property.name.as_str())
            }
            _ => false,
        };
        if !allowed
            && it.arguments.iter().any(|a| {
                matches!(
                    a,
                    Argument::ArrowFunctionExpression(_) | Argument::FunctionExpression(_)
                )
            })
        {
            self.report(
                "no-function-passing",
                "Functions can not be passed as an argument",
                it.span,
            );
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        // `no-disallowed-re-assignment`: the handlers' `ctx` is read-only,
        // itself and its own properties; `ctx.stash.x = 1` is fine.
        match &it.left {
            AssignmentTarget::AssignmentTargetIdentifier(id) if id.name == "ctx" => self.report(
                "no-disallowed-re-assignment",
                "ctx is readonly and re-assignment is not supported.",
                it.span,
            ),
            AssignmentTarget::StaticMemberExpression(m) if matches!(&m.object, Expression::Identifier(o) if o.name == "ctx") =>
            {
                let message = if m.property.name == "stash" {
                    "ctx is readonly. Adding/Updating stash is not supported."
                } else {
                    "ctx is readonly adding/modifying properties is not supported."
                };
                self.report("no-disallowed-re-assignment", message, it.span);
            }
            _ => {}
        }
        walk::walk_assignment_expression(self, it);
    }
}
