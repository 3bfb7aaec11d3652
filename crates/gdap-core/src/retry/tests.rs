use super::*;
use http::HeaderValue;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn retry_after_seconds() {
    assert_eq!(
        parse_retry_after(&headers(&[("retry-after", "7")])),
        Some(Duration::from_secs(7))
    );
}

#[test]
fn retry_after_http_date() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]);
    assert_eq!(parse_retry_after_at(&h, now), Some(Duration::from_secs(30)));
    // A date in the past means "now".
    let later = now + Duration::from_secs(100);
    assert_eq!(parse_retry_after_at(&h, later), Some(Duration::ZERO));
}

#[test]
fn ms_header_and_larger_wins() {
    let h = headers(&[("x-ms-retry-after-ms", "2500")]);
    assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(2500)));
    let h = headers(&[("x-ms-retry-after-ms", "2500"), ("retry-after", "1")]);
    assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(2500)));
}

#[test]
fn garbage_retry_after_is_ignored() {
    for v in ["soon", "-5", "NaN", ""] {
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", v)])),
            None,
            "{v}"
        );
    }
}

#[test]
fn exhausted_policy_stays_exhausted() {
    let err = Error::invalid_input("x", "y");
    assert_eq!(
        next_wait(None, &err, Duration::ZERO, Duration::from_secs(60)),
        None
    );
    assert_eq!(
        next_wait(
            Some(Duration::from_secs(1)),
            &err,
            Duration::from_secs(59),
            Duration::from_secs(60)
        ),
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        next_wait(
            Some(Duration::from_secs(2)),
            &err,
            Duration::from_secs(59),
            Duration::from_secs(60)
        ),
        None
    );
}
