//! Deterministic generation of a realistic world from a seed.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalog::{self, AppDef, ScopeDef};
use super::model::*;
use super::{PartnerInfo, World};
use crate::well_known::{app_roles as ar, roles as r};

const PREFIXES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Adatum",
    "Litware",
    "Woodgrove",
    "Proseware",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Lamna",
    "Wingtip",
    "Trey",
    "Fourth Coffee",
    "Relecloud",
    "Margie's",
    "Wide World",
    "Humongous",
    "Lucerne",
    "Graphic Design",
    "Southridge",
    "Datum",
    "VanArsdel",
    "Consolidated",
    "Bellows",
    "Munson's",
    "Liberty's",
    "Nod",
    "Best For You",
];
const INDUSTRIES: &[&str] = &[
    "Dental",
    "Legal",
    "Logistics",
    "Accounting",
    "Clinic",
    "Realty",
    "Construction",
    "Bakery",
    "Engineering",
    "Insurance",
    "Pharmacy",
    "Veterinary",
    "Architects",
    "Consulting",
    "Motors",
    "Travel",
    "Printing",
    "Foods",
    "Energy",
    "Media",
    "Schools",
    "Holdings",
    "Partners",
    "Labs",
];
const COUNTRIES: &[&str] = &["US", "GB", "AU", "CA", "NZ", "IE", "DE", "NL"];
const EXTRA_ROLES: &[&str] = &[
    r::HELPDESK_ADMINISTRATOR,
    r::USER_ADMINISTRATOR,
    r::EXCHANGE_ADMINISTRATOR,
    r::GLOBAL_READER,
    r::SECURITY_READER,
    r::LICENSE_ADMINISTRATOR,
    r::SERVICE_SUPPORT_ADMINISTRATOR,
];
const MLT_ROLES: &[&str] = &[
    r::DIRECTORY_READERS,
    r::DIRECTORY_WRITERS,
    r::LICENSE_ADMINISTRATOR,
    r::SERVICE_SUPPORT_ADMINISTRATOR,
    r::USER_ADMINISTRATOR,
    r::PRIVILEGED_ROLE_ADMINISTRATOR,
    r::HELPDESK_ADMINISTRATOR,
    r::PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
];
/// An indirect provider tenant used for reseller relationships.
const INDIRECT_PROVIDER: &str = "9c2d6a4e-31b7-4f4c-8a6e-5d1f0b7c2e13";

