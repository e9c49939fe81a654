//! Authorization, decided here and nowhere else: which mode a request uses,
//! whether its credential holds, the `$ctx.identity` it yields, and which
//! fields that identity may read.
//!
//! A request is authenticated once, before execution ([`AuthConfig::authenticate`]):
//!
//! 1. `x-api-key` present and API_KEY configured: the key must be listed
//!    and unexpired. An invalid key with an `Authorization` header beside it
//!    falls through to the header.
//! 2. `Authorization: AWS4-HMAC-SHA256 ...` and AWS_IAM configured: the
//!    SigV4 signature must verify against a credential of `iamCredentials`.
//! 3. `Authorization` holding a JWT (`Bearer ` allowed) and a Cognito or
//!    OIDC provider configured: the provider whose issuer is the token's
//!    `iss` verifies it (signature, expiry, client id, `token_use`).
//! 4. Any other `Authorization` value with AWS_LAMBDA configured: the Lambda
//!    authorizer.
//!
//! AppSync does not document its order; this one is the peers' (amplify's
//! simulator) and never lets a weaker credential shadow a failing stronger
//! one. A missing or invalid credential fails the whole request
//! ([`AuthFailure`]); a valid one yields a [`Principal`], and each field is
//! then checked with [`field_allowed`].

mod issuer;
mod jwt;
mod lambda;
pub(crate) mod sigv4;

use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::graphql::AuthType;
use crate::model::schema::AuthDirective;

pub use issuer::{
    DEFAULT_EXPIRES_IN, IssuerError, LocalIssuer, MintedToken, TokenProvider, TokenRequest,
};
pub use jwt::{
    CognitoConfig, DefaultAction, FetchError, JwksSource, JwtProvider, JwtProviderKind, OidcConfig,
    client_pattern, fetch_json,
};
pub use lambda::{DEFAULT_RESULT_TTL_SECONDS, LambdaAuthorizer};
pub use sigv4::IamCredential;

/// An API key from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub value: String,
    /// Expiry in epoch seconds; `None` never expires.
    pub expires: Option<i64>,
}

impl ApiKey {
    /// Unexpired at `now` (epoch seconds): expiry is exclusive.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires.is_none_or(|expires| now < expires)
    }
}

/// How requests to an API are authorized: the modes and what each checks
/// credentials against.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// The API's default mode plus additional modes, in manifest order.
    pub modes: Vec<AuthType>,
    pub api_keys: Vec<ApiKey>,
    /// Cognito user pools and OIDC issuers, the default provider first when
    /// it is one.
    pub jwt: Vec<Arc<JwtProvider>>,
    pub iam: Vec<IamCredential>,
    pub lambda: Option<LambdaAuthorizer>,
    /// Signs tokens every JWT provider accepts beside its own keys; `None`
    /// under `serve --no-local-issuer`.
    pub issuer: Option<Arc<LocalIssuer>>,
    /// Verified tokens by their bytes, until they expire.
    pub token_cache: jwt::TokenCache,
}

/// What a request presents, as far as authentication is concerned.
#[derive(Debug, Clone, Copy)]
pub struct CredentialRequest<'a> {
    pub method: &'a str,
    /// The path as received, still percent-encoded.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a axum::http::HeaderMap,
    /// The body, for SigV4's payload hash; `None` reads as empty.
    pub body: Option<&'a [u8]>,
    /// The TCP peer.
    pub peer_ip: Option<&'a str>,
    pub now_epoch_seconds: i64,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub auth_type: AuthType,
    /// `$ctx.identity`, in AppSync's shape for the mode (null for API keys).
    pub identity: Arc<Json>,
    /// `cognito:groups` of a Cognito user.
    pub groups: Vec<String>,
    /// Whether the credential matched the API's default provider, rather
    /// than an additional provider of the same mode.
    pub default_provider: bool,
    /// `Type.field` names a Lambda authorizer denied.
    pub denied_fields: Vec<String>,
}

/// An API key's caller on an API whose default mode is API_KEY (and the
/// caller of an API with no mode at all).
impl Default for Principal {
    fn default() -> Self {
        Principal {
            auth_type: AuthType::ApiKey,
            identity: Arc::new(Json::Null),
            groups: Vec::new(),
            default_provider: true,
            denied_fields: Vec::new(),
        }
    }
}

