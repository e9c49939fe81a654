//! APPSYNC_JS against VTL, in process: the cost of one resolver step per
//! request, for the demo's `ping` and `getFlight` code in both runtimes.
//! Also prints the memory one pooled QuickJS runtime holds.
//!
//! Run with `cargo bench --bench js -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;

use appsync_local::js::{JsProgram, engine_memory_bytes};
use appsync_local::runtime::{Context, Host, Phase};
use appsync_local::vtl::Template;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).expect("a demo file")
}

fn program(path: &str) -> Arc<JsProgram> {
    let dir = format!("{ROOT}/examples/flight-catalog-js");
    let mut read_module = |relative: &str| std::fs::read_to_string(format!("{dir}/{relative}"));
    JsProgram::compile(
        path,
        &std::fs::read_to_string(format!("{dir}/{path}")).expect("code"),
        &mut read_module,
    )
    .expect("the demo compiles")
}

/// The context the executor builds for a root field.
fn context(args: serde_json::Value) -> Context {
    Context {
        arguments: args,
        info: json!({
            "fieldName": "getFlight",
            "parentTypeName": "Query",
            "variables": {},
            "selectionSetList": ["id", "departureCity", "arrivalCity", "ticketPrice"],
            "selectionSetGraphQL": "{ id departureCity arrivalCity ticketPrice }",
        }),
        request: json!({"headers": {"x-api-key": "da2-flightcatalog-local", "content-type": "application/json"}}),
        ..Context::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("resolver_step");
    let cases = [
        (
            "ping",
            "resolvers/Query.ping.req.vtl",
            "resolvers/Query.ping.js",
            json!({}),
        ),
        (
            "getFlight",
            "resolvers/Query.getFlight.req.vtl",
            "resolvers/Query.getFlight.js",
            json!({"id": "FL00001"}),
        ),
    ];
    for (name, vtl, js, args) in cases {
        let template = Template::parse(vtl, &read(vtl)).expect("the template parses");
        let code = program(js);
        let base = context(args);
        group.bench_function(format!("{name}/vtl_request"), |b| {
            b.iter(|| {
                let mut ctx = base.clone();
                let out = template.render_with(&mut ctx, &mut Host::system());
                let text = match out.result {
                    Ok(appsync_local::vtl::Rendered::Text(t)) => t,
                    _ => panic!("rendered"),
                };
                black_box(appsync_local::vtl::parse_json_output(vtl, &text).expect("json"))
            })
        });
        group.bench_function(format!("{name}/js_request"), |b| {
            b.iter(|| {
                let mut ctx = base.clone();
                black_box(code.evaluate(Phase::Request, &mut ctx, Host::system()))
            })
        });
    }
    group.finish();
    cold_start();
    println!(
        "memory held by this thread's QuickJS runtime after the runs: {} bytes",
        engine_memory_bytes().unwrap_or(-1)
    );
}

/// The first request on a thread that has run no code yet: for JS, the
/// engine starts (runtime, globals, built-in modules) before the handler
/// runs; for VTL there is nothing to start. Each on its own fresh thread.
fn cold_start() {
    let program = program("resolvers/Query.ping.js");
    let template = Template::parse("ping", &read("resolvers/Query.ping.req.vtl")).expect("parses");
    let js = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut ctx = context(json!({}));
        black_box(program.evaluate(Phase::Request, &mut ctx, Host::system()));
        started.elapsed()
    })
    .join()
    .expect("the thread ran");
    let vtl = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut ctx = context(json!({}));
        black_box(template.render_with(&mut ctx, &mut Host::system()));
        started.elapsed()
    })
    .join()
    .expect("the thread ran");
    println!("first request step on a fresh thread: JS {js:?}, VTL {vtl:?}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
