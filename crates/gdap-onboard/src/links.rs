//! Links shown to people: the customer's approval link for a relationship request
//! (graph-gdap.md §1.12) and the admin-consent URL fallback.
//!
//! Both are built with [`Url::join`] on a base the caller supplies ([`Links`]), so a sandbox or a
//! national cloud works unchanged. The defaults are the public cloud's.

use gdap_core::{AppId, RelationshipId, TenantId};
use url::Url;

/// The Microsoft 365 admin center (where customers approve GDAP requests).
pub const DEFAULT_ADMIN_CENTER: &str = "https://admin.microsoft.com/";
/// The Microsoft Entra authority (where admin consent is given).
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";

/// The bases links are built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// The admin center base, e.g. `https://admin.microsoft.com/`.
    pub admin_center: Url,
    /// The authority base, e.g. `https://login.microsoftonline.com/`.
    pub authority: Url,
}

impl Default for Links {
    fn default() -> Self {
        Self {
            admin_center: parse_default(DEFAULT_ADMIN_CENTER),
            authority: parse_default(DEFAULT_AUTHORITY),
        }
    }
}

#[allow(clippy::expect_used)] // the constants above are valid absolute URLs (unit-tested)
fn parse_default(s: &str) -> Url {
    Url::parse(s).expect("static URL")
}

fn as_directory(base: &Url) -> Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.set_query(None);
    base.set_fragment(None);
    base
}

impl Links {
    /// Links on the given bases.
    pub fn new(admin_center: Url, authority: Url) -> Self {
        Self {
            admin_center,
            authority,
        }
    }

    /// The link the customer's admin opens to approve relationship `id`:
    /// `{admin_center}AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}`.
    pub fn approval_link(&self, id: &RelationshipId) -> Url {
        let mut url = as_directory(&self.admin_center)
            .join("AdminPortal/Home")
            .unwrap_or_else(|_| self.admin_center.clone());
        url.set_fragment(Some(&format!(
            "/partners/invitation/granularAdminRelationships/{id}"
        )));
        url
    }

    /// The admin-consent URL a tenant admin opens to grant `app` in `tenant`:
    /// `{authority}{tenant}/adminconsent?client_id={app}`.
    pub fn admin_consent_url(&self, tenant: &TenantId, app: &AppId) -> Url {
        let mut url = as_directory(&self.authority)
            .join(&format!("{tenant}/adminconsent"))
            .unwrap_or_else(|_| self.authority.clone());
        url.query_pairs_mut()
            .clear()
            .append_pair("client_id", &app.to_string());
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_shapes() {
        let l = Links::default();
        let id: RelationshipId =
            "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
                .parse()
                .unwrap();
        assert_eq!(
            l.approval_link(&id).as_str(),
            "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
        );
        let t: TenantId = "11111111-1111-1111-1111-111111111111".parse().unwrap();
        let a: AppId = "22222222-2222-2222-2222-222222222222".parse().unwrap();
        assert_eq!(
            l.admin_consent_url(&t, &a).as_str(),
            "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/adminconsent?client_id=22222222-2222-2222-2222-222222222222"
        );
    }

    #[test]
    fn base_with_path_prefix_keeps_it() {
        let l = Links::new(
            Url::parse("http://127.0.0.1:9/admin").unwrap(),
            Url::parse("http://127.0.0.1:9/login").unwrap(),
        );
        let t = TenantId::new_random();
        let a = AppId::new_random();
        assert!(l.admin_consent_url(&t, &a).as_str().starts_with(&format!(
            "http://127.0.0.1:9/login/{t}/adminconsent?client_id="
        )));
    }
}
