//! The local token issuer: an RS256 key kept in the data directory, tokens
//! shaped like Cognito's ID tokens (or an OIDC issuer's), and the public key
//! as a JWKS. Every Cognito and OIDC provider of a served project accepts its
//! tokens beside its own keys, so owner and group rules can be exercised
//! without a user pool. That is an emulator's job, not AppSync's.
//!
//! The key is created on first use: a project that never mints a token never
//! writes one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use sha2::Digest;

use super::jwt::{JwtProvider, JwtProviderKind};
use crate::graphql::AuthType;

/// Where the key lives under the data directory.
const KEY_FILE: &str = "local-issuer/signing-key.der";
const KEY_BITS: usize = 2048;
/// The lifetime of a minted token when the request names none: Cognito's
/// default ID-token validity.
pub const DEFAULT_EXPIRES_IN: i64 = 3600;

/// Which kind of provider a token is minted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenProvider {
    Cognito,
    Oidc,
}

impl TokenProvider {
    pub fn name(self) -> &'static str {
        match self {
            TokenProvider::Cognito => "cognito",
            TokenProvider::Oidc => "oidc",
        }
    }
}

/// What `appsync-local token`, `POST /admin/token` and `TestServer::as_user`
/// ask for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The project's first provider of this kind; its first JWT provider
    /// when absent.
    #[serde(default)]
    pub provider: Option<TokenProvider>,
    pub sub: String,
    /// `cognito:username` (Cognito) or `preferred_username` (OIDC); the sub
    /// when absent.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra claims, merged over the generated ones.
    #[serde(default)]
    pub claims: Map<String, Json>,
    /// Seconds until expiry; zero or negative mints an expired token.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// The `aud` claim; derived from the provider's client id pattern when
    /// absent.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A signed token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MintedToken {
    pub token: String,
    pub expires_at: i64,
    pub provider: AuthType,
}

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("the local token issuer is off (`serve --no-local-issuer`)")]
    Disabled,
    #[error("the project has no {} provider", match .0 { TokenProvider::Cognito => "AMAZON_COGNITO_USER_POOLS", TokenProvider::Oidc => "OPENID_CONNECT" })]
    NoProvider(TokenProvider),
    #[error(
        "the project has no AMAZON_COGNITO_USER_POOLS or OPENID_CONNECT provider to mint a token for"
    )]
    NoJwtProvider,
    #[error("`sub` must not be empty")]
    EmptySub,
    #[error(
        "the provider's client id pattern `{0}` names no single client id: pass one (`--client-id`, or `clientId` in the request)"
    )]
    NeedsClientId(String),
    #[error("client id `{client_id}` does not match the provider's pattern `{pattern}`")]
    ClientIdMismatch { client_id: String, pattern: String },
    #[error("cannot read or write the signing key {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("cannot create the signing key: {0}")]
    Key(String),
}

/// The signing key and what is derived from it.
pub(crate) struct IssuerKey {
    pub kid: String,
    encoding: EncodingKey,
    pub decoding: DecodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl IssuerKey {
    fn from_private(key: &rsa::RsaPrivateKey) -> Result<IssuerKey, IssuerError> {
        let der = key
            .to_pkcs1_der()
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        let n_bytes = key.n().to_bytes_be();
        let n = URL_SAFE_NO_PAD.encode(&n_bytes);
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let digest = sha2::Sha256::digest(&n_bytes);
        let kid = format!("appsync-local-{}", &URL_SAFE_NO_PAD.encode(digest)[..16]);
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        Ok(IssuerKey {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding,
            n,
            e,
        })
    }

    fn generate() -> Result<rsa::RsaPrivateKey, IssuerError> {
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
            .map_err(|e| IssuerError::Key(e.to_string()))
    }
}

/// Keys of issuers without a data directory (in-memory test servers):
/// one per process, as generating an RSA key takes a while.
static EPHEMERAL: OnceLock<Arc<IssuerKey>> = OnceLock::new();

/// The local issuer of one data directory (or of the process, without one).
#[derive(Debug, Default)]
pub struct LocalIssuer {
    dir: Option<PathBuf>,
    key: OnceLock<Arc<IssuerKey>>,
    /// Serializes key creation, so two first uses write one key.
    creating: Mutex<()>,
}

impl LocalIssuer {
    /// An issuer whose key lives under `data_dir`, or in memory for the
    /// process without one.
    pub fn new(data_dir: Option<&Path>) -> LocalIssuer {
        LocalIssuer {
            dir: data_dir.map(Path::to_path_buf),
            ..LocalIssuer::default()
        }
    }

