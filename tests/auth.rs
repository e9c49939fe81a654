//! The auth matrix: every mode × every kind of credential × every kind of
//! field rule, against `tests/projects/auth_modes` (Cognito by default,
//! API_KEY, AWS_IAM and OIDC beside it). Each case asserts the status, the
//! body, which fields resolve and the identity; no case may leak a field.

mod common;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Client, Raw};
use serde_json::{Value as Json, json};

const FIELDS: &str = "{ post { title secret editorsNote } bare adminOnly ping }";

async fn server() -> Client {
    common::start("auth_modes").await
}

/// A token with its payload changed and its signature kept.
fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Map<String, Json> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("json");
    claims.insert("sub".into(), json!("mallory"));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The `identity` field (AWSJSON) of a response, parsed.
fn identity_of(body: &Json) -> Json {
    serde_json::from_str(body["data"]["identity"].as_str().expect("AWSJSON")).expect("json")
}

/// GETs a JSON document from the test server.
async fn get_json(c: &Client, path: &str) -> Json {
    c.http
        .get(format!("{}{path}", c.base_url()))
        .send()
        .await
        .expect("response")
        .json()
        .await
        .expect("json")
}

fn unauthorized(message: &str) -> Json {
    json!({"errors": [{"errorType": "UnauthorizedException", "message": message}]})
}

/// Signs a GraphQL POST with AWS's own SigV4 signer.
fn signed_headers(
    client: &Client,
    body: &str,
    access_key: &str,
    secret: &str,
    session_token: Option<&str>,
    at: SystemTime,
) -> Vec<(String, String)> {
    let host = client.address().to_string();
    common::sigv4_headers(
        &client.graphql_url(),
        &[("host", &host), ("content-type", "application/json")],
        body,
        (access_key, secret, session_token),
        at,
    )
}

async fn post_signed(client: &Client, body: &str, headers: &[(String, String)]) -> Raw {
    let mut request = client.http.post(client.graphql_url()).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    Raw::read(request.send().await.expect("response")).await
}

/// The fields of [`FIELDS`] that resolved, and the denial messages.
fn outcome(body: &Json) -> (Vec<&'static str>, Vec<String>) {
    let data = &body["data"];
    let mut resolved = Vec::new();
    for (name, value) in [
        ("post.title", &data["post"]["title"]),
        ("post.secret", &data["post"]["secret"]),
        ("post.editorsNote", &data["post"]["editorsNote"]),
        ("bare", &data["bare"]),
        ("adminOnly", &data["adminOnly"]),
        ("ping", &data["ping"]),
    ] {
        if !value.is_null() {
            resolved.push(name);
        }
    }
    let mut denied: Vec<String> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    assert_eq!(e["errorType"], "Unauthorized", "{e}");
                    assert_eq!(e["data"], Json::Null, "{e}");
                    assert_eq!(e["errorInfo"], Json::Null, "{e}");
                    e["message"].as_str().expect("message").to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    denied.sort();
    (resolved, denied)
}

