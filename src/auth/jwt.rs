//! Cognito user pools and OIDC issuers: JWT verification against a JWKS
//! (a local file, a URL, the issuer's discovery document, and the local
//! issuer's key), the provider checks AppSync makes, and the identity a
//! verified token yields.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value as Json, json};

use super::issuer::{LocalIssuer, TokenProvider};
use super::{AuthFailure, NOT_AUTHORIZED};
use crate::graphql::AuthType;

/// A fetched JWKS is fetched again after this long.
const JWKS_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// A `kid` the JWKS lacks triggers one refetch (a key rotation); the same
/// `kid` again within this window does not, and at most
/// [`UNKNOWN_KID_FETCHES`] refetches happen in it, so a flood of forged
/// tokens cannot turn into a flood of fetches.
const UNKNOWN_KID_WINDOW: Duration = Duration::from_secs(60);
const UNKNOWN_KID_FETCHES: usize = 10;
/// How long a JWKS or discovery fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Verified tokens kept at most.
const TOKEN_CACHE_ENTRIES: u64 = 10_000;

/// Cognito's `defaultAction`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DefaultAction {
    #[default]
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub struct CognitoConfig {
    pub user_pool_id: String,
    pub aws_region: String,
    pub default_action: DefaultAction,
    pub app_id_client_regex: Option<fancy_regex::Regex>,
}

#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `clientId`: a pattern (`a|b`) the token's `aud` or `azp` must match.
    pub client_id: Option<fancy_regex::Regex>,
    /// Milliseconds a token stays valid after `iat`; 0 does not check.
    pub iat_ttl_ms: u64,
    /// Milliseconds a token stays valid after `auth_time`; 0 does not check.
    pub auth_ttl_ms: u64,
}

#[derive(Debug, Clone)]
pub enum JwtProviderKind {
    Cognito(CognitoConfig),
    Oidc(OidcConfig),
}

impl JwtProviderKind {
    pub fn auth_type(&self) -> AuthType {
        match self {
            JwtProviderKind::Cognito(_) => AuthType::AmazonCognitoUserPools,
            JwtProviderKind::Oidc(_) => AuthType::OpenidConnect,
        }
    }

    pub fn token_provider(&self) -> TokenProvider {
        match self {
            JwtProviderKind::Cognito(_) => TokenProvider::Cognito,
            JwtProviderKind::Oidc(_) => TokenProvider::Oidc,
        }
    }
}

/// Where a provider's signing keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// Read at load (`jwks:` naming a file).
    Keys(JwkSet),
    /// `jwks:` naming a URL, or Cognito's well-known JWKS URL.
    Url(String),
    /// The issuer's `/.well-known/openid-configuration`, then its `jwks_uri`.
    Discovery(String),
}

impl JwksSource {
    /// A JWKS document given in place.
    pub fn from_json(document: Json) -> Result<JwksSource, serde_json::Error> {
        serde_json::from_value(document).map(JwksSource::Keys)
    }
}

/// Why a JWKS or discovery document could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(String);

/// A Cognito user pool or OIDC issuer.
#[derive(Debug)]
pub struct JwtProvider {
    pub kind: JwtProviderKind,
    /// The `iss` its tokens carry.
    pub issuer: String,
    pub source: JwksSource,
    keys: RwLock<Option<(Instant, Arc<JwkSet>)>>,
    /// Refetches for unknown `kid`s within [`UNKNOWN_KID_WINDOW`].
    unknown_kids: Mutex<Vec<(Instant, Option<String>)>>,
}

impl JwtProvider {
    pub fn new(kind: JwtProviderKind, issuer: String, source: JwksSource) -> JwtProvider {
        let keys = match &source {
            JwksSource::Keys(set) => Some((Instant::now(), Arc::new(set.clone()))),
            _ => None,
        };
        JwtProvider {
            kind,
            issuer,
            source,
            keys: RwLock::new(keys),
            unknown_kids: Mutex::new(Vec::new()),
        }
    }

    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub fn cognito_issuer(region: &str, user_pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
    }

    pub fn client_pattern(&self) -> Option<&fancy_regex::Regex> {
        match &self.kind {
            JwtProviderKind::Cognito(c) => c.app_id_client_regex.as_ref(),
            JwtProviderKind::Oidc(o) => o.client_id.as_ref(),
        }
    }

    /// Fetches the provider's JWKS now; the loader calls this at start when
    /// nothing else could verify its tokens.
    pub async fn prefetch(&self) -> Result<(), FetchError> {
        self.fetch().await.map(|_| ())
    }

