//! A project made of what Amplify's GraphQL transformer v2 generates for
//! `@auth(rules: [{ allow: owner }, { allow: groups, groups: ["Admin"] }])`
//! under Cognito user pools, served as it is (`tests/projects/amplify_auth`,
//! whose manifest names the model and the transformer's version).
//!
//! What the generated templates do, and so what is asserted here:
//! - the owner is stored as `<sub>::<cognito:username>` (the transformer's
//!   default identity claim), filled in by the create auth function; the
//!   `Post.owner` field resolver returns the part after the last `::`;
//! - a create whose `owner` is not the caller's is `$util.unauthorized()`,
//!   unless the caller is in `Admin`;
//! - `getPost` is a Query on the key with the caller's owner claims as a
//!   filter: an item filtered out (`scannedCount == 1`, no items) is
//!   `$util.unauthorized()`, a missing item is null without an error;
//! - `listPosts` is a Scan with the same filter: other users' posts are
//!   left out, not refused;
//! - update and delete read the item first (a GetItem auth function) and
//!   refuse a caller who neither owns it nor is in `Admin`.

mod common;

use appsync_local::testing::User;
use common::{Client, Raw};
use serde_json::{Value as Json, json};

const PROJECT: &str = "amplify_auth";

const ALICE: &str = "0b6c2a7e-1f4d-4c1a-9a51-a11ce0000001";
const BOB: &str = "5d9e8f10-2b3c-4d5e-8f60-b0b000000002";
const CAROL: &str = "9a8b7c6d-5e4f-4a3b-9c2d-ca4010000003";
const DAVE: &str = "c3d4e5f6-a7b8-4c9d-8e0f-da4e00000004";
const ERIN: &str = "e1e2e3e4-f5f6-4a7b-8c9d-e41400000005";

const GET: &str = "query Get($id: ID!) { getPost(id: $id) { id title content owner } }";
const LIST: &str = "query List { listPosts { items { id title content owner } nextToken } }";
const CREATE: &str = "mutation Create($input: CreatePostInput!) { createPost(input: $input) { id title content owner } }";
const UPDATE: &str = "mutation Update($input: UpdatePostInput!) { updatePost(input: $input) { id title content owner } }";
const DELETE: &str = "mutation Delete($input: DeletePostInput!) { deletePost(input: $input) { id title content owner } }";

async fn start() -> Client {
    common::start(PROJECT).await
}

/// Alice: an ordinary user whose `cognito:username` differs from her `sub`.
fn alice(client: &Client) -> User {
    client.as_user(ALICE).username("alice")
}

fn bob(client: &Client) -> User {
    client.as_user(BOB).username("bob")
}

/// Carol: a member of the `Admin` group the rules name.
fn carol(client: &Client) -> User {
    client.as_user(CAROL).username("carol").groups(["Admin"])
}

/// Dave: in groups, but not in `Admin`.
fn dave(client: &Client) -> User {
    client
        .as_user(DAVE)
        .username("dave")
        .groups(["Editors", "admin"])
}

/// A post as the queries here select it.
fn post(id: &str, title: &str, content: &str, owner: &str) -> Json {
    json!({"id": id, "title": title, "content": content, "owner": owner})
}

/// The column of `field` in a one-line `query`, as a GraphQL location.
fn column(query: &str, field: &str) -> usize {
    query.find(field).expect("the field is in the query") + 1
}

/// The response to `query` when `$util.unauthorized()` ended the resolver
/// of its one root field: the field is null, with AppSync's error.
fn denied(query: &str, field: &str, type_name: &str) -> Json {
    json!({
        "data": {field: null},
        "errors": [{
            "path": [field],
            "data": null,
            "errorType": "Unauthorized",
            "errorInfo": null,
            "locations": [{"line": 1, "column": column(query, field), "sourceName": null}],
            "message": format!("Not Authorized to access {field} on type {type_name}"),
        }],
    })
}

