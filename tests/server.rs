//! The HTTP layer against a fake GraphQL service, over a real socket.

mod common;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::sync::Arc;

use appsync_local::auth::{CognitoConfig, DefaultAction, JwksSource, JwtProvider, JwtProviderKind};
use appsync_local::graphql::{
    ApiKey, AuthConfig, AuthType, BoxFuture, GraphQLRequest, GraphQLResponse, GraphQLService,
    RequestContext,
};
use appsync_local::server::{AppState, CorsOrigins, ServerOptions, app};
use axum::Router;
use axum::http::HeaderValue;
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

const UNAUTHORIZED_BODY: &str = r#"{"errors":[{"errorType":"UnauthorizedException","message":"You are not authorized to make this call."}]}"#;

/// Echoes what the executor would receive. A query containing `INVALID`
/// fails validation (no `data`); `BIG` returns a response over 1,000 bytes.
struct FakeService {
    auth: AuthConfig,
    label: &'static str,
}

impl GraphQLService for FakeService {
    fn auth(&self) -> &AuthConfig {
        &self.auth
    }

    fn execute(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> BoxFuture<'_, GraphQLResponse> {
        Box::pin(async move {
            if request.query.contains("INVALID") {
                return GraphQLResponse {
                    data: None,
                    errors: vec![json!({
                        "path": null,
                        "locations": [{"line": 1, "column": 3}],
                        "message": "Validation error of type FieldUndefined: Field 'INVALID' in type 'Query' is undefined",
                    })],
                    ..GraphQLResponse::default()
                };
            }
            let mut data = json!({
                "label": self.label,
                "query": request.query,
                "operationName": request.operation_name,
                "variables": request.variables,
                "extensions": request.extensions,
                "identity": context.principal.identity,
                "authType": context.principal.auth_type,
                "hasSourceIp": context.source_ip.is_some(),
            });
            if request.query.contains("HEADERS") {
                data["headers"] = json!(context.headers);
            }
            if request.query.contains("BIG") {
                data["big"] = json!("x".repeat(5_000));
            }
            GraphQLResponse {
                data: Some(data),
                ..GraphQLResponse::default()
            }
        })
    }
}

fn service(auth: AuthConfig) -> Arc<dyn GraphQLService> {
    Arc::new(FakeService { auth, label: "v1" })
}

fn api_key_auth() -> AuthConfig {
    AuthConfig {
        modes: vec![AuthType::ApiKey],
        api_keys: vec![
            ApiKey {
                name: "forever".to_owned(),
                value: "da2-forever".to_owned(),
                expires: None,
            },
            ApiKey {
                name: "expired".to_owned(),
                value: "da2-expired".to_owned(),
                expires: Some(1_600_000_000),
            },
            ApiKey {
                name: "future".to_owned(),
                value: "da2-future".to_owned(),
                // 2100-01-01.
                expires: Some(4_102_444_800),
            },
        ],
        ..AuthConfig::default()
    }
}

/// A Cognito pool whose JWKS is empty and without the local issuer: no
/// token can pass, so only the refusals are visible here (tests/auth.rs
/// covers valid tokens).
fn cognito_pool() -> Arc<JwtProvider> {
    Arc::new(JwtProvider::new(
        JwtProviderKind::Cognito(CognitoConfig {
            user_pool_id: "us-east-1_test".to_owned(),
            aws_region: "us-east-1".to_owned(),
            default_action: DefaultAction::Allow,
            app_id_client_regex: None,
        }),
        JwtProvider::cognito_issuer("us-east-1", "us-east-1_test"),
        JwksSource::from_json(json!({"keys": []})).expect("a JWKS"),
    ))
}

async fn start(state: AppState) -> String {
    format!("http://{}", common::serve(app(state)).await)
}

/// A client that neither sends `Accept-Encoding` nor decompresses, so tests
/// see exactly what the server sent.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

