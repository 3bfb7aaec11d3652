//! Role requirements and GDAP readiness.
//!
//! A [`RoleRequirement`] is an expression over Entra role template ids. Evaluated against the roles
//! a tenant's active GDAP relationships carry, it yields a [`Readiness`]: `Ready`, or `Missing` with
//! the missing roles named in human terms ("Privileged Role Administrator", "Application
//! Administrator or Cloud Application Administrator"). Role names and ids come from
//! [`gdap_core::roles`] only.

use std::collections::BTreeSet;
use std::fmt;

use gdap_core::RoleTemplateId;
use gdap_core::roles::{self, RoleTemplate};
use serde::{Serialize, Serializer};

/// A role as shown to people and in JSON: its template id and display name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleRef {
    /// The role template id.
    pub id: RoleTemplateId,
    /// The display name, or the id when the role is not in [`gdap_core::roles`].
    pub name: String,
}

impl RoleRef {
    /// The reference for `id`.
    pub fn new(id: RoleTemplateId) -> Self {
        Self {
            id,
            name: roles::role_name(&id),
        }
    }

    /// References for a set of ids, in id order.
    pub fn list<'a>(ids: impl IntoIterator<Item = &'a RoleTemplateId>) -> Vec<RoleRef> {
        let set: BTreeSet<RoleTemplateId> = ids.into_iter().copied().collect();
        set.into_iter().map(RoleRef::new).collect()
    }
}

impl From<RoleTemplate> for RoleRef {
    fn from(r: RoleTemplate) -> Self {
        RoleRef::new(r.id())
    }
}

/// An expression over role template ids that a set of held roles satisfies or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoleRequirement {
    /// This one role.
    Role(RoleTemplateId),
    /// Every sub-requirement (an empty list is always satisfied).
    All(Vec<RoleRequirement>),
    /// At least one sub-requirement (an empty list is never satisfied).
    Any(Vec<RoleRequirement>),
}

impl RoleRequirement {
    /// A requirement for one role of the table.
    pub fn role(role: RoleTemplate) -> Self {
        RoleRequirement::Role(role.id())
    }

    /// What installing and granting an app through GDAP needs (seed 000, "GDAP permission
    /// requirements"): Global Administrator, or (Application Administrator or Cloud Application
    /// Administrator) and Privileged Role Administrator.
    pub fn default_for_app_install() -> Self {
        RoleRequirement::Any(vec![
            RoleRequirement::role(roles::GLOBAL_ADMINISTRATOR),
            RoleRequirement::All(vec![
                RoleRequirement::Any(vec![
                    RoleRequirement::role(roles::APPLICATION_ADMINISTRATOR),
                    RoleRequirement::role(roles::CLOUD_APPLICATION_ADMINISTRATOR),
                ]),
                RoleRequirement::role(roles::PRIVILEGED_ROLE_ADMINISTRATOR),
            ]),
        ])
    }

    /// Whether `held` satisfies the requirement.
    pub fn is_satisfied_by(&self, held: &BTreeSet<RoleTemplateId>) -> bool {
        match self {
            RoleRequirement::Role(r) => held.contains(r),
            RoleRequirement::All(xs) => xs.iter().all(|x| x.is_satisfied_by(held)),
            RoleRequirement::Any(xs) => xs.iter().any(|x| x.is_satisfied_by(held)),
        }
    }

    /// Every role id the expression mentions.
    pub fn mentioned_roles(&self) -> BTreeSet<RoleTemplateId> {
        let mut out = BTreeSet::new();
        self.collect_roles(&mut out);
        out
    }

    fn collect_roles(&self, out: &mut BTreeSet<RoleTemplateId>) {
        match self {
            RoleRequirement::Role(r) => {
                out.insert(*r);
            }
            RoleRequirement::All(xs) | RoleRequirement::Any(xs) => {
                xs.iter().for_each(|x| x.collect_roles(out));
            }
        }
    }

