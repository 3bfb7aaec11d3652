//! Application consent (CPV) operations.

use gdap_core::{AppId, Request, TenantId};
use serde::Deserialize;

use crate::client::{PartnerCenterClient, WithMeta};
use crate::error::Result;
use crate::models::{ApplicationConsent, ApplicationGrant, PARTNER_CENTER_APP_ID};

fn consents_path(tenant_id: &TenantId) -> String {
    format!("v1/customers/{tenant_id}/applicationconsents")
}

/// What a `POST` answers: the consent echo, parsed leniently and completed from the request so a
/// sparse echo never turns a created consent into an error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsentEcho {
    application_id: Option<AppId>,
    display_name: Option<String>,
    application_grants: Option<Vec<ApplicationGrant>>,
}

/// A `GET` list: a bare array or a Partner Center collection.
#[derive(Deserialize)]
#[serde(untagged)]
enum ConsentList {
    Bare(Vec<ApplicationConsent>),
    Collection {
        #[serde(default, alias = "value")]
        items: Vec<ApplicationConsent>,
    },
}

fn validate(consent: &ApplicationConsent) -> Result<()> {
    let invalid = |reason: &str| gdap_core::Error::invalid_input("application consent", reason);
    if consent.application_grants.is_empty() {
        return Err(invalid("applicationGrants must name at least one resource").into());
    }
    for g in &consent.application_grants {
        if g.enterprise_application_id == PARTNER_CENTER_APP_ID {
            return Err(invalid(
                "the Microsoft Partner Center app (fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd) must never be \
                 consented into a customer tenant",
            )
            .into());
        }
        if g.scopes().next().is_none() {
            return Err(invalid(&format!(
                "the grant for {} has no scope",
                g.enterprise_application_id
            ))
            .into());
        }
    }
    Ok(())
}

impl PartnerCenterClient {
    /// `POST /v1/customers/{tenantId}/applicationconsents`: installs the application into the
    /// customer tenant (creating its service principal if missing) and grants it tenant-wide the
    /// delegated scopes of each grant. Needs an App+User token with MFA, issued to
    /// `consent.application_id`, of a user with the Admin Agent role and a GDAP (Cloud)
    /// Application Administrator role in that customer.
    ///
    /// Not retried after the server may have acted (only on 429, 503 with `Retry-After`, or a
    /// connection that never opened); the retries of one call share one `MS-RequestId`.
    ///
    /// # Arguments
    /// * `tenant_id` - the customer tenant.
    /// * `consent` - the application and its grants; Partner Center advises one resource per call.
    ///
    /// # Errors
    /// * [`Error::AlreadyExists`](crate::Error::AlreadyExists) when a consent is already present:
    ///   read the grants back, or delete and create again to change them.
    /// * [`Error::MfaRequired`](crate::Error::MfaRequired), [`Error::Forbidden`](crate::Error::Forbidden),
    ///   [`Error::NotFound`](crate::Error::NotFound) as their names say.
    /// * [`Error::Core`](crate::Error::Core) with invalid input, before sending, when there are no
    ///   grants, a grant has no scope, or a grant names the Partner Center app itself.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient, tenant: gdap_core::TenantId, app: gdap_core::AppId, graph: gdap_core::AppId) -> gdap_partner_center::Result<()> {
    /// use gdap_partner_center::models::{ApplicationConsent, ApplicationGrant};
    /// let consent = ApplicationConsent::new(app, "Contoso MSP Worker")
    ///     .with_grant(ApplicationGrant::new(graph, ["Directory.ReadWrite.All"]));
    /// match client.create_application_consent(&tenant, &consent).await {
    ///     Ok(_) => {}
    ///     Err(e) if e.is_already_exists() => { /* already installed: verify the grants */ }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "create_application_consent", tenant_id = %tenant_id, application_id = %consent.application_id), err)]
    pub async fn create_application_consent(
        &self,
        tenant_id: &TenantId,
        consent: &ApplicationConsent,
    ) -> Result<ApplicationConsent> {
        Ok(self
            .create_application_consent_with_meta(tenant_id, consent)
            .await?
            .value)
    }

