//! A project made of what Amplify's GraphQL transformer (Gen 1, `@model`)
//! generates, served as it is: pipeline resolvers of init, auth, postAuth
//! and data functions, `@default`, `@index`, `@hasMany`/`@belongsTo`.
//! `tests/projects/amplify` is written by `scripts/amplify-fixture`; its
//! input schema is `scripts/amplify-fixture/schema.graphql`.

use appsync_local::testing::TestServer;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};

const PROJECT: &str = "tests/projects/amplify";

/// Fields Amplify adds to every `@model` type beside the declared ones.
const TODO_FIELDS: &str = "id name description priority status createdAt updatedAt __typename";

async fn start() -> TestServer {
    TestServer::builder(PROJECT)
        .seed(false)
        .start()
        .await
        .unwrap_or_else(|e| panic!("the Amplify project must load:\n{e}"))
}

async fn graphql(server: &TestServer, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(server.graphql_url())
        .header("x-api-key", server.api_key().expect("an API key"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON body")
}

/// The `data` of a response that must have no errors.
async fn data(server: &TestServer, query: &str, variables: Value) -> Value {
    let res = graphql(server, query, variables).await;
    assert!(res.get("errors").is_none(), "{query}\n{res:#}");
    res["data"].clone()
}

/// An item as stored, read through the DynamoDB API.
async fn stored(server: &TestServer, table: &str, id: &str) -> Value {
    let res: Value = reqwest::Client::new()
        .post(server.dynamodb_url())
        .header("x-amz-target", "DynamoDB_20120810.GetItem")
        .header("content-type", "application/x-amz-json-1.0")
        .json(&json!({"TableName": table, "Key": {"id": {"S": id}}}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON body");
    res.get("Item").cloned().unwrap_or(Value::Null)
}

/// An `AWSDateTime` Amplify wrote with `$util.time.nowISO8601()`: UTC with
/// milliseconds, taken between `before` and `after`.
fn assert_timestamp(value: &Value, before: DateTime<Utc>, after: DateTime<Utc>) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a string: {value}"));
    assert!(
        text.len() == 24 && text.ends_with('Z'),
        "{text}: yyyy-MM-ddTHH:mm:ss.SSSZ"
    );
    let at = DateTime::parse_from_rfc3339(text).expect("RFC 3339");
    assert!(
        before.trunc_subsecs(3) <= at && at <= after,
        "{text} not between {before} and {after}"
    );
}

#[tokio::test]
async fn create_get_list_update_delete() {
    let server = start().await;

    // Without `priority`: Amplify's init functions set the id and both
    // timestamps, and `@default` sets the priority, in the arguments the
    // data function reads.
    let before = Utc::now();
    let created = data(
        &server,
        &format!("mutation {{ createTodo(input: {{name: \"first\"}}) {{ {TODO_FIELDS} }} }}"),
        json!({}),
    )
    .await["createTodo"]
        .clone();
    let after = Utc::now();
    let id = created["id"].as_str().expect("an id").to_owned();
    let uuid = uuid::Uuid::parse_str(&id).expect("$util.autoId() is a UUID");
    assert_eq!(uuid.get_version_num(), 4);
    assert_timestamp(&created["createdAt"], before, after);
    assert_eq!(created["updatedAt"], created["createdAt"]);
    assert_eq!(
        created,
        json!({"id": id, "name": "first", "description": null, "priority": 1, "status": null,
               "createdAt": created["createdAt"], "updatedAt": created["createdAt"],
               "__typename": "Todo"})
    );
    // The item as stored: `__typename` is an attribute, the null index
    // field is left out, and there is no `_version` (no conflict detection).
    assert_eq!(
        stored(&server, "Todo", &id).await,
        json!({"id": {"S": id}, "name": {"S": "first"}, "priority": {"N": "1"},
               "__typename": {"S": "Todo"},
               "createdAt": {"S": created["createdAt"]}, "updatedAt": {"S": created["createdAt"]}})
    );

    // With `priority` and a client-chosen id.
    let res = data(
        &server,
        "mutation($input: CreateTodoInput!) { createTodo(input: $input) { id priority status } }",
        json!({"input": {"id": "t2", "name": "second", "description": "the other one",
                         "priority": 5, "status": "open"}}),
    )
    .await;
    assert_eq!(
        res,
        json!({"createTodo": {"id": "t2", "priority": 5, "status": "open"}})
    );

    // Creating an id that exists fails the generated attribute_not_exists condition.
    let res = graphql(
        &server,
        "mutation { createTodo(input: {id: \"t2\", name: \"again\"}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(res["data"], json!({"createTodo": null}), "{res}");
    assert_eq!(
        res["errors"][0]["errorType"], "DynamoDB:ConditionalCheckFailedException",
        "{res}"
    );

    // get (a Query on the key), and a get of nothing: `$util.toJson(null)`.
    let res = data(
        &server,
        "{ getTodo(id: \"t2\") { id name description priority status __typename } missing: getTodo(id: \"nope\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        res,
        json!({"getTodo": {"id": "t2", "name": "second", "description": "the other one",
                           "priority": 5, "status": "open", "__typename": "Todo"},
               "missing": null})
    );

    // list with a filter: a Scan with the filter Amplify's
    // `$util.transform.toDynamoDBFilterExpression` builds.
    let res = data(
        &server,
        "{ listTodos(filter: {priority: {gt: 2}, name: {beginsWith: \"sec\"}}) { items { id priority } nextToken } }",
        json!({}),
    )
    .await;
    assert_eq!(
        res,
        json!({"listTodos": {"items": [{"id": "t2", "priority": 5}], "nextToken": null}})
    );
    let res = data(
        &server,
        "{ listTodos(filter: {or: [{priority: {eq: 1}}, {status: {eq: \"open\"}}]}) { items { id } } }",
        json!({}),
    )
    .await;
    let mut ids: Vec<&str> = res["listTodos"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    ids.sort();
    let mut expected = vec![id.as_str(), "t2"];
    expected.sort();
    assert_eq!(ids, expected);

    // update with a condition that holds: the init function sets updatedAt.
    let before = Utc::now();
    let updated = data(
        &server,
        "mutation { updateTodo(input: {id: \"t2\", name: \"renamed\", description: null}, condition: {priority: {eq: 5}}) { id name description priority createdAt updatedAt } }",
        json!({}),
    )
    .await["updateTodo"]
        .clone();
    let after = Utc::now();
    assert_timestamp(&updated["updatedAt"], before, after);
    assert_eq!(
        updated,
        json!({"id": "t2", "name": "renamed", "description": null, "priority": 5,
               "createdAt": updated["createdAt"], "updatedAt": updated["updatedAt"]})
    );
    // `description: null` removed the attribute.
    assert!(
        stored(&server, "Todo", "t2")
            .await
            .get("description")
            .is_none()
    );

    // update with a condition that fails: an error, and nothing changes.
    let res = graphql(
        &server,
        "mutation { updateTodo(input: {id: \"t2\", name: \"never\"}, condition: {priority: {eq: 7}}) { id name } }",
        json!({}),
    )
    .await;
    assert_eq!(res["data"], json!({"updateTodo": null}), "{res}");
    assert_eq!(
        res["errors"][0]["errorType"], "DynamoDB:ConditionalCheckFailedException",
        "{res}"
    );
    assert_eq!(
        stored(&server, "Todo", "t2").await["name"],
        json!({"S": "renamed"})
    );

    // delete with a failing condition, then without one.
    let res = graphql(
        &server,
        "mutation { deleteTodo(input: {id: \"t2\"}, condition: {status: {eq: \"done\"}}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        res["errors"][0]["errorType"], "DynamoDB:ConditionalCheckFailedException",
        "{res}"
    );
    let res = data(
        &server,
        "mutation { deleteTodo(input: {id: \"t2\"}) { id name priority } }",
        json!({}),
    )
    .await;
    assert_eq!(
        res,
        json!({"deleteTodo": {"id": "t2", "name": "renamed", "priority": 5}})
    );
    let res = data(&server, "{ getTodo(id: \"t2\") { id } }", json!({})).await;
    assert_eq!(res, json!({"getTodo": null}));
    assert_eq!(stored(&server, "Todo", "t2").await, Value::Null);
}

#[tokio::test]
async fn update_keeps_created_at_and_moves_updated_at() {
    let server = start().await;
    let old = "2020-01-01T00:00:00.000Z";
    server
        .load_fixture(
            &json!({"Todo": [{"id": "old", "name": "from 2020", "priority": 3,
                              "__typename": "Todo", "createdAt": old, "updatedAt": old}]})
            .to_string(),
        )
        .await
        .expect("fixture");
    let before = Utc::now();
    let res = data(
        &server,
        "mutation { updateTodo(input: {id: \"old\", priority: 4}) { priority createdAt updatedAt } }",
        json!({}),
    )
    .await;
    let after = Utc::now();
    assert_eq!(res["updateTodo"]["priority"], 4);
    assert_eq!(res["updateTodo"]["createdAt"], old);
    assert_timestamp(&res["updateTodo"]["updatedAt"], before, after);
}

#[tokio::test]
async fn index_query_and_relations() {
    let server = start().await;
    for (id, name, status) in [
        ("a", "beta", "open"),
        ("b", "alpha", "open"),
        ("c", "gamma", "done"),
    ] {
        data(
            &server,
            "mutation($input: CreateTodoInput!) { createTodo(input: $input) { id } }",
            json!({"input": {"id": id, "name": name, "status": status}}),
        )
        .await;
    }

    // `@index(name: "byStatus", sortKeyFields: ["name"])`: a Query on the GSI,
    // sorted by name, with a key condition on the sort key.
    let res = data(
        &server,
        "{ todosByStatus(status: \"open\") { items { id name } } desc: todosByStatus(status: \"open\", sortDirection: DESC, name: {beginsWith: \"b\"}) { items { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        res,
        json!({"todosByStatus": {"items": [{"id": "b", "name": "alpha"}, {"id": "a", "name": "beta"}]},
               "desc": {"items": [{"id": "a"}]}})
    );

    // `@hasMany` / `@belongsTo`: notes point at their todo through
    // `todoNotesId` and the generated `gsi-Todo.notes` index.
    for (id, content, todo) in [
        ("n1", "buy milk", Some("a")),
        ("n2", "and bread", Some("a")),
        ("n3", "loose", None),
    ] {
        let res = data(
            &server,
            "mutation($input: CreateNoteInput!) { createNote(input: $input) { id todo { id name } } }",
            // A note without a todo leaves `todoNotesId` out: an explicit null
            // would be a NULL key of the generated GSI, which DynamoDB refuses.
            json!({"input": match todo {
                Some(t) => json!({"id": id, "content": content, "todoNotesId": t}),
                None => json!({"id": id, "content": content}),
            }}),
        )
        .await;
        let expected = todo.map(|t| json!({"id": t, "name": "beta"}));
        assert_eq!(res, json!({"createNote": {"id": id, "todo": expected}}));
    }
    let res = data(
        &server,
        "{ getTodo(id: \"a\") { notes { items { id content } nextToken } } empty: getTodo(id: \"b\") { notes { items { id } } } }",
        json!({}),
    )
    .await;
    let mut notes = res["getTodo"]["notes"]["items"]
        .as_array()
        .expect("notes")
        .clone();
    notes.sort_by_key(|n| n["id"].as_str().map(str::to_owned));
    assert_eq!(
        notes,
        vec![
            json!({"id": "n1", "content": "buy milk"}),
            json!({"id": "n2", "content": "and bread"})
        ]
    );
    assert_eq!(res["getTodo"]["notes"]["nextToken"], Value::Null);
    assert_eq!(res["empty"], json!({"notes": {"items": []}}));
    let res = data(
        &server,
        "{ getNote(id: \"n3\") { content todo { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(res, json!({"getNote": {"content": "loose", "todo": null}}));
}
