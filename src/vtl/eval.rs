//! The renderer: walks the syntax tree against a variable scope.
//!
//! Values are `Rc`-based, so one render runs on one thread; the tree itself is
//! shared between threads.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::vtl::ast::{BinOp, Expr, Macros, Node, Part, Reference, Span};
use crate::vtl::methods::{self, TooDeep, as_f64, java_class, velocity_equals, write_java};
use crate::vtl::runtime::{RenderState, TemplateError};
use crate::vtl::util::{self, CallError};
use crate::vtl::value::{ForeachScope, Map, Value};

/// AppSync: "evaluated template 5 MB".
pub const MAX_OUTPUT_BYTES: usize = 5 * 1024 * 1024;
/// AppSync: at most 1000 iterations per `#foreach`.
pub const MAX_FOREACH_ITERATIONS: usize = 1000;
/// Velocity's default `velocimacro.max.depth`.
pub const MAX_MACRO_DEPTH: u32 = 20;
/// Nested blocks (including macro and `#define` bodies) per render.
const MAX_RENDER_DEPTH: u32 = 200;
/// Stack left when a nested render moves to a fresh segment, and that
/// segment's size (debug builds have large frames; tokio workers have 2 MB).
const STACK_RED_ZONE: usize = 64 * 1024;
const STACK_GROWTH: usize = 1024 * 1024;
/// Total loop iterations and macro calls per render. Our own guard against
/// nested loops that would run for minutes (AppSync stops them at 30 s).
const MAX_STEPS: u64 = 2_000_000;
/// Largest range literal we materialise (`[1..$n]`).
const MAX_RANGE: u64 = 1_000_000;

/// FxHash: variable names are short, trusted (they come from the template)
/// and hashed on every reference, so SipHash's DoS resistance buys nothing.
pub type Vars<V> = HashMap<Arc<str>, V, rustc_hash::FxBuildHasher>;

/// Names the renderer binds itself, allocated once per template.
#[derive(Debug)]
pub struct Names {
    pub ctx: Arc<str>,
    pub context: Arc<str>,
    pub util: Arc<str>,
    pub utils: Arc<str>,
    pub extensions: Arc<str>,
    pub foreach: Arc<str>,
    pub velocity_count: Arc<str>,
    pub velocity_has_next: Arc<str>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            ctx: Arc::from("ctx"),
            context: Arc::from("context"),
            util: Arc::from("util"),
            utils: Arc::from("utils"),
            extensions: Arc::from("extensions"),
            foreach: Arc::from("foreach"),
            velocity_count: Arc::from("velocityCount"),
            velocity_has_next: Arc::from("velocityHasNext"),
        }
    }
}

/// A parsed template: the tree plus what error messages need.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    pub source: Arc<str>,
    pub nodes: Vec<Node>,
    pub macros: Macros,
    pub names: Names,
    /// The costly parts of `$ctx` the template can observe.
    pub observes: Observes,
}

/// Which costly parts of `$ctx` a template can observe, decided from its
/// text: `identity` (a verified token's claims) and `request` (every
/// header) are converted for a render only when some reference could reach
/// them. The test over-approximates: the word anywhere, or `$ctx` used
/// other than through one of its members, counts as observing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observes {
    pub identity: bool,
    pub request: bool,
}

/// Whether `name` is a member of `$ctx`; any other use of `$ctx` (whole,
/// `.get(...)`, `.entrySet()`) may reach every part.
fn ctx_member(name: &str) -> bool {
    name == "args" || crate::runtime::CONTEXT_PARTS.contains(&name)
}

impl Observes {
    pub fn of(source: &str) -> Observes {
        let whole = ctx_used_whole(source);
        Observes {
            identity: whole || source.contains("identity"),
            request: whole || source.contains("request"),
        }
    }
}