    async fn fetch(&self) -> Result<Arc<JwkSet>, FetchError> {
        let url = match &self.source {
            JwksSource::Keys(set) => return Ok(Arc::new(set.clone())),
            JwksSource::Url(url) => url.clone(),
            JwksSource::Discovery(issuer) => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let document = fetch_json(&discovery).await?;
                document
                    .get("jwks_uri")
                    .and_then(Json::as_str)
                    .ok_or_else(|| FetchError(format!("{discovery} names no jwks_uri")))?
                    .to_owned()
            }
        };
        let document = fetch_json(&url).await?;
        let set: JwkSet = serde_json::from_value(document)
            .map_err(|e| FetchError(format!("{url} is not a JWKS: {e}")))?;
        let set = Arc::new(set);
        if let Ok(mut keys) = self.keys.write() {
            *keys = Some((Instant::now(), set.clone()));
        }
        Ok(set)
    }

    /// The key `kid` names: from the cached JWKS, else from a fresh fetch
    /// (a stale set, or a `kid` it lacks: see [`UNKNOWN_KID_WINDOW`]).
    async fn key(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let cached = self.keys.read().ok().and_then(|keys| keys.clone());
        if matches!(self.source, JwksSource::Keys(_)) {
            return cached.and_then(|(_, set)| find_key(&set, kid));
        }
        let stale = cached
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() > JWKS_MAX_AGE);
        if !stale
            && let Some((_, set)) = &cached
            && let Some(key) = find_key(set, kid)
        {
            return Some(key);
        }
        if !stale && !self.may_refetch_for(kid) {
            return None;
        }
        match self.fetch().await {
            Ok(set) => find_key(&set, kid),
            Err(message) => {
                tracing::warn!("cannot fetch the JWKS of {}: {message}", self.issuer);
                cached.and_then(|(_, set)| find_key(&set, kid))
            }
        }
    }

    /// Whether a `kid` missing from a fresh JWKS may fetch it again.
    fn may_refetch_for(&self, kid: Option<&str>) -> bool {
        let Ok(mut recent) = self.unknown_kids.lock() else {
            return false;
        };
        recent.retain(|(at, _)| at.elapsed() < UNKNOWN_KID_WINDOW);
        if recent.len() >= UNKNOWN_KID_FETCHES || recent.iter().any(|(_, k)| k.as_deref() == kid) {
            return false;
        }
        recent.push((Instant::now(), kid.map(str::to_owned)));
        true
    }

    /// `$ctx.identity` for a verified token, and the user's groups.
    pub fn identity(
        &self,
        claims: &Map<String, Json>,
        source_ips: &[String],
    ) -> (Json, Vec<String>) {
        let text = |name: &str| claims.get(name).cloned().unwrap_or(Json::Null);
        match &self.kind {
            JwtProviderKind::Cognito(config) => {
                let groups: Option<Vec<String>> = claims.get("cognito:groups").map(|g| match g {
                    Json::Array(items) => items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect(),
                    Json::String(one) => vec![one.clone()],
                    _ => Vec::new(),
                });
                // ID tokens name the user `cognito:username`, access tokens
                // `username`.
                let username = claims
                    .get("cognito:username")
                    .or_else(|| claims.get("username"))
                    .cloned()
                    .unwrap_or(Json::Null);
                let identity = json!({
                    "sub": text("sub"),
                    "issuer": text("iss"),
                    "username": username,
                    "claims": Json::Object(claims.clone()),
                    "sourceIp": source_ips,
                    "defaultAuthStrategy": match config.default_action {
                        DefaultAction::Allow => "ALLOW",
                        DefaultAction::Deny => "DENY",
                    },
                    "groups": groups,
                });
                (identity, groups.unwrap_or_default())
            }
            JwtProviderKind::Oidc(_) => (
                json!({
                    "sub": text("sub"),
                    "issuer": text("iss"),
                    "claims": Json::Object(claims.clone()),
                }),
                Vec::new(),
            ),
        }
    }
}

