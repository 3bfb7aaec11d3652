//! Property tests: no Graph parser panics, whatever the input (durations, enums, every model on
//! arbitrary bytes, arbitrary JSON and valid objects with one field replaced by anything).

use std::str::FromStr;

use gdap_graph::models::{
    AccessAssignmentStatus, AppRoleAssignment, DelegatedAdminAccessAssignment,
    DelegatedAdminCustomer, DelegatedAdminRelationship, IsoDuration, LongRunningOperationStatus,
    OAuth2PermissionGrant, Organization, RelationshipOperation, RelationshipRequest,
    RelationshipStatus, ServiceManagementDetail, ServicePrincipal,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "P[0-9]{0,14}[YMWD]?(T[0-9]{0,6}[HMS])?".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z?"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn relationship() -> Value {
    let mut v = crate::relationship(crate::REL_ID, "active", "Contoso");
    v["autoExtendDuration"] = json!("P180D");
    v["activatedDateTime"] = json!("2022-02-10T11:26:44.9941884Z");
    v
}

fn operation() -> Value {
    json!({
        "@odata.etag": crate::ETAG,
        "id": "f3b4a7c1-8d2e-4f5a-9b6c-7d8e9f0a1b2c",
        "operationType": "delegatedAdminAccessAssignmentUpdate",
        "status": "succeeded",
        "data": serde_json::to_string(&crate::assignment("active")).unwrap(),
        "createdDateTime": "2022-02-10T11:24:42.3148266Z",
        "lastModifiedDateTime": "2022-02-10T11:24:42.3148266Z"
    })
}

fn service_principal() -> Value {
    json!({
        "id": "1d6a2f36-3f1c-4b69-8d3c-1b0a2e4d5f6a",
        "appId": "00000003-0000-0000-c000-000000000000",
        "displayName": "Microsoft Graph",
        "appRoles": [{"id": "1d6a2f36-3f1c-4b69-8d3c-1b0a2e4d5f6b", "value": "Directory.Read.All",
                      "allowedMemberTypes": ["Application"], "isEnabled": true,
                      "displayName": "x", "description": "y"}],
        "oauth2PermissionScopes": [{"id": "1d6a2f36-3f1c-4b69-8d3c-1b0a2e4d5f6c",
                                    "value": "User.Read", "isEnabled": true, "type": "User"}]
    })
}

/// A valid object with one member (chosen by index) replaced by `replacement`.
fn mutate(mut base: Value, pick: usize, replacement: Value) -> Value {
    if let Value::Object(m) = &mut base {
        let keys: Vec<String> = m.keys().cloned().collect();
        if !keys.is_empty() {
            m.insert(keys[pick % keys.len()].clone(), replacement);
        }
    }
    base
}

/// Decodes `bytes` as every model; the decoded values are used so nothing is optimised away.
fn decode_all(bytes: &[u8]) {
    if let Ok(r) = serde_json::from_slice::<DelegatedAdminRelationship>(bytes) {
        let _ = (r.kind(), r.is_active(), r.customer_tenant_id());
        let _ = serde_json::to_vec(&r).unwrap();
    }
    if let Ok(a) = serde_json::from_slice::<DelegatedAdminAccessAssignment>(bytes) {
        let _ = format!("{a:?}");
    }
    if let Ok(op) = serde_json::from_slice::<RelationshipOperation>(bytes) {
        let _ = (op.is_done(), op.data_json().is_ok());
        let _ = op.access_assignment().is_ok();
        let _ = op.relationship().is_ok();
    }
    let _ = serde_json::from_slice::<RelationshipRequest>(bytes);
    let _ = serde_json::from_slice::<DelegatedAdminCustomer>(bytes);
    let _ = serde_json::from_slice::<ServiceManagementDetail>(bytes);
    if let Ok(sp) = serde_json::from_slice::<ServicePrincipal>(bytes) {
        let _ = sp.app_role_id("Directory.Read.All");
        let _ = sp.permission_scope("User.Read");
    }
    let _ = serde_json::from_slice::<AppRoleAssignment>(bytes);
    if let Ok(g) = serde_json::from_slice::<OAuth2PermissionGrant>(bytes) {
        let _ = g.scopes().count();
    }
    if let Ok(o) = serde_json::from_slice::<Organization>(bytes) {
        let _ = (o.default_domain(), o.initial_domain());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn durations_parse_any_string(s in prop_oneof![
        ".*",
        "P(T)?[0-9]{0,20}[YMWDHS]{0,3}([0-9]{0,20}[YMWDHS])?",
        "P[0-9]{0,6}Y?[0-9]{0,6}M?[0-9]{0,6}W?[0-9]{0,6}D?(T[0-9]{0,6}H?[0-9]{0,6}M?[0-9]{0,6}S?)?",
    ]) {
        if let Ok(d) = IsoDuration::parse(&s) {
            prop_assert_eq!(d.as_str(), s.as_str());
            let _ = (d.days(), d.as_std(), d.is_zero());
        }
        if let Ok(d) = IsoDuration::relationship_duration(&s) {
            prop_assert!((1..=730).contains(&d.days()));
        }
        let _ = IsoDuration::auto_extend(&s);
        let _ = IsoDuration::from_str(&s);
        let _ = serde_json::from_value::<IsoDuration>(Value::String(s.clone()));
        if let Err(e) = IsoDuration::parse(&s) {
            // The echo of the input is bounded.
            prop_assert!(e.to_string().len() < 32 * 4 + 200);
        }
    }

    #[test]
    fn day_durations_for_any_count(days in any::<u64>()) {
        let d = IsoDuration::days_duration(days);
        prop_assert_eq!(d.is_ok(), (1..=730).contains(&days));
    }

    #[test]
    fn enums_keep_any_value(s in ".{0,40}") {
        let _ = RelationshipStatus::from_str(&s).unwrap().as_str().len();
        let _ = AccessAssignmentStatus::from_str(&s).unwrap().as_str().len();
        let _ = LongRunningOperationStatus::from_str(&s).unwrap().as_str().len();
        let _ = serde_json::from_value::<RelationshipStatus>(Value::String(s.clone())).unwrap();
    }

    #[test]
    fn models_decode_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        decode_all(&bytes);
    }

    #[test]
    fn models_decode_arbitrary_json(v in arb_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn models_decode_valid_objects_with_one_field_replaced(
        pick in any::<usize>(),
        replacement in arb_json(),
    ) {
        for base in [relationship(), crate::reseller_relationship(crate::REL_ID),
                     crate::assignment("active"), operation(), service_principal()] {
            decode_all(&serde_json::to_vec(&mutate(base, pick, replacement.clone())).unwrap());
        }
    }

    #[test]
    fn models_decode_truncated_valid_objects(cut in any::<usize>()) {
        for base in [relationship(), crate::assignment("active"), operation(), service_principal()] {
            let bytes = serde_json::to_vec(&base).unwrap();
            decode_all(&bytes[..cut % bytes.len()]);
        }
    }
}