fn ctx_used_whole(source: &str) -> bool {
    let ident_end = |text: &str| {
        text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(text.len())
    };
    for (at, _) in source.match_indices('$') {
        let rest = &source[at + 1..];
        let rest = rest.strip_prefix('!').unwrap_or(rest);
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        let name = &rest[..ident_end(rest)];
        if name != "ctx" && name != "context" {
            continue;
        }
        let after = &rest[name.len()..];
        let Some(member) = after.strip_prefix('.') else {
            return true;
        };
        if !ctx_member(&member[..ident_end(member)]) {
            return true;
        }
    }
    false
}

/// How rendering ended early.
pub enum Flow {
    Break,
    Stop,
    Return(Value),
    /// Boxed to keep `Result<Value, Flow>` small on the hot path.
    Error(Box<TemplateError>),
}

fn fail(e: TemplateError) -> Flow {
    Flow::Error(Box::new(e))
}

type R<T> = Result<T, Flow>;

pub enum Outcome {
    Text(String),
    Return(Json),
}

/// A macro argument. Velocity 1.7 passes references by name: the argument
/// is re-evaluated in the caller's scope each time the parameter is read.
enum MacroArg<'t> {
    Value(Value),
    ByName(&'t Reference, usize),
}

/// One macro call's scope: its arguments, and values `#set` inside it (which
/// shadow the arguments; `#set` also writes through to the global scope).
#[derive(Default)]
struct Frame<'t> {
    args: Vars<MacroArg<'t>>,
    locals: Vars<Value>,
}

pub struct Renderer<'t> {
    prog: &'t Program,
    pub state: RenderState<'t>,
    pub vars: Vars<Value>,
    /// Macro scopes, innermost last.
    frames: Vec<Frame<'t>>,
    defines: Vars<&'t [Node]>,
    depth: u32,
    macro_depth: u32,
    steps: u64,
}

fn too_large() -> Flow {
    fail(TemplateError::mapping_template("Transformation too large"))
}

fn value_error(e: TooDeep) -> Flow {
    match e {
        TooDeep::Size => too_large(),
        TooDeep::Nesting => fail(TemplateError::mapping_template(
            "Cannot render a value nested deeper than 256 levels (is a collection inside itself?)",
        )),
    }
}

impl<'t> Renderer<'t> {
    pub fn new(prog: &'t Program, state: RenderState<'t>, vars: Vars<Value>) -> Self {
        Renderer {
            prog,
            state,
            vars,
            frames: Vec::new(),
            defines: Vars::default(),
            depth: 0,
            macro_depth: 0,
            steps: 0,
        }
    }

    pub fn run(&mut self) -> Result<Outcome, Box<TemplateError>> {
        let prog = self.prog;
        let mut out = String::with_capacity(prog.source.len() + 64);
        match self.render_nodes(&prog.nodes, &mut out) {
            Ok(()) | Err(Flow::Break) | Err(Flow::Stop) => Ok(Outcome::Text(out)),
            Err(Flow::Return(v)) => match to_json(&v, 0, &mut { MAX_JSON_NODES }) {
                Ok(j) => Ok(Outcome::Return(j)),
                Err(TooDeep::Nesting) => Err(Box::new(TemplateError::mapping_template(
                    "Cannot return a value nested deeper than 256 levels",
                ))),
                Err(TooDeep::Size) => Err(Box::new(TemplateError::mapping_template(
                    "Transformation too large",
                ))),
            },
            Err(Flow::Error(e)) => Err(e),
        }
    }

