use super::*;

#[test]
fn globs() {
    assert!(path_matches("/graph/**", "/graph/v1.0/servicePrincipals"));
    assert!(path_matches(
        "/graph/v1.0/servicePrincipals",
        "/graph/v1.0/servicePrincipals/abc"
    ));
    assert!(path_matches(
        "/partnercenter/v1/customers/*/applicationconsents",
        "/partnercenter/v1/customers/x/applicationconsents"
    ));
    assert!(!path_matches(
        "/partnercenter/v1/customers/*/applicationconsents",
        "/partnercenter/v1/customers/x"
    ));
    assert!(path_matches(
        "/graph/v1.0/tenant*/**",
        "/graph/v1.0/tenantRelationships/delegatedAdminRelationships"
    ));
    assert!(!path_matches("/graph/**", "/login/x/oauth2/v2.0/token"));
}

#[test]
fn triggers() {
    let f = Faults::new().rule(FaultRule::on("GET", "/graph/**", FaultKind::Status500).first(2));
    let mut e = FaultEngine::new(f);
    let seq: Vec<bool> = (0..4)
        .map(|_| e.decide("GET", "/graph/v1.0/x", None, 0).action.is_some())
        .collect();
    assert_eq!(seq, vec![true, true, false, false]);
    let f = Faults::new().rule(FaultRule::on("*", "/", FaultKind::Status500).every_nth(3));
    let mut e = FaultEngine::new(f);
    let seq: Vec<bool> = (0..6)
        .map(|_| e.decide("POST", "/x", None, 0).action.is_some())
        .collect();
    assert_eq!(seq, vec![false, false, true, false, false, true]);
}

#[test]
fn token_bucket() {
    let f = Faults::new().global_rate_limit(1.0, 2);
    let mut e = FaultEngine::new(f);
    assert!(e.decide("GET", "/graph/a", None, 0).action.is_none());
    assert!(e.decide("GET", "/graph/a", None, 0).action.is_none());
    assert_eq!(
        e.decide("GET", "/graph/a", None, 0).action,
        Some(Action::Status429 {
            retry_after: 1,
            rate_limited: true
        })
    );
    assert!(e.decide("GET", "/graph/a", None, 1000).action.is_none());
    assert!(e.decide("GET", "/login/a", None, 1000).action.is_none());
}

#[test]
fn profiles() {
    for p in Faults::PROFILES {
        assert!(Faults::profile(p).is_ok());
    }
    assert!(Faults::profile("nope").is_err());
}
