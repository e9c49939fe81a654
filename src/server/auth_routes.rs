//! The local token issuer's routes: `/.well-known/jwks.json` and the OpenID
//! discovery document beside it (public, like any issuer's), and for tests
//! and GraphiQL `POST /admin/token`, `GET /admin/auth` and
//! `GET /admin/identity`. The admin routes sit behind `admin_guard` with the
//! other admin routes.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

use super::ServiceCell;
use super::admin::error;
use crate::auth::{IssuerError, TokenRequest};
use crate::server::auth::{authorize, now_epoch_seconds};

pub fn public_router(service: ServiceCell) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .with_state(service)
}

pub fn admin_router(service: ServiceCell) -> Router {
    Router::new()
        .route("/admin/token", post(token))
        .route("/admin/auth", get(summary))
        .route("/admin/identity", get(identity))
        .with_state(service)
}

fn issuer_error(err: &IssuerError) -> Response {
    let status = match err {
        IssuerError::Disabled => StatusCode::NOT_FOUND,
        IssuerError::KeyFile { .. } | IssuerError::Key(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let error_type = if status == StatusCode::BAD_REQUEST {
        "BadRequestException"
    } else if status == StatusCode::NOT_FOUND {
        "NotFoundException"
    } else {
        "InternalFailureException"
    };
    error(status, error_type, err.to_string())
}

async fn jwks(State(service): State<ServiceCell>) -> Response {
    let service = service.current();
    let Some(issuer) = service.auth().issuer.clone() else {
        return issuer_error(&IssuerError::Disabled);
    };
    // Creating the key on first use writes a file: off the async threads.
    match tokio::task::spawn_blocking(move || issuer.jwks()).await {
        Ok(Ok(jwks)) => axum::Json(jwks).into_response(),
        Ok(Err(err)) => issuer_error(&err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailureException",
            err.to_string(),
        ),
    }
}

/// The discovery document of an issuer at this server's address, for OIDC
/// providers configured with the local server as their issuer.
async fn discovery(headers: HeaderMap) -> axum::Json<Json> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let issuer = format!("http://{host}");
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "cognito:username", "cognito:groups"],
    }))
}

async fn token(State(service): State<ServiceCell>, body: axum::body::Bytes) -> Response {
    let request: TokenRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                format!(
                    "the body must be a token request such as {{\"sub\": \"alice\", \"groups\": [\"Admin\"]}}: {e}"
                ),
            );
        }
    };
    let service = service.current();
    let minted =
        tokio::task::spawn_blocking(move || service.auth().mint(&request, now_epoch_seconds()))
            .await;
    match minted {
        Ok(Ok(token)) => axum::Json(token).into_response(),
        Ok(Err(err)) => issuer_error(&err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailureException",
            err.to_string(),
        ),
    }
}

async fn summary(State(service): State<ServiceCell>) -> axum::Json<Json> {
    axum::Json(service.current().auth().summary())
}

/// The identity `/graphql` would derive from this request's credentials.
async fn identity(State(service): State<ServiceCell>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let service = service.current();
    match authorize(service.auth(), &parts, None).await {
        Ok(context) => axum::Json(json!({
            "mode": context.principal.auth_type,
            "authType": context.principal.auth_type.util_name(),
            "identity": context.principal.identity,
        }))
        .into_response(),
        Err(failure) => {
            let body = crate::execution::errors::request_rejection(
                failure.error_type(),
                &failure.to_string(),
            );
            (
                StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::UNAUTHORIZED),
                axum::Json(body),
            )
                .into_response()
        }
    }
}