    fn position(&self, offset: u32) -> String {
        let (line, col) = line_col(&self.prog.source, offset as usize);
        format!("{}[line {line}, column {col}]", self.prog.name)
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(fail(TemplateError::mapping_template(format!(
                "Template evaluation exceeded {MAX_STEPS} loop iterations and macro calls"
            ))));
        }
        Ok(())
    }

    fn literal(&self, span: Span) -> &'t str {
        let src: &'t str = &self.prog.source;
        src.get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// The text a null reference prints: its own source, except that a bare
    /// macro parameter prints the caller's argument (`$undefined`), as
    /// Velocity 1.7's pass-by-name arguments do.
    fn null_literal(&self, r: &'t Reference) -> &'t str {
        if r.parts.is_empty() {
            // Only the innermost call's argument, as in Velocity 1.7.
            for frame in self.frames.iter().rev() {
                if frame.locals.contains_key(&*r.name) {
                    break;
                }
                match frame.args.get(&*r.name) {
                    Some(MacroArg::ByName(arg, _)) => return self.literal(arg.span),
                    Some(MacroArg::Value(_)) => break,
                    None => {}
                }
            }
        }
        self.literal(r.span)
    }

    fn push(out: &mut String, s: &str) -> R<()> {
        out.push_str(s);
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(too_large());
        }
        Ok(())
    }

    fn push_value(out: &mut String, v: &Value) -> R<()> {
        write_java(out, v).map_err(value_error)?;
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(too_large());
        }
        Ok(())
    }

    fn render_nodes(&mut self, nodes: &'t [Node], out: &mut String) -> R<()> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || {
            self.render_nodes_nested(nodes, out)
        })
    }

    fn render_nodes_nested(&mut self, nodes: &'t [Node], out: &mut String) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_RENDER_DEPTH {
            self.depth -= 1;
            return Err(fail(TemplateError::mapping_template(format!(
                "Template nesting exceeded {MAX_RENDER_DEPTH} levels (runaway recursion?)"
            ))));
        }
        let res = nodes.iter().try_for_each(|n| self.render_node(n, out));
        self.depth -= 1;
        res
    }

    fn render_node(&mut self, node: &'t Node, out: &mut String) -> R<()> {
        match node {
            Node::Text(t) => Self::push(out, t),
            Node::Ref(r) => {
                let v = self.eval_ref(r)?;
                if v.is_null() {
                    if r.quiet {
                        Ok(())
                    } else {
                        Self::push(out, self.null_literal(r))
                    }
                } else {
                    Self::push_value(out, &v)
                }
            }
            Node::EscapedRef {
                backslashes,
                reference,
            } => {
                let v = self.eval_ref(reference)?;
                let n = *backslashes as usize;
                if v.is_null() {
                    Self::push(out, &"\\".repeat(n))?;
                    return Self::push(out, self.literal(reference.span));
                }
                Self::push(out, &"\\".repeat(n / 2))?;
                if n % 2 == 1 {
                    Self::push(out, self.literal(reference.span))
                } else {
                    Self::push_value(out, &v)
                }
            }
            Node::Set { target, value } => self.set(target, value),
            Node::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.eval_bool(cond)? {
                        return self.render_nodes(body, out);
                    }
                }
                match otherwise {
                    Some(body) => self.render_nodes(body, out),
                    None => Ok(()),
                }
            }
            Node::Foreach {
                var,
                iterable,
                body,
                span,
            } => self.foreach(var, iterable, body, *span, out),
            Node::Break => Err(Flow::Break),
            Node::Stop => Err(Flow::Stop),
            Node::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                Err(Flow::Return(v))
            }
            Node::Define { name, body } => {
                self.defines.insert(name.clone(), body.as_slice());
                self.remove_var(name);
                Ok(())
            }
            Node::MacroCall { name, args, span } => self.call_macro(name, args, *span, out),
        }
    }

    fn call_macro(
        &mut self,
        name: &Arc<str>,
        args: &'t [Expr],
        span: Span,
        out: &mut String,
    ) -> R<()> {
        let prog = self.prog;
        let Some(mac) = prog.macros.get(name) else {
            // Velocity prints a call to an unknown macro as text.
            return Self::push(out, self.literal(span));
        };
        self.step()?;
        if self.macro_depth >= MAX_MACRO_DEPTH {
            return Err(fail(TemplateError::mapping_template(format!(
                "Max calling depth of {MAX_MACRO_DEPTH} was exceeded in macro '{name}' at {}",
                self.position(span.start)
            ))));
        }
        let mut frame = Frame::default();
        let caller_depth = self.frames.len();
        for (param, arg) in mac.params.iter().zip(args) {
            let arg = match arg {
                Expr::Ref(r) => MacroArg::ByName(r, caller_depth),
                other => MacroArg::Value(self.eval(other)?),
            };
            frame.args.insert(param.clone(), arg);
        }
        self.frames.push(frame);
        self.macro_depth += 1;
        let res = self.render_nodes(&mac.body, out);
        self.macro_depth -= 1;
        self.frames.pop();
        match res {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn foreach(
        &mut self,
        var: &Arc<str>,
        iterable: &'t Expr,
        body: &'t [Node],
        span: Span,
        out: &mut String,
    ) -> R<()> {
        let items: Vec<Value> = match self.eval(iterable)? {
            Value::List(items) => items.borrow().clone(),
            // Velocity iterates a map's values.
            Value::Map(map) => map.borrow().values().cloned().collect(),
            _ => return Ok(()),
        };
        if items.len() > MAX_FOREACH_ITERATIONS {
            // AppSync's limit; the exact message is not documented (a guess).
            return Err(fail(TemplateError::mapping_template(format!(
                "#foreach loop at {} exceeded the maximum of {MAX_FOREACH_ITERATIONS} iterations",
                self.position(span.start)
            ))));
        }
        let saved_var = self.lookup(var)?;
        let prog = self.prog;
        let foreach_key = &prog.names.foreach;
        let count_key = &prog.names.velocity_count;
        let saved_foreach = self.lookup(foreach_key)?;
        let saved_count = self.lookup(count_key)?;
        let has_next_key = &prog.names.velocity_has_next;
        let saved_has_next = self.lookup(has_next_key)?;
        let scope = Rc::new(ForeachScope::new(saved_foreach.clone()));
        let n = items.len();
        let mut res = Ok(());
        for (idx, item) in items.into_iter().enumerate() {
            if let Err(e) = self.step() {
                res = Err(e);
                break;
            }
            scope.advance(idx as i64, idx + 1 < n);
            self.set_var(foreach_key, Value::Foreach(scope.clone()));
            self.set_var(count_key, Value::Int(idx as i64 + 1));
            self.set_var(has_next_key, Value::Bool(idx + 1 < n));
            if item.is_null() {
                self.remove_var(var);
            } else {
                self.set_var(var, item);
            }
            match self.render_nodes(body, out) {
                Ok(()) => {}
                Err(Flow::Break) => break,
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
        }
        self.restore(var, saved_var);
        self.restore(foreach_key, saved_foreach);
        self.restore(count_key, saved_count);
        self.restore(has_next_key, saved_has_next);
        res
    }

    // ---- variables ----

    fn lookup(&mut self, name: &str) -> R<Option<Value>> {
        for idx in (0..self.frames.len()).rev() {
            let frame = &self.frames[idx];
            if let Some(v) = frame.locals.get(name) {
                return Ok(Some(v.clone()));
            }
            match frame.args.get(name) {
                Some(MacroArg::Value(v)) => return Ok((!v.is_null()).then(|| v.clone())),
                Some(MacroArg::ByName(r, depth)) => {
                    let (r, depth) = (*r, *depth);
                    let inner = self.frames.split_off(depth);
                    let res = self.eval_ref(r);
                    self.frames.extend(inner);
                    return res.map(|v| (!v.is_null()).then_some(v));
                }
                None => {}
            }
        }
        Ok(self.vars.get(name).cloned())
    }

    fn get_var(&mut self, name: &str) -> R<Value> {
        if let Some(v) = self.lookup(name)? {
            return Ok(v);
        }
        if let Some(body) = self.defines.get(name).copied() {
            // A `#define` block renders where it is referenced; its
            // recursion is bounded like a macro's.
            if self.macro_depth >= MAX_MACRO_DEPTH {
                return Err(fail(TemplateError::mapping_template(format!(
                    "Max calling depth of {MAX_MACRO_DEPTH} was exceeded in #define block '${name}'"
                ))));
            }
            let mut s = String::new();
            self.macro_depth += 1;
            let res = self.render_nodes(body, &mut s);
            self.macro_depth -= 1;
            match res {
                Ok(()) | Err(Flow::Break) => {}
                Err(e) => return Err(e),
            }
            return Ok(Value::str(s));
        }
        Ok(Value::Null)
    }

    fn set_var(&mut self, name: &Arc<str>, v: Value) {
        for frame in &mut self.frames {
            frame.locals.insert(name.clone(), v.clone());
        }
        if !self.defines.is_empty() {
            self.defines.remove(&**name);
        }
        match self.vars.get_mut(&**name) {
            Some(slot) => *slot = v,
            None => {
                self.vars.insert(name.clone(), v);
            }
        }
    }

    fn remove_var(&mut self, name: &str) {
        for frame in &mut self.frames {
            frame.locals.remove(name);
        }
        self.vars.remove(name);
    }

    fn restore(&mut self, name: &Arc<str>, saved: Option<Value>) {
        match saved {
            Some(v) => self.set_var(name, v),
            None => self.remove_var(name),
        }
    }

    fn set(&mut self, target: &'t Reference, value: &'t Expr) -> R<()> {
        let v = self.eval(value)?;
        // Velocity 1.7: a null right-hand side leaves the target unchanged.
        // AppSync's docs are silent on the `null` literal; written out, it
        // clearly asks for null, so it clears the target instead.
        if v.is_null() && !matches!(value, Expr::Null) {
            return Ok(());
        }
        let Some((last, init)) = target.parts.split_last() else {
            if v.is_null() {
                self.remove_var(&target.name);
            } else {
                self.set_var(&target.name, v);
            }
            return Ok(());
        };
        let base = self.eval_parts(target, init)?;
        match (last, &base) {
            (Part::Property(name), Value::Map(map)) => {
                map.borrow_mut().insert(name.to_string(), v);
            }
            (Part::Index(idx, span), _) => {
                let idx = self.eval(idx)?;
                match (&base, &idx) {
                    (Value::Map(map), _) => {
                        if let Ok(k) = methods::java_string(&idx) {
                            map.borrow_mut().insert(k, v);
                        }
                    }
                    (Value::List(items), Value::Int(i)) => {
                        let mut items = items.borrow_mut();
                        let len = items.len();
                        match usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                            Some(slot) => *slot = v,
                            None => {
                                drop(items);
                                return Err(self.index_error(&base, *span, *i, len));
                            }
                        }
                    }
                    _ => {}
                }
            }
            // Velocity would look for a setter; our values have none.
            _ => {}
        }
        Ok(())
    }

    fn index_error(&self, base: &Value, span: Span, i: i64, len: usize) -> Flow {
        fail(TemplateError::mapping_template(format!(
            "Error invoking method 'get(java.lang.Integer)' in {} at {}: Index {i} out of bounds for length {len}",
            java_class(base),
            self.position(span.start)
        )))
    }

    // ---- expressions ----

    pub fn eval_ref(&mut self, r: &'t Reference) -> R<Value> {
        self.eval_parts(r, &r.parts)
    }

    fn eval_parts(&mut self, r: &'t Reference, parts: &'t [Part]) -> R<Value> {
        let mut v = self.get_var(&r.name)?;
        for part in parts {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = match part {
                Part::Property(name) => match &v {
                    Value::Builtin(ns) => ns.child(name).map(Value::Builtin).unwrap_or(Value::Null),
                    other => methods::property(other, name).unwrap_or(Value::Null),
                },
                Part::Method { name, args, span } => {
                    let mut argv = Vec::with_capacity(args.len());
                    for a in args {
                        argv.push(self.eval(a)?);
                    }
                    self.call_method(&v, name, &argv, *span)?
                }
                Part::Index(idx, span) => {
                    let idx = self.eval(idx)?;
                    match (&v, &idx) {
                        (Value::List(items), Value::Int(i)) => {
                            let items_ref = items.borrow();
                            match usize::try_from(*i).ok().and_then(|i| items_ref.get(i)) {
                                Some(x) => x.clone(),
                                None => {
                                    let len = items_ref.len();
                                    drop(items_ref);
                                    return Err(self.index_error(&v, *span, *i, len));
                                }
                            }
                        }
                        (Value::Map(map), k) => match k {
                            Value::Str(k) => map.borrow().get(&**k).cloned().unwrap_or_default(),
                            Value::Int(_) | Value::Bool(_) | Value::Float(_) => map
                                .borrow()
                                .get(&k.to_string())
                                .cloned()
                                .unwrap_or_default(),
                            _ => Value::Null,
                        },
                        _ => Value::Null,
                    }
                }
            };
        }
        Ok(v)
    }

    fn call_method(&mut self, recv: &Value, name: &str, args: &[Value], span: Span) -> R<Value> {
        if let Value::Builtin(ns) = recv {
            return match util::call(&mut self.state, *ns, name, args) {
                Ok(v) => Ok(v),
                Err(CallError::NoSuchMethod) => Ok(Value::Null),
                Err(CallError::Raise(e)) => Err(fail(e)),
                Err(CallError::Invalid(msg)) => Err(fail(TemplateError::mapping_template(msg))),
            };
        }
        match methods::call(recv, name, args) {
            Ok(v) => Ok(v.unwrap_or_default()),
            Err(methods::JavaException(e)) => Err(fail(TemplateError::mapping_template(format!(
                "Invocation of method '{name}' in  class {} threw exception {e} at {}",
                java_class(recv),
                self.position(span.start + 1)
            )))),
        }
    }

    fn eval(&mut self, e: &'t Expr) -> R<Value> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || self.eval_nested(e))
    }

    fn eval_nested(&mut self, e: &'t Expr) -> R<Value> {
        Ok(match e {
            Expr::Ref(r) => self.eval_ref(r)?,
            Expr::Str(s) => Value::str(&**s),
            Expr::Interpolated(nodes) => {
                let mut s = String::new();
                match self.render_nodes(nodes, &mut s) {
                    Ok(()) => {}
                    // `#break`/`#stop` inside a string literal end the string.
                    Err(Flow::Break) | Err(Flow::Stop) => {}
                    Err(e) => return Err(e),
                }
                Value::str(s)
            }
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Null => Value::Null,
            Expr::List(items) => {
                let mut vs = Vec::with_capacity(items.len());
                for item in items {
                    vs.push(self.eval(item)?);
                }
                Value::list(vs)
            }
            Expr::Map(pairs) => {
                let mut map = Map::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let k = match k {
                        // The common case, without an intermediate value.
                        Expr::Str(lit) => lit.to_string(),
                        other => {
                            let k = self.eval(other)?;
                            methods::java_string(&k).map_err(value_error)?
                        }
                    };
                    let v = self.eval(v)?;
                    map.insert(k, v);
                }
                Value::map(map)
            }
            Expr::Range(a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                match (a, b) {
                    (Value::Int(a), Value::Int(b)) => {
                        if a.abs_diff(b) >= MAX_RANGE {
                            return Err(fail(TemplateError::mapping_template(format!(
                                "Range [{a}..{b}] is larger than {MAX_RANGE} elements"
                            ))));
                        }
                        let items: Vec<Value> = if a <= b {
                            (a..=b).map(Value::Int).collect()
                        } else {
                            (b..=a).rev().map(Value::Int).collect()
                        };
                        Value::list(items)
                    }
                    _ => Value::Null,
                }
            }
            Expr::Not(inner) => Value::Bool(!self.eval_bool(inner)?),
            Expr::Binary(op, lhs, rhs) => match op {
                BinOp::Or | BinOp::And | BinOp::Eq | BinOp::Ne => Value::Bool(self.eval_bool(e)?),
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(self.eval_bool(e)?),
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                    let (a, b) = (self.eval(lhs)?, self.eval(rhs)?);
                    arith(*op, &a, &b)?
                }
            },
        })
    }

    /// Velocity's `evaluate()`: only references, booleans, comparisons and
    /// logical operators can be true; any other literal (even `1` or `"x"`)
    /// is false in 1.7.
    fn eval_bool(&mut self, e: &'t Expr) -> R<bool> {
        Ok(match e {
            Expr::Ref(r) => self.eval_ref(r)?.is_truthy(),
            Expr::Bool(b) => *b,
            Expr::Not(inner) => !self.eval_bool(inner)?,
            Expr::Binary(op, lhs, rhs) => match op {
                BinOp::And => self.eval_bool(lhs)? && self.eval_bool(rhs)?,
                BinOp::Or => self.eval_bool(lhs)? || self.eval_bool(rhs)?,
                BinOp::Eq | BinOp::Ne => {
                    let a = self.eval(lhs)?;
                    let equal = match (&a, &**rhs) {
                        // `$x == "literal"`, the common case, without allocating.
                        (Value::Str(x), Expr::Str(lit)) => **x == **lit,
                        _ => {
                            let b = self.eval(rhs)?;
                            velocity_equals(&a, &b)
                        }
                    };
                    equal == (*op == BinOp::Eq)
                }
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    let (a, b) = (self.eval(lhs)?, self.eval(rhs)?);
                    compare(*op, &a, &b)
                }
                _ => false,
            },
            _ => false,
        })
    }
}

