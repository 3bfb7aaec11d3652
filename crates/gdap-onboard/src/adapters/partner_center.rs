//! [`PartnerCenter`] over [`gdap_partner_center::PartnerCenterClient`].

use async_trait::async_trait;
use gdap_core::{AppId, TenantId};
use gdap_partner_center::PartnerCenterClient;
use gdap_partner_center::models::{ApplicationConsent, ApplicationGrant};

use crate::directory::{AppConsent, ConsentGrant};
use crate::partner_directory::WebhookRegistration;
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::PartnerCenter;

/// Converts a Partner Center client error into a [`PortError`] by its predicates.
pub fn port_error_from_partner_center(e: &gdap_partner_center::Error) -> PortError {
    let mut base = match e.as_core() {
        Some(core) => PortError::from_core(core),
        None => PortError::new(PortErrorKind::Other, e.to_string()),
    };
    if let Some(d) = e.details() {
        if let Some(code) = d.code() {
            base = base.with_service_code(code);
        }
        if let Some(id) = d.request_id() {
            base = base.with_request_id(id);
        }
    }
    if e.is_already_exists() || e.is_conflict() {
        base.with_kind(PortErrorKind::AlreadyExists)
    } else if e.is_mfa_required() {
        let base = base.with_kind(PortErrorKind::MfaRequired).with_status(401);
        if base.service_code().is_some() {
            base
        } else {
            base.with_service_code("900421")
        }
    } else if e.is_forbidden() {
        base.with_kind(PortErrorKind::Forbidden)
    } else if e.is_not_found() {
        base.with_kind(PortErrorKind::NotFound)
    } else if e.is_throttled() {
        base.with_kind(PortErrorKind::Throttled)
    } else {
        base
    }
}

fn pe(e: gdap_partner_center::Error) -> PortError {
    port_error_from_partner_center(&e)
}

fn to_client(c: &AppConsent) -> ApplicationConsent {
    c.grants.iter().fold(
        ApplicationConsent::new(c.application_id, c.display_name.clone()),
        |acc, g| acc.with_grant(ApplicationGrant::new(g.resource_app_id, g.scopes.iter())),
    )
}

fn from_client(c: ApplicationConsent) -> AppConsent {
    AppConsent {
        application_id: c.application_id,
        display_name: c.display_name.unwrap_or_default(),
        grants: c
            .application_grants
            .iter()
            .map(|g| ConsentGrant {
                resource_app_id: g.enterprise_application_id,
                scopes: g.scopes().map(str::to_owned).collect(),
            })
            .collect(),
    }
}

/// [`PartnerCenter`] over a Partner Center client (App+User token of the partner).
#[derive(Debug, Clone)]
pub struct PartnerCenterConsents {
    client: PartnerCenterClient,
}

impl PartnerCenterConsents {
    /// The port over `client`.
    pub fn new(client: PartnerCenterClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl PartnerCenter for PartnerCenterConsents {
    async fn create_consent(
        &self,
        customer: &TenantId,
        consent: &AppConsent,
    ) -> Result<(), PortError> {
        self.client
            .create_application_consent(customer, &to_client(consent))
            .await
            .map(|_| ())
            .map_err(pe)
    }

    async fn delete_consent(
        &self,
        customer: &TenantId,
        application_id: &AppId,
    ) -> Result<(), PortError> {
        self.client
            .delete_application_consent(customer, application_id)
            .await
            .map_err(pe)
    }

    async fn list_consents(&self, customer: &TenantId) -> Result<Vec<AppConsent>, PortError> {
        Ok(self
            .client
            .list_application_consents(customer)
            .await
            .map_err(pe)?
            .into_iter()
            .map(from_client)
            .collect())
    }

    async fn get_webhook_registration(&self) -> Result<Option<WebhookRegistration>, PortError> {
        Ok(self
            .client
            .get_webhook_registration()
            .await
            .map_err(pe)?
            .map(|r| WebhookRegistration::new(r.webhook_url, r.webhook_events)))
    }

    async fn create_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        self.write_webhook(registration, false).await
    }

    async fn update_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        self.write_webhook(registration, true).await
    }
}

impl PartnerCenterConsents {
    /// `POST` (create) or `PUT` (`replace`) of the registration.
    async fn write_webhook(
        &self,
        registration: &WebhookRegistration,
        replace: bool,
    ) -> Result<WebhookRegistration, PortError> {
        let url = webhook_url(registration)?;
        let r = if replace {
            self.client
                .update_webhook_registration(&url, &registration.events)
                .await
        } else {
            self.client
                .create_webhook_registration(&url, &registration.events)
                .await
        }
        .map_err(pe)?;
        Ok(WebhookRegistration::new(r.webhook_url, r.webhook_events))
    }
}

fn webhook_url(registration: &WebhookRegistration) -> Result<url::Url, PortError> {
    url::Url::parse(&registration.url).map_err(|e| {
        PortError::new(
            PortErrorKind::Invalid,
            format!("the webhook callback is not a valid URL: {e}"),
        )
    })
}
