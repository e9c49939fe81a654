//! AppSync's real-time protocol end to end: a WebSocket client against the
//! server on a loopback port, mutations over HTTP, and the messages each
//! subscriber gets (`tests/projects/realtime`).

mod common;

use std::time::Duration;

use appsync_local::realtime::RealtimeLimits;
use appsync_local::testing::TestServer;
use common::ws::{Auth, Ws, api_key_header, token_header};
use common::{Client, project, start_with, wait_until};
use serde_json::{Value as Json, json};

const KEY: &str = "da2-realtime";

async fn server() -> Client {
    start_with(TestServer::builder(project("realtime"))).await
}

async fn server_with(limits: RealtimeLimits) -> Client {
    start_with(TestServer::builder(project("realtime")).realtime(limits)).await
}

const PUT: &str = "mutation Put($id: ID!, $text: String, $owner: String, $price: Float, $tags: [String], $priority: Int, $meta: MetaInput) {
  putNote(id: $id, text: $text, owner: $owner, price: $price, tags: $tags, priority: $priority, meta: $meta) {
    id text owner price tags priority meta { level region }
  }
}";

async fn put(client: &Client, note: Json) -> Json {
    client.data(PUT, note).await
}

fn key(client: &Client) -> Json {
    api_key_header(client, KEY)
}

const ON_NOTE: &str = "subscription On($id: ID, $owner: String, $price: Float) { onNote(id: $id, owner: $owner, price: $price) { id text } }";

#[tokio::test]
async fn a_subscriber_gets_matching_mutations_until_it_stops() {
    let client = server().await;
    let mut ws = Ws::connect(&client.realtime_url(), Auth::Query(key(&client))).await;
    assert_eq!(ws.protocol.as_deref(), Some("graphql-ws"));
    let ack = ws.init().await;
    assert_eq!(
        ack,
        json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}})
    );
    let auth = key(&client);
    ws.subscribe("one", ON_NOTE, json!({"id": "n1"}), &auth)
        .await;
    ws.subscribe("all", ON_NOTE, json!({}), &auth).await;

    put(
        &client,
        json!({"id": "n1", "text": "first", "owner": "ann"}),
    )
    .await;
    put(&client, json!({"id": "n2", "text": "second"})).await;
    put(&client, json!({"id": "n1", "text": "third"})).await;

    // Per subscription, messages keep the mutations' order; across the two
    // they interleave.
    let mut one = Vec::new();
    let mut all = Vec::new();
    while one.len() < 2 || all.len() < 3 {
        let message = ws.recv().await;
        assert_eq!(message["type"], "data", "{message}");
        let note = message["payload"]["data"]["onNote"].clone();
        match message["id"].as_str() {
            Some("one") => one.push(note),
            Some("all") => all.push(note),
            other => panic!("unexpected id {other:?}"),
        }
    }
    // The subscriber's selection, not the mutation's: no `owner`.
    assert_eq!(
        one,
        vec![
            json!({"id": "n1", "text": "first"}),
            json!({"id": "n1", "text": "third"})
        ]
    );
    assert_eq!(all[1], json!({"id": "n2", "text": "second"}));

    ws.send(json!({"type": "stop", "id": "one"})).await;
    assert_eq!(ws.recv().await, json!({"type": "complete", "id": "one"}));
    put(&client, json!({"id": "n1", "text": "after stop"})).await;
    let next = ws.data("all").await;
    assert_eq!(next["data"]["onNote"]["text"], "after stop");
    assert_eq!(client.realtime().subscription_count(), 1);
}