/// An item of the `Post` table as stored, read through the DynamoDB API;
/// null when there is none.
async fn stored(client: &Client, id: &str) -> Json {
    let out = client
        .dynamodb_ok(
            "GetItem",
            json!({"TableName": "Post", "Key": {"id": {"S": id}}}),
        )
        .await;
    out.get("Item").cloned().unwrap_or(Json::Null)
}

/// The stored owner attribute of post `id`.
async fn stored_owner(client: &Client, id: &str) -> Json {
    stored(client, id).await["owner"].clone()
}

/// Creates a post as `user`, which must succeed; the post as returned.
async fn create(client: &Client, user: &User, input: Json) -> Json {
    let res = client.query_as(user, CREATE, json!({"input": input})).await;
    assert!(res.get("errors").is_none(), "{res:#}");
    res["data"]["createPost"].clone()
}

/// The posts `user` lists, sorted by id (a Scan's order is the table's).
async fn list(client: &Client, user: &User) -> Vec<Json> {
    let res = client.query_as(user, LIST, json!({})).await;
    assert!(res.get("errors").is_none(), "{res:#}");
    assert_eq!(res["data"]["listPosts"]["nextToken"], Json::Null, "{res}");
    let mut items = res["data"]["listPosts"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {res}"))
        .clone();
    items.sort_by_key(|item| item["id"].as_str().unwrap_or_default().to_owned());
    items
}

#[tokio::test]
async fn owner_creates_reads_updates_and_deletes_their_post() {
    let client = start().await;
    let alice = alice(&client);

    let res = client
        .query_as(
            &alice,
            CREATE,
            json!({"input": {"id": "a1", "title": "Alice's post", "content": "hello"}}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"createPost": post("a1", "Alice's post", "hello", "alice")}})
    );
    // Stored as `sub::username`; `Post.owner` shows the username.
    let item = stored(&client, "a1").await;
    assert_eq!(item["owner"], json!({"S": format!("{ALICE}::alice")}));
    assert_eq!(item["title"], json!({"S": "Alice's post"}));
    assert_eq!(item["__typename"], json!({"S": "Post"}));

    let res = client.query_as(&alice, GET, json!({"id": "a1"})).await;
    assert_eq!(
        res,
        json!({"data": {"getPost": post("a1", "Alice's post", "hello", "alice")}})
    );
    // A post that does not exist is null, not a denial: the Query scanned nothing.
    let res = client.query_as(&alice, GET, json!({"id": "none"})).await;
    assert_eq!(res, json!({"data": {"getPost": null}}));
    assert_eq!(
        list(&client, &alice).await,
        vec![post("a1", "Alice's post", "hello", "alice")]
    );

    let res = client
        .query_as(
            &alice,
            UPDATE,
            json!({"input": {"id": "a1", "content": "edited"}}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"updatePost": post("a1", "Alice's post", "edited", "alice")}})
    );
    assert_eq!(
        stored(&client, "a1").await["content"],
        json!({"S": "edited"})
    );
    assert_eq!(
        stored_owner(&client, "a1").await,
        json!({"S": format!("{ALICE}::alice")})
    );

    let res = client
        .query_as(&alice, DELETE, json!({"input": {"id": "a1"}}))
        .await;
    assert_eq!(
        res,
        json!({"data": {"deletePost": post("a1", "Alice's post", "edited", "alice")}})
    );
    assert_eq!(stored(&client, "a1").await, Json::Null);
    let res = client.query_as(&alice, GET, json!({"id": "a1"})).await;
    assert_eq!(res, json!({"data": {"getPost": null}}));
}

