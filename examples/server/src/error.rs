//! Errors as JSON: `{ "error": { "key", "title", "message", "steps": [...], "adminConsentUrl" } }`,
//! with the catalogue's message and steps for workflow failures.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gdap_onboard::{CatalogueEntry, CatalogueKey, ExplainContext, OnboardError};
use serde::Serialize;

/// The body of an error.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    pub(crate) key: String,
    pub(crate) title: String,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    pub(crate) steps: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) details: Vec<String>,
    pub(crate) admin_consent_url: Option<String>,
}

/// An error response.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: Box<ErrorBody>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        key: &str,
        title: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                key: key.to_owned(),
                title: title.to_owned(),
                message: message.into(),
                code: None,
                steps: Vec::new(),
                details: Vec::new(),
                admin_consent_url: None,
            }),
        }
    }

    pub(crate) fn with_steps<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        steps: I,
    ) -> Self {
        self.body.steps = steps.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in required",
            message,
        )
    }

    pub(crate) fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", message).with_steps([
            "Ask an Owner or Admin of your organization for a role with tenant management permissions.",
        ])
    }

    pub(crate) fn forbidden_key(key: &str, message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, key, "Not allowed", message)
    }

    pub(crate) fn bad_request(key: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, key, "Bad request", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "notFound", "Not found", message)
    }

    pub(crate) fn conflict(key: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, key, "Conflict", message)
    }

    pub(crate) fn not_connected() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "notConnected",
            "Partner Center is not connected",
            "Partner Center is not connected.",
        )
        .with_steps([
            "Click Connect Microsoft Partner Center (GET /connect) and sign in with your MSP tenant credentials.",
        ])
    }

    /// A server fault; the detail goes to the log, not to the caller.
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The server failed; the log has the details.",
        )
    }

    /// A workflow failure, explained by the catalogue.
    pub(crate) fn from_onboard(e: &OnboardError, ctx: &ExplainContext) -> Self {
        let entry = e.explain(ctx);
        let not_found = entry.key == CatalogueKey::ServiceError
            && e.port_error()
                .is_some_and(|p| p.kind() == gdap_onboard::PortErrorKind::NotFound);
        let status = status_of(entry.key).unwrap_or(if not_found {
            // The service says the thing asked for (a relationship id) does not exist.
            StatusCode::NOT_FOUND
        } else if e.is_retryable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::BAD_GATEWAY
        });
        Self {
            status,
            body: Box::new(ErrorBody::from_entry(&entry)),
        }
    }

    /// A tenant a write workflow stopped for: the catalogue entry of the failed step. 409 or
    /// 422 (or 401 for the sign-in rows) by the catalogue row; any other row is 422 — the
    /// request was understood and checked, and the tenant is not in the state it asks for.
    pub(crate) fn from_entry(entry: &CatalogueEntry) -> Self {
        Self {
            status: status_of(entry.key).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            body: Box::new(ErrorBody::from_entry(entry)),
        }
    }
}

/// The status of a catalogue row, where the row decides it.
fn status_of(key: CatalogueKey) -> Option<StatusCode> {
    Some(match key {
        CatalogueKey::OwnTenantHardDelete => StatusCode::FORBIDDEN,
        CatalogueKey::SecondPartnerTenant
        | CatalogueKey::RelationshipAlreadyActive
        | CatalogueKey::DuplicateDisplayName
        | CatalogueKey::AlreadyManagedByPartnerCenter
        | CatalogueKey::NoLegacyTenant
        | CatalogueKey::RefreshRequiresPartnerCenter => StatusCode::CONFLICT,
        CatalogueKey::InvalidRequest => StatusCode::BAD_REQUEST,
        CatalogueKey::GdapPermissionsMissing | CatalogueKey::MigrationMissingGdapPermissions => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CatalogueKey::AuthorizationRevoked
        | CatalogueKey::SessionExpired
        | CatalogueKey::MfaRequired => StatusCode::UNAUTHORIZED,
        // Relationship lifecycle rows, as `OnboardError::http_status` has them.
        CatalogueKey::UserNotFound | CatalogueKey::GroupNotFound => StatusCode::NOT_FOUND,
        CatalogueKey::WebhookRegisteredElsewhere
        | CatalogueKey::RelationshipNotActive
        | CatalogueKey::AmbiguousGroup
        | CatalogueKey::ApprovalEnded => StatusCode::CONFLICT,
        CatalogueKey::OperationIncomplete | CatalogueKey::ApprovalTimedOut => {
            StatusCode::GATEWAY_TIMEOUT
        }
        _ => return None,
    })
}

impl ErrorBody {
    /// The body of a rendered catalogue entry.
    pub(crate) fn from_entry(entry: &CatalogueEntry) -> Self {
        let key = serde_json::to_value(entry.key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "serviceError".to_owned());
        Self {
            key,
            title: entry.title.clone(),
            message: entry.message.clone(),
            code: entry.code.clone(),
            steps: entry.steps.clone(),
            details: entry.details.clone(),
            admin_consent_url: entry.admin_consent_url.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Wrapper<'a> {
            error: &'a ErrorBody,
        }
        (self.status, Json(Wrapper { error: &self.body })).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupportedMediaType",
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            J::JsonSyntaxError(e) => Self::bad_request(
                "invalidJson",
                format!("the body is not valid JSON: {}", e.body_text()),
            ),
            J::JsonDataError(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalidBody",
                "Invalid body",
                format!(
                    "the JSON does not have the expected shape: {}",
                    e.body_text()
                ),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bodyTooLarge",
                "Body too large",
                format!("the body is larger than {} bytes", crate::app::BODY_LIMIT),
            ),
            other => Self::bad_request("invalidBody", other.body_text()),
        }
    }
}
