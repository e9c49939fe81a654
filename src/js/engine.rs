//! The QuickJS runtime each worker thread keeps, and one evaluation in it.
//!
//! A thread builds its engine on first use: a runtime with a memory limit and
//! an interrupt handler, one context with the globals installed and every
//! built-in object frozen, and the built-in modules instantiated once.
//! Programs' factories are loaded from bytecode on a thread's first call and
//! kept. An evaluation that was stopped (time budget, memory) drops the
//! engine, so the next one starts clean.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Runtime, Value, WriteOptions};
use serde_json::Value as Json;

use super::bindings::{self, CallState, SharedState, SkipTo};
use super::compile;
use super::{Builtin, CodeErrorKind, CodeProblem, Import, JsLimits, JsProgram};
use crate::runtime::{CodeError, Context as ResolverContext, Evaluation, Host, Outcome, Phase};

/// A runtime's heap limit. AppSync documents none; 64 MiB holds any
/// realistic handler's data many times over and stops a runaway allocation
/// before it hurts the server.
const MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// QuickJS's own stack limit, below a tokio worker's 2 MiB stack.
const STACK_LIMIT: usize = 512 * 1024;

/// Factories a thread keeps before it starts over (reloads leave old ones).
const MAX_CACHED_MODULES: usize = 4096;

/// The built-in modules written in JS, with their bytecode: compiled by
/// the first engine of the process, loaded by the others.
static DYNAMODB: BuiltinModule = BuiltinModule {
    name: "@aws-appsync/utils/dynamodb",
    source: include_str!("modules/dynamodb.js"),
    bytecode: OnceLock::new(),
};
static RDS: BuiltinModule = BuiltinModule {
    name: "@aws-appsync/utils/rds",
    source: include_str!("modules/rds.js"),
    bytecode: OnceLock::new(),
};

struct BuiltinModule {
    name: &'static str,
    source: &'static str,
    /// The bytecode and the number of imports (each `@aws-appsync/utils`).
    bytecode: OnceLock<(Vec<u8>, usize)>,
}

/// Sets up a context: JSON.parse's AppSync behaviour, the ctx shaping, and
/// freezing every built-in.
const PRELUDE: &str = include_str!("prelude.js");

/// The error type of a runtime exception in a handler. AppSync documents
/// none for JS; "Code" is what it reports for errors raised by resolver
/// code outside `util.error`.
const RUNTIME_ERROR_TYPE: &str = "Code";

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// A unique id per compiled program, so thread caches never confuse two.
static NEXT_PROGRAM_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn next_program_id() -> u64 {
    NEXT_PROGRAM_ID.fetch_add(1, Ordering::Relaxed)
}

struct Engine {
    // Persistent handles are released before the context and the runtime:
    // fields drop in declaration order.
    factories: RefCell<HashMap<(u64, usize), Persistent<Function<'static>>>>,
    builtins: HashMap<Builtin, Persistent<Object<'static>>>,
    /// The prototype of every request's `ctx` (see `prelude.js`).
    ctx_proto: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    state: SharedState,
    budget: Arc<Budget>,
}

/// The interrupt handler's view of the running evaluation.
struct Budget {
    epoch: Instant,
    /// Nanoseconds since `epoch` when the evaluation must stop; 0 is none.
    deadline: AtomicU64,
    expired: AtomicBool,
}