fn denials(messages: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = messages
        .iter()
        .map(|m| format!("Not Authorized to access {m}"))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn cognito_users() {
    let c = server().await;
    let body = json!({"query": FIELDS});
    // Credentials that fail the whole request.
    let valid = c.as_user("alice").token();
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "Valid authorization header not provided."),
        (Some("not-a-jwt".into()), "Unable to parse JWT token."),
        (
            Some(tampered(&valid)),
            "You are not authorized to make this call.",
        ),
        (
            Some(c.as_user("alice").expires_in(-5).token()),
            "Token has expired.",
        ),
        (
            Some(
                c.as_user("alice")
                    .claims(json!({"aud": "another-client"}))
                    .token(),
            ),
            "You are not authorized to make this call.",
        ),
        (
            Some(
                c.as_user("alice")
                    .claims(json!({"token_use": "refresh"}))
                    .token(),
            ),
            "You are not authorized to make this call.",
        ),
    ];
    for (token, message) in cases {
        let headers: Vec<(&str, &str)> = token
            .as_deref()
            .map(|t| vec![("authorization", t)])
            .unwrap_or_default();
        let raw = c.post_with_auth(body.clone(), &headers).await;
        assert_eq!(raw.status, 401, "{token:?}: {}", raw.body);
        assert_eq!(raw.json(), unauthorized(message), "{token:?}");
    }

    // A plain user: type and default-mode fields, not IAM's nor the groups'.
    let raw = c
        .post_with_auth(
            body.clone(),
            &[("authorization", &format!("Bearer {valid}"))],
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let (resolved, denied) = outcome(&raw.json());
    assert_eq!(resolved, ["post.title", "bare", "ping"]);
    assert_eq!(
        denied,
        denials(&[
            "secret on type Post",
            "editorsNote on type Post",
            "adminOnly on type Query"
        ])
    );
    // An Admin: the group-restricted fields too, never IAM's.
    let admin = c.as_user("root").groups(["Admin"]);
    let (resolved, denied) = outcome(&c.query_as(&admin, FIELDS, json!({})).await);
    assert_eq!(
        resolved,
        [
            "post.title",
            "post.editorsNote",
            "bare",
            "adminOnly",
            "ping"
        ]
    );
    assert_eq!(denied, denials(&["secret on type Post"]));
    // Group names are case-sensitive.
    let admins = c.as_user("eve").groups(["admin", "Editors"]);
    let (resolved, _) = outcome(&c.query_as(&admins, FIELDS, json!({})).await);
    assert_eq!(resolved, ["post.title", "post.editorsNote", "bare", "ping"]);

    // The identity, in AppSync's shape.
    let alice = c.as_user("alice").username("Alice").groups(["Editors"]);
    let body = c
        .query_as(&alice, "{ identity me authType }", json!({}))
        .await;
    assert_eq!(body["data"]["me"], "alice");
    assert_eq!(body["data"]["authType"], "User Pool Authorization");
    let identity = identity_of(&body);
    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_authmodes";
    assert_eq!(identity["sub"], "alice");
    assert_eq!(identity["issuer"], issuer);
    assert_eq!(identity["username"], "Alice");
    assert_eq!(identity["sourceIp"], json!(["127.0.0.1"]));
    assert_eq!(identity["defaultAuthStrategy"], "ALLOW");
    assert_eq!(identity["groups"], json!(["Editors"]));
    let claims = &identity["claims"];
    assert_eq!(claims["cognito:username"], "Alice");
    assert_eq!(claims["cognito:groups"], json!(["Editors"]));
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["aud"], "appsync-local");
    assert_eq!(claims["iss"], issuer);
    let keys: Vec<&String> = identity.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "sub",
            "issuer",
            "username",
            "claims",
            "sourceIp",
            "defaultAuthStrategy",
            "groups"
        ]
    );
    // No groups: null, not an empty list.
    let body = c
        .query_as(&c.as_user("bob"), "{ identity }", json!({}))
        .await;
    let identity = identity_of(&body);
    assert_eq!(identity["groups"], Json::Null);
}

#[tokio::test]
async fn oidc_users() {
    let c = server().await;
    let body = json!({"query": FIELDS});
    let user = c.as_user("olivia").oidc().client_id("web-app");
    let valid = user.token();
    let cases: Vec<(String, &str)> = vec![
        ("x.y".into(), "Unable to parse JWT token."),
        (
            tampered(&valid),
            "You are not authorized to make this call.",
        ),
        (
            c.as_user("olivia")
                .oidc()
                .client_id("web-app")
                .expires_in(0)
                .token(),
            "Token has expired.",
        ),
        (
            c.as_user("olivia")
                .oidc()
                .client_id("web-app")
                .claims(json!({"aud": "mobile-app"}))
                .token(),
            "You are not authorized to make this call.",
        ),
    ];
    for (token, message) in cases {
        let raw = c
            .post_with_auth(body.clone(), &[("authorization", &token)])
            .await;
        assert_eq!(raw.status, 401, "{token}: {}", raw.body);
        assert_eq!(raw.json(), unauthorized(message), "{token}");
    }
    // An additional provider: only fields naming OIDC, so `post` resolves
    // but none of its fields (Post admits API keys and Cognito), and the
    // default mode's bare field is refused.
    let raw = c
        .post_with_auth(body.clone(), &[("authorization", &valid)])
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let json = raw.json();
    let (resolved, denied) = outcome(&json);
    assert!(resolved.is_empty(), "{json}");
    assert_eq!(
        denied,
        denials(&[
            "title on type Post",
            "secret on type Post",
            "editorsNote on type Post",
            "bare on type Query",
            "adminOnly on type Query",
            "ping on type Query"
        ])
    );
    let raw = c
        .post_with_auth(
            json!({"query": "{ identity me authType }"}),
            &[("authorization", &valid)],
        )
        .await;
    let body = raw.json();
    assert_eq!(body["data"]["authType"], "Open ID Connect Authorization");
    assert_eq!(body["data"]["me"], "olivia");
    let identity = identity_of(&body);
    let keys: Vec<&String> = identity.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["sub", "issuer", "claims"]);
    assert_eq!(identity["issuer"], "https://issuer.example.com");
    assert_eq!(identity["claims"]["aud"], "web-app");
}

