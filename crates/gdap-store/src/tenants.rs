//! The tenant store: [`gdap_onboard::TenantStore`] on SQLite.
//!
//! Records live in `tenant_records`, one column per field; enum values are stored as their serde
//! names (`"monitoring"`, `"partnerCenter"`). The rows of the last sync live in `tenant_rows` as
//! JSON in this crate's own storage format (`RowV1`), not the domain's output JSON, so the CLI's
//! output can change without breaking a stored database, and fields that serialise lossily
//! (a missing role's alternatives are printed as one label) are kept whole.

use async_trait::async_trait;
use gdap_core::{RelationshipId, RoleTemplateId, TenantId};
use gdap_onboard::readiness::MissingRole;
use gdap_onboard::relationship::RelationshipStatus;
use gdap_onboard::templates::Days;
use gdap_onboard::tenant::{
    AutoExtend, EmailPerms, ManagedTenant, OnboardedVia, Protection, RelationshipSummary,
    TenantAction, TenantRecord, TenantStatus,
};
use gdap_onboard::{PortError, Readiness, RoleRef, TenantStore};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Context, Result, StoreError};
use crate::store::{SqliteStore, code_of, col, from_code, key_of, parse_id};

const RECORDS: &str = "tenant_records";
const ROWS: &str = "tenant_rows";

const PROTECTIONS: &[Protection] = &[
    Protection::NotOnboarded,
    Protection::Monitoring,
    Protection::Paused,
    Protection::Deleted,
];
const VIAS: &[OnboardedVia] = &[
    OnboardedVia::PartnerCenter,
    OnboardedVia::Individually,
    OnboardedVia::OwnTenantConsent,
];
const EMAIL_PERMS: &[EmailPerms] = &[
    EmailPerms::Ok,
    EmailPerms::NeedsRefresh,
    EmailPerms::NotApplicable,
    EmailPerms::Unknown,
];
const STATUSES: &[TenantStatus] = &[
    TenantStatus::Monitoring,
    TenantStatus::Paused,
    TenantStatus::PreviouslyDeleted,
    TenantStatus::NotProtected,
];
const ACTIONS: &[TenantAction] = &[
    TenantAction::Onboard,
    TenantAction::View,
    TenantAction::MigrateToPartnerCenter,
    TenantAction::RequestPermissions,
    TenantAction::ReRequestPermissions,
    TenantAction::RefreshEmailPermissions,
];

const RECORD_COLUMNS: &str =
    "tenant_id, display_name, protection, onboarded_via, email_perms, is_own_partner_tenant";

fn read_record(row: &rusqlite::Row<'_>) -> Result<TenantRecord> {
    let key = key_of(row, 0);
    let id: String = col(row, 0, RECORDS, &key)?;
    let mut rec = TenantRecord::new(parse_id::<TenantId>(RECORDS, &key, &id)?);
    rec.display_name = col(row, 1, RECORDS, &key)?;
    let protection: String = col(row, 2, RECORDS, &key)?;
    rec.protection = from_code(PROTECTIONS, &protection, RECORDS, &key, "protection")?;
    let via: Option<String> = col(row, 3, RECORDS, &key)?;
    rec.onboarded_via = via
        .map(|v| from_code(VIAS, &v, RECORDS, &key, "onboarded_via"))
        .transpose()?;
    let email: String = col(row, 4, RECORDS, &key)?;
    rec.email_perms = from_code(EMAIL_PERMS, &email, RECORDS, &key, "email_perms")?;
    let own: i64 = col(row, 5, RECORDS, &key)?;
    rec.is_own_partner_tenant = match own {
        0 => false,
        1 => true,
        n => {
            return Err(StoreError::corrupt(
                RECORDS,
                &key,
                format!("is_own_partner_tenant is {n}, not 0 or 1"),
            ));
        }
    };
    Ok(rec)
}

fn list_records(c: &Connection) -> Result<Vec<TenantRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORDS} ORDER BY tenant_id"
        ))
        .ctx("list tenant records")?;
    let mut rows = stmt.query([]).ctx("list tenant records")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("list tenant records")? {
        out.push(read_record(row)?);
    }
    Ok(out)
}

fn get_record(c: &Connection, tenant: &TenantId) -> Result<Option<TenantRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORDS} WHERE tenant_id = ?1"
        ))
        .ctx("read a tenant record")?;
    let mut rows = stmt
        .query([tenant.to_string()])
        .ctx("read a tenant record")?;
    match rows.next().ctx("read a tenant record")? {
        Some(row) => read_record(row).map(Some),
        None => Ok(None),
    }
}

