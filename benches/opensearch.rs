//! OpenSearch benchmarks: bulk ingest, `match` on 100k order documents, and the overhead of
//! the REST/DSL layer (`Engine::handle` with a JSON body) over the same tantivy query.
//!
//! Run: `cargo bench --bench opensearch`. Besides criterion's report it prints p50/p99
//! latencies and the REST/direct ratio measured in one interleaved run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use appsync_local::opensearch::Engine;
use criterion::{BatchSize, Criterion, Throughput};
use serde_json::{Value, json};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

const CORPUS: usize = 100_000;
const BULK_BATCH: usize = 10_000;

const WORDS: &[&str] = &[
    "blue",
    "red",
    "green",
    "black",
    "white",
    "leather",
    "cotton",
    "wool",
    "running",
    "trail",
    "shoes",
    "boots",
    "jacket",
    "coat",
    "socks",
    "hat",
    "scarf",
    "gloves",
    "bag",
    "wallet",
    "waterproof",
    "lightweight",
    "warm",
    "breathable",
    "classic",
    "vintage",
    "sport",
    "casual",
    "premium",
    "organic",
    "recycled",
    "large",
    "small",
    "medium",
    "gift",
    "express",
    "delivery",
    "fragile",
    "bundle",
    "spare",
    "laces",
    "sole",
    "zip",
    "pocket",
    "hood",
    "lining",
    "stripe",
    "pattern",
    "kids",
    "women",
    "men",
    "unisex",
    "summer",
    "winter",
    "autumn",
    "spring",
    "limited",
    "edition",
    "handmade",
    "repair",
    "return",
    "exchange",
    "sale",
    "discount",
];

/// Deterministic xorshift so every run indexes the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn order(rng: &mut Rng, i: usize) -> Value {
    let description: Vec<&str> = (0..12).map(|_| rng.pick(WORDS)).collect();
    json!({
        "orderId": format!("order-{i}"),
        "customer": format!("customer-{}", rng.next() % 5_000),
        "status": rng.pick(&["NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]),
        "description": description.join(" "),
        "total": (rng.next() % 100_000) as f64 / 100.0,
        "quantity": rng.next() % 10 + 1,
        "createdAt": format!("2024-{:02}-{:02}T10:00:00Z", rng.next() % 12 + 1, rng.next() % 28 + 1),
    })
}

fn bulk_body(start: usize, n: usize, rng: &mut Rng) -> String {
    let mut body = String::with_capacity(n * 400);
    for i in start..start + n {
        body.push_str(&json!({"index": {"_id": format!("order-{i}")}}).to_string());
        body.push('\n');
        body.push_str(&order(rng, i).to_string());
        body.push('\n');
    }
    body
}

fn create_orders(engine: &Engine) {
    let (status, res) = engine.handle(
        "PUT",
        "/orders",
        &[],
        Some(json!({"mappings": {"properties": {
            "orderId": {"type": "keyword"},
            "customer": {"type": "keyword"},
            "status": {"type": "keyword"},
            "description": {"type": "text"},
            "total": {"type": "double"},
            "quantity": {"type": "integer"},
            "createdAt": {"type": "date"}
        }}})),
    );
    assert_eq!(status, 200, "{res}");
}

fn ingest(engine: &Engine, body: String) {
    let (status, res) = engine.handle("POST", "/orders/_bulk", &[], Some(Value::String(body)));
    assert!(status == 200 && res["errors"] == false, "{res}");
}

fn corpus_engine() -> (Engine, Duration) {
    let engine = Engine::in_memory();
    create_orders(&engine);
    let mut rng = Rng(0x5eed);
    let started = Instant::now();
    for start in (0..CORPUS).step_by(BULK_BATCH) {
        ingest(&engine, bulk_body(start, BULK_BATCH, &mut rng));
    }
    (engine, started.elapsed())
}

/// Query word pairs, cycled so no single posting list stays hot.
fn queries() -> Vec<(&'static str, &'static str)> {
    WORDS
        .iter()
        .zip(WORDS.iter().skip(7))
        .map(|(a, b)| (*a, *b))
        .collect()
}

fn rest_search(engine: &Engine, (a, b): (&str, &str)) -> Value {
    let body = json!({"query": {"match": {"description": format!("{a} {b}")}}, "size": 10});
    let (status, res) = engine.handle("POST", "/orders/_search", &[], Some(body));
    debug_assert_eq!(status, 200);
    res
}

/// The same search straight on tantivy: OR of the analyzed terms, top 10 + count, and the
/// stored documents of the hits loaded (as the REST layer returns `_source`).
fn direct_search(engine: &Engine, (a, b): (&str, &str)) -> usize {
    let generation = engine.index("orders").expect("index").current();
    let field = generation
        .compiled
        .field("description")
        .expect("field")
        .field;
    let subs: Vec<(Occur, Box<dyn Query>)> = [a, b]
        .iter()
        .map(|w| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, w),
                IndexRecordOption::WithFreqs,
            ));
            (Occur::Should, q)
        })
        .collect();
    let query = BooleanQuery::new(subs);
    let searcher = generation.searcher();
    let (top, count) = searcher
        .search(&query, &(TopDocs::with_limit(10).order_by_score(), Count))
        .expect("search");
    for (_, addr) in &top {
        let doc: TantivyDocument = searcher.doc(*addr).expect("doc");
        black_box(doc);
    }
    count
}

