//! The front-end tables: partner connection, users, sessions, jobs.

use gdap_core::TenantId;
use gdap_onboard::{PortError, PortErrorKind};
use gdap_store::{
    AccountId, Job, JobItem, JobStatus, PartnerConnection, Session, SqliteStore, StoreError, User,
    UserRole,
};
use serde_json::json;
use time::Duration;
use time::macros::offset;

use crate::{t0, temp_store};

#[tokio::test]
async fn partner_connection_round_trips_and_never_prints_the_token() {
    let (_dir, path, store) = temp_store();
    assert_eq!(store.load_connection().await.unwrap(), None);
    let tenant: TenantId = "abcdefab-0000-4000-8000-000000000001".parse().unwrap();
    let blob = vec![0u8, 1, 2, 255, 254, b'S', b'E', b'C', b'R', b'E', b'T'];
    let conn = PartnerConnection::new(blob.clone(), t0())
        .with_user_email("admin@msp.example")
        .with_partner_tenant_id(tenant);
    store.save_connection(&conn).await.unwrap();
    let debug = format!("{conn:?}");
    assert!(
        !debug.contains("SECRET") && !debug.contains("83, 69"),
        "{debug}"
    );
    assert!(debug.contains("[11 bytes]"), "{debug}");
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load_connection().await.unwrap(), Some(conn.clone()));
    let later = t0() + Duration::hours(1);
    assert!(store.update_refresh_token(vec![9, 9], later).await.unwrap());
    let rotated = store.load_connection().await.unwrap().unwrap();
    assert_eq!(rotated.encrypted_refresh_token, vec![9, 9]);
    assert_eq!(rotated.updated_at, later);
    assert_eq!(rotated.connected_at, t0());
    assert_eq!(rotated.user_email.as_deref(), Some("admin@msp.example"));
    // A second save replaces the first (one connection per database).
    let other = PartnerConnection::new(vec![1], later);
    store.save_connection(&other).await.unwrap();
    assert_eq!(store.load_connection().await.unwrap(), Some(other));
    assert!(store.delete_connection().await.unwrap());
    assert!(!store.delete_connection().await.unwrap());
    assert!(!store.update_refresh_token(vec![1], later).await.unwrap());
    assert_eq!(store.load_connection().await.unwrap(), None);
}

#[tokio::test]
async fn users_are_unique_by_email_and_findable_by_token_hash() {
    let (_dir, _path, store) = temp_store();
    let owner = User::new("Owner@Example.com", UserRole::Owner, t0())
        .with_password_hash("$argon2id$v=19$secret-hash")
        .with_api_token_hash("tok-hash-1");
    let guest = User::new("guest@partner.example", UserRole::ExternalGuest, t0());
    store.create_user(&owner).await.unwrap();
    store.create_user(&guest).await.unwrap();
    assert!(!format!("{owner:?}").contains("secret-hash"));
    assert!(!format!("{owner:?}").contains("tok-hash-1"));

    let dup = User::new("owner@EXAMPLE.com", UserRole::Admin, t0());
    let err = store.create_user(&dup).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let as_port: PortError = err.into();
    assert_eq!(as_port.kind(), PortErrorKind::AlreadyExists);

    assert_eq!(store.get_user(owner.id).await.unwrap(), Some(owner.clone()));
    assert_eq!(
        store.find_user_by_email("OWNER@example.COM").await.unwrap(),
        Some(owner.clone())
    );
    assert_eq!(
        store
            .find_user_by_api_token_hash("tok-hash-1")
            .await
            .unwrap(),
        Some(owner.clone())
    );
    assert_eq!(
        store.find_user_by_api_token_hash("nope").await.unwrap(),
        None
    );
    assert_eq!(store.get_user(AccountId::new_random()).await.unwrap(), None);
    let emails: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(emails, ["guest@partner.example", "Owner@Example.com"]);

    assert!(
        store
            .set_user_role(guest.id, &UserRole::Billing)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_password_hash(guest.id, Some("h2".into()))
            .await
            .unwrap()
    );
    let err = store
        .set_api_token_hash(guest.id, Some("tok-hash-1".into()))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert!(store.set_api_token_hash(owner.id, None).await.unwrap());
    let g = store.get_user(guest.id).await.unwrap().unwrap();
    assert_eq!(g.role, UserRole::Billing);
    assert_eq!(g.password_hash.as_deref(), Some("h2"));
    assert_eq!(
        store
            .find_user_by_api_token_hash("tok-hash-1")
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .set_user_role(AccountId::new_random(), &UserRole::Admin)
            .await
            .unwrap()
    );
    assert_eq!(
        UserRole::parse("auditor"),
        UserRole::Unknown("auditor".into())
    );
    assert_eq!(
        UserRole::parse(UserRole::FullMember.as_str()),
        UserRole::FullMember
    );
}