/// Why a request was refused before execution, in AppSync's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// 401 `UnauthorizedException`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `InvalidSignatureException`: SigV4 signature or date.
    #[error("{0}")]
    InvalidSignature(String),
    /// 403 `UnrecognizedClientException`: an unknown access key or session
    /// token.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
}

/// AppSync's message for a refused API key or a denying Lambda authorizer.
pub const NOT_AUTHORIZED: &str = "You are not authorized to make this call.";

impl AuthFailure {
    pub(crate) fn not_authorized() -> AuthFailure {
        AuthFailure::Unauthorized(NOT_AUTHORIZED.to_owned())
    }

    pub fn status(&self) -> u16 {
        match self {
            AuthFailure::Unauthorized(_) => 401,
            AuthFailure::InvalidSignature(_) | AuthFailure::UnrecognizedClient => 403,
        }
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            AuthFailure::Unauthorized(_) => "UnauthorizedException",
            AuthFailure::InvalidSignature(_) => "InvalidSignatureException",
            AuthFailure::UnrecognizedClient => "UnrecognizedClientException",
        }
    }
}

impl AuthConfig {
    /// An API that only takes API keys.
    pub fn api_keys(keys: Vec<ApiKey>) -> AuthConfig {
        AuthConfig {
            modes: vec![AuthType::ApiKey],
            api_keys: keys,
            ..AuthConfig::default()
        }
    }

    pub fn default_mode(&self) -> AuthType {
        self.modes.first().copied().unwrap_or_default()
    }

    /// Whether the default provider is a Cognito pool with
    /// `defaultAction: DENY`, which closes fields without directives.
    pub fn cognito_default_deny(&self) -> bool {
        self.default_mode() == AuthType::AmazonCognitoUserPools
            && self.jwt.first().is_some_and(|p| {
                matches!(&p.kind, JwtProviderKind::Cognito(c) if c.default_action == DefaultAction::Deny)
            })
    }

    fn has(&self, mode: AuthType) -> bool {
        self.modes.contains(&mode)
    }

    fn has_jwt(&self) -> bool {
        self.has(AuthType::AmazonCognitoUserPools) || self.has(AuthType::OpenidConnect)
    }

