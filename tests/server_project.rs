//! Real VTL resolvers over NONE, through the real HTTP server: arguments with
//! defaults, `$util.error` / `appendError` / `unauthorized`, `#return`,
//! `$ctx.request.headers`, `$ctx.info`, and a pipeline sharing `$ctx.stash`
//! and `$ctx.prev.result`. The executor's own suite (tests/execution.rs)
//! covers the rest in-process.

mod common;

use serde_json::json;

#[tokio::test]
async fn resolvers_render_real_templates() {
    let server = common::start("vtl_resolvers").await;
    let cases = [
        (r#"{ echo(msg: "hi") }"#, json!({"data": {"echo": "hi x3"}})),
        (
            r#"{ a: echo(msg: "yo", times: 2) early }"#,
            json!({"data": {"a": "yo x2", "early": "returned early"}}),
        ),
        (
            "{ fail { id } }",
            json!({"data": {"fail": null}, "errors": [{
                "path": ["fail"], "data": {"id": "p1"}, "errorType": "NotFound",
                "errorInfo": {"hint": "check the id"},
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "Post not found"}]}),
        ),
        (
            "{ partial { id title } }",
            json!({"data": {"partial": {"id": "p2", "title": "kept"}}, "errors": [{
                "path": ["partial"], "data": null, "errorType": "Partial", "errorInfo": null,
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "half done"}]}),
        ),
        (
            "{ denied }",
            json!({"data": {"denied": null}, "errors": [{
                "path": ["denied"], "data": null, "errorType": "Unauthorized", "errorInfo": null,
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "Not Authorized to access denied on type Query"}]}),
        ),
        (
            "{ selection { id title author { name } } }",
            json!({"data": {"selection": {"id": "s1",
                "title": "selection on Query: [id, title, author, author/name]", "author": null}}}),
        ),
        (
            r#"{ pipeline(id: "p9") { id title author { id name } } }"#,
            json!({"data": {"pipeline": {"id": "p9", "title": "From the stash",
                "author": {"id": "author-of-p9", "name": "Ann"}}}}),
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(server.query(query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn templates_see_request_headers() {
    let server = common::start("vtl_resolvers").await;
    let res = server
        .query_with(
            "{ trace }",
            json!({}),
            &[
                ("x-trace", "one"),
                ("x-trace", "two"),
                ("cookie", "secret=1"),
            ],
        )
        .await;
    assert_eq!(res, json!({"data": {"trace": "[one, two] cookie=true"}}));
}