fn upsert_record(c: &Connection, r: &TenantRecord) -> Result<()> {
    let via = r.onboarded_via.as_ref().map(code_of).transpose()?;
    let protection = code_of(&r.protection)?;
    let email_perms = code_of(&r.email_perms)?;
    c.prepare_cached(&format!(
        "INSERT INTO {RECORDS} ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant_id) DO UPDATE SET
           display_name = excluded.display_name,
           protection = excluded.protection,
           onboarded_via = excluded.onboarded_via,
           email_perms = excluded.email_perms,
           is_own_partner_tenant = excluded.is_own_partner_tenant"
    ))
    .and_then(|mut s| {
        s.execute(params![
            r.tenant_id.to_string(),
            r.display_name,
            protection,
            via,
            email_perms,
            r.is_own_partner_tenant,
        ])
    })
    .ctx("write a tenant record")?;
    Ok(())
}

/// Storage format of a [`ManagedTenant`] (version 1 of the `tenant_rows.data` JSON).
#[derive(Debug, Serialize, Deserialize)]
struct RowV1 {
    tenant_id: TenantId,
    display_name: String,
    legacy: bool,
    gdap: ReadinessV1,
    user_count: Option<u64>,
    status: String,
    email_perms: String,
    relationships: Vec<RelationshipV1>,
    is_own_partner_tenant: bool,
    actions: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
enum ReadinessV1 {
    Ready,
    NotRequired,
    /// Each inner list: the alternatives that would fill one gap.
    Missing {
        missing: Vec<Vec<RoleTemplateId>>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct RelationshipV1 {
    id: RelationshipId,
    display_name: String,
    status: String,
    roles: Vec<(RoleTemplateId, String)>,
    #[serde(with = "time::serde::rfc3339::option")]
    end_date_time: Option<OffsetDateTime>,
    auto_extend: AutoExtendV1,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
enum AutoExtendV1 {
    Enabled { days: u32 },
    Disabled,
    NotAllowedWithGlobalAdmin,
}

impl RowV1 {
    fn encode(t: &ManagedTenant) -> Result<Self> {
        let gdap = match &t.gdap {
            Readiness::Ready => ReadinessV1::Ready,
            Readiness::NotRequired => ReadinessV1::NotRequired,
            Readiness::Missing { missing } => ReadinessV1::Missing {
                missing: missing.iter().map(|m| m.alternatives().to_vec()).collect(),
            },
            other => {
                return Err(StoreError::InvalidInput(format!(
                    "readiness {other:?} has no stored form"
                )));
            }
        };
        let relationships = t
            .relationships
            .iter()
            .map(|r| {
                let auto_extend = match r.auto_extend {
                    AutoExtend::Enabled { days } => AutoExtendV1::Enabled { days: days.get() },
                    AutoExtend::Disabled => AutoExtendV1::Disabled,
                    AutoExtend::NotAllowedWithGlobalAdmin => {
                        AutoExtendV1::NotAllowedWithGlobalAdmin
                    }
                    other => {
                        return Err(StoreError::InvalidInput(format!(
                            "auto-extend state {other:?} has no stored form"
                        )));
                    }
                };
                Ok(RelationshipV1 {
                    id: r.id.clone(),
                    display_name: r.display_name.clone(),
                    status: r.status.as_str().to_owned(),
                    roles: r.roles.iter().map(|x| (x.id, x.name.clone())).collect(),
                    end_date_time: r.end_date_time,
                    auto_extend,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RowV1 {
            tenant_id: t.tenant_id,
            display_name: t.display_name.clone(),
            legacy: t.legacy,
            gdap,
            user_count: t.user_count,
            status: code_of(&t.status)?,
            email_perms: code_of(&t.email_perms)?,
            relationships,
            is_own_partner_tenant: t.is_own_partner_tenant,
            actions: t.actions.iter().map(code_of).collect::<Result<_>>()?,
        })
    }

    fn decode(self, key: &str) -> Result<ManagedTenant> {
        let gdap = match self.gdap {
            ReadinessV1::Ready => Readiness::Ready,
            ReadinessV1::NotRequired => Readiness::NotRequired,
            ReadinessV1::Missing { missing } => Readiness::Missing {
                missing: missing.into_iter().map(MissingRole::any_of).collect(),
            },
        };
        let relationships = self
            .relationships
            .into_iter()
            .map(|r| RelationshipSummary {
                id: r.id,
                display_name: r.display_name,
                status: RelationshipStatus::parse(&r.status),
                roles: r
                    .roles
                    .into_iter()
                    .map(|(id, name)| RoleRef { id, name })
                    .collect(),
                end_date_time: r.end_date_time,
                auto_extend: match r.auto_extend {
                    AutoExtendV1::Enabled { days } => AutoExtend::Enabled { days: Days(days) },
                    AutoExtendV1::Disabled => AutoExtend::Disabled,
                    AutoExtendV1::NotAllowedWithGlobalAdmin => {
                        AutoExtend::NotAllowedWithGlobalAdmin
                    }
                },
            })
            .collect();
        Ok(ManagedTenant {
            tenant_id: self.tenant_id,
            display_name: self.display_name,
            legacy: self.legacy,
            gdap,
            user_count: self.user_count,
            status: from_code(STATUSES, &self.status, ROWS, key, "status")?,
            email_perms: from_code(EMAIL_PERMS, &self.email_perms, ROWS, key, "email_perms")?,
            relationships,
            is_own_partner_tenant: self.is_own_partner_tenant,
            actions: self
                .actions
                .iter()
                .map(|a| from_code(ACTIONS, a, ROWS, key, "action"))
                .collect::<Result<_>>()?,
        })
    }
}

fn load_rows(c: &Connection) -> Result<Vec<ManagedTenant>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT position, tenant_id, data FROM {ROWS} ORDER BY position"
        ))
        .ctx("load tenant rows")?;
    let mut rows = stmt.query([]).ctx("load tenant rows")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("load tenant rows")? {
        let pos: i64 = col(row, 0, ROWS, &key_of(row, 0))?;
        let key = format!("{pos} (tenant {})", key_of(row, 1));
        let data: String = col(row, 2, ROWS, &key)?;
        let dto: RowV1 = serde_json::from_str(&data)
            .map_err(|e| StoreError::corrupt(ROWS, &key, format!("bad JSON: {e}")))?;
        out.push(dto.decode(&key)?);
    }
    Ok(out)
}

fn save_rows(c: &mut Connection, rows: Vec<(String, String)>) -> Result<()> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .ctx("save tenant rows")?;
    tx.execute(&format!("DELETE FROM {ROWS}"), [])
        .ctx("save tenant rows")?;
    {
        let mut ins = tx
            .prepare_cached(&format!(
                "INSERT INTO {ROWS} (position, tenant_id, data) VALUES (?1, ?2, ?3)"
            ))
            .ctx("save tenant rows")?;
        for (i, (tenant, data)) in rows.iter().enumerate() {
            ins.execute(params![i as i64, tenant, data])
                .ctx("save tenant rows")?;
        }
    }
    tx.commit().ctx("save tenant rows")
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn list_records(&self) -> Result<Vec<TenantRecord>, PortError> {
        Ok(self.read(|c| list_records(c)).await?)
    }

    async fn get_record(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, PortError> {
        let tenant = *tenant;
        Ok(self.read(move |c| get_record(c, &tenant)).await?)
    }

    async fn upsert_record(&self, record: &TenantRecord) -> Result<(), PortError> {
        let record = record.clone();
        Ok(self.call(move |c| upsert_record(c, &record)).await?)
    }

    async fn remove_record(&self, tenant: &TenantId) -> Result<bool, PortError> {
        let tenant = tenant.to_string();
        Ok(self
            .call(move |c| {
                c.execute(
                    &format!("DELETE FROM {RECORDS} WHERE tenant_id = ?1"),
                    [tenant],
                )
                .map(|n| n > 0)
                .ctx("remove a tenant record")
            })
            .await?)
    }

    async fn load_rows(&self) -> Result<Vec<ManagedTenant>, PortError> {
        Ok(self.read(|c| load_rows(c)).await?)
    }

    async fn save_rows(&self, rows: &[ManagedTenant]) -> Result<(), PortError> {
        // Encode on the caller's task: it is CPU work, and a refusal needs no database.
        let encoded = rows
            .iter()
            .map(|t| {
                let json = serde_json::to_string(&RowV1::encode(t)?).map_err(|e| {
                    StoreError::InvalidInput(format!(
                        "row of {} cannot be stored: {e}",
                        t.tenant_id
                    ))
                })?;
                Ok((t.tenant_id.to_string(), json))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self.call(move |c| save_rows(c, encoded)).await?)
    }
}
