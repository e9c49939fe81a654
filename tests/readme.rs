//! Every GraphQL `curl` example in the README, run in order against the demo
//! project, gives the output the README shows next to it; so do the
//! `curl .../metrics | grep -F -e ...` examples that prove a cache hit. A
//! curl sending `Authorization: $TOKEN` calls as the user of the last
//! `TOKEN=$(appsync-local token ... --sub SUB [--groups G,...])` before it;
//! the others send the API key.

mod common;

use serde_json::Value;

#[derive(Debug)]
enum Example {
    /// A `curl ... /graphql ... -d '...'` block followed by a ```json block,
    /// sent as `user` (sub and groups) when it names `$TOKEN`.
    GraphQL {
        body: String,
        expected: String,
        user: Option<(String, Vec<String>)>,
    },
    /// A `curl .../metrics | grep -F -e '...'` block followed by a ```text
    /// block: the metric lines containing any of the patterns, in order.
    Metrics {
        patterns: Vec<String>,
        expected: String,
    },
}

/// The user of a `TOKEN=$(appsync-local token ... --sub SUB [--groups G,...])`
/// line in `code`, if there is one.
fn token_user(code: &str) -> Option<(String, Vec<String>)> {
    let line = code
        .lines()
        .find(|line| line.starts_with("TOKEN=$(appsync-local token "))?;
    let words: Vec<&str> = line.trim_end_matches(')').split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|word| *word == flag)
            .and_then(|at| words.get(at + 1))
            .map(|value| value.to_string())
    };
    let groups = after("--groups")
        .map(|groups| groups.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    Some((after("--sub").expect("--sub SUB"), groups))
}

fn examples(readme: &str) -> Vec<Example> {
    let blocks: Vec<&str> = readme.split("```").collect();
    let mut out = Vec::new();
    let mut token = None;
    for pair in blocks.windows(3) {
        let (code, expected) = (pair[0], pair[2]);
        if !code.starts_with("sh\n") {
            continue;
        }
        if let Some(user) = token_user(code) {
            token = Some(user);
        }
        if code.contains("/graphql") && expected.starts_with("json\n") {
            let Some(start) = code.find("-d '") else {
                continue;
            };
            let body = &code[start + 4..];
            let body = &body[..body.find('\'').expect("closing quote")];
            let user = code.contains("Authorization: $TOKEN").then(|| {
                token
                    .clone()
                    .expect("a TOKEN=$(appsync-local token ...) line before $TOKEN")
            });
            out.push(Example::GraphQL {
                body: body.to_owned(),
                expected: expected["json\n".len()..].trim().to_owned(),
                user,
            });
        } else if code.contains("/metrics | grep -F") && expected.starts_with("text\n") {
            let patterns = code
                .split("-e '")
                .skip(1)
                .map(|rest| rest[..rest.find('\'').expect("closing quote")].to_owned())
                .collect();
            out.push(Example::Metrics {
                patterns,
                expected: expected["text\n".len()..].trim().to_owned(),
            });
        }
    }
    out
}

#[test]
fn token_examples_are_recognised() {
    let readme = "```sh\nTOKEN=$(appsync-local token --project . --sub C0042 --groups Admin,Staff)\ncurl -s http://127.0.0.1:4000/graphql \\\n  -H \"Authorization: $TOKEN\" -d '{\"query\":\"{ a }\"}'\n```\n\n```json\n{}\n```\n\n```sh\ncurl -s http://127.0.0.1:4000/graphql -d '{\"query\":\"{ b }\"}'\n```\n\n```json\n{}\n```\n";
    match examples(readme).as_slice() {
        [
            Example::GraphQL { user: first, .. },
            Example::GraphQL { user: second, .. },
        ] => {
            assert_eq!(
                first,
                &Some((
                    "C0042".to_owned(),
                    vec!["Admin".to_owned(), "Staff".to_owned()]
                ))
            );
            assert_eq!(second, &None);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn metrics_examples_are_recognised() {
    let readme = "```sh\ncurl -s http://127.0.0.1:4000/metrics | grep -F -e 'a{x=\"1\"}' -e 'b'\n```\n\n```text\na{x=\"1\"} 2\n```\n";
    match examples(readme).as_slice() {
        [Example::Metrics { patterns, expected }] => {
            assert_eq!(patterns, &["a{x=\"1\"}", "b"]);
            assert_eq!(expected, "a{x=\"1\"} 2");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn readme_graphql_examples_give_the_output_shown() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let examples = examples(&readme);
    let graphql = examples
        .iter()
        .filter(|e| matches!(e, Example::GraphQL { .. }))
        .count();
    assert!(graphql >= 4, "found {graphql} GraphQL examples");
    assert!(
        examples
            .iter()
            .any(|e| matches!(e, Example::Metrics { .. })),
        "no metrics example"
    );
    let server = common::start_at(env!("CARGO_MANIFEST_DIR")).await;
    for example in examples {
        match example {
            Example::GraphQL {
                body,
                expected,
                user,
            } => {
                let request: Value = serde_json::from_str(&body).expect("README request JSON");
                let got = match user {
                    Some((sub, groups)) => {
                        let user = server.as_user(&sub).groups(groups);
                        server.post_as(&user, request).await.json()
                    }
                    None => server.post(request, &[]).await.json(),
                };
                let expected: Value = serde_json::from_str(&expected).expect("README JSON");
                assert_eq!(got, expected, "README example {body}");
            }
            Example::Metrics { patterns, expected } => {
                let text = server.metrics().await;
                let got: Vec<&str> = text
                    .lines()
                    .filter(|line| patterns.iter().any(|p| line.contains(p.as_str())))
                    .collect();
                assert_eq!(got.join("\n"), expected, "README metrics {patterns:?}");
            }
        }
    }
}