    /// Authenticates a request (see the module documentation for the order).
    pub async fn authenticate(
        &self,
        request: &CredentialRequest<'_>,
    ) -> Result<Principal, AuthFailure> {
        // An API with no mode at all (a bare project) is open.
        if self.modes.is_empty() {
            return Ok(Principal::default());
        }
        let authorization = request
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()))
            .map(|value| match value {
                std::borrow::Cow::Borrowed(text) => std::borrow::Cow::Borrowed(text.trim()),
                std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text.trim().to_owned()),
            })
            .filter(|value| !value.is_empty());
        if self.has(AuthType::ApiKey)
            && let Some(key) = request.headers.get("x-api-key")
        {
            let key = String::from_utf8_lossy(key.as_bytes());
            if api_key_is_valid(&self.api_keys, &key, request.now_epoch_seconds) {
                return Ok(Principal {
                    auth_type: AuthType::ApiKey,
                    default_provider: self.default_mode() == AuthType::ApiKey,
                    ..Principal::default()
                });
            }
            if authorization.is_none() {
                return Err(AuthFailure::not_authorized());
            }
        }
        let Some(authorization) = authorization else {
            // Cognito and OIDC APIs word a missing header their own way.
            return Err(if self.has_jwt() {
                AuthFailure::Unauthorized("Valid authorization header not provided.".to_owned())
            } else {
                AuthFailure::not_authorized()
            });
        };
        if self.has(AuthType::AwsIam) && authorization.starts_with(sigv4::ALGORITHM) {
            let credential = sigv4::verify(&self.iam, request, &authorization)?;
            return Ok(Principal {
                auth_type: AuthType::AwsIam,
                identity: Arc::new(credential.identity(&source_ips(request))),
                default_provider: self.default_mode() == AuthType::AwsIam,
                ..Principal::default()
            });
        }
        if self.has_jwt() && (!self.has(AuthType::AwsLambda) || jwt::looks_like_jwt(&authorization))
        {
            return self.authenticate_jwt(&authorization, request).await;
        }
        if self.has(AuthType::AwsLambda)
            && let Some(authorizer) = &self.lambda
        {
            let mut principal = authorizer.authorize(&authorization, request).await?;
            principal.default_provider = self.default_mode() == AuthType::AwsLambda;
            return Ok(principal);
        }
        Err(AuthFailure::not_authorized())
    }

    async fn authenticate_jwt(
        &self,
        authorization: &str,
        request: &CredentialRequest<'_>,
    ) -> Result<Principal, AuthFailure> {
        let token = authorization
            .strip_prefix("Bearer ")
            .unwrap_or(authorization)
            .trim();
        let sole_mode = self.modes.len() == 1;
        let verified = jwt::verify(
            token,
            &self.jwt,
            self.issuer.as_deref(),
            &self.token_cache,
            sole_mode,
            request.now_epoch_seconds,
        )
        .await?;
        let provider = &self.jwt[verified.provider];
        let default_provider =
            verified.provider == 0 && provider.kind.auth_type() == self.default_mode();
        let ips = source_ips(request);
        let (identity, groups) = verified.identity(provider, &ips);
        Ok(Principal {
            auth_type: provider.kind.auth_type(),
            identity,
            groups,
            default_provider,
            denied_fields: Vec::new(),
        })
    }

    /// The `/admin/auth` summary GraphiQL's auth panel reads.
    pub fn summary(&self) -> Json {
        let providers: Vec<&str> = if self.issuer.is_some() {
            let mut kinds = Vec::new();
            for provider in &self.jwt {
                let name = provider.kind.token_provider().name();
                if !kinds.contains(&name) {
                    kinds.push(name);
                }
            }
            kinds
        } else {
            Vec::new()
        };
        json!({
            "defaultMode": self.default_mode(),
            "modes": self.modes,
            "apiKeys": self.api_keys.iter().map(|key| json!({
                "name": key.name,
                "value": key.value,
                "expires": key.expires,
            })).collect::<Vec<_>>(),
            "tokenProviders": providers,
        })
    }

    /// Mints a token with the local issuer for the project's first provider
    /// of the requested kind.
    pub fn mint(&self, request: &TokenRequest, now: i64) -> Result<MintedToken, IssuerError> {
        let provider = match request.provider {
            Some(kind) => self
                .jwt
                .iter()
                .find(|p| p.kind.token_provider() == kind)
                .ok_or(IssuerError::NoProvider(kind))?,
            None => self.jwt.first().ok_or(IssuerError::NoJwtProvider)?,
        };
        let issuer = self.issuer.as_ref().ok_or(IssuerError::Disabled)?;
        issuer.mint(provider, request, now)
    }
}

/// A key is valid when it is listed and not expired. AppSync keeps expired
/// keys for 60 days but rejects them, so expiry is checked here. Every
/// listed key is compared in constant time, so timing tells nothing of a
/// key's prefix.
pub fn api_key_is_valid(keys: &[ApiKey], presented: &str, now: i64) -> bool {
    let mut found = false;
    for key in keys {
        let equal: bool =
            subtle::ConstantTimeEq::ct_eq(key.value.as_bytes(), presented.as_bytes()).into();
        found |= equal && key.is_live(now);
    }
    found
}