pub(crate) fn uuid(rng: &mut ChaCha8Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// A Graph-style opaque object id (43 chars, base64url), used for grants and app role assignments.
pub(crate) fn opaque_id(rng: &mut ChaCha8Rng) -> String {
    use base64::Engine as _;
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

struct Gen<'a> {
    w: &'a mut World,
    rng: ChaCha8Rng,
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Active,
    Expired,
    Terminated,
    ApprovalPending,
    Created,
    Unknown,
}

impl Gen<'_> {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn days(&mut self, lo: i64, hi: i64) -> Ms {
        self.rng.random_range(lo * DAY..=hi * DAY)
    }

    fn etag(&mut self) -> String {
        self.w.next_etag()
    }

    /// Adds a relationship with the given roles to customer `t`.
    fn relationship(
        &mut self,
        t: usize,
        k: usize,
        roles: Vec<String>,
        shape: Shape,
        mlt: bool,
    ) -> u64 {
        let seq = self.w.next_rel_seq;
        self.w.next_rel_seq += 1;
        let id = format!("{}-{}", uuid(&mut self.rng), uuid(&mut self.rng));
        let tenant_no = t; // partner tenant is index 0, so customers start at 1
        let display_name = if mlt {
            format!("MLT_{}_{:05}", &id[..8], tenant_no)
        } else {
            format!("SandboxMSP_{:05}_{}", tenant_no, k)
        };
        let has_ga = roles.iter().any(|x| x == r::GLOBAL_ADMINISTRATOR);
        let duration_days: i64 = if mlt {
            730
        } else {
            *[730, 730, 365, 365, 180]
                .get(self.rng.random_range(0..5))
                .unwrap_or(&730)
        };
        let duration_ms = duration_days * DAY;
        let auto_extend = if !has_ga && !mlt && self.chance(0.35) {
            "P180D"
        } else if self.chance(0.1) {
            "P0D"
        } else {
            "PT0S"
        };
        let (status, created, activated, end) = match shape {
            Shape::Active | Shape::Unknown => {
                let u: f64 = self.rng.random();
                let end = if u < 0.03 {
                    self.rng.random_range(HOUR..23 * HOUR)
                } else if u < 0.07 {
                    self.days(1, 6)
                } else if u < 0.15 {
                    self.days(8, 29)
                } else {
                    self.days(31, duration_days - 2)
                };
                let activated = end - duration_ms;
                let created = activated - self.days(0, 3) - HOUR;
                let status = if shape == Shape::Unknown {
                    "suspendedByPolicy"
                } else {
                    "active"
                };
                (status, created, Some(activated), Some(end))
            }
            Shape::Expired | Shape::Terminated => {
                let end = -self.days(1, 400);
                let activated = end - duration_ms;
                let created = activated - self.days(0, 3) - HOUR;
                let status = if shape == Shape::Expired {
                    "expired"
                } else {
                    "terminated"
                };
                (status, created, Some(activated), Some(end))
            }
            Shape::ApprovalPending | Shape::Created => {
                let created = -self.days(0, 60) - HOUR;
                let status = if shape == Shape::Created {
                    "created"
                } else {
                    "approvalPending"
                };
                (status, created, None, Some(created + duration_ms))
            }
        };
        let customer = {
            let tn = &self.w.tenants[t];
            Some((tn.id.clone(), tn.display_name.clone()))
        };
        let reseller = if !mlt && self.chance(0.02) {
            Some(Reseller {
                indirect_provider_tenant_id: INDIRECT_PROVIDER.to_string(),
                is_partner_consent_pending: shape == Shape::ApprovalPending,
            })
        } else {
            None
        };
        let etag = self.etag();
        let mut rel = Relationship {
            seq,
            id: id.clone(),
            display_name,
            duration: format!("P{duration_days}D"),
            duration_ms,
            auto_extend: auto_extend.to_string(),
            roles,
            customer,
            status: status.to_string(),
            created,
            last_modified: activated.unwrap_or(created),
            activated,
            end,
            etag,
            reseller,
            assignments: Vec::new(),
            operations: Vec::new(),
            requests: Vec::new(),
        };
        // The lockForApproval request of every relationship that got past `created`.
        if shape != Shape::Created {
            let etag = self.etag();
            rel.requests.push(RelRequest {
                id: uuid(&mut self.rng),
                action: "lockForApproval".into(),
                status: "succeeded".into(),
                created: created + 60 * SEC,
                last_modified: created + 61 * SEC,
                etag,
            });
        }
        if shape == Shape::Terminated {
            let etag = self.etag();
            let at = end.unwrap_or(created);
            rel.requests.push(RelRequest {
                id: uuid(&mut self.rng),
                action: "terminate".into(),
                status: "succeeded".into(),
                created: at - HOUR,
                last_modified: at,
                etag,
            });
        }
        if shape == Shape::Active
            && let Some(end) = end
        {
            self.w
                .schedule(end, Event::RelationshipEnd { rel: seq, at: end });
        }
        self.w.relationship_index.insert(id, seq);
        self.w.relationships.insert(seq, rel);
        self.w.tenants[t].rels.push(seq);
        seq
    }

    fn assign(&mut self, seq: u64, group: String, roles: Vec<String>) {
        let id = uuid(&mut self.rng);
        let etag = self.etag();
        if let Some(rel) = self.w.relationships.get_mut(&seq) {
            let created = rel.activated.unwrap_or(rel.created) + HOUR;
            let status = if rel.status == "active" || rel.status == "suspendedByPolicy" {
                "active"
            } else {
                "deleted"
            };
            rel.assignments.push(Assignment {
                id,
                group_id: group,
                roles,
                status: status.into(),
                created,
                last_modified: created + 2 * 60 * SEC,
                etag,
            });
        }
    }

    fn sp(&mut self, t: usize, app: usize, created: Ms) -> String {
        let id = uuid(&mut self.rng);
        self.w.tenants[t].sps.push(ServicePrincipal {
            id: id.clone(),
            app,
            created,
        });
        id
    }

    fn app_role(&mut self, t: usize, principal: &str, resource: &str, role: &str, created: Ms) {
        let id = opaque_id(&mut self.rng);
        self.w.tenants[t]
            .app_role_assignments
            .push(AppRoleAssignment {
                id,
                principal_id: principal.into(),
                resource_id: resource.into(),
                app_role_id: role.into(),
                created,
            });
    }

    fn grant(&mut self, t: usize, client: &str, resource: &str, scope: &str) {
        let id = opaque_id(&mut self.rng);
        self.w.tenants[t].grants.push(Grant {
            id,
            client_id: client.into(),
            consent_type: "AllPrincipals".into(),
            principal_id: None,
            resource_id: resource.into(),
            scope: scope.into(),
        });
    }

    fn customer(&mut self, i: usize) {
        let rng = &mut self.rng;
        let prefix = PREFIXES[rng.random_range(0..PREFIXES.len())];
        let industry = INDUSTRIES[rng.random_range(0..INDUSTRIES.len())];
        let display_name = format!("{prefix} {industry} {:04}", i + 1);
        let compact: String = format!("{prefix}{industry}")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        let domain = format!("{compact}{:04}.onmicrosoft.com", i + 1);
        let u: f64 = rng.random();
        let user_count = (5.0f64 * (400.0f64).powf(u)).round() as u64; // 5..2000, log-uniform
        let id = uuid(rng);
        let created = -self.days(400, 3000);
        let country = self.pick(COUNTRIES);
        let relationship_to_partner = if self.chance(0.85) {
            "reseller"
        } else {
            "none"
        };
        let t = self.w.tenants.len();
        self.w.tenant_index.insert(id.clone(), t);
        self.w.tenants.push(Tenant {
            id,
            display_name,
            domain,
            user_count,
            is_own: false,
            legacy: false,
            previously_deleted: false,
            profile: "",
            created,
            country,
            relationship_to_partner,
            rels: Vec::new(),
            sps: Vec::new(),
            app_role_assignments: Vec::new(),
            grants: Vec::new(),
            consents: Vec::new(),
        });
        // Resource service principals present in every customer tenant.
        for app in [catalog::GRAPH, catalog::EXCHANGE, catalog::MANAGEMENT] {
            self.sp(t, app, created + DAY);
        }

        let admin_group = self.w.partner.admin_group.clone();
        let helpdesk_group = self.w.partner.helpdesk_group.clone();
        let v: f64 = self.rng.random();
        let s = |xs: &[&str]| xs.iter().map(|x| (*x).to_string()).collect::<Vec<String>>();
        let mut actives: Vec<u64> = Vec::new();
        let profile: &'static str;
        if v < 0.55 {
            let w: f64 = self.rng.random();
            let (p, mut roles) = if w < 0.45 {
                ("ready_ga", s(&[r::GLOBAL_ADMINISTRATOR]))
            } else if w < 0.8 {
                (
                    "ready_app_admin_pra",
                    s(&[
                        r::APPLICATION_ADMINISTRATOR,
                        r::PRIVILEGED_ROLE_ADMINISTRATOR,
                    ]),
                )
            } else {
                (
                    "ready_cloud_app_admin_pra",
                    s(&[
                        r::CLOUD_APPLICATION_ADMINISTRATOR,
                        r::PRIVILEGED_ROLE_ADMINISTRATOR,
                    ]),
                )
            };
            profile = p;
            let extras = self.rng.random_range(0..3);
            for _ in 0..extras {
                let x = self.pick(EXTRA_ROLES).to_string();
                if !roles.contains(&x) {
                    roles.push(x);
                }
            }
            let seq = self.relationship(t, 1, roles.clone(), Shape::Active, false);
            if self.chance(0.85) {
                self.assign(seq, admin_group.clone(), roles.clone());
            }
            if roles.iter().any(|x| x == r::HELPDESK_ADMINISTRATOR) && self.chance(0.5) {
                self.assign(seq, helpdesk_group.clone(), s(&[r::HELPDESK_ADMINISTRATOR]));
            }
            actives.push(seq);
        } else if v < 0.70 {
            let w: f64 = self.rng.random();
            let (p, roles) = if w < 0.35 {
                (
                    "missing_app_admin_only",
                    s(&[r::APPLICATION_ADMINISTRATOR, r::HELPDESK_ADMINISTRATOR]),
                )
            } else if w < 0.65 {
                ("missing_pra_only", s(&[r::PRIVILEGED_ROLE_ADMINISTRATOR]))
            } else {
                ("missing_global_reader_only", s(&[r::GLOBAL_READER]))
            };
            profile = p;
            let seq = self.relationship(t, 1, roles.clone(), Shape::Active, false);
            if self.chance(0.8) {
                self.assign(seq, admin_group.clone(), roles);
            }
            actives.push(seq);
        } else if v < 0.80 {
            profile = "ready_multi";
            let app_admin = if self.chance(0.5) {
                r::APPLICATION_ADMINISTRATOR
            } else {
                r::CLOUD_APPLICATION_ADMINISTRATOR
            };
            let parts = vec![
                s(&[app_admin, r::USER_ADMINISTRATOR]),
                s(&[r::PRIVILEGED_ROLE_ADMINISTRATOR]),
                s(&[r::HELPDESK_ADMINISTRATOR, r::GLOBAL_READER]),
            ];
            let n = if self.chance(0.5) { 2 } else { 3 };
            for (k, roles) in parts.into_iter().take(n).enumerate() {
                let seq = self.relationship(t, k + 1, roles.clone(), Shape::Active, false);
                if self.chance(0.9) {
                    self.assign(seq, admin_group.clone(), roles);
                }
                actives.push(seq);
            }
        } else if v < 0.86 {
            profile = "inactive";
            let shape = if self.chance(0.5) {
                Shape::Expired
            } else {
                Shape::Terminated
            };
            let seq = self.relationship(t, 1, s(&[r::GLOBAL_ADMINISTRATOR]), shape, false);
            self.assign(seq, admin_group.clone(), s(&[r::GLOBAL_ADMINISTRATOR]));
        } else if v < 0.91 {
            profile = "approval_pending";
            let shape = if self.chance(0.8) {
                Shape::ApprovalPending
            } else {
                Shape::Created
            };
            self.relationship(
                t,
                1,
                s(&[
                    r::APPLICATION_ADMINISTRATOR,
                    r::PRIVILEGED_ROLE_ADMINISTRATOR,
                ]),
                shape,
                false,
            );
        } else {
            profile = "no_relationship";
        }
        // Cross-cutting twists.
        if self.chance(0.01) {
            let seq = self.relationship(t, 7, s(&[r::GLOBAL_READER]), Shape::Unknown, false);
            self.assign(seq, admin_group.clone(), s(&[r::GLOBAL_READER]));
        }
        if self.chance(0.03) {
            let shape = if self.chance(0.7) {
                Shape::Expired
            } else {
                Shape::Active
            };
            let seq = self.relationship(t, 9, s(MLT_ROLES), shape, true);
            if shape == Shape::Active {
                actives.push(seq);
            }
        }
        if !actives.is_empty() {
            let first = actives
                .iter()
                .filter_map(|s| self.w.relationships.get(s))
                .filter_map(|r| r.activated)
                .min();
            self.sp(t, catalog::OFFLINE_PROCESSOR, first.unwrap_or(-DAY));
        }
        let ready = profile.starts_with("ready");
        let eligible = ready || profile.starts_with("missing");
        let mut legacy = false;
        let mut previously_deleted = false;
        if eligible && self.chance(0.10) {
            legacy = true;
        } else if ready && self.chance(0.055) {
            previously_deleted = true;
        }
        if legacy {
            let at = created + self.days(30, 300);
            let legacy_app = self.w.partner.legacy_app;
            let sp = self.sp(t, legacy_app, at);
            let graph = self.w.tenants[t]
                .sp_by_app(catalog::GRAPH)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            let exo = self.w.tenants[t]
                .sp_by_app(catalog::EXCHANGE)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            self.grant(
                t,
                &sp,
                &graph,
                "User.Read.All Directory.Read.All AuditLog.Read.All",
            );
            self.app_role(t, &sp, &graph, ar::GRAPH_USER_READ_ALL, at);
            self.app_role(t, &sp, &graph, ar::GRAPH_AUDITLOG_READ_ALL, at);
            self.app_role(t, &sp, &exo, ar::EXCHANGE_FULL_ACCESS_AS_APP, at);
        }
        if previously_deleted {
            let at = -self.days(20, 200);
            let app = self.w.partner.product_app;
            let sp = self.sp(t, app, at);
            let graph = self.w.tenants[t]
                .sp_by_app(catalog::GRAPH)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            let scope = "Directory.ReadWrite.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All";
            self.grant(t, &sp, &graph, scope);
            self.app_role(t, &sp, &graph, ar::GRAPH_USER_READ_ALL, at);
            let app_id = self.w.apps[app].app_id.clone();
            let display_name = Some(self.w.apps[app].display_name.clone());
            self.w.tenants[t].consents.push(Consent {
                application_id: app_id,
                display_name,
                grants: vec![(
                    crate::well_known::apps::MICROSOFT_GRAPH.to_string(),
                    "Directory.ReadWrite.All,AppRoleAssignment.ReadWrite.All,DelegatedPermissionGrant.ReadWrite.All".into(),
                )],
                created: at,
            });
        }
        let tn = &mut self.w.tenants[t];
        tn.profile = profile;
        tn.legacy = legacy;
        tn.previously_deleted = previously_deleted;
    }
}

