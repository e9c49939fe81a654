//! AWS_IAM: Signature Version 4 verification, header form, as AppSync's
//! clients send it (`Authorization: AWS4-HMAC-SHA256 Credential=...,
//! SignedHeaders=..., Signature=...` with `x-amz-date`).
//!
//! Hand-written: crates sign requests, none verifies one. The server
//! rebuilds the canonical request from what it received, signs it with the
//! secret of the credential the request names, and compares in constant
//! time. `tests/auth_iam.rs` checks it against AWS's own signer
//! (`aws-sigv4`) and AWS's published example.

use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::{AuthFailure, CredentialRequest};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// AppSync, like every SigV4 service, accepts a request date within five
/// minutes of its clock.
const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// A local credential from the manifest's `iamCredentials`, and whom it
/// stands for.
#[derive(Debug, Clone)]
pub struct IamCredential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Temporary credentials must send it as `x-amz-security-token`.
    pub session_token: Option<String>,
    pub account_id: String,
    pub principal: IamPrincipal,
}

#[derive(Debug, Clone)]
pub enum IamPrincipal {
    User {
        name: String,
        /// The principal id (`AIDA...`).
        user_id: String,
    },
    Role {
        name: String,
        session: String,
        role_id: String,
    },
    /// A Cognito identity pool's authenticated or unauthenticated role.
    CognitoIdentity {
        identity_pool_id: String,
        identity_id: String,
        authenticated: bool,
        role: String,
        role_id: String,
        auth_provider: Option<String>,
    },
}

impl IamCredential {
    /// `$ctx.identity` for AWS_IAM, in AppSync's field order; the four
    /// `cognito*` fields are null outside a Cognito identity pool.
    pub fn identity(&self, source_ips: &[String]) -> Json {
        let account = &self.account_id;
        let (username, user_arn, pool) = match &self.principal {
            IamPrincipal::User { name, user_id } => (
                user_id.clone(),
                format!("arn:aws:iam::{account}:user/{name}"),
                None,
            ),
            IamPrincipal::Role {
                name,
                session,
                role_id,
            } => (
                format!("{role_id}:{session}"),
                format!("arn:aws:sts::{account}:assumed-role/{name}/{session}"),
                None,
            ),
            IamPrincipal::CognitoIdentity {
                identity_pool_id,
                identity_id,
                authenticated,
                role,
                role_id,
                auth_provider,
            } => (
                format!("{role_id}:CognitoIdentityCredentials"),
                format!("arn:aws:sts::{account}:assumed-role/{role}/CognitoIdentityCredentials"),
                Some((identity_pool_id, identity_id, *authenticated, auth_provider)),
            ),
        };
        json!({
            "accountId": account,
            "cognitoIdentityPoolId": pool.map(|p| p.0),
            "cognitoIdentityId": pool.map(|p| p.1),
            "sourceIp": source_ips,
            "username": username,
            "userArn": user_arn,
            "cognitoIdentityAuthType": pool.map(|p| if p.2 { "authenticated" } else { "unauthenticated" }),
            "cognitoIdentityAuthProvider": pool.and_then(|p| p.3.as_ref()),
        })
    }
}

/// A principal id in AWS's style (`AIDA` or `AROA` and 17 characters),
/// derived from a name so it is stable across starts.
pub fn principal_id(prefix: &str, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(name.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect();
    format!("{prefix}{tail}")
}

struct Parsed<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn invalid_signature() -> AuthFailure {
    AuthFailure::InvalidSignature(
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details."
            .to_owned(),
    )
}

fn incomplete(message: &str) -> AuthFailure {
    AuthFailure::InvalidSignature(message.to_owned())
}

fn parse(authorization: &str) -> Result<Parsed<'_>, AuthFailure> {
    let rest = authorization
        .strip_prefix(ALGORITHM)
        .ok_or_else(invalid_signature)?
        .trim();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |name: &str| {
        incomplete(&format!(
            "Authorization header requires '{name}' parameter. Authorization={authorization}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region, not '{credential}'."
        )));
    }
    Ok(Parsed {
        access_key_id: scope[0],
        date: scope[1],
        region: scope[2],
        service: scope[3],
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// Verifies the request's signature; the credential it was made with.
pub fn verify<'c>(
    credentials: &'c [IamCredential],
    request: &CredentialRequest<'_>,
    authorization: &str,
) -> Result<&'c IamCredential, AuthFailure> {
    let parsed = parse(authorization)?;
    let credential = credentials
        .iter()
        .find(|c| c.access_key_id == parsed.access_key_id)
        .ok_or(AuthFailure::UnrecognizedClient)?;
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    if let Some(expected) = &credential.session_token {
        let sent = header("x-amz-security-token");
        let equal: bool = sent.as_deref().is_some_and(|sent| {
            subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes()).into()
        });
        if !equal {
            return Err(AuthFailure::UnrecognizedClient);
        }
    }
    let amz_date = header("x-amz-date").ok_or_else(|| {
        incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| {
            incomplete(&format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ))
        })?
        .and_utc()
        .timestamp();
    let now = request.now_epoch_seconds;
    let format = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default()
    };
    if signed_at < now - MAX_SKEW_SECONDS {
        return Err(AuthFailure::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            amz_date,
            format(now - MAX_SKEW_SECONDS),
            format(now)
        )));
    }
    if signed_at > now + MAX_SKEW_SECONDS {
        return Err(AuthFailure::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            amz_date,
            format(now + MAX_SKEW_SECONDS),
            format(now)
        )));
    }
    if !amz_date.starts_with(parsed.date) || parsed.service != "appsync" {
        return Err(invalid_signature());
    }
    if !parsed.signed_headers.contains(&"host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let canonical = canonical_request(request, &parsed.signed_headers);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        parsed.date, parsed.region, parsed.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &credential.secret_access_key,
        parsed.date,
        parsed.region,
        parsed.service,
    );
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let equal: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), parsed.signature.as_bytes()).into();
    if equal {
        Ok(credential)
    } else {
        Err(invalid_signature())
    }
}