#[tokio::test]
async fn api_keys() {
    let c = server().await;
    let body = json!({"query": FIELDS});
    for (key, message) in [
        ("", "You are not authorized to make this call."),
        ("da2-wrong", "You are not authorized to make this call."),
        (
            "da2-authmodes-old",
            "You are not authorized to make this call.",
        ),
        ("da2-authmode", "You are not authorized to make this call."),
    ] {
        let raw = c.post_with_auth(body.clone(), &[("x-api-key", key)]).await;
        assert_eq!(raw.status, 401, "{key}");
        assert_eq!(raw.json(), unauthorized(message), "{key}");
    }
    let raw = c
        .post_with_auth(body.clone(), &[("x-api-key", "da2-authmodes")])
        .await;
    assert_eq!(raw.status, 200);
    let (resolved, denied) = outcome(&raw.json());
    assert_eq!(resolved, ["post.title", "ping"]);
    assert_eq!(
        denied,
        denials(&[
            "secret on type Post",
            "editorsNote on type Post",
            "bare on type Query",
            "adminOnly on type Query"
        ])
    );
    let raw = c
        .post_with_auth(
            json!({"query": "{ identity authType }"}),
            &[("x-api-key", "da2-authmodes")],
        )
        .await;
    let body = raw.json();
    assert_eq!(body["data"]["identity"], "null");
    assert_eq!(body["data"]["authType"], "API Key Authorization");
}