#[tokio::test]
async fn another_user_can_neither_read_nor_change_a_post() {
    let client = start().await;
    let alice = alice(&client);
    let bob = bob(&client);
    let dave = dave(&client);
    create(
        &client,
        &alice,
        json!({"id": "a1", "title": "Alice's", "content": "private"}),
    )
    .await;
    create(
        &client,
        &bob,
        json!({"id": "b1", "title": "Bob's", "content": "his"}),
    )
    .await;
    let alices = post("a1", "Alice's", "private", "alice");
    let before = stored(&client, "a1").await;

    // getPost: the Query finds the item, the owner filter drops it.
    for user in [&bob, &dave] {
        let res = client.query_as(user, GET, json!({"id": "a1"})).await;
        assert_eq!(res, denied(GET, "getPost", "Query"));
    }
    // listPosts: each sees their own, nobody else's.
    assert_eq!(list(&client, &alice).await, vec![alices.clone()]);
    assert_eq!(
        list(&client, &bob).await,
        vec![post("b1", "Bob's", "his", "bob")]
    );
    assert_eq!(list(&client, &dave).await, Vec::<Json>::new());

    // update and delete: the auth function reads the item and refuses.
    let res = client
        .query_as(
            &bob,
            UPDATE,
            json!({"input": {"id": "a1", "title": "hijacked"}}),
        )
        .await;
    assert_eq!(res, denied(UPDATE, "updatePost", "Mutation"));
    let res = client
        .query_as(
            &bob,
            UPDATE,
            json!({"input": {"id": "a1", "owner": format!("{BOB}::bob")}}),
        )
        .await;
    assert_eq!(res, denied(UPDATE, "updatePost", "Mutation"));
    let res = client
        .query_as(&dave, DELETE, json!({"input": {"id": "a1"}}))
        .await;
    assert_eq!(res, denied(DELETE, "deletePost", "Mutation"));
    let res = client
        .query_as(&bob, DELETE, json!({"input": {"id": "a1"}}))
        .await;
    assert_eq!(res, denied(DELETE, "deletePost", "Mutation"));
    // An update of an item that does not exist is refused too: there is no
    // owner to match, and nothing is written.
    let res = client
        .query_as(
            &bob,
            UPDATE,
            json!({"input": {"id": "none", "title": "new"}}),
        )
        .await;
    assert_eq!(res, denied(UPDATE, "updatePost", "Mutation"));
    assert_eq!(stored(&client, "none").await, Json::Null);

    // Nothing changed, and Alice still reads her post.
    assert_eq!(stored(&client, "a1").await, before);
    let res = client.query_as(&alice, GET, json!({"id": "a1"})).await;
    assert_eq!(res, json!({"data": {"getPost": alices}}));
}

#[tokio::test]
async fn admin_group_reads_updates_and_deletes_any_post() {
    let client = start().await;
    let alice = alice(&client);
    let bob = bob(&client);
    let carol = carol(&client);
    create(
        &client,
        &alice,
        json!({"id": "a1", "title": "Alice's", "content": "hers"}),
    )
    .await;
    create(
        &client,
        &bob,
        json!({"id": "b1", "title": "Bob's", "content": "his"}),
    )
    .await;

    // listPosts without an owner filter: everyone's posts.
    assert_eq!(
        list(&client, &carol).await,
        vec![
            post("a1", "Alice's", "hers", "alice"),
            post("b1", "Bob's", "his", "bob"),
        ]
    );
    let res = client.query_as(&carol, GET, json!({"id": "b1"})).await;
    assert_eq!(
        res,
        json!({"data": {"getPost": post("b1", "Bob's", "his", "bob")}})
    );

    // An update by an admin leaves the owner as it was.
    let res = client
        .query_as(
            &carol,
            UPDATE,
            json!({"input": {"id": "a1", "title": "Moderated"}}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"updatePost": post("a1", "Moderated", "hers", "alice")}})
    );
    assert_eq!(
        stored_owner(&client, "a1").await,
        json!({"S": format!("{ALICE}::alice")})
    );
    let res = client.query_as(&alice, GET, json!({"id": "a1"})).await;
    assert_eq!(
        res,
        json!({"data": {"getPost": post("a1", "Moderated", "hers", "alice")}})
    );

    let res = client
        .query_as(&carol, DELETE, json!({"input": {"id": "b1"}}))
        .await;
    assert_eq!(
        res,
        json!({"data": {"deletePost": post("b1", "Bob's", "his", "bob")}})
    );
    assert_eq!(stored(&client, "b1").await, Json::Null);
    let res = client.query_as(&bob, GET, json!({"id": "b1"})).await;
    assert_eq!(res, json!({"data": {"getPost": null}}));
    assert_eq!(list(&client, &bob).await, Vec::<Json>::new());
    assert_eq!(
        list(&client, &alice).await,
        vec![post("a1", "Moderated", "hers", "alice")]
    );
}