/// Credentials an outbound call is signed with: the process environment's,
/// as AWS's SDKs read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl SigningCredentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
    /// `AWS_SESSION_TOKEN`), or `None` when either is unset.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(SigningCredentials {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }
}

/// Signs an outbound request in place (HTTP data sources with
/// `authorizationConfig: AWS_IAM`, remote Lambda): adds `host`,
/// `x-amz-date`, `x-amz-security-token` and `authorization`, signing every
/// header the request carries. It shares the canonical form the verifier
/// uses, which `tests/auth_iam.rs` checks against AWS's own signer.
pub fn sign(
    parts: &mut axum::http::request::Parts,
    body: &[u8],
    credentials: &SigningCredentials,
    region: &str,
    service: &str,
    now_epoch_seconds: i64,
) {
    use axum::http::HeaderValue;
    let Some(now) = chrono::DateTime::from_timestamp(now_epoch_seconds, 0) else {
        return;
    };
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    if let Some(authority) = parts.uri.authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        parts.headers.insert("host", host);
    }
    if let Ok(value) = HeaderValue::from_str(&amz_date) {
        parts.headers.insert("x-amz-date", value);
    }
    if let Some(token) = &credentials.session_token
        && let Ok(value) = HeaderValue::from_str(token)
    {
        parts.headers.insert("x-amz-security-token", value);
    }
    parts.headers.remove("authorization");
    let mut names: Vec<&str> = parts.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let canonical = canonical_request(
        &CredentialRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: Some(body),
            peer_ip: None,
            now_epoch_seconds,
        },
        &names,
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        credentials.access_key_id,
        names.join(";")
    );
    if let Ok(value) = HeaderValue::from_str(&authorization) {
        parts.headers.insert("authorization", value);
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

fn canonical_request(request: &CredentialRequest<'_>, signed_headers: &[&str]) -> String {
    // Services other than S3 encode the (already encoded) path once more.
    let path = if request.path.is_empty() {
        "/".to_owned()
    } else {
        request
            .path
            .split('/')
            .map(encode)
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut query: Vec<(String, String)> = request
        .query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (encode(&decode(key)), encode(&decode(value)))
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    let payload = hex::encode(Sha256::digest(request.body.unwrap_or_default()));
    format!(
        "{}\n{path}\n{query}\n{headers}\n{}\n{payload}",
        request.method,
        signed_headers.join(";")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example: GET with `x-amz-date` and `host`, the
    /// `get-vanilla` case of the SigV4 test suite (service `service`, so
    /// this checks the canonical form and the key chain only).
    #[test]
    fn the_key_chain_and_canonical_form_match_aws_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let request = CredentialRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: None,
            peer_ip: None,
            now_epoch_seconds: 0,
        };
        let canonical = canonical_request(&request, &["host", "x-amz-date"]);
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        let string_to_sign = format!(
            "{ALGORITHM}\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = signing_key(secret, "20150830", "us-east-1", "service");
        assert_eq!(
            hex::encode(hmac(&key, string_to_sign.as_bytes())),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// What `sign` writes, `verify` accepts; a changed body is refused.
    #[test]
    fn signed_requests_verify() {
        let credential = IamCredential {
            access_key_id: "AKIDLOCAL".into(),
            secret_access_key: "secret/key".into(),
            session_token: Some("session".into()),
            account_id: "000000000000".into(),
            principal: IamPrincipal::User {
                name: "dev".into(),
                user_id: "AIDALOCAL".into(),
            },
        };
        let signing = SigningCredentials {
            access_key_id: credential.access_key_id.clone(),
            secret_access_key: credential.secret_access_key.clone(),
            session_token: credential.session_token.clone(),
        };
        let now = 1_800_000_000;
        let body = br#"{"query":"{ a }"}"#;
        let request = axum::http::Request::post("http://127.0.0.1:4000/graphql?x=a%20b")
            .header("content-type", "application/json")
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        sign(&mut parts, body, &signing, "us-east-1", "appsync", now);
        let authorization = parts.headers["authorization"].to_str().unwrap().to_owned();
        assert!(
            authorization
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")
        );
        let received = |body: &'static [u8]| CredentialRequest {
            method: "POST",
            path: "/graphql",
            query: "x=a%20b",
            headers: &parts.headers,
            body: Some(body),
            peer_ip: None,
            now_epoch_seconds: now,
        };
        let credentials = [credential];
        assert!(verify(&credentials, &received(body), &authorization).is_ok());
        assert!(verify(&credentials, &received(b"{}"), &authorization).is_err());
    }

    #[test]
    fn principal_ids_are_stable_and_shaped_like_aws() {
        let id = principal_id("AIDA", "alice");
        assert_eq!(id, principal_id("AIDA", "alice"));
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
        assert_ne!(id, principal_id("AIDA", "bob"));
    }
}
