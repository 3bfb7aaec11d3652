//! The app registration the tokens are issued to.

use std::fmt;

use gdap_core::AppId;
use secrecy::SecretString;

/// The multi-tenant app registration: its client id and, for a confidential web app (the
/// production setup), its client secret. A public client has no secret.
///
/// `Debug` never prints the secret.
#[derive(Clone)]
pub struct AppCredentials {
    /// The application (client) id.
    pub client_id: AppId,
    /// The client secret of a confidential client; `None` for a public client.
    pub client_secret: Option<SecretString>,
}

impl AppCredentials {
    /// A confidential client (web app with a secret).
    pub fn confidential(client_id: AppId, client_secret: SecretString) -> Self {
        Self {
            client_id,
            client_secret: Some(client_secret),
        }
    }

    /// A public client (no secret; PKCE only).
    pub fn public(client_id: AppId) -> Self {
        Self {
            client_id,
            client_secret: None,
        }
    }

    pub(crate) fn oauth_client(
        &self,
    ) -> oauth2::Client<
        crate::http::EntraErrorResponse,
        crate::http::EntraTokenResponse,
        oauth2::basic::BasicTokenIntrospectionResponse,
        oauth2::StandardRevocableToken,
        oauth2::basic::BasicRevocationErrorResponse,
    > {
        use secrecy::ExposeSecret as _;
        let client = oauth2::Client::new(oauth2::ClientId::new(self.client_id.to_string()))
            .set_auth_type(oauth2::AuthType::RequestBody);
        match &self.client_secret {
            Some(s) => {
                client.set_client_secret(oauth2::ClientSecret::new(s.expose_secret().to_owned()))
            }
            None => client,
        }
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}
