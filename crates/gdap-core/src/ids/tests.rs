use super::*;

#[test]
fn tenant_id_parses_and_prints_lowercase() {
    let id: TenantId = "8777B240-C6F0-4469-9E98-A3205431B836".parse().unwrap();
    assert_eq!(id.to_string(), "8777b240-c6f0-4469-9e98-a3205431b836");
}

#[test]
fn bad_guids_are_rejected_naming_the_field() {
    let long = "a".repeat(10 * 1024);
    for bad in ["not-a-guid", "", long.as_str()] {
        let err = bad.parse::<TenantId>().unwrap_err();
        assert_eq!(err.field(), "tenant id");
        let msg = err.to_string();
        assert!(msg.starts_with("invalid tenant id:"), "{msg}");
        assert!(
            msg.len() < 300,
            "message must not echo a huge input: {}",
            msg.len()
        );
    }
    let err = "xyz".parse::<AppId>().unwrap_err();
    assert!(err.to_string().contains("application id"));
}

#[test]
fn relationship_id_is_opaque_but_validated() {
    let raw = "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836";
    let id: RelationshipId = raw.parse().unwrap();
    assert_eq!(id.as_str(), raw);
    let long = "a".repeat(10 * 1024);
    for bad in ["", "../etc/passwd", "abc/def", long.as_str(), "not-a-guid"] {
        let err = bad.parse::<RelationshipId>().unwrap_err();
        assert_eq!(err.field(), "relationship id", "{bad:.20}");
    }
}

#[test]
fn serde_round_trip_rejects_bad_input() {
    let id: TenantId = serde_json::from_str("\"8777b240-c6f0-4469-9e98-a3205431b836\"").unwrap();
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        "\"8777b240-c6f0-4469-9e98-a3205431b836\""
    );
    let err = serde_json::from_str::<TenantId>("\"nope\"").unwrap_err();
    assert!(err.to_string().contains("invalid tenant id"));
    let err = serde_json::from_str::<RelationshipId>("\"a/b\"").unwrap_err();
    assert!(err.to_string().contains("invalid relationship id"));
}
