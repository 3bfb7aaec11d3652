//! [`Tokens`] over `gdap-auth` credentials.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use gdap_core::{TenantId, TokenCredential};

use crate::port_error::{PortError, PortErrorKind};
use crate::ports::{PartnerAccount, Tokens};

/// Makes the GDAP credential of a customer tenant (e.g. `RefreshTokenCredential::for_tenant`).
pub type CredentialFactory = Arc<dyn Fn(TenantId) -> Arc<dyn TokenCredential> + Send + Sync>;

/// [`Tokens`] over a per-tenant credential factory and, optionally, the own tenant's
/// client-credentials credential.
#[derive(Clone)]
pub struct AuthTokens {
    account: PartnerAccount,
    gdap: CredentialFactory,
    own_tenant: Option<Arc<dyn TokenCredential>>,
    partner: Option<Arc<dyn TokenCredential>>,
    scope: String,
}

impl fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthTokens")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl AuthTokens {
    /// Tokens for `account`, customer credentials from `gdap`, probing Microsoft Graph.
    pub fn new(account: PartnerAccount, gdap: CredentialFactory) -> Self {
        Self {
            account,
            gdap,
            own_tenant: None,
            partner: None,
            scope: gdap_auth::scopes::GRAPH_DEFAULT.to_owned(),
        }
    }

    /// Tokens from a refresh-token credential.
    pub fn from_refresh_credential(
        account: PartnerAccount,
        credential: Arc<gdap_auth::RefreshTokenCredential>,
    ) -> Self {
        Self::new(
            account,
            Arc::new(move |tenant: TenantId| credential.for_tenant(tenant)),
        )
    }

    /// Sets the partner-tenant credential of the signed-in user (its token's `amr` claim tells
    /// whether the sign-in carried MFA).
    pub fn with_partner_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.partner = Some(credential);
        self
    }

    /// Sets the own tenant's client-credentials credential.
    pub fn with_own_tenant_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.own_tenant = Some(credential);
        self
    }
}

#[async_trait]
impl Tokens for AuthTokens {
    fn account(&self) -> PartnerAccount {
        self.account.clone()
    }

    async fn probe_customer(&self, tenant: &TenantId) -> Result<(), PortError> {
        (self.gdap)(*tenant)
            .get_token(&[self.scope.as_str()])
            .await
            .map(|_| ())
            .map_err(|e| PortError::from_core(&e))
    }

    async fn probe_own_tenant(&self) -> Result<(), PortError> {
        let Some(c) = &self.own_tenant else {
            return Err(PortError::new(
                PortErrorKind::Unauthorized,
                "no client-credentials credential configured for the partner tenant",
            ));
        };
        c.get_token(&[self.scope.as_str()])
            .await
            .map(|_| ())
            .map_err(|e| PortError::from_core(&e))
    }

    async fn partner_sign_in_methods(&self) -> Result<Option<Vec<String>>, PortError> {
        let Some(c) = &self.partner else {
            return Ok(None);
        };
        let token = c
            .get_token(&[self.scope.as_str()])
            .await
            .map_err(|e| PortError::from_core(&e))?;
        // Decoded without verification: the claim only informs a report, it grants nothing.
        Ok(gdap_auth::claims::access_token_claims(&token).map(|c| c.amr))
    }
}