/// One line per case: request, status, content type and body.
async fn run_cases(base: &str, cases: &[(&str, reqwest::RequestBuilder)]) -> String {
    let mut report = String::new();
    for (name, request) in cases {
        let response = request
            .try_clone()
            .expect("cloneable request")
            .send()
            .await
            .expect("response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap_or("?").to_owned())
            .unwrap_or_default();
        let allow = response
            .headers()
            .get("allow")
            .map(|value| format!(" allow={}", value.to_str().unwrap_or("?")))
            .unwrap_or_default();
        let body = response.text().await.expect("body");
        let body = body.replace(base, "BASE");
        writeln!(report, "{name}\n  {status} {content_type}{allow}\n  {body}").expect("write");
    }
    report
}

#[tokio::test]
async fn graphql_over_http_status_codes() {
    let base = start(AppState::new(service(AuthConfig::default()))).await;
    let client = raw_client();
    let url = format!("{base}/graphql");
    let post = |body: &str, content_type: Option<&str>, accept: Option<&str>| {
        let mut request = client.post(&url).body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request
    };
    let get = |query: &[(&str, &str)], accept: Option<&str>| {
        let mut request = client.get(&url).query(query);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request
    };
    const GR: Option<&str> = Some("application/graphql-response+json, application/json;q=0.9");
    const JSON: Option<&str> = Some("application/json");
    const CT: Option<&str> = Some("application/json");
    let cases = [
        (
            "POST query, no Accept",
            post(r#"{"query":"{ hello }"}"#, CT, None),
        ),
        (
            "POST query, Accept json",
            post(
                r#"{"query":"{ hello }","operationName":null,"variables":{"a":1}}"#,
                Some("application/json; charset=utf-8"),
                JSON,
            ),
        ),
        (
            "POST query, Accept graphql-response+json",
            post(
                r#"{"query":"query Q { hello }","operationName":"Q"}"#,
                CT,
                GR,
            ),
        ),
        (
            "POST validation failure, json: 200",
            post(r#"{"query":"{ INVALID }"}"#, CT, JSON),
        ),
        (
            "POST validation failure, graphql-response+json: 400",
            post(r#"{"query":"{ INVALID }"}"#, CT, GR),
        ),
        ("POST malformed JSON, json", post(r#"{"query":"#, CT, JSON)),
        (
            "POST malformed JSON, graphql-response+json",
            post(r#"{"query":"#, CT, GR),
        ),
        ("POST missing query", post(r#"{"variables":{}}"#, CT, GR)),
        ("POST query not a string", post(r#"{"query":1}"#, CT, JSON)),
        (
            "POST variables not an object",
            post(r#"{"query":"{ a }","variables":[1]}"#, CT, JSON),
        ),
        (
            "POST batch (array) is not supported",
            post(r#"[{"query":"{ a }"}]"#, CT, JSON),
        ),
        (
            "POST text/plain: 415",
            post(r#"{"query":"{ a }"}"#, Some("text/plain"), JSON),
        ),
        (
            "POST no Content-Type: 415",
            post(r#"{"query":"{ a }"}"#, None, JSON),
        ),
        ("GET query", get(&[("query", "{ hello }")], None)),
        (
            "GET query with variables and extensions, graphql-response+json",
            get(
                &[
                    ("query", "query Q($a: Int) { hello(a: $a) }"),
                    ("operationName", "Q"),
                    ("variables", r#"{"a":2}"#),
                    ("extensions", r#"{"e":true}"#),
                ],
                GR,
            ),
        ),
        (
            "GET validation failure, json: 200",
            get(&[("query", "{ INVALID }")], JSON),
        ),
        (
            "GET validation failure, graphql-response+json: 400",
            get(&[("query", "{ INVALID }")], GR),
        ),
        (
            "GET mutation: 405",
            get(&[("query", "mutation { create }")], JSON),
        ),
        (
            "GET named mutation among queries: 405",
            get(
                &[
                    ("query", "query Q { a } mutation M { b }"),
                    ("operationName", "M"),
                ],
                GR,
            ),
        ),
        (
            "GET named query among mutations",
            get(
                &[
                    ("query", "query Q { a } mutation M { b }"),
                    ("operationName", "Q"),
                ],
                JSON,
            ),
        ),
        ("GET missing query: 400", get(&[("operationName", "Q")], GR)),
        (
            "GET variables not JSON: 400",
            get(&[("query", "{ a }"), ("variables", "{")], JSON),
        ),
        ("PUT: 405", client.put(&url).body("{}")),
        (
            "POST / without X-Amz-Target: 404",
            client
                .post(format!("{base}/"))
                .header("content-type", "application/json")
                .body(r#"{"query":"{ a }"}"#),
        ),
        ("GET /health", client.get(format!("{base}/health"))),
    ];
    insta::assert_snapshot!(run_cases(&base, &cases).await);
}

#[tokio::test]
async fn api_key_authorization() {
    let base = start(AppState::new(service(api_key_auth()))).await;
    let client = raw_client();
    let url = format!("{base}/graphql");
    let body = r#"{"query":"{ hello }"}"#;
    let post = |key: Option<&str>| {
        let request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        match key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    };
    for key in [None, Some("da2-wrong"), Some("da2-expired"), Some("")] {
        let response = post(key).send().await.expect("response");
        assert_eq!(response.status(), 401, "{key:?}");
        assert_eq!(
            response.text().await.expect("body"),
            UNAUTHORIZED_BODY,
            "{key:?}"
        );
    }
    // GET is checked the same way, before any parameter is looked at.
    let response = client.get(&url).send().await.expect("response");
    assert_eq!(response.status(), 401);
    assert_eq!(response.text().await.expect("body"), UNAUTHORIZED_BODY);

    for key in ["da2-forever", "da2-future"] {
        let response = post(Some(key)).send().await.expect("response");
        assert_eq!(response.status(), 200, "{key}");
        let json: Json = response.json().await.expect("json");
        assert_eq!(json["data"]["identity"], Json::Null);
        assert_eq!(json["data"]["authType"], "API_KEY");
        assert_eq!(json["data"]["hasSourceIp"], true);
    }
}

/// A project naming Cognito no longer takes any `Authorization` header as
/// valid: a missing, forged or unverifiable token is refused.
#[tokio::test]
async fn a_cognito_api_refuses_what_it_cannot_verify() {
    let auth = AuthConfig {
        modes: vec![AuthType::AmazonCognitoUserPools],
        jwt: vec![cognito_pool()],
        ..AuthConfig::default()
    };
    let base = start(AppState::new(service(auth))).await;
    let get = |authorization: Option<&'static str>| {
        let mut request = raw_client().get(format!("{base}/graphql?query=%7B%20a%20%7D"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    // A token signed by a key the pool does not have.
    let unsigned = "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vbmUifQ.eyJpc3MiOiJodHRwczovL2NvZ25pdG8taWRwLnVzLWVhc3QtMS5hbWF6b25hd3MuY29tL3VzLWVhc3QtMV90ZXN0Iiwic3ViIjoieCIsImV4cCI6NDEwMjQ0NDgwMCwidG9rZW5fdXNlIjoiaWQifQ.c2ln";
    let cases = [
        (None, "Valid authorization header not provided."),
        (Some("eyJraWQiOi.x.y"), "Unable to parse JWT token."),
        (Some("not a token"), "Unable to parse JWT token."),
        (Some(unsigned), "You are not authorized to make this call."),
    ];
    for (authorization, message) in cases {
        let response = get(authorization).await.expect("response");
        assert_eq!(response.status(), 401, "{authorization:?}");
        let json: Json = response.json().await.expect("json");
        assert_eq!(
            json,
            json!({"errors": [{"errorType": "UnauthorizedException", "message": message}]}),
            "{authorization:?}"
        );
    }
}

#[tokio::test]
async fn api_key_beside_cognito() {
    let auth = AuthConfig {
        modes: vec![AuthType::AmazonCognitoUserPools, AuthType::ApiKey],
        jwt: vec![cognito_pool()],
        ..api_key_auth()
    };
    let base = start(AppState::new(service(auth))).await;
    let client = raw_client();
    let send = |headers: &[(&str, &str)]| {
        let mut request = client
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .body(r#"{"query":"{ a }"}"#);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers, u16, &str); 5] = [
        (&[], 401, "Valid authorization header not provided."),
        (
            &[("authorization", "eyJraWQiOi.x.y")],
            401,
            "Unable to parse JWT token.",
        ),
        (&[("x-api-key", "da2-forever")], 200, "API_KEY"),
        // A wrong key beside an Authorization header falls through to it.
        (
            &[("x-api-key", "da2-wrong"), ("authorization", "eyJ")],
            401,
            "Unable to parse JWT token.",
        ),
        (
            &[("x-api-key", "da2-expired")],
            401,
            "You are not authorized to make this call.",
        ),
    ];
    for (headers, status, expected) in cases {
        let response = send(headers).await.expect("response");
        assert_eq!(response.status(), status, "{headers:?}");
        let json: Json = response.json().await.expect("json");
        if status == 200 {
            assert_eq!(json["data"]["authType"], expected, "{headers:?}");
        } else {
            assert_eq!(json["errors"][0]["message"], expected, "{headers:?}");
            assert_eq!(json["errors"][0]["errorType"], "UnauthorizedException");
        }
    }
}

#[tokio::test]
async fn headers_reach_the_request_context() {
    let base = start(AppState::new(service(AuthConfig::default()))).await;
    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("X-Custom", "Mixed Case Value")
        .header("x-multi", "first")
        .header("x-multi", "second")
        .header("cookie", "session=secret")
        .body(r#"{"query":"{ HEADERS }"}"#)
        .send()
        .await
        .expect("response");
    let json: Json = response.json().await.expect("json");
    let headers: Vec<(String, String)> =
        serde_json::from_value(json["data"]["headers"].clone()).expect("header pairs");
    let values = |name: &str| {
        headers
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(values("x-custom"), ["Mixed Case Value"]);
    assert_eq!(values("x-multi"), ["first", "second"]);
    assert_eq!(values("content-type"), ["application/json"]);
    assert!(values("cookie").is_empty(), "{headers:?}");
    assert!(
        headers.iter().all(|(name, _)| *name == name.to_lowercase()),
        "{headers:?}"
    );
}

#[tokio::test]
async fn gzip_responses_between_1000_bytes_and_10_megabytes() {
    let base = start(AppState::new(service(AuthConfig::default()))).await;
    let client = raw_client();
    let send = |query: &str, accept_gzip: bool| {
        let mut request = client
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .body(json!({ "query": query }).to_string());
        if accept_gzip {
            request = request.header("accept-encoding", "gzip");
        }
        request.send()
    };

    let response = send("{ BIG }", true).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.expect("body");
    let json: Json = serde_json::from_slice(&gunzip(&compressed)).expect("json");
    assert_eq!(json["data"]["big"].as_str().map(str::len), Some(5_000));
    assert!(compressed.len() < 1_000, "{} bytes", compressed.len());

    // Below 1,000 bytes, or without Accept-Encoding, the body is sent as is.
    for (query, accept_gzip) in [("{ small }", true), ("{ BIG }", false)] {
        let response = send(query, accept_gzip).await.expect("response");
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{query}"
        );
        let json: Json = response.json().await.expect("plain json");
        assert!(json["data"]["query"].is_string());
    }
}

#[tokio::test]
async fn gzip_request_bodies() {
    let base = start(AppState::new(service(AuthConfig::default()))).await;
    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(br#"{"query":"{ zipped }"}"#))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let json: Json = response.json().await.expect("json");
    assert_eq!(json["data"]["query"], "{ zipped }");

    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body(r#"{"query":"{ a }"}"#)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn body_limit_gives_413_also_after_decompression() {
    let options = ServerOptions {
        body_limit: 1_024,
        ..ServerOptions::default()
    };
    let state = AppState::new(service(AuthConfig::default())).with_options(options);
    let base = start(state).await;
    let padding = " ".repeat(2_000);
    let big_body = format!(r#"{{"query":"{{ a }}"{padding}}}"#);
    let expected = json!({"errors": [{
        "errorType": "PayloadTooLargeException",
        "message": "Request body is larger than the limit of 1024 bytes.",
    }]});

    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .body(big_body.clone())
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 413);
    assert_eq!(response.json::<Json>().await.expect("json"), expected);

    // 2 KB of spaces gzip to a few dozen bytes; the limit is on what they expand to.
    let zipped = gzip(big_body.as_bytes());
    assert!(zipped.len() < 1_024);
    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(zipped)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 413);
    assert_eq!(response.json::<Json>().await.expect("json"), expected);

    let response = raw_client()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ small }"}"#)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
}

async fn preflight(base: &str, origin: &str) -> reqwest::Response {
    raw_client()
        .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key,content-type")
        .send()
        .await
        .expect("response")
}

#[tokio::test]
async fn cors_preflight() {
    // The preflight is answered before API key checks, as browsers send no key.
    let base = start(AppState::new(service(api_key_auth()))).await;
    let response = preflight(&base, "http://localhost:3000").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-allow-headers"], "*");
    assert_eq!(headers["access-control-allow-methods"], "*");

    let options = ServerOptions {
        cors_origins: CorsOrigins::List(vec![HeaderValue::from_static("http://localhost:3000")]),
        ..ServerOptions::default()
    };
    let base = start(AppState::new(service(api_key_auth())).with_options(options)).await;
    let response = preflight(&base, "http://localhost:3000").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let response = preflight(&base, "http://evil.example").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn graphiql_page_prefills_a_live_api_key() {
    let base = start(AppState::new(service(api_key_auth()))).await;
    for path in ["/", "/graphiql"] {
        let response = raw_client()
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .is_ok_and(|value| value.starts_with("text/html")),
            "{path}"
        );
        let page = response.text().await.expect("page");
        assert!(page.contains("GraphiQL.createFetcher"), "{path}");
        assert!(page.contains(r#"{"x-api-key":"da2-forever"}"#), "{path}");
        assert!(!page.contains("da2-expired"), "{path}");
    }
}

#[tokio::test]
async fn mounted_routers() {
    let dynamodb = Router::new().route("/", post(|| async { "dynamodb" }));
    let opensearch = Router::new().route("/opensearch/{index}/_search", get(|| async { "search" }));
    let options = ServerOptions {
        amz_target_router: Some(dynamodb),
        extra_routers: vec![opensearch],
        ..ServerOptions::default()
    };
    let base = start(AppState::new(service(AuthConfig::default())).with_options(options)).await;
    let client = raw_client();

    let response = client
        .post(format!("{base}/"))
        .header("x-amz-target", "DynamoDB_20120810.GetItem")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "dynamodb");

    // Without X-Amz-Target, POST / is not DynamoDB's; GET / stays GraphiQL.
    let response = client
        .post(format!("{base}/"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 404);
    let response = client
        .get(format!("{base}/"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 200);

    let response = client
        .get(format!("{base}/opensearch/posts/_search"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.text().await.expect("body"), "search");
}

#[tokio::test]
async fn replacing_the_service_affects_new_requests() {
    let state = AppState::new(service(AuthConfig::default()));
    let cell = state.service.clone();
    let base = start(state).await;
    let label = || async {
        let json: Json = raw_client()
            .get(format!("{base}/graphql?query=%7Ba%7D"))
            .send()
            .await
            .expect("response")
            .json()
            .await
            .expect("json");
        json["data"]["label"].clone()
    };
    assert_eq!(label().await, "v1");
    cell.replace(Arc::new(FakeService {
        auth: AuthConfig::default(),
        label: "v2",
    }));
    assert_eq!(label().await, "v2");
}
