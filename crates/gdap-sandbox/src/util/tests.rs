use super::*;

#[test]
fn durations() {
    assert_eq!(parse_iso_duration("P730D"), Some(730 * DAY));
    assert_eq!(parse_iso_duration("P2Y"), Some(730 * DAY));
    assert_eq!(parse_iso_duration("PT0S"), Some(0));
    assert_eq!(parse_iso_duration("P0D"), Some(0));
    assert_eq!(parse_iso_duration("PT24H"), Some(DAY));
    assert_eq!(parse_iso_duration("P"), None);
    assert_eq!(parse_iso_duration("730D"), None);
    assert_eq!(parse_iso_duration("P1X"), None);
}

#[test]
fn filters() {
    let f = Filter::parse("status eq 'active' and customer/tenantId eq 'abc'").unwrap();
    assert!(f.matches(|p| match p {
        "status" => Some("active".into()),
        "customer/tenantId" => Some("ABC".into()),
        _ => None,
    }));
    let f = Filter::parse("status in ('active','expired')").unwrap();
    assert!(f.matches(|_| Some("expired".into())));
    assert!(Filter::parse("status gt 'x'").is_err());
    assert!(Filter::parse("status eq 'x' or a eq 'b'").is_err());
    let f = Filter::parse("appId eq 'it''s'").unwrap();
    assert!(f.matches(|_| Some("it's".into())));
}

#[test]
fn skiptokens_round_trip() {
    assert_eq!(decode_skiptoken(&encode_skiptoken(300)), Some(300));
    assert_eq!(decode_skiptoken("garbage"), None);
}
