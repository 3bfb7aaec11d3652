//! Model round-trips (serialized requests and parsed values) as snapshots.

use gdap_graph::models::{
    AccessDetails, IsoDuration, NewOAuth2PermissionGrant, RelationshipStatus, RelationshipUpdate,
};
use gdap_graph::roles;
use serde_json::json;

#[test]
fn iso_durations_round_trip() {
    let values: Vec<_> = [
        "P1D", "P90D", "P365D", "P730D", "P2Y", "P0D", "PT0S", "P180D",
    ]
    .iter()
    .map(|s| {
        let d: IsoDuration = serde_json::from_value(json!(s)).unwrap();
        json!({"wire": serde_json::to_value(&d).unwrap(), "days": d.days(),
                   "relationship_ok": IsoDuration::relationship_duration(s).is_ok(),
                   "auto_extend_ok": IsoDuration::auto_extend(s).is_ok()})
    })
    .collect();
    insta::assert_json_snapshot!("iso_durations", values);
}

#[test]
fn relationship_update_sends_only_set_fields() {
    let u = RelationshipUpdate {
        display_name: Some("Renamed".into()),
        access_details: Some(AccessDetails::from_roles([roles::GLOBAL_READER])),
        ..Default::default()
    };
    u.validate().unwrap();
    insta::assert_json_snapshot!("relationship_update_body", u);
    assert_eq!(
        RelationshipUpdate::default()
            .validate()
            .unwrap_err()
            .validation_field(),
        Some("body")
    );
}

#[test]
fn grant_validation_names_fields() {
    let sp = gdap_graph::ServicePrincipalId::new_random();
    let mut g = NewOAuth2PermissionGrant::all_principals(sp, sp, ["x".repeat(3851)]);
    assert_eq!(g.validate().unwrap_err().validation_field(), Some("scope"));
    g.scope = "User.Read".into();
    g.consent_type = gdap_graph::models::ConsentType::Principal;
    assert_eq!(
        g.validate().unwrap_err().validation_field(),
        Some("principalId")
    );
}

#[test]
fn role_table_is_the_core_one() {
    assert_eq!(roles::GLOBAL_ADMINISTRATOR.id_str(), crate::GA);
    assert_eq!(roles::ALL, gdap_core::roles::ALL);
    assert!(
        AccessDetails::from_roles([roles::GLOBAL_ADMINISTRATOR]).includes_global_administrator()
    );
    assert_eq!(
        RelationshipStatus::from_wire("terminationRequested"),
        RelationshipStatus::TerminationRequested
    );
}
