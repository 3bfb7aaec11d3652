//! Reading a service's error body.

use std::fmt;

use serde_json::Value;

/// What an error body said, in service-neutral terms.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ServiceErrorBody {
    /// The service's error code.
    pub code: Option<String>,
    /// A nested code (Graph `innerError.code`).
    pub inner_code: Option<String>,
    /// The human message.
    pub message: Option<String>,
    /// The request id the service put in the body.
    pub request_id: Option<String>,
    /// The date the service stamped.
    pub date: Option<String>,
    /// Extra data (Partner Center `data`, Graph `details`).
    pub data: Option<Value>,
}

/// Turns an error body into a [`ServiceErrorBody`]. Must never panic, whatever the bytes.
pub trait ErrorBodyParser: Send + Sync + fmt::Debug {
    /// Parses `body` of a response with `status`.
    fn parse(&self, status: u16, body: &[u8]) -> ServiceErrorBody;
}

/// Understands the Graph shape (`{"error":{"code","message","innerError":{...}}}`), the Partner
/// Center shape (`{"code", "description", "data"}`, `code` a string or a number) and the throttling
/// shape (`{"statusCode", "message"}`). Anything else yields an empty [`ServiceErrorBody`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultErrorParser;

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ErrorBodyParser for DefaultErrorParser {
    fn parse(&self, _status: u16, body: &[u8]) -> ServiceErrorBody {
        let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
            return ServiceErrorBody::default();
        };
        if let Some(Value::Object(err)) = root.get("error") {
            let inner = err
                .get("innerError")
                .or_else(|| err.get("innererror"))
                .and_then(Value::as_object);
            return ServiceErrorBody {
                code: text(err.get("code")),
                inner_code: inner.and_then(|i| text(i.get("code"))),
                message: text(err.get("message")),
                request_id: inner.and_then(|i| text(i.get("request-id"))),
                date: inner.and_then(|i| text(i.get("date"))),
                data: err.get("details").cloned(),
            };
        }
        ServiceErrorBody {
            code: text(root.get("code")).or_else(|| text(root.get("statusCode"))),
            inner_code: None,
            message: text(root.get("description")).or_else(|| text(root.get("message"))),
            request_id: None,
            date: None,
            data: root.get("data").cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_shape() {
        let b = br#"{"error":{"code":"activityLimitReached","message":"slow down","innerError":{"code":"throttledRequest","date":"2025-02-13T10:17:06","request-id":"r-1"}}}"#;
        let p = DefaultErrorParser.parse(429, b);
        assert_eq!(p.code.as_deref(), Some("activityLimitReached"));
        assert_eq!(p.inner_code.as_deref(), Some("throttledRequest"));
        assert_eq!(p.request_id.as_deref(), Some("r-1"));
        assert_eq!(p.date.as_deref(), Some("2025-02-13T10:17:06"));
    }

    #[test]
    fn partner_center_shape_with_numeric_code() {
        let b = br#"{"code": 900421, "description": "MFA required", "data": [], "source": "PartnerFD"}"#;
        let p = DefaultErrorParser.parse(401, b);
        assert_eq!(p.code.as_deref(), Some("900421"));
        assert_eq!(p.message.as_deref(), Some("MFA required"));
    }

    #[test]
    fn garbage_is_empty_not_a_panic() {
        for b in [
            &b"<html>oops</html>"[..],
            b"",
            b"[1,2]",
            b"{\"error\": 5}",
            b"\xff\xfe",
        ] {
            let _ = DefaultErrorParser.parse(500, b);
        }
    }
}