fn find_key(set: &JwkSet, kid: Option<&str>) -> Option<DecodingKey> {
    let jwk = match kid {
        Some(kid) => set.find(kid)?,
        // A token without `kid` is tried against a set of one key only.
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    DecodingKey::from_jwk(jwk).ok()
}

/// A verified token, cached by its bytes until it expires.
#[derive(Debug)]
pub struct Verified {
    pub provider: usize,
    pub claims: Map<String, Json>,
    pub exp: i64,
    /// The identity last built from this token, with the source addresses
    /// it was built for: a user's next request from the same address
    /// shares it instead of building it again.
    identity: Mutex<Option<IdentityMemo>>,
}

/// Source addresses, the identity built for them, and the groups.
type IdentityMemo = (Vec<String>, Arc<Json>, Vec<String>);

impl Verified {
    /// `$ctx.identity` and the groups, for requests from `source_ips`.
    pub fn identity(
        &self,
        provider: &JwtProvider,
        source_ips: &[String],
    ) -> (Arc<Json>, Vec<String>) {
        if let Ok(memo) = self.identity.lock()
            && let Some((ips, identity, groups)) = memo.as_ref()
            && ips.as_slice() == source_ips
        {
            return (identity.clone(), groups.clone());
        }
        let (identity, groups) = provider.identity(&self.claims, source_ips);
        let identity = Arc::new(identity);
        if let Ok(mut memo) = self.identity.lock() {
            *memo = Some((source_ips.to_vec(), identity.clone(), groups.clone()));
        }
        (identity, groups)
    }
}

/// Verified tokens by their bytes, each until its `exp`, so a user's next
/// request skips the signature check.
#[derive(Clone)]
// Fx rather than SipHash: only verified tokens are stored, so no one can
// choose colliding keys, and hashing a 1 KB token is most of a hit's cost.
pub struct TokenCache(moka::sync::Cache<Arc<str>, Arc<Verified>, rustc_hash::FxBuildHasher>);

struct UntilExp;

impl moka::Expiry<Arc<str>, Arc<Verified>> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Arc<Verified>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Some(Duration::from_secs(
            value.exp.saturating_sub(now).max(0) as u64
        ))
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache(
            moka::sync::Cache::builder()
                .max_capacity(TOKEN_CACHE_ENTRIES)
                .expire_after(UntilExp)
                .build_with_hasher(rustc_hash::FxBuildHasher),
        )
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.0.entry_count())
            .finish()
    }
}

/// Three base64url parts, the first a JSON object: worth verifying as a JWT.
pub fn looks_like_jwt(authorization: &str) -> bool {
    let token = authorization
        .strip_prefix("Bearer ")
        .unwrap_or(authorization);
    let mut parts = token.trim().split('.');
    let header = parts.next().unwrap_or_default();
    parts.clone().count() == 2
        && URL_SAFE_NO_PAD
            .decode(header.trim_end_matches('='))
            .ok()
            .is_some_and(|bytes| bytes.first() == Some(&b'{'))
}

fn unauthorized() -> AuthFailure {
    AuthFailure::Unauthorized(NOT_AUTHORIZED.to_owned())
}

fn unparsable() -> AuthFailure {
    AuthFailure::Unauthorized("Unable to parse JWT token.".to_owned())
}

fn expired() -> AuthFailure {
    AuthFailure::Unauthorized("Token has expired.".to_owned())
}

/// Compiles a client id pattern to match whole ids, as Java's
/// `String.matches` does.
pub fn client_pattern(source: &str) -> Result<fancy_regex::Regex, fancy_regex::Error> {
    fancy_regex::Regex::new(&format!("^(?:{source})$"))
}

/// `pattern` (from [`client_pattern`]) matches `text`.
pub(crate) fn full_match(pattern: &fancy_regex::Regex, text: &str) -> bool {
    pattern.is_match(text).unwrap_or(false)
}

/// The pattern as the user wrote it.
pub(crate) fn pattern_source(pattern: &fancy_regex::Regex) -> &str {
    let source = pattern.as_str();
    source
        .strip_prefix("^(?:")
        .and_then(|s| s.strip_suffix(")$"))
        .unwrap_or(source)
}