    fn key_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(KEY_FILE))
    }

    /// The key if it exists already (another process, such as the `token`
    /// command, may have created it since this one started).
    pub(crate) fn existing_key(&self) -> Option<Arc<IssuerKey>> {
        if let Some(key) = self.key.get() {
            return Some(key.clone());
        }
        match self.key_path() {
            None => EPHEMERAL.get().cloned(),
            Some(path) => {
                let key = read_key(&path).ok()??;
                Some(self.key.get_or_init(|| Arc::new(key)).clone())
            }
        }
    }

    /// The key, created on first use.
    pub(crate) fn key(&self) -> Result<Arc<IssuerKey>, IssuerError> {
        if let Some(key) = self.existing_key() {
            return Ok(key);
        }
        let _guard = self
            .creating
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(key) = self.existing_key() {
            return Ok(key);
        }
        let Some(path) = self.key_path() else {
            let key = Arc::new(IssuerKey::from_private(&IssuerKey::generate()?)?);
            return Ok(EPHEMERAL.get_or_init(|| key).clone());
        };
        let private = IssuerKey::generate()?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        write_key(&path, der.as_bytes())?;
        let key = Arc::new(IssuerKey::from_private(&private)?);
        Ok(self.key.get_or_init(|| key).clone())
    }

    /// `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Result<Json, IssuerError> {
        let key = self.key()?;
        Ok(json!({"keys": [{
            "alg": "RS256",
            "e": key.e,
            "kid": key.kid,
            "kty": "RSA",
            "n": key.n,
            "use": "sig",
        }]}))
    }

    /// Signs a token for `provider`.
    pub fn mint(
        &self,
        provider: &JwtProvider,
        request: &TokenRequest,
        now: i64,
    ) -> Result<MintedToken, IssuerError> {
        if request.sub.is_empty() {
            return Err(IssuerError::EmptySub);
        }
        let key = self.key()?;
        let expires_at = now + request.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
        let client_id = client_id(provider.client_pattern(), request.client_id.as_deref())?;
        let username = request
            .username
            .clone()
            .unwrap_or_else(|| request.sub.clone());
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(request.sub));
        match &provider.kind {
            JwtProviderKind::Cognito(_) => {
                if !request.groups.is_empty() {
                    claims.insert("cognito:groups".into(), json!(request.groups));
                }
                claims.insert("iss".into(), json!(provider.issuer));
                claims.insert("cognito:username".into(), json!(username));
                claims.insert("aud".into(), json!(client_id));
                claims.insert("event_id".into(), json!(uuid::Uuid::new_v4().to_string()));
                claims.insert("token_use".into(), json!("id"));
                claims.insert("auth_time".into(), json!(now));
            }
            JwtProviderKind::Oidc(_) => {
                claims.insert("iss".into(), json!(provider.issuer));
                claims.insert("aud".into(), json!(client_id));
                claims.insert("preferred_username".into(), json!(username));
                if !request.groups.is_empty() {
                    claims.insert("groups".into(), json!(request.groups));
                }
                claims.insert("auth_time".into(), json!(now));
            }
        }
        claims.insert("exp".into(), json!(expires_at));
        claims.insert("iat".into(), json!(now));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        for (name, value) in &request.claims {
            claims.insert(name.clone(), value.clone());
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        Ok(MintedToken {
            token,
            expires_at,
            provider: provider.kind.auth_type(),
        })
    }
}

/// The `aud` of a minted token: the one asked for (it must match the
/// provider's pattern), else the pattern itself when it names one id, else
/// `appsync-local` when the pattern admits it or there is none.
fn client_id(
    pattern: Option<&fancy_regex::Regex>,
    asked: Option<&str>,
) -> Result<String, IssuerError> {
    let matches = |id: &str| pattern.is_none_or(|p| super::jwt::full_match(p, id));
    let source = || {
        pattern
            .map(|p| super::jwt::pattern_source(p).to_owned())
            .unwrap_or_default()
    };
    if let Some(id) = asked {
        if matches(id) {
            return Ok(id.to_owned());
        }
        return Err(IssuerError::ClientIdMismatch {
            client_id: id.to_owned(),
            pattern: source(),
        });
    }
    if matches("appsync-local") {
        return Ok("appsync-local".to_owned());
    }
    let literal = source()
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_owned();
    if !literal.is_empty()
        && literal
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && matches(&literal)
    {
        return Ok(literal);
    }
    Err(IssuerError::NeedsClientId(source()))
}

fn read_key(path: &Path) -> Result<Option<IssuerKey>, IssuerError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(IssuerError::KeyFile {
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    let private = rsa::RsaPrivateKey::from_pkcs1_der(&bytes).map_err(|e| IssuerError::KeyFile {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    IssuerKey::from_private(&private).map(Some)
}

/// Writes the key readable by its owner only, through a temporary file, so
/// a reader never sees half a key.
fn write_key(path: &Path, der: &[u8]) -> Result<(), IssuerError> {
    let failed = |e: std::io::Error| IssuerError::KeyFile {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let temp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(failed)?;
        std::io::Write::write_all(&mut file, der).map_err(failed)?;
        file.sync_all().map_err(failed)?;
    }
    std::fs::rename(&temp, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(source: &str) -> fancy_regex::Regex {
        crate::auth::jwt::client_pattern(source).unwrap()
    }

    #[test]
    fn client_ids_follow_the_pattern() {
        assert_eq!(client_id(None, None).unwrap(), "appsync-local");
        assert_eq!(client_id(Some(&regex("^abc123$")), None).unwrap(), "abc123");
        assert_eq!(
            client_id(Some(&regex("abc|def")), Some("def")).unwrap(),
            "def"
        );
        assert!(matches!(
            client_id(Some(&regex("abc|def")), None),
            Err(IssuerError::NeedsClientId(_))
        ));
        assert!(matches!(
            client_id(Some(&regex("abc")), Some("xyz")),
            Err(IssuerError::ClientIdMismatch { .. })
        ));
    }
}