#[tokio::test]
async fn every_credential_style_connects_and_bad_ones_get_connection_error() {
    let client = server().await;
    let url = client.realtime_url();
    let styles = [
        Auth::Query(key(&client)),
        Auth::Subprotocol(key(&client)),
        Auth::Headers(&[("x-api-key", KEY)]),
    ];
    for style in styles {
        let mut ws = Ws::connect(&url, style).await;
        ws.init().await;
        // A `start` without its own authorization uses the connection's.
        ws.send(json!({"id": "s", "type": "start", "payload": {"data": json!({"query": ON_NOTE}).to_string()}}))
            .await;
        assert_eq!(ws.recv().await, json!({"type": "start_ack", "id": "s"}));
    }
    // Clients that derive the URL from the HTTP endpoint reach /graphql.
    let plain = format!("ws://{}/graphql", client.address());
    let mut ws = Ws::connect(&plain, Auth::Subprotocol(key(&client))).await;
    ws.init().await;

    let mut refused = Ws::connect(&url, Auth::Query(api_key_header(&client, "da2-wrong"))).await;
    let closing = refused.until_closed().await;
    assert_eq!(
        closing,
        vec![json!({"type": "connection_error", "payload": {"errors": [{
            "errorType": "UnauthorizedException",
            "message": "You are not authorized to make this call.",
            "errorCode": 401
        }]}})]
    );
    wait_until("the refused connection is counted", async || {
        client
            .sample("appsync_realtime_connections_closed_total{reason=\"unauthorized\"}")
            .await
            == Some(1.0)
    })
    .await;
}

#[tokio::test]
async fn start_errors_have_appsyncs_shapes() {
    let client = server_with(RealtimeLimits {
        max_subscriptions_per_connection: 2,
        ..RealtimeLimits::default()
    })
    .await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);

    let invalid = ws
        .start("bad", "subscription { onNote { nope } }", json!({}), &auth)
        .await;
    assert_eq!(
        invalid,
        json!({"type": "error", "id": "bad", "payload": {"errors": [{
            "message": "Validation error of type FieldUndefined: Field 'nope' in type 'Note' is undefined @ 'onNote/nope'"
        }]}})
    );
    let query = ws
        .start("q", "query { note(id: \"1\") { id } }", json!({}), &auth)
        .await;
    assert_eq!(
        query,
        json!({"type": "error", "id": "q", "payload": {"errors": [{
            "errorType": "UnsupportedOperation",
            "message": "query not supported through the realtime channel"
        }]}})
    );
    ws.send(json!({"type": "subscribe", "id": "x"})).await;
    assert_eq!(
        ws.recv().await,
        json!({"type": "error", "payload": {"errors": [{
            "errorType": "UnsupportedOperation",
            "message": "unknown not supported through the realtime channel"
        }]}})
    );
    ws.send_text("not json".into()).await;
    assert_eq!(
        ws.recv().await["payload"]["errors"][0]["errorType"],
        "UnsupportedOperation"
    );

    let wrong_key = api_key_header(&client, "da2-wrong");
    let unauthorized = ws.start("k", ON_NOTE, json!({}), &wrong_key).await;
    assert_eq!(
        unauthorized,
        json!({"type": "error", "id": "k", "payload": {"errors": [{
            "errorType": "UnauthorizedException",
            "message": "You are not authorized to make this call."
        }]}})
    );

    ws.subscribe("a", ON_NOTE, json!({}), &auth).await;
    let duplicate = ws.start("a", ON_NOTE, json!({}), &auth).await;
    assert_eq!(
        duplicate,
        json!({"type": "error", "id": "a", "payload": {"errors": [{
            "errorType": "DuplicatedOperationError",
            "message": "Duplicated operation with id a"
        }]}})
    );
    ws.subscribe("b", ON_NOTE, json!({}), &auth).await;
    let third = ws.start("c", ON_NOTE, json!({}), &auth).await;
    // AppSync sends this one's `errors` as an object.
    assert_eq!(
        third,
        json!({"type": "error", "id": "c", "payload": {"errors": {
            "errorType": "MaxSubscriptionsReachedError",
            "message": "Max number of 2 subscriptions reached"
        }}})
    );
}