/// Verifies a token against the providers (the local issuer's key
/// included), checking the cache first.
pub async fn verify(
    token: &str,
    providers: &[Arc<JwtProvider>],
    issuer: Option<&LocalIssuer>,
    cache: &TokenCache,
    sole_mode: bool,
    now: i64,
) -> Result<Arc<Verified>, AuthFailure> {
    if let Some(hit) = cache.0.get(token) {
        return if hit.exp > now {
            Ok(hit)
        } else {
            Err(expired())
        };
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| unparsable())?;
    let payload = token.split('.').nth(1).ok_or_else(unparsable)?;
    let unverified: Map<String, Json> = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(unparsable)?;
    let iss = unverified.get("iss").and_then(Json::as_str);
    let index = providers
        .iter()
        .position(|p| Some(p.issuer.as_str()) == iss)
        .or_else(|| {
            // AppSync compares an OIDC issuer only when the API has several
            // modes.
            (sole_mode
                && providers.len() == 1
                && matches!(providers[0].kind, JwtProviderKind::Oidc(_)))
            .then_some(0)
        })
        .ok_or_else(unauthorized)?;
    let provider = &providers[index];
    let kid = header.kid.as_deref();
    let local = issuer
        .and_then(LocalIssuer::existing_key)
        .filter(|key| kid == Some(key.kid.as_str()));
    let key = match local {
        Some(local) => local.decoding.clone(),
        None => provider.key(kid).await.ok_or_else(unauthorized)?,
    };
    let mut validation = Validation::new(header.alg);
    // Expiry and audience are checked below, against `now` and AppSync's
    // client patterns.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Json>>(token, &key, &validation)
        .map_err(|_| unauthorized())?
        .claims;
    let exp = claims
        .get("exp")
        .and_then(Json::as_i64)
        .ok_or_else(unauthorized)?;
    if exp <= now {
        return Err(expired());
    }
    if claims
        .get("nbf")
        .and_then(Json::as_i64)
        .is_some_and(|nbf| nbf > now)
    {
        return Err(unauthorized());
    }
    check_provider(&provider.kind, &claims, now)?;
    let verified = Arc::new(Verified {
        provider: index,
        claims,
        exp,
        identity: Mutex::new(None),
    });
    cache.0.insert(Arc::from(token), verified.clone());
    Ok(verified)
}

fn check_provider(
    kind: &JwtProviderKind,
    claims: &Map<String, Json>,
    now: i64,
) -> Result<(), AuthFailure> {
    let text = |name: &str| claims.get(name).and_then(Json::as_str);
    match kind {
        JwtProviderKind::Cognito(config) => {
            // ID tokens carry the app client in `aud`, access tokens in
            // `client_id`.
            let client = match text("token_use") {
                Some("id") => text("aud"),
                Some("access") => text("client_id"),
                _ => return Err(unauthorized()),
            };
            if let Some(pattern) = &config.app_id_client_regex
                && !client.is_some_and(|c| full_match(pattern, c))
            {
                return Err(unauthorized());
            }
        }
        JwtProviderKind::Oidc(config) => {
            if let Some(pattern) = &config.client_id {
                let mut candidates: Vec<&str> = match claims.get("aud") {
                    Some(Json::String(aud)) => vec![aud.as_str()],
                    Some(Json::Array(auds)) => auds.iter().filter_map(Json::as_str).collect(),
                    _ => Vec::new(),
                };
                candidates.extend(text("azp"));
                if !candidates.iter().any(|c| full_match(pattern, c)) {
                    return Err(unauthorized());
                }
            }
            let iat = claims
                .get("iat")
                .and_then(Json::as_i64)
                .ok_or_else(unauthorized)?;
            let too_old = |since: i64, ttl_ms: u64| {
                ttl_ms > 0 && (now - since).saturating_mul(1000) > ttl_ms as i64
            };
            if too_old(iat, config.iat_ttl_ms) {
                return Err(expired());
            }
            if config.auth_ttl_ms > 0 {
                let auth_time = claims
                    .get("auth_time")
                    .and_then(Json::as_i64)
                    .ok_or_else(unauthorized)?;
                if too_old(auth_time, config.auth_ttl_ms) {
                    return Err(expired());
                }
            }
        }
    }
    Ok(())
}

/// GETs a JSON document over HTTP or HTTPS, within [`FETCH_TIMEOUT`].
pub async fn fetch_json(url: &str) -> Result<Json, FetchError> {
    let request = axum::http::Request::get(url)
        .body(http_body_util::Full::default())
        .map_err(|e| FetchError(format!("{url} is not a URL: {e}")))?;
    let response = crate::outbound::send(request, FETCH_TIMEOUT)
        .await
        .map_err(|e| FetchError(e.to_string()))?;
    if !response.status().is_success() {
        return Err(FetchError(format!("{url} answered {}", response.status())));
    }
    serde_json::from_slice(response.body())
        .map_err(|e| FetchError(format!("{url} is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_client_ids() {
        let pattern = client_pattern("abc|def").unwrap();
        assert_eq!(pattern_source(&pattern), "abc|def");
        assert!(full_match(&pattern, "abc"));
        assert!(full_match(&pattern, "def"));
        assert!(!full_match(&pattern, "abcdef"));
        assert!(!full_match(&pattern, "xabc"));
    }

    #[test]
    fn jwt_shapes() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(looks_like_jwt(
            "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
        ));
        assert!(!looks_like_jwt("AWS4-HMAC-SHA256 Credential=x"));
        assert!(!looks_like_jwt("custom-lambda-token"));
    }
}