/// Numeric comparison; anything else is false (Velocity 1.7 logs an error).
fn compare(op: BinOp, a: &Value, b: &Value) -> bool {
    let ord = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.partial_cmp(y),
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    };
    let Some(ord) = ord else { return false };
    match op {
        BinOp::Lt => ord.is_lt(),
        BinOp::Le => ord.is_le(),
        BinOp::Gt => ord.is_gt(),
        BinOp::Ge => ord.is_ge(),
        _ => false,
    }
}

/// Java arithmetic as Velocity's `MathUtils` does it: integer division
/// truncates, division by zero and non-numbers give null, `+` with a string
/// concatenates, and integer overflow widens (here to double, where Velocity
/// uses `BigInteger`).
fn arith(op: BinOp, a: &Value, b: &Value) -> R<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if op == BinOp::Add && (matches!(a, Value::Str(_)) || matches!(b, Value::Str(_))) {
        let mut s = methods::java_string(a).map_err(value_error)?;
        write_java(&mut s, b).map_err(value_error)?;
        if s.len() > MAX_OUTPUT_BYTES {
            return Err(too_large());
        }
        return Ok(Value::str(s));
    }
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        let res = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div if y == 0 => return Ok(Value::Null),
            BinOp::Div => x.checked_div(y),
            BinOp::Mod if y == 0 => return Ok(Value::Null),
            BinOp::Mod => x.checked_rem(y),
            _ => return Ok(Value::Null),
        };
        if let Some(r) = res {
            return Ok(Value::Int(r));
        }
    }
    let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) else {
        return Ok(Value::Null);
    };
    Ok(match op {
        BinOp::Add => Value::Float(x + y),
        BinOp::Sub => Value::Float(x - y),
        BinOp::Mul => Value::Float(x * y),
        BinOp::Div if y == 0.0 => Value::Null,
        BinOp::Div => Value::Float(x / y),
        BinOp::Mod if y == 0.0 => Value::Null,
        BinOp::Mod => Value::Float(x % y),
        _ => Value::Null,
    })
}

/// `Value::to_json`, but safe on cyclic collections and bounded in size.
fn to_json(v: &Value, depth: u32, budget: &mut usize) -> Result<Json, TooDeep> {
    if depth > methods::MAX_VALUE_DEPTH {
        return Err(TooDeep::Nesting);
    }
    // Shared sub-collections could make the JSON exponentially large.
    *budget = budget.checked_sub(1).ok_or(TooDeep::Size)?;
    Ok(match v {
        Value::List(items) => Json::Array(
            items
                .borrow()
                .iter()
                .map(|x| to_json(x, depth + 1, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(map) => Json::Object(
            map.borrow()
                .iter()
                .map(|(k, x)| Ok((k.clone(), to_json(x, depth + 1, budget)?)))
                .collect::<Result<_, TooDeep>>()?,
        ),
        other => other.to_json(),
    })
}

/// Values a converted JSON document may hold.
const MAX_JSON_NODES: usize = 1_000_000;

pub fn value_to_json(v: &Value) -> Option<Json> {
    let mut budget = MAX_JSON_NODES;
    to_json(v, 0, &mut budget).ok()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let mut offset = offset;
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}
