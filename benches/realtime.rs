//! The subscription hub's fan-out, in process, without sockets: the cost of
//! delivering one publication as the number of subscriptions and the
//! number that match change. Argument filtering should cost O(matching):
//! 100 matches out of 100,000 subscriptions about what 100 out of 1,000
//! cost.
//!
//! Run with `cargo bench --bench realtime -- --warm-up-time 1 --measurement-time 3`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use appsync_local::realtime::hub::{Outgoing, RealtimeLimits, SubscriptionPlan};
use appsync_local::realtime::projection::{Projection, SelectedField, Selection, Shape, ShapeKind};
use appsync_local::realtime::{Hub, Publication};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, json};
use tokio::sync::mpsc::Receiver;

/// `onNote { id text }`.
fn projection() -> Arc<Projection> {
    let leaf = |name: &str| SelectedField {
        key: name.into(),
        name: name.into(),
        shape: Some(Shape {
            nullable: true,
            kind: ShapeKind::Leaf("String".into()),
        }),
    };
    Arc::new(Projection {
        key: "onNote".into(),
        parent_type: "Subscription".into(),
        shape: Shape {
            nullable: true,
            kind: ShapeKind::Object(Selection {
                type_name: "Note".into(),
                fields: vec![leaf("id"), leaf("text")],
            }),
        },
    })
}

/// A hub with `subscriptions` on `onNote`, 10 per connection, spread over
/// `buckets` values of the `id` argument (0: no argument, all match).
fn hub(subscriptions: usize, buckets: usize) -> (Arc<Hub>, Vec<Receiver<Outgoing>>) {
    let hub = Arc::new(Hub::new(RealtimeLimits {
        queue_capacity: 64,
        ..RealtimeLimits::default()
    }));
    let mut receivers = Vec::new();
    let mut connection = None;
    for n in 0..subscriptions {
        if n % 10 == 0 {
            let (c, r) = hub.connect();
            connection = Some(c);
            receivers.push(r);
        }
        let mut arguments = Map::new();
        if buckets > 0 {
            arguments.insert("id".into(), json!(format!("b{}", n % buckets)));
        }
        let plan = SubscriptionPlan {
            field: "onNote".into(),
            arguments,
            filter: None,
            invalidation_filter: None,
            projection: projection(),
        };
        hub.add(connection.as_ref().unwrap(), &format!("s{n}"), plan)
            .unwrap();
    }
    (hub, receivers)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let mut group = c.benchmark_group("fan_out");
    let publication = Publication::Result {
        subscription_field: "onNote".into(),
        result: Arc::new(json!({"id": "b7", "text": "hello", "owner": "ann"})),
    };
    for (name, subscriptions, buckets) in [
        ("1000_subscriptions_all_match", 1_000, 0),
        ("10000_subscriptions_all_match", 10_000, 0),
        ("1000_subscriptions_100_match", 1_000, 10),
        ("10000_subscriptions_100_match", 10_000, 100),
        ("100000_subscriptions_100_match", 100_000, 1_000),
    ] {
        let (hub, mut receivers) = hub(subscriptions, buckets);
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    hub.deliver(&publication);
                    spent += started.elapsed();
                    // Empty the queues, as connections would, untimed.
                    for receiver in &mut receivers {
                        while receiver.try_recv().is_ok() {}
                    }
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
