//! Every GraphQL `curl` example in the README, run in order against the demo
//! project, gives the output the README shows next to it; so do the
//! `curl .../metrics | grep -F -e ...` examples that prove a cache hit.

mod common;

use serde_json::Value;

#[derive(Debug)]
enum Example {
    /// A `curl ... /graphql ... -d '...'` block followed by a ```json block.
    GraphQL { body: String, expected: String },
    /// A `curl .../metrics | grep -F -e '...'` block followed by a ```text
    /// block: the metric lines containing any of the patterns, in order.
    Metrics {
        patterns: Vec<String>,
        expected: String,
    },
}

fn examples(readme: &str) -> Vec<Example> {
    let blocks: Vec<&str> = readme.split("```").collect();
    let mut out = Vec::new();
    for pair in blocks.windows(3) {
        let (code, expected) = (pair[0], pair[2]);
        if !code.starts_with("sh\n") {
            continue;
        }
        if code.contains("/graphql") && expected.starts_with("json\n") {
            let Some(start) = code.find("-d '") else {
                continue;
            };
            let body = &code[start + 4..];
            let body = &body[..body.find('\'').expect("closing quote")];
            out.push(Example::GraphQL {
                body: body.to_owned(),
                expected: expected["json\n".len()..].trim().to_owned(),
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
            Example::GraphQL { body, expected } => {
                let request: Value = serde_json::from_str(&body).expect("README request JSON");
                let got = server.post(request, &[]).await.json();
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
