//! Connecting Partner Center: authorization code + PKCE, with the state bound to the member's
//! browser by a pending-sign-in cookie, and the refresh token stored encrypted.

use std::time::{Duration, Instant};

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gdap_auth::{AuthCodeFlow, scopes};
use gdap_onboard::adapters::port_error_from_auth;
use gdap_onboard::{OnboardError, Operation};
use secrecy::SecretString;
use serde::Deserialize;

use crate::app::{AppState, Pending};
use crate::auth::{self, OAUTH_COOKIE, Permission, Principal};
use crate::cloud;
use crate::error::ApiError;
use crate::jobs::explain_ctx;

const PENDING_TTL: Duration = Duration::from_secs(600);

fn flow(state: &AppState) -> Result<AuthCodeFlow, ApiError> {
    let redirect = state
        .public_url
        .join("/connect/callback")
        .map_err(ApiError::internal)?;
    let authority = state.endpoints.authority().map_err(ApiError::internal)?;
    AuthCodeFlow::new(
        authority,
        state.endpoints.app(),
        redirect,
        scopes::PARTNER_CONNECT_SCOPES,
    )
    .map_err(ApiError::internal)
}

/// `GET /connect` (also Re-authenticate): redirects to Microsoft's sign-in.
pub(crate) async fn connect(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    let (url, pending) = flow(&state)?.authorize_url();
    let id = auth::new_secret();
    {
        let mut map = match state.pending.lock() {
            Ok(m) => m,
            Err(e) => e.into_inner(),
        };
        map.retain(|_, v| v.created.elapsed() < PENDING_TTL);
        map.insert(
            auth::hash_secret(&id),
            Pending {
                user_id: p.user_id.clone(),
                authorization: pending,
                created: Instant::now(),
            },
        );
    }
    tracing::info!(user = %p.email, "Partner Center sign-in started");
    let cookie = format!(
        "{OAUTH_COOKIE}={id}; Path=/connect; HttpOnly; SameSite=Lax; Max-Age={}{}",
        PENDING_TTL.as_secs(),
        if state.secure_cookies { "; Secure" } else { "" }
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url.to_string()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /connect/callback`: verifies state, exchanges the code, stores the token encrypted.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let clear = auth::clear_cookie(OAUTH_COOKIE, "/connect");
    let pending = auth::cookie(&headers, OAUTH_COOKIE).and_then(|id| {
        let mut map = match state.pending.lock() {
            Ok(m) => m,
            Err(e) => e.into_inner(),
        };
        map.remove(&auth::hash_secret(&id))
            .filter(|p| p.created.elapsed() < PENDING_TTL)
    });
    let Some(pending) = pending else {
        return Err(ApiError::bad_request(
            "noPendingSignIn",
            "no Partner Center sign-in is in progress in this browser (or it expired)",
        )
        .with_steps(["Start again from Connect Microsoft Partner Center (GET /connect)."]));
    };
    // The member who started it must still be allowed (and be the one calling, if signed in).
    let caller = auth::authenticate(&state, &headers).await.ok().flatten();
    if caller
        .as_ref()
        .is_some_and(|c| c.user_id != pending.user_id)
    {
        return Err(ApiError::bad_request(
            "oauthStateMismatch",
            "this sign-in was started by another member",
        ));
    }
    let starter_ok = match caller {
        Some(c) => c.role.can(Permission::PartnerCenter),
        None => true,
    };
    if !starter_ok {
        return Err(ApiError::forbidden(
            "your role cannot connect Partner Center",
        ));
    }
    if let Some(err) = q.error {
        tracing::warn!(error = %err, "Partner Center sign-in refused");
        return Err(ApiError::bad_request(
            "signInRefused",
            format!(
                "Microsoft sign-in did not complete: {err}{}",
                q.error_description
                    .map(|d| format!(" ({})", d.lines().next().unwrap_or_default()))
                    .unwrap_or_default()
            ),
        )
        .with_steps([
            "Try Connect Microsoft Partner Center again and consent to the requested permissions.",
        ]));
    }
    let returned = q.state.unwrap_or_default();
    if pending.authorization.verify_state(&returned).is_err() {
        tracing::warn!("OAuth state mismatch on /connect/callback: rejected");
        return Err(ApiError::bad_request(
            "oauthStateMismatch",
            "the sign-in response does not belong to the sign-in this browser started (state mismatch)",
        )
        .with_steps(["Start again from Connect Microsoft Partner Center (GET /connect)."]));
    }
    let code = q.code.filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::bad_request(
            "missingCode",
            "the sign-in response has no authorization code",
        )
    })?;
    let tokens = flow(&state)?
        .complete(pending.authorization, &returned, SecretString::from(code))
        .await
        .map_err(|e| auth_error(&state, e))?;
    let Some(rt) = tokens.refresh_token else {
        return Err(ApiError::bad_request(
            "noRefreshToken",
            "Microsoft returned no refresh token (is offline_access consented?)",
        ));
    };
    let account = cloud::probe_account(&state.endpoints, rt.clone())
        .await
        .map_err(|e| auth_error(&state, e))?;
    state
        .install_connection(rt, account.clone())
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(user = ?account.user_email, "Partner Center connected");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/")).into_response())
}

fn auth_error(state: &AppState, e: gdap_auth::Error) -> ApiError {
    let err = OnboardError::classify(Operation::Token, None, port_error_from_auth(e));
    ApiError::from_onboard(&err, &explain_ctx(state, None))
}

/// `POST /disconnect`: removes the connection; onboarded tenants stay.
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let existed = state
        .db
        .delete_connection()
        .await
        .map_err(ApiError::internal)?;
    state.set_connection(None);
    tracing::info!(user = %p.email, existed, "Partner Center disconnected");
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(axum::Json(serde_json::json!({ "disconnected": existed })).into_response())
}