#[tokio::test]
async fn subscription_resolvers_and_directives_authorize_at_start() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    let refused = ws
        .start("r", "subscription { onRefused { id } }", json!({}), &auth)
        .await;
    assert_eq!(
        refused,
        json!({"type": "error", "id": "r", "payload": {"errors": [{
            "errorType": "Unauthorized",
            "message": "Not Authorized to access onRefused on type Subscription"
        }]}})
    );
    // `onMine` is for Cognito users only.
    let mine = ws
        .start("m", "subscription { onMine { id } }", json!({}), &auth)
        .await;
    assert_eq!(
        mine["payload"]["errors"][0],
        json!({"errorType": "Unauthorized", "message": "Not Authorized to access onMine on type Subscription"})
    );
    let alice = client.as_user("alice").cognito();
    ws.subscribe(
        "m",
        "subscription { onMine { id owner } }",
        json!({}),
        &token_header(&client, &alice.token()),
    )
    .await;
    ws.subscribe("all", ON_NOTE, json!({}), &auth).await;
    // The JS resolver's filter: owner = sub AND (priority > 0 OR tags ∋ urgent).
    let notes = [
        json!({"id": "1", "owner": "alice", "priority": 1}),
        json!({"id": "2", "owner": "alice", "priority": 0, "tags": ["urgent"]}),
        json!({"id": "3", "owner": "alice", "priority": 0}),
        json!({"id": "4", "owner": "bob", "priority": 5}),
        json!({"id": "5"}),
    ];
    for note in notes {
        put(&client, note).await;
    }
    let mut mine = Vec::new();
    let mut all = 0;
    while all < 5 {
        let message = ws.recv().await;
        match message["id"].as_str() {
            Some("m") => mine.push(message["payload"]["data"]["onMine"]["id"].clone()),
            Some("all") => all += 1,
            _ => panic!("{message}"),
        }
    }
    assert_eq!(mine, vec![json!("1"), json!("2")]);
}