fn product_app(rng: &mut ChaCha8Rng, partner: &str, name: &str) -> AppDef {
    AppDef {
        app_id: uuid(rng),
        display_name: name.into(),
        owner_tenant: partner.into(),
        app_roles: Vec::new(),
        scopes: vec![ScopeDef {
            id: "00000000-0000-0000-0000-000000000001",
            value: "user_impersonation",
            admin_only: false,
        }],
    }
}

pub(crate) fn seeded(seed: u64, n_tenants: usize) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let partner_id = uuid(&mut rng);
    let mut apps = catalog::first_party();
    let product = apps.len();
    apps.push(product_app(
        &mut rng,
        &partner_id,
        "Sandbox MSP Security Analyzer",
    ));
    let legacy = apps.len();
    apps.push(product_app(
        &mut rng,
        &partner_id,
        "Sandbox MSP Legacy Connector",
    ));
    let admin_agents = uuid(&mut rng);
    let admin_group = uuid(&mut rng);
    let helpdesk_group = uuid(&mut rng);
    let domain = "sandboxmsp.onmicrosoft.com".to_string();
    let group = |id: &String, name: &str, nick: &str, description: &str, created: Ms| Group {
        id: id.clone(),
        display_name: name.into(),
        mail_nickname: nick.into(),
        description: Some(description.into()),
        created,
    };
    let groups = vec![
        group(
            &admin_agents,
            "AdminAgents",
            "AdminAgents",
            "Members of this group are admin agents in Partner Center.",
            -2000 * DAY,
        ),
        group(
            &admin_group,
            "GDAP - Onboarding Admins",
            "GDAP-Onboarding-Admins",
            "Partner technicians who onboard customers through GDAP.",
            -400 * DAY,
        ),
        group(
            &helpdesk_group,
            "GDAP - Helpdesk",
            "GDAP-Helpdesk",
            "Partner helpdesk technicians (GDAP Helpdesk Administrator).",
            -400 * DAY,
        ),
    ];
    let user = |rng: &mut ChaCha8Rng,
                name: &str,
                display: &str,
                mfa: bool,
                roles: Vec<String>,
                groups: Vec<String>| User {
        id: uuid(rng),
        upn: format!("{name}@{domain}"),
        display_name: display.into(),
        mfa,
        home_roles: roles,
        groups,
    };
    let users = vec![
        user(
            &mut rng,
            "admin",
            "MSP Admin",
            true,
            vec![r::GLOBAL_ADMINISTRATOR.into()],
            vec![admin_agents.clone(), admin_group.clone()],
        ),
        user(
            &mut rng,
            "helpdesk",
            "MSP Helpdesk",
            true,
            Vec::new(),
            vec![helpdesk_group.clone()],
        ),
        user(
            &mut rng,
            "nomfa",
            "MSP Admin Without MFA",
            false,
            vec![r::GLOBAL_ADMINISTRATOR.into()],
            vec![admin_agents.clone(), admin_group.clone()],
        ),
    ];
    let client_secret = format!("sbx~{}", uuid(&mut rng).replace('-', ""));
    let mut w = World {
        seed,
        anchor: super::default_anchor(),
        now: 0,
        apps,
        tenants: Vec::with_capacity(n_tenants + 1),
        tenant_index: HashMap::with_capacity(n_tenants + 1),
        relationships: BTreeMap::new(),
        relationship_index: HashMap::with_capacity(n_tenants * 2),
        next_rel_seq: 1,
        partner: PartnerInfo {
            tenant: 0,
            users,
            groups,
            admin_agents,
            admin_group,
            helpdesk_group,
            product_app: product,
            legacy_app: legacy,
            client_secret,
        },
        webhook: None,
        webhook_outbox: Vec::new(),
        events: BTreeMap::new(),
        event_seq: 0,
        etag_counter: 0,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_5a4d_b0c5),
    };
    // The MSP's own tenant.
    w.tenant_index.insert(partner_id.clone(), 0);
    w.tenants.push(Tenant {
        id: partner_id,
        display_name: "Sandbox MSP Ltd".into(),
        domain,
        user_count: 42,
        is_own: true,
        legacy: false,
        previously_deleted: false,
        profile: "own",
        created: -2000 * DAY,
        country: "US",
        relationship_to_partner: "none",
        rels: Vec::new(),
        sps: Vec::new(),
        app_role_assignments: Vec::new(),
        grants: Vec::new(),
        consents: Vec::new(),
    });
    let mut g = Gen { w: &mut w, rng };
    let t0 = -1500 * DAY;
    let graph = g.sp(0, catalog::GRAPH, t0);
    for app in [
        catalog::EXCHANGE,
        catalog::MANAGEMENT,
        catalog::PARTNER_CENTER,
        catalog::PCDA,
    ] {
        g.sp(0, app, t0);
    }
    let pc = g.w.tenants[0]
        .sp_by_app(catalog::PARTNER_CENTER)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let product_sp = g.sp(0, product, -100 * DAY);
    let legacy_sp = g.sp(0, legacy, -900 * DAY);
    g.grant(
        0,
        &product_sp,
        &graph,
        "DelegatedAdminRelationship.Read.All DelegatedAdminRelationship.ReadWrite.All User.Read.All Organization.Read.All Directory.ReadWrite.All Application.ReadWrite.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All offline_access openid profile",
    );
    g.grant(0, &product_sp, &pc, "user_impersonation");
    for role in [
        ar::GRAPH_DELEGATEDADMINRELATIONSHIP_READWRITE_ALL,
        ar::GRAPH_DIRECTORY_READ_ALL,
        ar::GRAPH_USER_READ_ALL,
        ar::GRAPH_ORGANIZATION_READ_ALL,
    ] {
        g.app_role(0, &product_sp, &graph, role, -100 * DAY);
    }
    g.grant(0, &legacy_sp, &graph, "User.Read.All Directory.Read.All");
    g.grant(0, &legacy_sp, &pc, "user_impersonation");
    for i in 0..n_tenants {
        g.customer(i);
    }
    w
}
