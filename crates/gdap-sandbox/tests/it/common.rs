use std::time::Duration;

use gdap_sandbox::world::TenantSnapshot;
use gdap_sandbox::{Sandbox, SandboxBuilder, SandboxHandle, World, WorldInfo, WorldSnapshot};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub(crate) const GRAPH: &str = "https://graph.microsoft.com/.default";
pub(crate) const PC: &str = "https://api.partnercenter.microsoft.com/.default";
pub(crate) const GA: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const PRA: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
pub(crate) const APP_ADMIN: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
pub(crate) const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
pub(crate) const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";
pub(crate) const EXO_APP: &str = "00000002-0000-0ff1-ce00-000000000000";

pub(crate) struct Env {
    pub(crate) h: SandboxHandle,
    pub(crate) info: WorldInfo,
    pub(crate) http: Client,
    pub(crate) snap: WorldSnapshot,
    pub(crate) rt: String,
}

pub(crate) fn builder() -> SandboxBuilder {
    Sandbox::builder()
        .world(World::seeded(7, 200))
        .propagation_delay(Duration::from_secs(2))
}

pub(crate) async fn start(b: SandboxBuilder) -> Env {
    let h = b.start().await.expect("sandbox starts");
    let info = h.world_info();
    let snap = h.snapshot();
    let rt = h.issue_refresh_token(&info.admin_upn, &[GRAPH, "offline_access"]);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env {
        h,
        info,
        http,
        snap,
        rt,
    }
}

pub(crate) async fn env() -> Env {
    start(builder()).await
}

impl Env {
    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.h.base_url().as_str().trim_end_matches('/'),
            path
        )
    }

    pub(crate) fn graph(&self, path: &str) -> String {
        format!("{}{}", self.h.graph_url(), path)
    }

    pub(crate) fn pc(&self, path: &str) -> String {
        format!("{}{}", self.h.partner_center_url(), path)
    }

    pub(crate) fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.h.authority_url())
    }

    pub(crate) async fn token_raw(&self, tenant: &str, rt: &str, scope: &str) -> Response {
        self.http
            .post(self.token_url(tenant))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.info.client_id.as_str()),
                ("client_secret", self.info.client_secret.as_str()),
                ("refresh_token", rt),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn token_for(&self, tenant: &str, rt: &str, scope: &str) -> String {
        let r = self.token_raw(tenant, rt, scope).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "token for {tenant}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    pub(crate) async fn graph_token(&self) -> String {
        self.token_for(&self.info.partner_tenant_id, &self.rt, GRAPH)
            .await
    }

    pub(crate) async fn pc_token(&self) -> String {
        self.token_for(&self.info.partner_tenant_id, &self.rt, PC)
            .await
    }

    /// All tenants matching `pred` (customers only).
    pub(crate) fn tenants(&self, pred: impl Fn(&TenantSnapshot) -> bool) -> Vec<&TenantSnapshot> {
        self.snap
            .tenants
            .iter()
            .filter(|t| !t.is_own && pred(t))
            .collect()
    }

    /// A customer whose admin group has an active assignment on an active relationship, and
    /// whose union of assigned roles satisfies `roles`.
    pub(crate) fn tenant_with(&self, profile: &str, assigned: bool) -> &TenantSnapshot {
        let group = &self.info.admin_group_ids[0];
        self.tenants(|t| {
            t.profile == profile
                && !t.legacy
                && !t.previously_deleted
                && t.relationships
                    .iter()
                    .all(|r| !r.is_mlt && r.status != "suspendedByPolicy")
                && t.relationships
                    .iter()
                    .filter(|r| r.status == "active")
                    .any(|r| {
                        r.access_assignments
                            .iter()
                            .any(|a| &a.group_id == group && a.status == "active")
                    })
                    == assigned
        })
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no tenant with profile {profile} (assigned={assigned})"))
    }

    /// Consents the product app with the given Graph scopes in `tenant` through Partner Center.
    pub(crate) async fn consent(&self, pc: &str, tenant: &str, scope: &str) -> Response {
        self.http
            .post(self.pc(&format!("/v1/customers/{tenant}/applicationconsents")))
            .bearer_auth(pc)
            .json(&serde_json::json!({
                "applicationId": self.info.client_id,
                "displayName": self.info.app_display_name,
                "applicationGrants": [{"enterpriseApplicationId": GRAPH_APP, "scope": scope}],
            }))
            .send()
            .await
            .unwrap()
    }

    /// PC-consents the app in `tenant` and returns a customer-tenant Graph token.
    pub(crate) async fn customer_token(&self, tenant: &str) -> String {
        let pc = self.pc_token().await;
        let r = self.consent(&pc, tenant, "Directory.ReadWrite.All,AppRoleAssignment.ReadWrite.All,DelegatedPermissionGrant.ReadWrite.All").await;
        assert!(
            r.status() == StatusCode::CREATED || r.status() == StatusCode::CONFLICT,
            "consent: {}",
            r.status()
        );
        self.token_for(tenant, &self.rt, GRAPH).await
    }

    pub(crate) async fn get(&self, url: &str, tok: &str) -> (StatusCode, Value) {
        let r = self.http.get(url).bearer_auth(tok).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn send_json(
        &self,
        method: reqwest::Method,
        url: &str,
        tok: &str,
        body: Value,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let r = self
            .http
            .request(method, url)
            .bearer_auth(tok)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let h = r.headers().clone();
        (s, r.json().await.unwrap_or(Value::Null), h)
    }
}

pub(crate) fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}