#[tokio::test]
async fn sessions_expire_and_go_with_their_user() {
    let (_dir, _path, store) = temp_store();
    let user = User::new("a@example.com", UserRole::Admin, t0());
    store.create_user(&user).await.unwrap();
    let live = Session::new("live-hash", user.id, t0(), t0() + Duration::hours(8));
    // Same instant written in another offset: compared as an instant, not as text.
    let old = Session::new(
        "old-hash",
        user.id,
        t0() - Duration::days(2),
        (t0() - Duration::minutes(1)).to_offset(offset!(+14:00)),
    );
    store.create_session(&live).await.unwrap();
    store.create_session(&old).await.unwrap();
    assert!(!format!("{live:?}").contains("live-hash"));
    // Unknown user: refused by the foreign key.
    let orphan = Session::new("x", AccountId::new_random(), t0(), t0());
    let err = store.create_session(&orphan).await.unwrap_err();
    assert!(err.is_not_found() && !err.is_conflict(), "{err:?}");
    // A second session with the same token hash is a conflict.
    let err = store.create_session(&live).await.unwrap_err();
    assert!(err.is_conflict() && !err.is_not_found(), "{err:?}");

    assert_eq!(
        store.get_session("live-hash").await.unwrap(),
        Some(live.clone())
    );
    assert!(
        store
            .get_session("old-hash")
            .await
            .unwrap()
            .unwrap()
            .is_expired(t0())
    );
    assert_eq!(store.delete_expired_sessions(t0()).await.unwrap(), 1);
    assert_eq!(store.get_session("old-hash").await.unwrap(), None);
    assert!(!live.is_expired(t0()));

    store
        .create_session(&Session::new(
            "second",
            user.id,
            t0(),
            t0() + Duration::hours(1),
        ))
        .await
        .unwrap();
    assert!(store.delete_session("second").await.unwrap());
    assert!(!store.delete_session("second").await.unwrap());
    assert!(store.delete_user(user.id).await.unwrap());
    assert_eq!(store.get_session("live-hash").await.unwrap(), None);
    assert_eq!(store.delete_user_sessions(user.id).await.unwrap(), 0);
}

#[tokio::test]
async fn jobs_and_items_round_trip_in_order() {
    let (_dir, path, store) = temp_store();
    let t = |n: u8| -> TenantId {
        format!("{n:08x}-0000-4000-8000-00000000000f")
            .parse()
            .unwrap()
    };
    let first = Job::new(
        "onboard",
        json!({"tenants": ["a", "b"], "dryRun": true}),
        t0(),
    )
    .with_created_by("user-1");
    let second = Job::new("refreshEmailPerms", json!({}), t0() + Duration::seconds(1));
    store.create_job(&first).await.unwrap();
    store.create_job(&second).await.unwrap();
    let err = store.create_job(&first).await.unwrap_err();
    assert!(err.is_conflict());

    store
        .upsert_job_item(
            first.id,
            &JobItem::new(t(2), json!({"state": "pending"}), t0()),
        )
        .await
        .unwrap();
    store
        .upsert_job_item(
            first.id,
            &JobItem::new(t(1), json!({"state": "pending"}), t0()),
        )
        .await
        .unwrap();
    let done = JobItem::new(
        t(2),
        json!({"state": "done", "steps": [{"step": "consent", "outcome": "changed"}]}),
        t0() + Duration::seconds(5),
    );
    store.upsert_job_item(first.id, &done).await.unwrap();
    // Items of an unknown job are refused.
    let err = store
        .upsert_job_item(gdap_store::JobId::new_random(), &done)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(PortError::from(err).kind(), PortErrorKind::NotFound);

    assert!(
        store
            .set_job_status(first.id, &JobStatus::Running, t0() + Duration::seconds(2))
            .await
            .unwrap()
    );
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    let got = store.get_job(first.id).await.unwrap().unwrap();
    assert_eq!(got.status, JobStatus::Running);
    assert_eq!(got.params, first.params);
    assert_eq!(got.created_by.as_deref(), Some("user-1"));
    assert_eq!(got.updated_at, t0() + Duration::seconds(2));
    let items = store.job_items(first.id).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], done, "first written keeps first place");
    assert_eq!(items[1].tenant_id, t(1));

    let listed: Vec<_> = store
        .list_jobs(10)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(listed, [second.id, first.id]);
    assert_eq!(store.list_jobs(1).await.unwrap().len(), 1);
    let running = store.jobs_with_status(&JobStatus::Running).await.unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].id, first.id);
    assert!(JobStatus::Cancelled.is_terminal() && !JobStatus::Queued.is_terminal());

    assert!(store.delete_job(first.id).await.unwrap());
    assert!(store.job_items(first.id).await.unwrap().is_empty());
    assert_eq!(store.get_job(first.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_corrupt_job_is_a_typed_error() {
    let (_dir, path, store) = temp_store();
    let job = Job::new("onboard", json!({}), t0());
    store.create_job(&job).await.unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE jobs SET params = 'not json'", [])
        .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path).unwrap();
    let err = store.get_job(job.id).await.unwrap_err();
    assert!(err.is_corrupt());
    let c = err.as_corrupt().unwrap();
    assert_eq!(c.table(), "jobs");
    assert_eq!(c.key(), job.id.to_string());
    assert!(matches!(err, StoreError::Corrupt(_)));
}
