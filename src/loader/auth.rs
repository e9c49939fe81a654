//! The manifest's `authentication`, `additionalAuthentications`, `apiKeys`
//! and `iamCredentials`, checked and turned into the `AuthConfig` that
//! `crate::auth` decides with.

use std::sync::Arc;

use super::Loader;
use super::forms::{ApiKeyLifetimeError, api_key_expiry};
use crate::auth::sigv4::{IamPrincipal, principal_id};
use crate::auth::{
    ApiKey, AuthConfig, CognitoConfig, DEFAULT_RESULT_TTL_SECONDS, DefaultAction, IamCredential,
    JwksSource, JwtProvider, JwtProviderKind, LambdaAuthorizer, LocalIssuer, OidcConfig,
    client_pattern,
};
use crate::graphql::AuthType;
use crate::model::manifest::{Authentication, AuthenticationType, Manifest};

/// AppSync's example account, for credentials that name none.
pub(super) const DEFAULT_ACCOUNT_ID: &str = "123456789012";

impl Loader {
    pub(super) fn auth_config(&mut self, manifest: &Manifest) -> AuthConfig {
        let mut config = AuthConfig::default();
        let default = manifest.authentication.clone().unwrap_or(Authentication {
            kind: AuthenticationType::ApiKey,
            config: None,
        });
        let all: Vec<(Vec<&str>, &Authentication)> =
            std::iter::once((vec!["authentication"], &default))
                .chain(
                    manifest
                        .additional_authentications
                        .iter()
                        .map(|a| (vec!["additionalAuthentications"], a)),
                )
                .collect();
        for (index, (path, auth)) in all.iter().enumerate() {
            let mode = super::auth_type(auth.kind);
            let single = matches!(
                mode,
                AuthType::ApiKey | AuthType::AwsIam | AuthType::AwsLambda
            );
            if single && config.modes.contains(&mode) {
                self.manifest_problem(
                    &[path[0], "type"],
                    format!("{mode:?} may be configured only once (AppSync allows one API_KEY, AWS_IAM and AWS_LAMBDA provider)"),
                );
            }
            if !config.modes.contains(&mode) {
                config.modes.push(mode);
            }
            let settings = auth.config.clone().unwrap_or_default();
            let key = |name: &'static str| [path[0], "config", name];
            match mode {
                AuthType::AmazonCognitoUserPools => {
                    let Some(pool) = settings.user_pool_id.clone() else {
                        self.manifest_problem(
                            &[path[0], "type"],
                            "AMAZON_COGNITO_USER_POOLS needs config.userPoolId",
                        );
                        continue;
                    };
                    // Pool ids start with their region (`us-east-1_AbC`).
                    let region = settings
                        .aws_region
                        .clone()
                        .or_else(|| pool.split_once('_').map(|(r, _)| r.to_owned()))
                        .unwrap_or_else(|| "us-east-1".to_owned());
                    let default_action = match settings.default_action.as_deref() {
                        None | Some("ALLOW") => DefaultAction::Allow,
                        Some("DENY") => DefaultAction::Deny,
                        Some(other) => {
                            self.manifest_problem(
                                &key("defaultAction"),
                                format!("defaultAction must be ALLOW or DENY, not `{other}`"),
                            );
                            DefaultAction::Allow
                        }
                    };
                    if index > 0 && settings.default_action.is_some() {
                        self.manifest_problem(
                            &key("defaultAction"),
                            "defaultAction applies to the default provider only",
                        );
                    }
                    if index == 0 && default_action == DefaultAction::Deny && all.len() > 1 {
                        self.manifest_problem(
                            &key("defaultAction"),
                            "defaultAction must be ALLOW when there are additionalAuthentications",
                        );
                    }
                    let regex = self.client_regex(
                        settings.app_id_client_regex.as_deref(),
                        &key("appIdClientRegex"),
                    );
                    let issuer = JwtProvider::cognito_issuer(&region, &pool);
                    let source = self
                        .jwks_source(settings.jwks.as_deref(), &key("jwks"))
                        .unwrap_or_else(|| {
                            JwksSource::Url(format!("{issuer}/.well-known/jwks.json"))
                        });
                    let kind = JwtProviderKind::Cognito(CognitoConfig {
                        user_pool_id: pool,
                        aws_region: region,
                        default_action: if index == 0 {
                            default_action
                        } else {
                            DefaultAction::Allow
                        },
                        app_id_client_regex: regex,
                    });
                    config
                        .jwt
                        .push(Arc::new(JwtProvider::new(kind, issuer, source)));
                }
                AuthType::OpenidConnect => {
                    let Some(issuer) = settings.issuer.clone() else {
                        self.manifest_problem(
                            &[path[0], "type"],
                            "OPENID_CONNECT needs config.issuer",
                        );
                        continue;
                    };
                    let regex = self.client_regex(settings.client_id.as_deref(), &key("clientId"));
                    let source = self
                        .jwks_source(settings.jwks.as_deref(), &key("jwks"))
                        .unwrap_or_else(|| JwksSource::Discovery(issuer.clone()));
                    let kind = JwtProviderKind::Oidc(OidcConfig {
                        client_id: regex,
                        iat_ttl_ms: settings.iat_ttl.unwrap_or(0),
                        auth_ttl_ms: settings.auth_ttl.unwrap_or(0),
                    });
                    config
                        .jwt
                        .push(Arc::new(JwtProvider::new(kind, issuer, source)));
                }
                AuthType::AwsLambda => {
                    let function = settings
                        .function_arn
                        .clone()
                        .or_else(|| settings.function_name.clone())
                        .or_else(|| {
                            settings
                                .function
                                .as_ref()
                                .map(|_| format!("{}Authorizer", manifest.name))
                        });
                    let Some(function) = function else {
                        self.manifest_problem(&[path[0], "type"], "AWS_LAMBDA needs config.functionName, config.functionArn or config.function");
                        continue;
                    };
                    let expression = match &settings.identity_validation_expression {
                        None => None,
                        Some(text) => match fancy_regex::Regex::new(text) {
                            Ok(regex) => Some(regex),
                            Err(e) => {
                                self.manifest_problem(
                                    &[path[0], "config", "identityValidationExpression"],
                                    format!("`{text}` is not a regular expression: {e}"),
                                );
                                None
                            }
                        },
                    };
                    let ttl = settings
                        .authorizer_result_ttl_in_seconds
                        .unwrap_or(DEFAULT_RESULT_TTL_SECONDS);
                    if ttl > 3600 {
                        self.manifest_problem(
                            &[path[0], "config", "authorizerResultTtlInSeconds"],
                            format!("`authorizerResultTtlInSeconds` is at most 3600; got {ttl}"),
                        );
                    }
                    config.lambda = Some(LambdaAuthorizer::new(function, expression, ttl));
                }
                AuthType::ApiKey | AuthType::AwsIam => {}
            }
        }
        config.api_keys = self.api_keys(manifest);
        config.iam = self.iam_credentials(manifest);
        if !config.modes.contains(&AuthType::AwsIam) && !manifest.iam_credentials.is_empty() {
            self.manifest_problem(
                &["iamCredentials"],
                "iamCredentials are used only when AWS_IAM is an authentication mode",
            );
        }
        if !self.options.no_local_issuer && !config.jwt.is_empty() {
            config.issuer = Some(Arc::new(LocalIssuer::new(self.options.data_dir.as_deref())));
        }
        config
    }