#[tokio::test]
async fn arguments_filter_by_value_and_null_matches_absent() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    ws.subscribe("price", ON_NOTE, json!({"price": 10}), &auth)
        .await;
    ws.subscribe("nobody", ON_NOTE, json!({"owner": null}), &auth)
        .await;
    ws.subscribe(
        "ann",
        ON_NOTE,
        json!({"owner": "ann", "price": 10.0}),
        &auth,
    )
    .await;
    ws.subscribe("last", ON_NOTE, json!({"id": "last"}), &auth)
        .await;
    put(&client, json!({"id": "a", "price": 10.0, "owner": "ann"})).await;
    put(&client, json!({"id": "b", "price": 11})).await;
    put(&client, json!({"id": "c", "price": 10})).await;
    put(&client, json!({"id": "last"})).await;
    let mut got: Vec<(String, String)> = Vec::new();
    loop {
        let message = ws.recv().await;
        let id = message["id"].as_str().unwrap().to_owned();
        let note = message["payload"]["data"]["onNote"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if id == "last" {
            break;
        }
        got.push((id, note));
    }
    got.sort();
    let expected: Vec<(String, String)> = [
        ("ann", "a"),
        ("nobody", "b"),
        ("nobody", "c"),
        ("nobody", "last"),
        ("price", "a"),
        ("price", "c"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    // "nobody" gets "last" only if it came before the "last" subscription's
    // own message; drop it either way.
    got.retain(|(sub, note)| !(sub == "nobody" && note == "last"));
    let expected: Vec<_> = expected
        .into_iter()
        .filter(|(sub, note)| !(sub == "nobody" && note == "last"))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn fields_the_mutation_did_not_select_are_null_or_errors() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    ws.subscribe(
        "s",
        "subscription { onNote { text kind: __typename price meta { level } } }",
        json!({}),
        &auth,
    )
    .await;
    ws.subscribe(
        "strict",
        "subscription { onNote { id text } }",
        json!({}),
        &auth,
    )
    .await;
    client
        .data(
            "mutation { putNote(id: \"x\", text: \"t\", price: 2.5) { text } }",
            json!({}),
        )
        .await;
    let mut payloads = std::collections::BTreeMap::new();
    for _ in 0..2 {
        let message = ws.recv().await;
        payloads.insert(
            message["id"].as_str().unwrap().to_owned(),
            message["payload"].clone(),
        );
    }
    assert_eq!(
        payloads["s"],
        json!({"data": {"onNote": {"text": "t", "kind": "Note", "price": null, "meta": null}}})
    );
    assert_eq!(
        payloads["strict"],
        json!({"data": {"onNote": null}, "errors": [{
            "message": "Cannot return null for non-nullable type: 'ID' within parent 'Note' (/onNote/id)",
            "path": ["onNote", "id"]
        }]})
    );
}

#[tokio::test]
async fn failed_mutations_publish_nothing() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    ws.subscribe("s", ON_NOTE, json!({}), &auth).await;
    let failed = client
        .graphql("mutation { failNote(id: \"f\") { id } }", json!({}))
        .await;
    assert_eq!(failed["errors"][0]["errorType"], "NoteError");
    put(&client, json!({"id": "ok"})).await;
    assert_eq!(ws.data("s").await["data"]["onNote"]["id"], "ok");
}

/// One enhanced filter per case, each on its own subscription; the notes
/// below are published once and every subscription must get exactly its
/// matches.
#[tokio::test]
async fn every_filter_operator_selects_its_notes() {
    let notes = [
        json!({"id": "a", "text": "hello world", "price": 10, "tags": ["x", "y"], "priority": 1, "meta": {"level": 3, "region": "eu"}}),
        json!({"id": "b", "text": "goodbye", "price": 20.5, "tags": ["z"], "priority": 2, "meta": {"level": 7}}),
        json!({"id": "c", "text": "help", "price": 5, "priority": 3}),
    ];
    let f = |field: &str, op: &str, value: Json| json!({"filterGroup": [{"filters": [{"fieldName": field, "operator": op, "value": value}]}]});
    let cases: Vec<(&str, Json, Vec<&str>)> = vec![
        ("eq", f("price", "eq", json!(10)), vec!["a"]),
        ("ne", f("price", "ne", json!(10)), vec!["b", "c"]),
        ("lt", f("price", "lt", json!(10)), vec!["c"]),
        ("le", f("price", "le", json!(10)), vec!["a", "c"]),
        ("gt", f("price", "gt", json!(10)), vec!["b"]),
        ("ge", f("price", "ge", json!(10)), vec!["a", "b"]),
        (
            "contains-text",
            f("text", "contains", json!("hel")),
            vec!["a", "c"],
        ),
        (
            "contains-list",
            f("tags", "contains", json!("y")),
            vec!["a"],
        ),
        (
            "notContains",
            f("text", "notContains", json!("o")),
            vec!["c"],
        ),
        (
            "beginsWith",
            f("text", "beginsWith", json!("good")),
            vec!["b"],
        ),
        ("in", f("priority", "in", json!([1, 3])), vec!["a", "c"]),
        ("notIn", f("priority", "notIn", json!([1, 3])), vec!["b"]),
        (
            "between",
            f("price", "between", json!([5, 10])),
            vec!["a", "c"],
        ),
        (
            "containsAny",
            f("tags", "containsAny", json!(["z", "q"])),
            vec!["b"],
        ),
        ("nested", f("meta.level", "gt", json!(5)), vec!["b"]),
        (
            "and",
            json!({"filterGroup": [{"filters": [
                {"fieldName": "price", "operator": "ge", "value": 5},
                {"fieldName": "priority", "operator": "ne", "value": 1}
            ]}]}),
            vec!["b", "c"],
        ),
        (
            "or",
            json!({"filterGroup": [
                {"filters": [{"fieldName": "meta.region", "operator": "eq", "value": "eu"}]},
                {"filters": [{"fieldName": "price", "operator": "lt", "value": 6}]}
            ]}),
            vec!["a", "c"],
        ),
    ];
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    let query = "subscription F($filter: AWSJSON!) { onFiltered(filter: $filter) { id } }";
    for (name, filter, _) in &cases {
        ws.subscribe(name, query, json!({"filter": filter.to_string()}), &auth)
            .await;
    }
    ws.subscribe("end", ON_NOTE, json!({"id": "end"}), &auth)
        .await;
    for note in notes {
        put(&client, note).await;
    }
    put(&client, json!({"id": "end"})).await;
    let mut got: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    loop {
        let message = ws.recv().await;
        let sub = message["id"].as_str().unwrap().to_owned();
        if sub == "end" {
            break;
        }
        let note = message["payload"]["data"]["onFiltered"]["id"]
            .as_str()
            .unwrap();
        // The last note may match some filters too, before or after "end".
        if note != "end" {
            got.entry(sub).or_default().push(note.to_owned());
        }
    }
    for (name, _, expected) in &cases {
        let actual: Vec<&str> = got
            .get(*name)
            .map_or(vec![], |v| v.iter().map(String::as_str).collect());
        assert_eq!(&actual, expected, "filter case {name}");
    }
    let filtered_out = client
        .sample("appsync_realtime_filtered_out_total")
        .await
        .unwrap();
    assert!(filtered_out > 0.0);
}

#[tokio::test]
async fn filters_over_appsyncs_limits_are_refused() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    let query = "subscription F($filter: AWSJSON!) { onFiltered(filter: $filter) { id } }";
    let too_many_in = json!({"filterGroup": [{"filters": [
        {"fieldName": "priority", "operator": "in", "value": [1, 2, 3, 4, 5, 6]}
    ]}]});
    let answer = ws
        .start(
            "in",
            query,
            json!({"filter": too_many_in.to_string()}),
            &auth,
        )
        .await;
    assert_eq!(
        answer,
        json!({"type": "error", "id": "in", "payload": {"errors": [{
            "message": "subscription exceeds maximum value limit 5 for operator `in`.",
            "errorCode": 400
        }]}})
    );
    let fields: Vec<Json> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|name| json!({"fieldName": name, "operator": "eq", "value": 1}))
        .collect();
    let too_many_fields = json!({"filterGroup": [{"filters": fields}]});
    let answer = ws
        .start(
            "fields",
            query,
            json!({"filter": too_many_fields.to_string()}),
            &auth,
        )
        .await;
    assert_eq!(
        answer["payload"]["errors"][0]["message"],
        "Filters exceed maximum attributes limit 5 for subscription"
    );
}