impl Budget {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

impl Engine {
    fn new() -> Result<Engine, EngineStartError> {
        let runtime = Runtime::new()?;
        runtime.set_memory_limit(MEMORY_LIMIT);
        runtime.set_max_stack_size(STACK_LIMIT);
        let budget = Arc::new(Budget {
            epoch: Instant::now(),
            deadline: AtomicU64::new(0),
            expired: AtomicBool::new(false),
        });
        let b = budget.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let deadline = b.deadline.load(Ordering::Relaxed);
            let expired = deadline != 0 && b.now() > deadline;
            if expired {
                b.expired.store(true, Ordering::Relaxed);
            }
            expired
        })));
        // QuickJS evaluates modules through its promise machinery, so the
        // Promise intrinsic is needed; the prelude hides the global.
        let context = Context::custom::<(
            intrinsic::Eval,
            intrinsic::Json,
            intrinsic::MapSet,
            intrinsic::Promise,
        )>(&runtime)?;
        let state: SharedState = Rc::new(RefCell::new(CallState::default()));
        let (ctx_proto, builtins) = context.with(|ctx| -> Result<_, EngineStartError> {
            bindings::install(&ctx, &state)?;
            let setup: Object = ctx.eval(PRELUDE)?;
            let ctx_proto: Object = setup.get("ctx")?;
            let freeze: Function = setup.get("freeze")?;
            let mut builtins = HashMap::new();
            let utils = Object::new(ctx.clone())?;
            for name in ["util", "extensions", "runtime"] {
                let value: Value = ctx.globals().get(name)?;
                utils.set(name, value)?;
            }
            let dynamodb = builtin_module(&ctx, &DYNAMODB, &utils)?;
            let rds = builtin_module(&ctx, &RDS, &utils)?;
            freeze.call::<_, ()>((
                utils.clone(),
                dynamodb.clone(),
                rds.clone(),
                ctx_proto.clone(),
            ))?;
            builtins.insert(Builtin::Utils, Persistent::save(&ctx, utils));
            builtins.insert(Builtin::Dynamodb, Persistent::save(&ctx, dynamodb));
            builtins.insert(Builtin::Rds, Persistent::save(&ctx, rds));
            Ok((Persistent::save(&ctx, ctx_proto), builtins))
        })?;
        Ok(Engine {
            factories: RefCell::new(HashMap::new()),
            builtins,
            ctx_proto,
            context,
            runtime,
            state,
            budget,
        })
    }

    /// The exports of a fresh instance of `program`'s module `index`.
    fn instantiate<'js>(
        &self,
        ctx: &Ctx<'js>,
        program: &JsProgram,
        index: usize,
    ) -> rquickjs::Result<Object<'js>> {
        let module = &program.modules[index];
        let imports = rquickjs::Array::new(ctx.clone())?;
        for (i, import) in module.imports.iter().enumerate() {
            let value = match import {
                Import::Local(m) => self.instantiate(ctx, program, *m)?,
                Import::Builtin(b) => self.builtins[b].clone().restore(ctx)?,
            };
            imports.set(i, value)?;
        }
        let factory = self.factory(ctx, program, index)?;
        factory.call((imports,))
    }

    fn factory<'js>(
        &self,
        ctx: &Ctx<'js>,
        program: &JsProgram,
        index: usize,
    ) -> rquickjs::Result<Function<'js>> {
        let key = (program.id, index);
        if let Some(f) = self.factories.borrow().get(&key) {
            return f.clone().restore(ctx);
        }
        // SAFETY: the bytecode was written by `compile_module` in this
        // process, from the same QuickJS build.
        let module = unsafe { Module::load(ctx.clone(), &program.modules[index].bytecode)? };
        let (module, _) = module.eval()?;
        let factory: Function = module.get("default")?;
        let mut factories = self.factories.borrow_mut();
        if factories.len() >= MAX_CACHED_MODULES {
            factories.clear();
        }
        factories.insert(key, Persistent::save(ctx, factory.clone()));
        Ok(factory)
    }

    fn evaluate(
        &self,
        program: &JsProgram,
        phase: Phase,
        ctx: &mut ResolverContext,
        host: Host,
        limits: JsLimits,
    ) -> (Evaluation, bool) {
        {
            // The parts of ctx move to the state, where `ctx` getters read
            // them, and come back after the call.
            let mut state = self.state.borrow_mut();
            state.begin(host);
            state.ctx = std::mem::take(ctx);
        }
        self.budget.expired.store(false, Ordering::Relaxed);
        let deadline = self.budget.now() + limits.time_budget.as_nanos() as u64;
        self.budget
            .deadline
            .store(deadline.max(1), Ordering::Relaxed);
        let mut written = WrittenBack::default();
        let result = self.context.with(|qctx| {
            let run = self.run(&qctx, program, phase, &mut written);
            run.map_err(|e| self.failure(&qctx, program, e))
        });
        self.budget.deadline.store(0, Ordering::Relaxed);
        let expired = self.budget.expired.load(Ordering::Relaxed);
        let mut state = self.state.borrow_mut();
        *ctx = std::mem::take(&mut state.ctx);
        // What the handler did to the stash and the arguments before it
        // returned, raised an error or returned early carries to the next
        // steps of the run.
        if let Some(Json::Object(stash)) = written.stash {
            ctx.stash = stash;
        }
        if let Some(arguments) = written.arguments {
            ctx.arguments = arguments;
        }
        let outcome = match result {
            Ok(value) => Outcome::Value(value),
            Err(Failure::Raised) => match state.raised.take() {
                Some(e) => Outcome::Failed(e),
                None => match state.early_return.take() {
                    Some((value, SkipTo::End)) => Outcome::SkipToEnd(value),
                    Some((value, SkipTo::Next)) => Outcome::EarlyReturn(value),
                    None => {
                        Outcome::Failed(CodeError::new("Runtime Error", Some(RUNTIME_ERROR_TYPE)))
                    }
                },
            },
            Err(Failure::Error(e)) => Outcome::Failed(*e),
        };
        let outcome = if expired {
            Outcome::Failed(CodeError::new(
                format!(
                    "{}: execution exceeded the time budget of {} ms",
                    program.name(),
                    limits.time_budget.as_millis()
                ),
                Some(RUNTIME_ERROR_TYPE),
            ))
        } else {
            outcome
        };
        let poisoned = expired
            || matches!(&outcome, Outcome::Failed(e) if e.message.contains("out of memory"));
        let evaluation = Evaluation {
            outcome,
            appended_errors: std::mem::take(&mut state.appended_errors),
            logs: std::mem::take(&mut state.logs),
            effects: std::mem::take(&mut state.effects),
        };
        (evaluation, poisoned)
    }

    fn run<'js>(
        &self,
        qctx: &Ctx<'js>,
        program: &JsProgram,
        phase: Phase,
        written: &mut WrittenBack,
    ) -> rquickjs::Result<Json> {
        let exports = self.instantiate(qctx, program, 0)?;
        let handler: Value = exports.get(phase_name(phase))?;
        let Some(handler) = handler.into_function() else {
            return Err(rquickjs::Exception::throw_type(
                qctx,
                &format!(
                    "{} does not export a {} function",
                    program.name(),
                    phase_name(phase)
                ),
            ));
        };
        let ctx_obj = Object::new(qctx.clone())?;
        ctx_obj.set_prototype(Some(&self.ctx_proto.clone().restore(qctx)?))?;
        let value = handler.call::<_, Value>((ctx_obj.clone(),));
        // Reading back must not clobber a pending exception of the handler.
        let pending = qctx.has_exception().then(|| qctx.catch());
        let touched = self.state.borrow().touched;
        for (key, slot) in [
            ("stash", &mut written.stash),
            ("arguments", &mut written.arguments),
        ] {
            if touched.contains(key) {
                let part: Value = ctx_obj.get(key)?;
                *slot = Some(bindings::to_json(qctx, &part)?);
            }
        }
        if let Some(thrown) = pending {
            return Err(qctx.throw(thrown));
        }
        bindings::to_json(qctx, &value?)
    }

    /// What a failed call means: a `util.error`/`earlyReturn` marker, or a
    /// runtime exception with its place in the user's file.
    fn failure<'js>(&self, qctx: &Ctx<'js>, program: &JsProgram, err: rquickjs::Error) -> Failure {
        let thrown = match err {
            rquickjs::Error::Exception => qctx.catch(),
            other => {
                return Failure::Error(Box::new(CodeError::new(
                    format!("{}: {other}", program.name()),
                    Some(RUNTIME_ERROR_TYPE),
                )));
            }
        };
        {
            let state = self.state.borrow();
            if state.raised.is_some() || state.early_return.is_some() {
                return Failure::Raised;
            }
        }
        let (name, message, stack) = match thrown.as_object() {
            Some(obj) => (
                obj.get::<_, Option<String>>("name").ok().flatten(),
                obj.get::<_, Option<String>>("message").ok().flatten(),
                obj.get::<_, Option<String>>("stack").ok().flatten(),
            ),
            None => (
                None,
                bindings::to_json(qctx, &thrown).ok().map(|v| v.to_string()),
                None,
            ),
        };
        let mut text = String::new();
        if let Some((file, line, column)) = stack.as_deref().and_then(|s| location(s, program)) {
            text.push_str(&format!("{file}:{line}:{column}: "));
        }
        if let Some(name) = name {
            text.push_str(&name);
            text.push_str(": ");
        }
        text.push_str(message.as_deref().unwrap_or("uncaught exception"));
        Failure::Error(Box::new(CodeError::new(text, Some(RUNTIME_ERROR_TYPE))))
    }
}

