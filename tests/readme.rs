//! Every GraphQL `curl` example in the README, run against the demo project,
//! gives the output the README shows next to it.

use appsync_local::testing::TestServer;
use serde_json::Value;

/// (request body, expected response) for each `curl ... /graphql ... -d '...'`
/// block followed by a ```json block.
fn examples(readme: &str) -> Vec<(String, String)> {
    let blocks: Vec<&str> = readme.split("```").collect();
    let mut out = Vec::new();
    for pair in blocks.windows(3) {
        let (code, expected) = (pair[0], pair[2]);
        if !(code.starts_with("sh\n")
            && code.contains("/graphql")
            && expected.starts_with("json\n"))
        {
            continue;
        }
        let Some(start) = code.find("-d '") else {
            continue;
        };
        let body = &code[start + 4..];
        let body = &body[..body.find('\'').expect("closing quote")];
        out.push((
            body.to_owned(),
            expected["json\n".len()..].trim().to_owned(),
        ));
    }
    out
}

#[tokio::test]
async fn readme_graphql_examples_give_the_output_shown() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let examples = examples(&readme);
    assert!(examples.len() >= 2, "found {} examples", examples.len());
    let server = TestServer::start(".").await.expect("demo project");
    let client = reqwest::Client::new();
    for (body, expected) in examples {
        let got: Value = client
            .post(server.graphql_url())
            .header("x-api-key", server.api_key().unwrap_or_default())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        let expected: Value = serde_json::from_str(&expected).expect("README JSON");
        assert_eq!(got, expected, "README example {body}");
    }
}