#[tokio::test]
async fn invalidation_ends_matching_subscriptions_and_their_connections() {
    let client = server().await;
    let auth = key(&client);
    let closable = "subscription C($owner: String!) { onClosable(owner: $owner) { id } }";
    let mut ann = Ws::open(&client, KEY).await;
    ann.subscribe("c", closable, json!({"owner": "ann"}), &auth)
        .await;
    let mut bob = Ws::open(&client, KEY).await;
    bob.subscribe("c", closable, json!({"owner": "bob"}), &auth)
        .await;

    let closed = client
        .data("mutation { closeNotes(owner: \"ann\") }", json!({}))
        .await;
    assert_eq!(closed, json!({"closeNotes": true}));
    assert_eq!(
        ann.until_closed().await,
        vec![
            json!({"type": "complete", "id": "c", "payload": {"message": "Subscription complete."}})
        ]
    );
    put(&client, json!({"id": "still", "owner": "bob"})).await;
    assert_eq!(bob.data("c").await["data"]["onClosable"]["id"], "still");

    let too_many = client.graphql("mutation { closeTooMany }", json!({})).await;
    assert!(
        too_many["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 5"),
        "{too_many}"
    );
}

#[tokio::test]
async fn keep_alives_arrive_and_connections_end_at_the_maximum_duration() {
    let client = server_with(RealtimeLimits {
        keep_alive: Duration::from_millis(20),
        max_connection_duration: Duration::from_millis(400),
        connection_timeout: Duration::from_millis(1234),
        ..RealtimeLimits::default()
    })
    .await;
    let mut ws = Ws::connect(&client.realtime_url(), Auth::Query(key(&client))).await;
    let ack = ws.init().await;
    assert_eq!(ack["payload"]["connectionTimeoutMs"], 1234);
    assert_eq!(ws.recv_any().await, json!({"type": "ka"}));
    ws.until_closed().await;
    wait_until("the connection is counted as expired", async || {
        client
            .sample("appsync_realtime_connections_closed_total{reason=\"max_duration\"}")
            .await
            == Some(1.0)
    })
    .await;
    assert_eq!(client.realtime().connection_count(), 0);
}