    fn client_regex(
        &mut self,
        source: Option<&str>,
        key: &[&str; 3],
    ) -> Option<fancy_regex::Regex> {
        let source = source?;
        match client_pattern(source) {
            Ok(regex) => Some(regex),
            Err(message) => {
                self.manifest_problem(
                    key,
                    format!("`{source}` is not a regular expression: {message}"),
                );
                None
            }
        }
    }

    /// `jwks:` as a URL, or a JWKS file read now.
    fn jwks_source(&mut self, jwks: Option<&str>, key: &[&str; 3]) -> Option<JwksSource> {
        let jwks = jwks?;
        if jwks.starts_with("http://") || jwks.starts_with("https://") {
            return Some(JwksSource::Url(jwks.to_owned()));
        }
        let path = self.dir.join(jwks);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                self.manifest_problem(key, format!("cannot read the JWKS file `{jwks}`: {e}"));
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(set) => Some(JwksSource::Keys(set)),
            Err(e) => {
                self.manifest_problem(
                    key,
                    format!(
                        "`{jwks}` is not a JWKS (line {}, column {}): {e}",
                        e.line(),
                        e.column()
                    ),
                );
                None
            }
        }
    }

    fn api_keys(&mut self, manifest: &Manifest) -> Vec<ApiKey> {
        let now = chrono::Utc::now().timestamp();
        let mut api_keys = Vec::new();
        for (idx, key) in manifest.api_keys.iter().enumerate() {
            let index = idx.to_string();
            let expires = match (&key.expires_at, &key.expires_after) {
                // `expiresAfter` wins, as in the plugin.
                (_, Some(after)) => match api_key_expiry(&after.as_text(), now) {
                    Ok(expires) => Some(expires),
                    Err(ApiKeyLifetimeError::Format) => {
                        self.manifest_problem(
                            &["apiKeys", &index, "expiresAfter"],
                            format!(
                                "apiKeys[{idx}].expiresAfter `{}` is not a duration such as `30d`, `12h`, `1M` or `1y`",
                                after.as_text()
                            ),
                        );
                        None
                    }
                    Err(ApiKeyLifetimeError::Range) => {
                        // The plugin's own message.
                        self.manifest_problem(
                            &["apiKeys", &index, "expiresAfter"],
                            format!(
                                "Api Key {} must be valid for a minimum of 1 day and a maximum of 365 days.",
                                key.name
                            ),
                        );
                        None
                    }
                },
                (Some(at), None) => match parse_expires_at(at) {
                    Some(t) => Some(t),
                    None => {
                        self.manifest_problem(
                            &["apiKeys", &index, "expiresAt"],
                            format!("apiKeys[{idx}].expiresAt `{at}` is not an ISO 8601 date-time"),
                        );
                        None
                    }
                },
                (None, None) => None,
            };
            api_keys.push(ApiKey {
                name: key.name.clone(),
                // Without an explicit `value` the key's name is the key.
                value: key.value.clone().unwrap_or_else(|| key.name.clone()),
                expires,
            });
        }
        api_keys
    }

    fn iam_credentials(&mut self, manifest: &Manifest) -> Vec<IamCredential> {
        let mut out = Vec::new();
        for (idx, c) in manifest.iam_credentials.iter().enumerate() {
            let account_id = c
                .account_id
                .clone()
                .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned());
            let principal = match (&c.user, &c.role, &c.cognito_identity) {
                (Some(user), None, None) => IamPrincipal::User {
                    name: user.clone(),
                    user_id: principal_id("AIDA", &format!("{account_id}/{user}")),
                },
                (None, Some(role), None) => IamPrincipal::Role {
                    name: role.clone(),
                    session: c
                        .session
                        .clone()
                        .unwrap_or_else(|| "appsync-local".to_owned()),
                    role_id: principal_id("AROA", &format!("{account_id}/{role}")),
                },
                (None, None, Some(pool)) => IamPrincipal::CognitoIdentity {
                    identity_pool_id: pool.identity_pool_id.clone(),
                    identity_id: pool.identity_id.clone(),
                    authenticated: pool.authenticated.unwrap_or(true),
                    role: pool.role.clone(),
                    role_id: principal_id("AROA", &format!("{account_id}/{}", pool.role)),
                    auth_provider: pool.auth_provider.clone(),
                },
                _ => {
                    self.manifest_problem(
                        &["iamCredentials", "accessKeyId"],
                        format!("iamCredentials[{idx}] needs exactly one of `user`, `role` and `cognitoIdentity`"),
                    );
                    continue;
                }
            };
            if out
                .iter()
                .any(|o: &IamCredential| o.access_key_id == c.access_key_id)
            {
                self.manifest_problem(
                    &["iamCredentials", "accessKeyId"],
                    format!(
                        "iamCredentials[{idx}]: access key `{}` is listed twice",
                        c.access_key_id
                    ),
                );
            }
            out.push(IamCredential {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
                account_id,
                principal,
            });
        }
        out
    }
}

/// `expiresAt`: an ISO 8601 date-time, or a date. Without an offset it is
/// read as UTC (the plugin reads it in the deploying machine's zone, which
/// a shared local server has no good reason to copy). Unlike the plugin,
/// a past or distant date is accepted, so tests can hold expired keys.
fn parse_expires_at(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}
