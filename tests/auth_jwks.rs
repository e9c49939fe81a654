//! An OIDC provider's keys come from its discovery document, are cached,
//! and are fetched again when a token names a key the set lacks (a key
//! rotation), but not for every forged `kid`. The issuer here is a local
//! HTTP server whose JWKS the test swaps; the local issuer is off, so only
//! the fetched keys can verify.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use appsync_local::testing::TestServer;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value as Json, json};

struct Key {
    kid: &'static str,
    private: rsa::RsaPrivateKey,
}

impl Key {
    fn new(kid: &'static str) -> Key {
        Key {
            kid,
            private: rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("a key"),
        }
    }

    fn jwk(&self) -> Json {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(self.private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(self.private.e().to_bytes_be()),
        })
    }

    fn sign(&self, kid: &str, claims: &Json) -> String {
        let der = self.private.to_pkcs1_der().expect("der");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes()))
            .expect("signed")
    }
}

#[derive(Clone, Default)]
struct Issuer {
    keys: Arc<Mutex<Vec<Json>>>,
    fetches: Arc<AtomicUsize>,
}

#[tokio::test]
async fn keys_are_fetched_cached_and_refetched_on_rotation() {
    let issuer = Issuer::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = {
        let jwks_uri = format!("{base}/keys");
        let state = issuer.clone();
        axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { axum::Json(json!({"jwks_uri": jwks_uri})) }),
            )
            .route(
                "/keys",
                get(move || async move {
                    state.fetches.fetch_add(1, Ordering::SeqCst);
                    let keys = state.keys.lock().expect("keys").clone();
                    axum::Json(json!({ "keys": keys }))
                }),
            )
    };
    tokio::spawn(async move { axum::serve(listener, router).await });

    let project = tempfile::tempdir().expect("project");
    std::fs::write(
        project.path().join("appsync.yaml"),
        format!(
            "name: oidc\nauthentication:\n  type: OPENID_CONNECT\n  config:\n    issuer: {base}\n    clientId: app\ndataSources:\n  none:\n    type: NONE\nresolvers:\n  Query.me:\n    dataSource: none\n"
        ),
    )
    .expect("manifest");
    std::fs::write(
        project.path().join("schema.graphql"),
        "type Query { me: String }\n",
    )
    .expect("schema");
    std::fs::create_dir(project.path().join("resolvers")).expect("resolvers");
    std::fs::write(
        project.path().join("resolvers/Query.me.req.vtl"),
        r#"{"version": "2018-05-29", "payload": {}}"#,
    )
    .expect("template");
    std::fs::write(
        project.path().join("resolvers/Query.me.res.vtl"),
        "$util.toJson($ctx.identity.sub)",
    )
    .expect("template");
    let server = TestServer::builder(project.path())
        .local_issuer(false)
        .start()
        .await
        .expect("server");
    let client = common::Client::new(server);
    // Without the local issuer there is nothing to mint with.
    assert!(
        client
            .token(&appsync_local::auth::TokenRequest {
                sub: "x".into(),
                ..Default::default()
            })
            .is_err()
    );

    let first = Key::new("first");
    let second = Key::new("second");
    issuer.keys.lock().expect("keys").push(first.jwk());
    let now = chrono::Utc::now().timestamp();
    let claims =
        |sub: &str| json!({"iss": base, "sub": sub, "aud": "app", "iat": now, "exp": now + 600});
    let me = |token: String| {
        let client = &client;
        async move {
            let raw = client
                .post_with_auth(json!({"query": "{ me }"}), &[("authorization", &token)])
                .await;
            (raw.status, raw.json())
        }
    };

    let (status, body) = me(first.sign("first", &claims("ann"))).await;
    assert_eq!(
        (status, &body["data"]["me"]),
        (200, &json!("ann")),
        "{body}"
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
    // Cached: another token under the same key fetches nothing.
    let (status, _) = me(first.sign("first", &claims("ben"))).await;
    assert_eq!(status, 200);
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);

    // The issuer rotates: a token under the new key fetches the set again.
    issuer.keys.lock().expect("keys").push(second.jwk());
    let (status, body) = me(second.sign("second", &claims("cat"))).await;
    assert_eq!(
        (status, &body["data"]["me"]),
        (200, &json!("cat")),
        "{body}"
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2);

    // A forged kid fetches once, then is refused without fetching.
    for expected_fetches in [3, 3] {
        let (status, body) = me(first.sign("forged", &claims("eve"))).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(issuer.fetches.load(Ordering::SeqCst), expected_fetches);
    }
    // A token signed by a key the issuer does not publish, under a kid it
    // does, fails its signature check.
    let (status, body) = me(second.sign("first", &claims("eve"))).await;
    assert_eq!(status, 401, "{body}");
}