    /// [`create_application_consent`](Self::create_application_consent) plus the response
    /// metadata (`isMfaCompliant`, ids).
    ///
    /// # Errors
    /// As [`create_application_consent`](Self::create_application_consent).
    pub async fn create_application_consent_with_meta(
        &self,
        tenant_id: &TenantId,
        consent: &ApplicationConsent,
    ) -> Result<WithMeta<ApplicationConsent>> {
        validate(consent)?;
        let req = Request::post(consents_path(tenant_id)).json(consent)?;
        let resp = self.send(req).await?;
        let value = if resp.body().iter().all(u8::is_ascii_whitespace) {
            consent.clone()
        } else {
            let echo: ConsentEcho = resp.json().map_err(|e| self.map_err(e))?;
            ApplicationConsent {
                application_id: echo.application_id.unwrap_or(consent.application_id),
                display_name: echo.display_name.or_else(|| consent.display_name.clone()),
                application_grants: echo
                    .application_grants
                    .unwrap_or_else(|| consent.application_grants.clone()),
            }
        };
        Ok(WithMeta {
            value,
            meta: self.meta(&resp),
        })
    }

    /// `GET /v1/customers/{tenantId}/applicationconsents`: the consents Partner Center knows for
    /// the customer. Accepts a bare array or a `{"items": [...]}` collection.
    ///
    /// Partner Center does not document this `GET` (only `POST` and `DELETE`); it may answer 404
    /// or 405, and it knows nothing of consents made outside Partner Center. The authoritative
    /// state is in the customer's Graph (`servicePrincipals` + `oauth2PermissionGrants`).
    ///
    /// # Errors
    /// As any call; [`Error::NotFound`](crate::Error::NotFound) also when the service has no such
    /// route.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient, tenant: gdap_core::TenantId) -> gdap_partner_center::Result<()> {
    /// for consent in client.list_application_consents(&tenant).await? {
    ///     println!("{}", consent.application_id);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "list_application_consents", tenant_id = %tenant_id), err)]
    pub async fn list_application_consents(
        &self,
        tenant_id: &TenantId,
    ) -> Result<Vec<ApplicationConsent>> {
        Ok(self
            .list_application_consents_with_meta(tenant_id)
            .await?
            .value)
    }

    /// [`list_application_consents`](Self::list_application_consents) plus the response metadata.
    ///
    /// # Errors
    /// As [`list_application_consents`](Self::list_application_consents).
    pub async fn list_application_consents_with_meta(
        &self,
        tenant_id: &TenantId,
    ) -> Result<WithMeta<Vec<ApplicationConsent>>> {
        let resp = self.send(Request::get(consents_path(tenant_id))).await?;
        let value = match resp.json::<ConsentList>().map_err(|e| self.map_err(e))? {
            ConsentList::Bare(items) | ConsentList::Collection { items } => items,
        };
        Ok(WithMeta {
            value,
            meta: self.meta(&resp),
        })
    }

    /// `DELETE /v1/customers/{tenantId}/applicationconsents/{applicationId}`: removes the
    /// application's tenant-wide grants (its service principal stays). Success is 200 or 204.
    ///
    /// # Arguments
    /// * `tenant_id` - the customer tenant.
    /// * `application_id` - the consented application.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) when there is nothing to delete (callers doing
    /// delete-then-create may ignore it); otherwise as any call.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient, tenant: gdap_core::TenantId, app: gdap_core::AppId) -> gdap_partner_center::Result<()> {
    /// match client.delete_application_consent(&tenant, &app).await {
    ///     Ok(()) => {}
    ///     Err(e) if e.is_not_found() => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "delete_application_consent", tenant_id = %tenant_id, application_id = %application_id), err)]
    pub async fn delete_application_consent(
        &self,
        tenant_id: &TenantId,
        application_id: &AppId,
    ) -> Result<()> {
        self.delete_application_consent_with_meta(tenant_id, application_id)
            .await
            .map(|_| ())
    }

    /// [`delete_application_consent`](Self::delete_application_consent) plus the response
    /// metadata.
    ///
    /// # Errors
    /// As [`delete_application_consent`](Self::delete_application_consent).
    pub async fn delete_application_consent_with_meta(
        &self,
        tenant_id: &TenantId,
        application_id: &AppId,
    ) -> Result<WithMeta<()>> {
        let path = format!("{}/{application_id}", consents_path(tenant_id));
        let resp = self.send(Request::delete(path)).await?;
        Ok(WithMeta {
            value: (),
            meta: self.meta(&resp),
        })
    }
}