#[tokio::test]
async fn owner_comes_from_the_token_and_cannot_be_forged() {
    let client = start().await;
    let alice = alice(&client);
    let bob = bob(&client);
    let carol = carol(&client);

    // An `owner` in the input that is not the caller's: refused, not stored.
    for forged in [
        format!("{ALICE}::alice"),
        "alice".to_owned(),
        ALICE.to_owned(),
    ] {
        let res = client
            .query_as(
                &bob,
                CREATE,
                json!({"input": {"id": "forged", "title": "as Alice", "owner": forged}}),
            )
            .await;
        assert_eq!(res, denied(CREATE, "createPost", "Mutation"), "{forged}");
        assert_eq!(stored(&client, "forged").await, Json::Null, "{forged}");
    }
    assert_eq!(list(&client, &alice).await, Vec::<Json>::new());

    // The owner is `sub::cognito:username`, and the username defaults to the sub.
    let erin = client.as_user(ERIN);
    let created = create(&client, &erin, json!({"id": "e1", "title": "untitled"})).await;
    assert_eq!(
        created,
        json!({"id": "e1", "title": "untitled", "content": null, "owner": ERIN})
    );
    assert_eq!(
        stored_owner(&client, "e1").await,
        json!({"S": format!("{ERIN}::{ERIN}")})
    );

    // An admin's post without `owner` is the admin's own; an admin may also
    // create a post for somebody else, who then owns it.
    let created = create(&client, &carol, json!({"id": "c1", "title": "Carol's"})).await;
    assert_eq!(
        created,
        json!({"id": "c1", "title": "Carol's", "content": null, "owner": "carol"})
    );
    assert_eq!(
        stored_owner(&client, "c1").await,
        json!({"S": format!("{CAROL}::carol")})
    );
    let created = create(
        &client,
        &carol,
        json!({"id": "c2", "title": "For Alice", "owner": format!("{ALICE}::alice")}),
    )
    .await;
    assert_eq!(
        created,
        json!({"id": "c2", "title": "For Alice", "content": null, "owner": "alice"})
    );
    assert_eq!(
        list(&client, &alice).await,
        vec![json!({"id": "c2", "title": "For Alice", "content": null, "owner": "alice"})]
    );
    let res = client.query_as(&bob, GET, json!({"id": "c1"})).await;
    assert_eq!(res, denied(GET, "getPost", "Query"));
}

#[tokio::test]
async fn requests_without_a_valid_token_are_rejected() {
    let client = start().await;
    let alice = alice(&client);
    create(
        &client,
        &alice,
        json!({"id": "a1", "title": "Alice's", "content": "hers"}),
    )
    .await;
    let body = json!({"query": GET, "variables": {"id": "a1"}});

    // No Authorization header; a token that is not a JWT; an API key, which
    // is not one of this API's auth modes.
    let requests = [
        client.http.post(client.graphql_url()).json(&body),
        client
            .http
            .post(client.graphql_url())
            .header("authorization", "not-a-token")
            .json(&body),
        client
            .http
            .post(client.graphql_url())
            .header("x-api-key", "da2-not-configured")
            .json(&body),
    ];
    for request in requests {
        let raw = Raw::read(request.send().await.expect("the server answers")).await;
        assert_eq!(raw.status, 401, "{}", raw.body);
        let res = raw.json();
        let errors = res["errors"].as_array().unwrap_or_else(|| panic!("{res}"));
        assert_eq!(errors.len(), 1, "{res}");
        assert_eq!(errors[0]["errorType"], "UnauthorizedException", "{res}");
        assert!(errors[0]["message"].is_string(), "{res}");
        assert!(res.get("data").is_none(), "{res}");
        assert!(!raw.body.contains("hers"), "{}", raw.body);
    }

    // The same request with Alice's token.
    let raw = client.post_as(&alice, body).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert_eq!(
        raw.json(),
        json!({"data": {"getPost": post("a1", "Alice's", "hers", "alice")}})
    );
}