#[tokio::test]
async fn messages_over_the_size_limit_are_refused() {
    let client = server_with(RealtimeLimits {
        max_message_bytes: 1024,
        ..RealtimeLimits::default()
    })
    .await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    let long = format!("subscription {{ onNote {{ id {} }} }}", "text ".repeat(300));
    let answer = ws.start("big", &long, json!({}), &auth).await;
    assert_eq!(
        answer["payload"]["errors"][0]["errorType"],
        "LimitExceededError"
    );
    // Published messages over the limit are dropped silently, as AppSync does.
    ws.subscribe("s", "subscription { onNote { text } }", json!({}), &auth)
        .await;
    ws.subscribe("end", ON_NOTE, json!({"id": "end"}), &auth)
        .await;
    put(&client, json!({"id": "huge", "text": "x".repeat(2000)})).await;
    put(&client, json!({"id": "end", "text": "small"})).await;
    // Both messages come from the last mutation: the huge one never came.
    let mut texts = Vec::new();
    for _ in 0..2 {
        let message = ws.recv().await;
        texts.push(message["payload"]["data"]["onNote"]["text"].clone());
    }
    assert_eq!(texts, vec![json!("small"), json!("small")]);
    assert_eq!(
        client
            .sample("appsync_realtime_dropped_too_large_total")
            .await,
        Some(1.0)
    );
}

/// A reader that never reads fills its queue and is closed; the other
/// subscriber gets every message and every mutation answers.
#[tokio::test]
async fn a_slow_reader_is_closed_without_disturbing_others() {
    let client = server_with(RealtimeLimits {
        queue_capacity: 4,
        ..RealtimeLimits::default()
    })
    .await;
    let auth = key(&client);
    let query = "subscription { onNote { id text } }";
    let mut slow = Ws::open(&client, KEY).await;
    slow.subscribe("s", query, json!({}), &auth).await;
    let mut reader = Ws::open(&client, KEY).await;
    reader.subscribe("r", query, json!({}), &auth).await;

    // Large messages, until the slow socket's buffers are full and its
    // queue overflows (how many that takes depends on the machine's TCP
    // buffers); the reader takes each as it comes.
    let text = "y".repeat(200 * 1024);
    let (sent_tx, mut sent_rx) = tokio::sync::watch::channel(None::<usize>);
    let reading = tokio::spawn(async move {
        let mut ids = Vec::new();
        loop {
            if let Some(total) = *sent_rx.borrow_and_update()
                && ids.len() == total
            {
                return (ids, reader);
            }
            tokio::select! {
                payload = reader.data("r") => {
                    ids.push(payload["data"]["onNote"]["id"].as_str().unwrap().to_owned());
                }
                _ = sent_rx.changed() => {}
            }
        }
    });
    let closed = "appsync_realtime_connections_closed_total{reason=\"slow_consumer\"}";
    let mut sent = 0;
    while client.sample(closed).await != Some(1.0) {
        assert!(
            sent < 2_000,
            "2,000 messages of 200 KiB did not fill a socket"
        );
        put(&client, json!({"id": sent.to_string(), "text": text})).await;
        sent += 1;
    }
    sent_tx.send(Some(sent)).unwrap();
    let (ids, _reader) = reading.await.unwrap();
    let expected: Vec<String> = (0..sent).map(|n| n.to_string()).collect();
    assert_eq!(ids, expected);
    drop(slow);
    assert_eq!(client.realtime().subscription_count(), 1);
}