enum Failure {
    /// The handler stopped through `util.error` or `runtime.earlyReturn`.
    Raised,
    Error(Box<CodeError>),
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Request => "request",
        Phase::Response => "response",
    }
}

/// The innermost stack frame in one of the program's files, with the line
/// and column the user's file has.
fn location(stack: &str, program: &JsProgram) -> Option<(String, u32, u32)> {
    for frame in stack.lines() {
        let Some(open) = frame.rfind('(') else {
            continue;
        };
        let inner = frame[open + 1..].trim_end_matches(')');
        let mut parts = inner.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line: u32 = parts.next()?.parse().ok()?;
        let file = parts.next()?;
        if program.modules.iter().any(|m| m.name == file) {
            let column = if line == 1 {
                column.saturating_sub(compile::PREFIX.len() as u32).max(1)
            } else {
                column
            };
            return Some((file.to_owned(), line, column));
        }
    }
    None
}

/// The stash and arguments as a handler left them, when it read them.
#[derive(Default)]
struct WrittenBack {
    stash: Option<Json>,
    arguments: Option<Json>,
}

/// Instantiates a built-in module (written as an ES module like user code)
/// with the utils object as its only import.
fn builtin_module<'js>(
    ctx: &Ctx<'js>,
    builtin: &'static BuiltinModule,
    utils: &Object<'js>,
) -> Result<Object<'js>, EngineStartError> {
    let (name, source) = (builtin.name, builtin.source);
    let (bytecode, imports) = match builtin.bytecode.get() {
        Some(compiled) => compiled.clone(),
        None => {
            let factory =
                compile::factory(name, source, compile::Origin::Builtin).map_err(|problems| {
                    EngineStartError::Builtin {
                        name,
                        problems: super::CodeProblems(problems),
                    }
                })?;
            if let Some(spec) = factory.imports.iter().find(|s| *s != "@aws-appsync/utils") {
                return Err(EngineStartError::BuiltinImport {
                    name,
                    spec: spec.clone(),
                });
            }
            let bytecode =
                Module::declare(ctx.clone(), name, factory.text)?.write(WriteOptions::default())?;
            let compiled = (bytecode, factory.imports.len());
            builtin.bytecode.get_or_init(|| compiled).clone()
        }
    };
    // SAFETY: written just above or by another engine of this process, from
    // the same QuickJS build.
    let module = unsafe { Module::load(ctx.clone(), &bytecode)? };
    let (module, _) = module.eval()?;
    let f: Function = module.get("default")?;
    let array = rquickjs::Array::new(ctx.clone())?;
    for i in 0..imports {
        array.set(i, utils.clone())?;
    }
    Ok(f.call((array,))?)
}