    /// Evaluates the requirement against the roles held.
    ///
    /// When it is not met, the missing roles are named along the least-privileged way to meet
    /// it: an alternative that needs Global Administrator is named only when no other alternative
    /// exists, and alternatives that each lack one role are merged into one "A or B" entry.
    pub fn evaluate(&self, held: &BTreeSet<RoleTemplateId>) -> Readiness {
        if self.is_satisfied_by(held) {
            return Readiness::Ready;
        }
        Readiness::Missing {
            missing: self.missing(held),
        }
    }

    fn missing(&self, held: &BTreeSet<RoleTemplateId>) -> Vec<MissingRole> {
        if self.is_satisfied_by(held) {
            return Vec::new();
        }
        match self {
            RoleRequirement::Role(r) => vec![MissingRole { any_of: vec![*r] }],
            RoleRequirement::All(xs) => {
                let mut out: Vec<MissingRole> = Vec::new();
                for m in xs.iter().flat_map(|x| x.missing(held)) {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                out
            }
            RoleRequirement::Any(xs) => {
                let ga = roles::GLOBAL_ADMINISTRATOR.id();
                let branches: Vec<Vec<MissingRole>> = xs.iter().map(|x| x.missing(held)).collect();
                let needs_ga = |b: &Vec<MissingRole>| b.iter().any(|m| m.any_of.contains(&ga));
                let without_ga: Vec<&Vec<MissingRole>> =
                    branches.iter().filter(|b| !needs_ga(b)).collect();
                let candidates: Vec<&Vec<MissingRole>> = if without_ga.is_empty() {
                    branches.iter().collect()
                } else {
                    without_ga
                };
                if candidates.is_empty() {
                    return Vec::new();
                }
                if candidates.iter().all(|b| b.len() == 1) {
                    // Each alternative lacks one role: "A or B".
                    let mut any_of: Vec<RoleTemplateId> = Vec::new();
                    for id in candidates.iter().flat_map(|b| b[0].any_of.iter()) {
                        if !any_of.contains(id) {
                            any_of.push(*id);
                        }
                    }
                    return vec![MissingRole { any_of }];
                }
                candidates
                    .into_iter()
                    .min_by_key(|b| b.len())
                    .cloned()
                    .unwrap_or_default()
            }
        }
    }

    /// The smallest set of roles that satisfies the requirement without `excluded`, preferring
    /// roles already in `prefer` on ties; `None` when the requirement cannot be met without it.
    ///
    /// The least-privilege audit uses this to propose what to request instead of Global
    /// Administrator.
    pub fn cheapest_without(
        &self,
        excluded: &RoleTemplateId,
        prefer: &BTreeSet<RoleTemplateId>,
    ) -> Option<BTreeSet<RoleTemplateId>> {
        match self {
            RoleRequirement::Role(r) if r == excluded => None,
            RoleRequirement::Role(r) => Some(BTreeSet::from([*r])),
            RoleRequirement::All(xs) => {
                let mut out = BTreeSet::new();
                for x in xs {
                    out.extend(x.cheapest_without(excluded, prefer)?);
                }
                Some(out)
            }
            RoleRequirement::Any(xs) => xs
                .iter()
                .filter_map(|x| x.cheapest_without(excluded, prefer))
                .min_by_key(|set| (set.len(), set.difference(prefer).count())),
        }
    }
}

impl Default for RoleRequirement {
    fn default() -> Self {
        RoleRequirement::default_for_app_install()
    }
}

impl fmt::Display for RoleRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write(r: &RoleRequirement, f: &mut fmt::Formatter<'_>, nested: bool) -> fmt::Result {
            match r {
                RoleRequirement::Role(id) => f.write_str(&roles::role_name(id)),
                RoleRequirement::All(xs) | RoleRequirement::Any(xs) => {
                    let sep = if matches!(r, RoleRequirement::All(_)) {
                        " and "
                    } else {
                        " or "
                    };
                    if nested && xs.len() > 1 {
                        f.write_str("(")?;
                    }
                    for (i, x) in xs.iter().enumerate() {
                        if i > 0 {
                            f.write_str(sep)?;
                        }
                        write(x, f, true)?;
                    }
                    if nested && xs.len() > 1 {
                        f.write_str(")")?;
                    }
                    Ok(())
                }
            }
        }
        write(self, f, false)
    }
}

