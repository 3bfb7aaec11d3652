use base64::Engine as _;

use super::*;

fn hex(b64: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn signature_is_hmac_sha256_per_rfc_4231() {
    // Test cases 1, 2 and 6 (a key longer than the block) of RFC 4231.
    assert_eq!(
        hex(&sign(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hex(&sign(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex(&sign(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    assert_ne!(key_for(1), key_for(2));
}

#[test]
fn status_names_follow_dotnet() {
    let name = |s: u16| status_name(reqwest::StatusCode::from_u16(s).unwrap());
    assert_eq!(name(200), "OK");
    assert_eq!(name(202), "Accepted");
    assert_eq!(name(404), "NotFound");
    assert_eq!(name(500), "InternalServerError");
    assert_eq!(name(599), "599");
}

#[test]
fn validation_calls_are_limited_to_two_per_minute() {
    let mut v = Validations::default();
    assert_eq!(v.admit(0), Ok(()));
    assert_eq!(v.admit(10 * SEC), Ok(()));
    assert_eq!(v.admit(20 * SEC), Err(40));
    assert_eq!(v.admit(59_500), Err(1));
    assert_eq!(v.admit(60 * SEC), Ok(()));
    assert_eq!(v.admit(61 * SEC), Err(9));
    assert_eq!(v.admit(70 * SEC), Ok(()));
}