/// Compiles a rewritten module to bytecode on this thread's engine.
pub(super) fn compile_module(name: &str, text: &str) -> Result<Vec<u8>, CodeProblem> {
    let compiled = with_engine(|engine| {
        engine.context.with(|ctx| {
            Module::declare(ctx.clone(), name, text)
                .and_then(|m| m.write(WriteOptions::default()))
                .map_err(|e| match e {
                    rquickjs::Error::Exception => {
                        let thrown = ctx.catch();
                        thrown
                            .as_object()
                            .and_then(|o| o.get::<_, String>("message").ok())
                            .unwrap_or_else(|| "the code could not be compiled".to_owned())
                    }
                    other => other.to_string(),
                })
        })
    });
    let compiled = compiled.map_err(|e| e.to_string()).and_then(|r| r);
    match compiled {
        Ok(bytes) => Ok(bytes),
        Err(message) => Err(CodeProblem::whole_file(
            CodeErrorKind::ParserError,
            name,
            format!("Parsing error: {message}"),
        )),
    }
}

/// The thread's engine could not be built: QuickJS out of memory, or a
/// broken built-in module (a bug of ours, caught by every JS test).
#[derive(Debug, thiserror::Error)]
enum EngineStartError {
    #[error("the JavaScript engine did not start: {0}")]
    Js(#[from] rquickjs::Error),
    #[error("the built-in module {name} does not compile: {problems}")]
    Builtin {
        name: &'static str,
        problems: super::CodeProblems,
    },
    #[error("the built-in module {name} imports {spec}; built-ins import only @aws-appsync/utils")]
    BuiltinImport { name: &'static str, spec: String },
}

/// Runs `f` with this thread's engine, building it first if needed.
fn with_engine<R>(f: impl FnOnce(&Engine) -> R) -> Result<R, EngineStartError> {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let engine = match slot.take() {
            Some(engine) => engine,
            None => Engine::new()?,
        };
        let out = f(&engine);
        *slot = Some(engine);
        Ok(out)
    })
}

/// Runs one handler of `program` on this thread's engine.
pub(super) fn evaluate(
    program: &Arc<JsProgram>,
    phase: Phase,
    ctx: &mut ResolverContext,
    host: Host,
    limits: JsLimits,
) -> Evaluation {
    let result = with_engine(|engine| engine.evaluate(program, phase, ctx, host, limits));
    match result {
        Ok((evaluation, poisoned)) => {
            if poisoned {
                // A stopped evaluation may leave the heap mid-update: start over.
                ENGINE.with(|cell| cell.borrow_mut().take());
            }
            evaluation
        }
        Err(e) => Evaluation::of(Outcome::Failed(CodeError::new(
            e.to_string(),
            Some(RUNTIME_ERROR_TYPE),
        ))),
    }
}

/// Memory the calling thread's engine holds, in bytes (for benchmarks).
pub fn engine_memory_bytes() -> Option<i64> {
    with_engine(|engine| engine.runtime.memory_usage().memory_used_size).ok()
}