/// `sourceIp`: the `x-forwarded-for` entries, then the TCP peer, as AppSync
/// lists them.
fn source_ips(request: &CredentialRequest<'_>) -> Vec<String> {
    let mut ips: Vec<String> = request
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(',')
                .map(|ip| ip.trim().to_owned())
                .filter(|ip| !ip.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    if let Some(peer) = request.peer_ip {
        ips.push(peer.to_owned());
    }
    ips
}

/// Settles who may read each field of an object type: the field's
/// directives, else its type's, else the default mode, which with Cognito's
/// `defaultAction: DENY` admits nobody.
pub fn settle_field_rules(
    field: &[AuthDirective],
    parent_type: &[AuthDirective],
    default_mode: AuthType,
    cognito_default_deny: bool,
) -> Vec<AuthDirective> {
    if !field.is_empty() {
        return field.to_vec();
    }
    if !parent_type.is_empty() {
        return parent_type.to_vec();
    }
    if cognito_default_deny {
        return Vec::new();
    }
    vec![AuthDirective {
        mode: default_mode,
        cognito_groups: None,
        default_provider_only: true,
    }]
}

/// Whether the request's principal may read a field with these rules.
pub fn field_allowed(rules: &[AuthDirective], principal: &Principal) -> bool {
    rules.iter().any(|rule| {
        rule.mode == principal.auth_type
            && (!rule.default_provider_only || principal.default_provider)
            && match &rule.cognito_groups {
                None => true,
                Some(groups) => {
                    principal.auth_type == AuthType::AmazonCognitoUserPools
                        && groups.iter().any(|g| principal.groups.contains(g))
                }
            }
    })
}

/// Whether a Lambda authorizer denied `Type.field` (or its ARN form).
pub fn field_denied(principal: &Principal, parent_type: &str, field: &str) -> bool {
    if principal.denied_fields.is_empty() {
        return false;
    }
    let short = format!("{parent_type}.{field}");
    let arn_tail = format!("/types/{parent_type}/fields/{field}");
    principal
        .denied_fields
        .iter()
        .any(|denied| *denied == short || denied.ends_with(&arn_tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keys: &[(&str, Option<i64>)]) -> Vec<ApiKey> {
        keys.iter()
            .map(|(value, expires)| ApiKey {
                name: (*value).to_owned(),
                value: (*value).to_owned(),
                expires: *expires,
            })
            .collect()
    }

    #[test]
    fn api_key_validity() {
        let keys = keys(&[("da2-live", None), ("da2-old", Some(1_000))]);
        let cases = [
            ("da2-live", 5_000, true),
            ("da2-old", 999, true),
            // Expiry is exclusive: at the expiry second the key is dead.
            ("da2-old", 1_000, false),
            ("da2-old", 5_000, false),
            ("da2-unknown", 0, false),
            ("da2-liv", 0, false),
            ("", 0, false),
        ];
        for (key, now, expected) in cases {
            assert_eq!(
                api_key_is_valid(&keys, key, now),
                expected,
                "{key} at {now}"
            );
        }
    }

    fn context(auth_type: AuthType, groups: &[&str], default_provider: bool) -> Principal {
        Principal {
            auth_type,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            default_provider,
            ..Principal::default()
        }
    }

    #[test]
    fn field_rules_follow_appsync_precedence() {
        let api_key = AuthDirective::mode(AuthType::ApiKey);
        let iam = AuthDirective::mode(AuthType::AwsIam);
        let admins = AuthDirective {
            cognito_groups: Some(vec!["Admin".into()]),
            ..AuthDirective::mode(AuthType::AmazonCognitoUserPools)
        };
        // A field's directives replace its type's.
        let rules = settle_field_rules(
            std::slice::from_ref(&iam),
            &[api_key.clone(), iam.clone()],
            AuthType::ApiKey,
            false,
        );
        assert!(!field_allowed(
            &rules,
            &context(AuthType::ApiKey, &[], true)
        ));
        assert!(field_allowed(
            &rules,
            &context(AuthType::AwsIam, &[], false)
        ));
        // No directive anywhere: the default provider only.
        let rules = settle_field_rules(&[], &[], AuthType::AmazonCognitoUserPools, false);
        assert!(field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &[], true)
        ));
        assert!(!field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &[], false)
        ));
        assert!(!field_allowed(
            &rules,
            &context(AuthType::ApiKey, &[], false)
        ));
        // Cognito with defaultAction DENY: a bare field admits nobody.
        let rules = settle_field_rules(&[], &[], AuthType::AmazonCognitoUserPools, true);
        assert!(!field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &[], true)
        ));
        // Groups restrict to members, case-sensitively.
        let rules = settle_field_rules(std::slice::from_ref(&admins), &[], AuthType::ApiKey, false);
        assert!(field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &["Admin"], false)
        ));
        assert!(!field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &["admin"], true)
        ));
        assert!(!field_allowed(
            &rules,
            &context(AuthType::AmazonCognitoUserPools, &[], true)
        ));
    }

    #[test]
    fn denied_fields_match_short_and_arn_forms() {
        let mut ctx = context(AuthType::AwsLambda, &[], true);
        ctx.denied_fields = vec![
            "Post.secret".into(),
            "arn:aws:appsync:us-east-1:111122223333:apis/api/types/Query/fields/listPosts".into(),
        ];
        assert!(field_denied(&ctx, "Post", "secret"));
        assert!(field_denied(&ctx, "Query", "listPosts"));
        assert!(!field_denied(&ctx, "Post", "title"));
    }
}