/// One missing role: any one of `any_of` would do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MissingRole {
    any_of: Vec<RoleTemplateId>,
}

impl MissingRole {
    /// A missing role satisfied by any one of `any_of`.
    pub fn any_of(any_of: Vec<RoleTemplateId>) -> Self {
        Self { any_of }
    }

    /// The roles that would each fill the gap.
    pub fn alternatives(&self) -> &[RoleTemplateId] {
        &self.any_of
    }

    /// Human wording: `"Privileged Role Administrator"` or
    /// `"Application Administrator or Cloud Application Administrator"`.
    pub fn label(&self) -> String {
        self.any_of
            .iter()
            .map(roles::role_name)
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl fmt::Display for MissingRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for MissingRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

/// Whether a tenant's GDAP relationships carry the roles the app needs (the "GDAP Permissions"
/// column).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Readiness {
    /// The roles are there.
    Ready,
    /// Some roles are missing; each entry names what would fill one gap.
    Missing {
        /// What is missing, in human terms.
        missing: Vec<MissingRole>,
    },
    /// No GDAP needed: the MSP's own partner tenant, reached with client credentials.
    NotRequired,
}

impl Readiness {
    /// `Ready` or `NotRequired`.
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready | Readiness::NotRequired)
    }

    /// The missing roles (empty unless `Missing`).
    pub fn missing(&self) -> &[MissingRole] {
        match self {
            Readiness::Missing { missing } => missing,
            _ => &[],
        }
    }

    /// "Ready", "Missing: …" or "Not required".
    pub fn label(&self) -> String {
        match self {
            Readiness::Ready => "Ready".to_owned(),
            Readiness::NotRequired => "Not required".to_owned(),
            Readiness::Missing { missing } => format!(
                "Missing: {}",
                missing
                    .iter()
                    .map(MissingRole::label)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(rs: &[RoleTemplate]) -> BTreeSet<RoleTemplateId> {
        rs.iter().map(RoleTemplate::id).collect()
    }

    #[test]
    fn display_reads_like_the_seed() {
        assert_eq!(
            RoleRequirement::default_for_app_install().to_string(),
            "Global Administrator or ((Application Administrator or Cloud Application Administrator) and Privileged Role Administrator)"
        );
    }

    #[test]
    fn nothing_held_names_the_least_privileged_path() {
        let r = RoleRequirement::default_for_app_install().evaluate(&BTreeSet::new());
        assert_eq!(
            r.label(),
            "Missing: Application Administrator or Cloud Application Administrator, Privileged Role Administrator"
        );
    }

    #[test]
    fn cheapest_without_ga_prefers_held_roles() {
        let req = RoleRequirement::default_for_app_install();
        let ga = roles::GLOBAL_ADMINISTRATOR.id();
        let prefer = held(&[
            roles::GLOBAL_ADMINISTRATOR,
            roles::CLOUD_APPLICATION_ADMINISTRATOR,
        ]);
        let set = req.cheapest_without(&ga, &prefer).unwrap();
        assert_eq!(
            set,
            held(&[
                roles::CLOUD_APPLICATION_ADMINISTRATOR,
                roles::PRIVILEGED_ROLE_ADMINISTRATOR
            ])
        );
        let only_ga = RoleRequirement::role(roles::GLOBAL_ADMINISTRATOR);
        assert_eq!(only_ga.cheapest_without(&ga, &prefer), None);
    }
}
