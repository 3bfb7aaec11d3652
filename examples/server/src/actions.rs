//! The write actions on one tenant (onboard, migrate, refresh email permissions).
//!
//! Interim implementation over the ports until `gdap-onboard`'s own onboarding workflows land on
//! main: check-then-write, so a repeated run (a resumed job) writes nothing twice:
//! 1. the app's service principal in the customer tenant is looked up first; only when it is
//!    absent is the Partner Center (CPV) consent created, and a duplicate answer counts as done;
//! 2. the tenant record is marked onboarded through Partner Center;
//! 3. the last synced row is updated so the table shows the new state at once.
//!
//! Each step is journalled (`Started`, then `Changed`/`Passed`/`Failed`) under the job's run id.

use gdap_core::TenantId;
use gdap_onboard::directory::{AppConsent, ConsentGrant};
use gdap_onboard::manifest::microsoft_graph;
use gdap_onboard::ports::{AccessPath, JournalEntry, StepOutcome};
use gdap_onboard::tenant::{OnboardedVia, Protection};
use gdap_onboard::{
    EmailPerms, ManagedTenant, OnboardError, Operation, PortErrorKind, TenantRecord, TenantStatus,
};
use serde::{Deserialize, Serialize};

use crate::cloud::Connected;

/// Serializes updates of the last synced table.
static ROWS_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A write action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Action {
    /// Install and grant the app through Partner Center.
    Onboard,
    /// Move a Legacy tenant to Partner Center management.
    Migrate,
    /// Refresh the email permissions of a tenant onboarded through Partner Center.
    RefreshEmail,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Onboard => "onboard",
            Action::Migrate => "migrate",
            Action::RefreshEmail => "refreshEmail",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "onboard" => Some(Action::Onboard),
            "migrate" => Some(Action::Migrate),
            "refreshEmail" => Some(Action::RefreshEmail),
            _ => None,
        }
    }
}

fn store_err(t: TenantId) -> impl Fn(gdap_onboard::PortError) -> OnboardError {
    move |e| OnboardError::classify(Operation::Store, Some(t), e)
}

async fn journal(
    c: &Connected,
    run: &str,
    t: TenantId,
    step: &str,
    outcome: StepOutcome,
    detail: &str,
) {
    let ports = c.orchestrator.ports();
    let entry = JournalEntry::new(run, t, step, outcome, detail, ports.clock.now());
    if let Err(e) = ports.journal.append(&entry).await {
        tracing::warn!(error = %e, run, tenant = %t, step, "journal append failed");
    }
}

/// Runs `action` on `tenant`; returns a short detail for people.
pub(crate) async fn run(
    c: &Connected,
    action: Action,
    run_id: &str,
    tenant: TenantId,
) -> Result<String, OnboardError> {
    let ports = c.orchestrator.ports();
    let record = ports
        .store
        .get_record(&tenant)
        .await
        .map_err(store_err(tenant))?;
    let rows = ports.store.load_rows().await.map_err(store_err(tenant))?;
    let row = rows.iter().find(|r| r.tenant_id == tenant);
    let onboarded_pc = record.as_ref().is_some_and(|r| {
        r.onboarded_via == Some(OnboardedVia::PartnerCenter) && r.status().is_onboarded()
    });
    match action {
        Action::Onboard => {
            if onboarded_pc {
                return Ok("already onboarded through Partner Center".to_owned());
            }
            if let Some(row) = row
                && !row.gdap.is_ready()
            {
                return Err(OnboardError::MissingGdapPermissions {
                    tenant,
                    missing: row.gdap.missing().to_vec(),
                });
            }
        }
        Action::Migrate => {
            let legacy = record.as_ref().is_some_and(TenantRecord::is_legacy);
            if onboarded_pc {
                return Err(OnboardError::AlreadyManagedByPartnerCenter { tenant });
            }
            if !legacy {
                return Err(OnboardError::NoLegacyTenant { tenant });
            }
            if let Some(row) = row
                && !row.gdap.is_ready()
            {
                return Err(OnboardError::MigrationMissingGdapPermissions {
                    tenant,
                    missing: row.gdap.missing().to_vec(),
                });
            }
        }
        Action::RefreshEmail => {
            if !onboarded_pc {
                return Err(OnboardError::RefreshRequiresPartnerCenter { tenant });
            }
        }
    }

    // Consent: check, then write.
    journal(c, run_id, tenant, "consent", StepOutcome::Started, "").await;
    let app = c
        .orchestrator
        .config()
        .manifest
        .as_ref()
        .map_or(c.client_id, |m| m.application_id);
    let dir = ports.directories.for_tenant(tenant, AccessPath::Gdap);
    let present = matches!(dir.find_service_principal(&app).await, Ok(Some(_)));
    let consent_detail = if present && action != Action::RefreshEmail {
        journal(
            c,
            run_id,
            tenant,
            "consent",
            StepOutcome::Passed,
            "app already installed",
        )
        .await;
        "app already installed"
    } else {
        let consent = AppConsent {
            application_id: app,
            display_name: "gdap partner app".to_owned(),
            grants: vec![ConsentGrant {
                resource_app_id: microsoft_graph(),
                scopes: vec![
                    "User.Read.All".to_owned(),
                    "Directory.Read.All".to_owned(),
                    "AuditLog.Read.All".to_owned(),
                ],
            }],
        };
        match ports.partner_center.create_consent(&tenant, &consent).await {
            Ok(()) => {
                journal(
                    c,
                    run_id,
                    tenant,
                    "consent",
                    StepOutcome::Changed,
                    "consent created",
                )
                .await;
                "consent created"
            }
            Err(e) if e.kind() == PortErrorKind::AlreadyExists => {
                journal(
                    c,
                    run_id,
                    tenant,
                    "consent",
                    StepOutcome::Passed,
                    "consent existed",
                )
                .await;
                "consent existed"
            }
            Err(e) => {
                journal(
                    c,
                    run_id,
                    tenant,
                    "consent",
                    StepOutcome::Failed,
                    &e.to_string(),
                )
                .await;
                return Err(OnboardError::classify(Operation::Consent, Some(tenant), e));
            }
        }
    };

    // The record and the table row.
    let name = row
        .map(|r| r.display_name.clone())
        .or_else(|| record.as_ref().and_then(|r| r.display_name.clone()));
    let mut rec = TenantRecord::onboarded(tenant, OnboardedVia::PartnerCenter)
        .with_protection(Protection::Monitoring)
        .with_email_perms(EmailPerms::Ok);
    if let Some(n) = &name {
        rec = rec.with_display_name(n.clone());
    }
    ports
        .store
        .upsert_record(&rec)
        .await
        .map_err(store_err(tenant))?;
    // Read-modify-write of the saved table: one writer at a time.
    let _rows_guard = ROWS_LOCK.lock().await;
    let mut rows = ports.store.load_rows().await.map_err(store_err(tenant))?;
    if let Some(r) = rows.iter_mut().find(|r| r.tenant_id == tenant) {
        r.legacy = false;
        r.status = TenantStatus::Monitoring;
        r.email_perms = EmailPerms::Ok;
        r.actions = ManagedTenant::actions_for(
            &r.gdap,
            r.status,
            r.legacy,
            r.email_perms,
            r.is_own_partner_tenant,
        );
        ports
            .store
            .save_rows(&rows)
            .await
            .map_err(store_err(tenant))?;
    }
    journal(
        c,
        run_id,
        tenant,
        "record",
        StepOutcome::Changed,
        action.as_str(),
    )
    .await;
    Ok(format!("{}: {consent_detail}", action.as_str()))
}