#[tokio::test]
async fn iam_signatures() {
    let c = server().await;
    let body = json!({"query": FIELDS}).to_string();
    let now = SystemTime::now();
    let user = ("AKIAAUTHMODESUSER001", "user-secret");
    // A request signed by AWS's signer passes.
    let headers = signed_headers(&c, &body, user.0, user.1, None, now);
    let raw = post_signed(&c, &body, &headers).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let (resolved, denied) = outcome(&raw.json());
    assert_eq!(resolved, ["post.secret"]);
    assert_eq!(
        denied,
        denials(&[
            "title on type Post",
            "editorsNote on type Post",
            "bare on type Query",
            "adminOnly on type Query",
            "ping on type Query"
        ])
    );
    // The body is signed: changing it breaks the signature.
    let tampered_body = body.replace("bare", "ping");
    let raw = post_signed(&c, &tampered_body, &headers).await;
    assert_eq!(raw.status, 403, "{}", raw.body);
    assert_eq!(
        raw.json()["errors"][0]["errorType"],
        "InvalidSignatureException"
    );
    type Headers = Vec<(String, String)>;
    let failures: Vec<(Headers, u16, &str)> = vec![
        (
            signed_headers(&c, &body, user.0, "wrong-secret", None, now),
            403,
            "InvalidSignatureException",
        ),
        (
            signed_headers(&c, &body, "AKIAUNKNOWNKEY000000", user.1, None, now),
            403,
            "UnrecognizedClientException",
        ),
        (
            signed_headers(
                &c,
                &body,
                user.0,
                user.1,
                None,
                now - Duration::from_secs(600),
            ),
            403,
            "InvalidSignatureException",
        ),
        (
            vec![
                ("content-type".into(), "application/json".into()),
                ("authorization".into(), "AWS4-HMAC-SHA256 garbage".into()),
            ],
            403,
            "InvalidSignatureException",
        ),
        // Temporary credentials without their session token.
        (
            signed_headers(&c, &body, "ASIAAUTHMODESPOOL001", "pool-secret", None, now),
            403,
            "UnrecognizedClientException",
        ),
    ];
    for (headers, status, error_type) in failures {
        let raw = post_signed(&c, &body, &headers).await;
        assert_eq!(raw.status, status, "{headers:?}: {}", raw.body);
        let json = raw.json();
        assert_eq!(json["errors"][0]["errorType"], error_type, "{json}");
        assert!(json.get("data").is_none(), "{json}");
    }
    let expired = signed_headers(
        &c,
        &body,
        user.0,
        user.1,
        None,
        now - Duration::from_secs(600),
    );
    let message = post_signed(&c, &body, &expired).await.json()["errors"][0]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(message.starts_with("Signature expired: "), "{message}");

    // The identities, as AppSync builds them for IAM.
    let query = json!({"query": "{ identity authType me }"}).to_string();
    let headers = signed_headers(&c, &query, user.0, user.1, None, now);
    let body = post_signed(&c, &query, &headers).await.json();
    assert_eq!(body["data"]["authType"], "IAM Authorization");
    let identity = identity_of(&body);
    let username = identity["username"].as_str().expect("username").to_owned();
    assert!(
        username.starts_with("AIDA") && username.len() == 21,
        "{username}"
    );
    assert_eq!(body["data"]["me"], username.as_str());
    assert_eq!(
        identity,
        json!({
            "accountId": "111122223333",
            "cognitoIdentityPoolId": null,
            "cognitoIdentityId": null,
            "sourceIp": ["127.0.0.1"],
            "username": username,
            "userArn": "arn:aws:iam::111122223333:user/alice",
            "cognitoIdentityAuthType": null,
            "cognitoIdentityAuthProvider": null,
        })
    );
    let headers = signed_headers(
        &c,
        &query,
        "ASIAAUTHMODESPOOL001",
        "pool-secret",
        Some("pool-session-token"),
        now,
    );
    let body = post_signed(&c, &query, &headers).await.json();
    let identity = identity_of(&body);
    assert_eq!(
        identity["cognitoIdentityPoolId"],
        "us-east-1:11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(
        identity["cognitoIdentityId"],
        "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    );
    assert_eq!(identity["cognitoIdentityAuthType"], "authenticated");
    assert_eq!(
        identity["userArn"],
        "arn:aws:sts::111122223333:assumed-role/AuthModesAuthRole/CognitoIdentityCredentials"
    );
}

/// The local issuer's routes: the JWKS, the discovery document, minting
/// over HTTP, and the identity GraphiQL shows.
#[tokio::test]
async fn issuer_routes() {
    let c = server().await;
    let jwks = get_json(&c, "/.well-known/jwks.json").await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    let token = c.as_user("alice").token();
    let header: Json = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(header["kid"], key["kid"]);
    let discovery = get_json(&c, "/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", c.base_url())
    );

    let minted: Json = c
        .http
        .post(format!("{}/admin/token", c.base_url()))
        .json(&json!({"sub": "carol", "groups": ["Admin"], "expiresIn": 60}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(minted["provider"], "AMAZON_COGNITO_USER_POOLS");
    let token = minted["token"].as_str().expect("token");
    let who: Json = c
        .http
        .get(format!("{}/admin/identity", c.base_url()))
        .header("authorization", token)
        .send()
        .await
        .expect("identity")
        .json()
        .await
        .expect("json");
    assert_eq!(who["mode"], "AMAZON_COGNITO_USER_POOLS");
    assert_eq!(who["identity"]["sub"], "carol");
    assert_eq!(who["identity"]["groups"], json!(["Admin"]));
    let refused = c
        .http
        .post(format!("{}/admin/token", c.base_url()))
        .json(&json!({"sub": "carol", "provider": "oidc", "clientId": "not-web-app"}))
        .send()
        .await
        .expect("token");
    assert_eq!(refused.status(), 400);
    let summary = get_json(&c, "/admin/auth").await;
    assert_eq!(
        summary["modes"],
        json!([
            "AMAZON_COGNITO_USER_POOLS",
            "API_KEY",
            "AWS_IAM",
            "OPENID_CONNECT"
        ])
    );
    assert_eq!(summary["tokenProviders"], json!(["cognito", "oidc"]));
}

/// Full-request caching keys on `$context.identity`, which is the verified
/// identity: a user's repeated request hits, another user's never does.
#[tokio::test]
async fn cached_results_are_never_shared_between_users() {
    let c = common::start("auth_caching").await;
    let query = "{ whoami { sub evaluation } }";
    // One token sent twice: the same identity, so the same entry.
    let alice = c.as_user("alice").token();
    let ask = |token: String| {
        let c = &c;
        async move {
            let raw = c
                .post_with_auth(json!({"query": query}), &[("authorization", &token)])
                .await;
            assert_eq!(raw.status, 200, "{}", raw.body);
            raw.json()
        }
    };
    let first = ask(alice.clone()).await;
    assert_eq!(first["data"]["whoami"]["sub"], "alice", "{first}");
    let again = ask(alice).await;
    assert_eq!(again, first, "alice's second request is a cache hit");
    let bob = c.query_as(&c.as_user("bob"), query, json!({})).await;
    assert_eq!(bob["data"]["whoami"]["sub"], "bob", "{bob}");
    assert_ne!(
        bob["data"]["whoami"]["evaluation"],
        first["data"]["whoami"]["evaluation"]
    );
}

/// `sourceIp` lists the `x-forwarded-for` entries, then the TCP peer.
#[tokio::test]
async fn source_ip_lists_forwarded_addresses_then_the_peer() {
    let c = server().await;
    let token = c.as_user("alice").token();
    let raw = c
        .post_with_auth(
            json!({"query": "{ identity }"}),
            &[
                ("authorization", &token),
                ("x-forwarded-for", "203.0.113.7, 198.51.100.2"),
            ],
        )
        .await;
    let identity = identity_of(&raw.json());
    assert_eq!(
        identity["sourceIp"],
        json!(["203.0.113.7", "198.51.100.2", "127.0.0.1"])
    );
}
