use super::*;

fn details(error: &str, codes: &[u32]) -> TokenErrorDetails {
    TokenErrorDetails {
        status: Some(400),
        error: error.to_owned(),
        error_codes: codes.to_vec(),
        trace_id: Some("trace-1".into()),
        ..Default::default()
    }
}

type Check = fn(&Error) -> bool;

#[test]
fn classification_is_keyed_on_codes() {
    let cases: &[(u32, Check)] = &[
        (50177, |e| matches!(e, Error::NoGdapAccess(_))),
        (50020, |e| matches!(e, Error::NoGdapAccess(_))),
        (65001, |e| matches!(e, Error::ConsentMissing(_))),
        (700082, |e| matches!(e, Error::RefreshTokenExpired(_))),
        (700084, |e| matches!(e, Error::RefreshTokenExpired(_))),
        (70008, |e| matches!(e, Error::RefreshTokenExpired(_))),
        (50076, |e| matches!(e, Error::MfaRequired(_))),
        (50079, |e| matches!(e, Error::MfaRequired(_))),
        (530034, |e| matches!(e, Error::DelegatedAdminBlocked(_))),
        (90099, |e| matches!(e, Error::PartnerPreconsentMissing(_))),
        (7000215, |e| matches!(e, Error::InvalidClient(_))),
        (12345, |e| matches!(e, Error::Other(_))),
    ];
    for (code, check) in cases {
        let e = Error::from_details(details("invalid_grant", &[*code]));
        assert!(check(&e), "{code} -> {e:?}");
        assert_eq!(e.aadsts_codes(), &[*code]);
        assert_eq!(e.trace_id(), Some("trace-1"));
    }
    assert!(matches!(
        Error::from_details(details("invalid_client", &[])),
        Error::InvalidClient(_)
    ));
    // The first known code wins, unknown ones before it are skipped.
    assert!(Error::from_details(details("invalid_grant", &[1, 65001, 50177])).is_consent_missing());
}

#[test]
fn predicates() {
    let e = Error::from_details(details("interaction_required", &[530034]));
    assert!(e.is_mfa_required() && e.is_reauth_required() && !e.is_transient());
    let e = Error::from_details(TokenErrorDetails {
        status: Some(503),
        ..details("temporarily_unavailable", &[])
    });
    assert!(e.is_transient());
}

#[test]
fn description_keeps_first_line_and_scrubs_what_we_sent() {
    let d = sanitize_description(
        "AADSTS9002313: Invalid request: refresh_token=CANARY-SECRET-123 bad\r\nTrace ID: x",
        &["CANARY-SECRET-123"],
    );
    assert_eq!(
        d,
        "AADSTS9002313: Invalid request: refresh_token=[redacted] bad"
    );
    let long = format!("{}CANARY-SECRET-123", "x".repeat(290));
    let d = sanitize_description(&long, &["CANARY-SECRET-123"]);
    assert!(!d.contains("CANARY-S"), "{d}");
}

#[test]
fn converts_to_core_error_with_codes_and_ids() {
    let e = Error::from_details(TokenErrorDetails {
        correlation_id: Some("corr-1".into()),
        ..details("invalid_grant", &[50177])
    });
    let core: gdap_core::Error = e.into();
    assert_eq!(core.aadsts_codes(), &[50177]);
    assert_eq!(core.service_code(), Some("AADSTS50177"));
    assert_eq!(core.request_id(), Some("trace-1"));
    assert_eq!(core.client_request_id(), Some("corr-1"));
    assert_eq!(core.status(), Some(400));
    assert!(core.is_auth() && !core.is_retryable());
    let typed = core
        .as_credential()
        .and_then(|c| c.cause())
        .and_then(|c| c.downcast_ref::<Error>());
    assert!(typed.is_some_and(Error::is_no_gdap_access));
}