fn bench_bulk(c: &mut Criterion) {
    let mut group = c.benchmark_group("opensearch_bulk");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BULK_BATCH as u64));
    group.bench_function("bulk_10k_orders", |b| {
        b.iter_batched(
            || {
                let engine = Engine::in_memory();
                create_orders(&engine);
                (engine, bulk_body(0, BULK_BATCH, &mut Rng(0x5eed)))
            },
            // The engine is returned so its teardown is not timed.
            |(engine, body)| {
                ingest(&engine, body);
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn bench_match(c: &mut Criterion, engine: &Engine) {
    let qs = queries();
    let mut group = c.benchmark_group("opensearch_match_100k");
    let mut i = 0;
    group.bench_function("rest_dsl_handle", |b| {
        b.iter(|| {
            i += 1;
            black_box(rest_search(engine, qs[i % qs.len()]))
        })
    });
    let mut i = 0;
    group.bench_function("direct_tantivy", |b| {
        b.iter(|| {
            i += 1;
            black_box(direct_search(engine, qs[i % qs.len()]))
        })
    });
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50/p99 of both paths, interleaved in one run so machine noise hits both alike.
fn latency_report(engine: &Engine) {
    let qs = queries();
    let rounds = 2_000;
    let (mut rest, mut direct) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for i in 0..rounds {
        let q = qs[i % qs.len()];
        let t = Instant::now();
        black_box(rest_search(engine, q));
        rest.push(t.elapsed());
        let t = Instant::now();
        black_box(direct_search(engine, q));
        direct.push(t.elapsed());
    }
    rest.sort();
    direct.sort();
    let total = |v: &[Duration]| v.iter().sum::<Duration>().as_secs_f64();
    println!(
        "match on {CORPUS} orders, {rounds} queries: REST/DSL p50 {:?} p99 {:?}; direct tantivy p50 {:?} p99 {:?}; overhead ratio (total time) {:.2}x",
        percentile(&rest, 0.5),
        percentile(&rest, 0.99),
        percentile(&direct, 0.5),
        percentile(&direct, 0.99),
        total(&rest) / total(&direct),
    );
}

/// Single-document writes pay a commit and a reader reload each (read-your-writes).
fn single_write_report(engine: &Engine) {
    let mut rng = Rng(0xfeed);
    let rounds = 200;
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let doc = order(&mut rng, CORPUS + i);
        let t = Instant::now();
        let (status, _) = engine.handle("PUT", &format!("/orders/_doc/extra-{i}"), &[], Some(doc));
        times.push(t.elapsed());
        assert_eq!(status, 201);
    }
    times.sort();
    println!(
        "single-document PUT (commit + reload each) on the {CORPUS}-doc index: p50 {:?} p99 {:?}",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    bench_bulk(&mut c);
    let (engine, build) = corpus_engine();
    println!(
        "built {CORPUS} order documents in {:.2?} ({:.0} docs/s through _bulk)",
        build,
        CORPUS as f64 / build.as_secs_f64()
    );
    bench_match(&mut c, &engine);
    latency_report(&engine);
    single_write_report(&engine);
    c.final_summary();
}