#[tokio::test]
async fn metrics_count_connections_subscriptions_and_deliveries() {
    let client = server().await;
    let mut ws = Ws::open(&client, KEY).await;
    let auth = key(&client);
    ws.subscribe("a", ON_NOTE, json!({"id": "1"}), &auth).await;
    ws.subscribe("b", ON_NOTE, json!({"id": "2"}), &auth).await;
    assert_eq!(
        client.sample("appsync_realtime_connections").await,
        Some(1.0)
    );
    assert_eq!(
        client.sample("appsync_realtime_subscriptions").await,
        Some(2.0)
    );
    put(&client, json!({"id": "1"})).await;
    ws.data("a").await;
    assert_eq!(
        client.sample("appsync_realtime_published_total").await,
        Some(1.0)
    );
    assert_eq!(
        client.sample("appsync_realtime_delivered_total").await,
        Some(1.0)
    );
    assert_eq!(
        client.sample("appsync_realtime_filtered_out_total").await,
        Some(1.0)
    );
    drop(ws);
    wait_until("the connection is gone", async || {
        client.sample("appsync_realtime_subscriptions").await == Some(0.0)
    })
    .await;
    assert_eq!(
        client
            .sample("appsync_realtime_subscriptions_ended_total{reason=\"disconnect\"}")
            .await,
        Some(2.0)
    );
}

/// A reload (`serve --watch` swaps the service the same way) keeps open
/// connections: subscriptions to a field the new schema lacks get an error
/// and end, the others keep receiving from the new API.
#[tokio::test]
async fn a_reload_keeps_connections_and_ends_subscriptions_to_removed_fields() {
    use std::sync::Arc;

    use appsync_local::graphql::GraphQLService;
    use appsync_local::loader::{LoadOptions, Project};
    use appsync_local::server::{AppState, app};

    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&project("realtime"), dir.path());
    let load = |dir: &std::path::Path| -> Arc<dyn GraphQLService> {
        Arc::new(Project::load_with(dir, &LoadOptions::default()).expect("the project loads"))
    };
    let state = AppState::new(load(dir.path()));
    let cell = state.service.clone();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let header = json!({"host": address.to_string(), "x-api-key": KEY});
    let mut ws = Ws::connect(
        &format!("ws://{address}/graphql/realtime"),
        Auth::Query(header.clone()),
    )
    .await;
    ws.init().await;
    ws.subscribe("note", ON_NOTE, json!({}), &header).await;
    ws.subscribe(
        "closable",
        "subscription { onClosable(owner: \"a\") { id } }",
        json!({}),
        &header,
    )
    .await;

    let schema = dir.path().join("schema.graphql");
    let text = std::fs::read_to_string(&schema).unwrap();
    let field = "  onClosable(owner: String!): Note @aws_subscribe(mutations: [\"putNote\"])\n";
    assert!(text.contains(field));
    std::fs::write(&schema, text.replace(field, "")).unwrap();
    let manifest = dir.path().join("appsync.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("  Subscription.onClosable:\n    dataSource: none\n", ""),
    )
    .unwrap();
    cell.replace(load(dir.path()));

    assert_eq!(
        ws.recv().await,
        json!({"type": "error", "id": "closable", "payload": {"errors": [{
            "errorType": "SubscriptionFieldRemoved",
            "message": "The subscription field 'onClosable' no longer exists in the schema; the subscription was closed."
        }]}})
    );
    let response = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .header("x-api-key", KEY)
        .json(&json!({"query": "mutation { putNote(id: \"after\") { id text } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(ws.data("note").await["data"]["onNote"]["id"], "after");
}

/// `appsync-local subscribe`: the README's way to watch a subscription,
/// with the server's first API key when none is given.
#[tokio::test]
async fn the_subscribe_command_prints_each_message() {
    let client = server().await;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["subscribe", "--url", &client.base_url(), "--count", "2"])
        .args([
            "--query",
            "subscription($id: ID) { onNote(id: $id) { id text } }",
        ])
        .args(["--variables", r#"{"id": "cli"}"#])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary runs");
    wait_until("the command subscribed", async || {
        client.realtime().subscription_count() == 1
    })
    .await;
    put(&client, json!({"id": "other", "text": "skipped"})).await;
    put(&client, json!({"id": "cli", "text": "one"})).await;
    put(&client, json!({"id": "cli", "text": "two"})).await;
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the command exits after two messages")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Json> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"data": {"onNote": {"id": "cli", "text": "one"}}}),
            json!({"data": {"onNote": {"id": "cli", "text": "two"}}}),
        ]
    );
    wait_until("the command unsubscribed", async || {
        client.realtime().subscription_count() == 0
    })
    .await;
}

/// IAM as AppSync's clients do it: the connection's header signs
/// `POST /graphql/connect` with body `{}`, each `start` signs
/// `POST /graphql` with its `data` as the body.
#[tokio::test]
async fn iam_signs_the_connection_and_each_subscription() {
    let client = server().await;
    let host = client.address().to_string();
    let base = [
        ("accept", "application/json, text/javascript"),
        ("content-encoding", "amz-1.0"),
        ("content-type", "application/json; charset=UTF-8"),
        ("host", host.as_str()),
    ];
    let now = std::time::SystemTime::now();
    let as_object = |headers: Vec<(String, String)>| -> Json {
        Json::Object(
            headers
                .into_iter()
                .map(|(k, v)| (k, Json::String(v)))
                .collect(),
        )
    };
    let signer = ("AKIAREALTIMEUSER0001", "realtime-secret", None);
    let connect_url = format!("{}/connect", client.graphql_url());
    let connect = as_object(common::sigv4_headers(
        &connect_url,
        &base,
        "{}",
        signer,
        now,
    ));
    let mut ws = Ws::connect(&client.realtime_url(), Auth::Query(connect)).await;
    ws.init().await;

    let data = json!({"query": "subscription { onSigned { id } }", "variables": {}}).to_string();
    let signed = as_object(common::sigv4_headers(
        &client.graphql_url(),
        &base,
        &data,
        signer,
        now,
    ));
    ws.send(json!({"id": "iam", "type": "start", "payload": {"data": data, "extensions": {"authorization": signed}}}))
        .await;
    assert_eq!(ws.recv().await, json!({"type": "start_ack", "id": "iam"}));
    // The signature covers `data`: another document under it is refused.
    let other = json!({"query": "subscription { onSigned { text } }"}).to_string();
    let reused = as_object(common::sigv4_headers(
        &client.graphql_url(),
        &base,
        &data,
        signer,
        now,
    ));
    ws.send(json!({"id": "x", "type": "start", "payload": {"data": other, "extensions": {"authorization": reused}}}))
        .await;
    assert_eq!(
        ws.recv().await["payload"]["errors"][0]["errorType"],
        "InvalidSignatureException"
    );
    // The field is for IAM only.
    let keyed = ws
        .start(
            "key",
            "subscription { onSigned { id } }",
            json!({}),
            &key(&client),
        )
        .await;
    assert_eq!(keyed["payload"]["errors"][0]["errorType"], "Unauthorized");
    put(&client, json!({"id": "signed"})).await;
    assert_eq!(ws.data("iam").await["data"]["onSigned"]["id"], "signed");

    let forged = ("AKIAREALTIMEUSER0001", "wrong-secret", None);
    let bad = as_object(common::sigv4_headers(
        &connect_url,
        &base,
        "{}",
        forged,
        now,
    ));
    let mut refused = Ws::connect(&client.realtime_url(), Auth::Query(bad)).await;
    let closing = refused.until_closed().await;
    assert_eq!(closing[0]["type"], "connection_error");
    assert_eq!(
        closing[0]["payload"]["errors"][0]["errorType"],
        "InvalidSignatureException"
    );
    assert_eq!(closing[0]["payload"]["errors"][0]["errorCode"], 403);
}
