//! `users`: get one by object id or userPrincipalName, and the groups (direct and nested) it is a
//! member of.

use std::fmt::Write as _;

use gdap_core::Request;

use crate::client::{GraphClient, ListOptions, Pager};
use crate::error::{Error, Result};
use crate::groups::odata_string;
use crate::models::{DirectoryObject, User};

/// The properties [`GraphClient::get_user`] asks for (`accountEnabled` is not returned by default).
const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,accountEnabled";

/// Longest user key (object id or userPrincipalName) accepted.
const MAX_USER_KEY_CHARS: usize = 256;

/// The validation field of a user key.
const USER_KEY_FIELD: &str = "user id or userPrincipalName";

/// Percent-encodes a path segment: ASCII letters, digits and `-._~@` stay, every other byte
/// becomes `%XX` (so `#EXT#` of a guest's UPN is sent as `%23EXT%23`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `users/{key}` for an object id or userPrincipalName, validated and percent-encoded. A key that
/// begins with `$` uses the key syntax `users('{key}')`, as Graph requires.
fn user_path(id_or_upn: &str) -> Result<String> {
    if id_or_upn.trim().is_empty() {
        return Err(Error::validation(USER_KEY_FIELD, "must not be blank"));
    }
    let n = id_or_upn.chars().count();
    if n > MAX_USER_KEY_CHARS {
        return Err(Error::validation(
            USER_KEY_FIELD,
            format!("is {n} characters; at most {MAX_USER_KEY_CHARS} are allowed"),
        ));
    }
    if id_or_upn.contains('/') {
        return Err(Error::validation(USER_KEY_FIELD, "must not contain '/'"));
    }
    if id_or_upn.starts_with('$') {
        Ok(format!(
            "users('{}')",
            encode_segment(&odata_string(id_or_upn))
        ))
    } else {
        Ok(format!("users/{}", encode_segment(id_or_upn)))
    }
}

impl GraphClient {
    /// `GET /users/{id | userPrincipalName}?$select=id,displayName,userPrincipalName,mail,accountEnabled`.
    ///
    /// # Arguments
    /// * `id_or_upn` — the object id or the userPrincipalName (percent-encoded here; a guest's
    ///   `#EXT#` needs no escaping by the caller).
    ///
    /// # Errors
    /// [`Error::Validation`] for a blank key, one longer than 256 characters or one containing
    /// `/` (nothing sent); [`Error::is_not_found`] when there is no such user; any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_user"), err)]
    pub async fn get_user(&self, id_or_upn: &str) -> Result<User> {
        let req = Request::get(user_path(id_or_upn)?).query("$select", USER_SELECT);
        self.send_json(req).await
    }

    /// `GET /users/{id}/transitiveMemberOf`: the groups, directory roles and administrative units
    /// the user belongs to directly or through nested groups. Groups carry
    /// `@odata.type: "#microsoft.graph.group"` ([`DirectoryObject::is_group`]).
    ///
    /// # Arguments
    /// * `user_object_id` — the user's object id (a userPrincipalName works too, as in
    ///   [`GraphClient::get_user`]).
    /// * `options` — `$filter`, `$select`, `$top` (≤ 999).
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for a bad user key or `$top` out of range (nothing
    /// sent), or the call's failure ([`Error::is_not_found`] for a missing user).
    pub fn list_user_transitive_member_of(
        &self,
        user_object_id: &str,
        options: Option<ListOptions>,
    ) -> Pager<DirectoryObject> {
        match user_path(user_object_id) {
            Ok(path) => self.directory_pager(format!("{path}/transitiveMemberOf"), options),
            Err(e) => Pager::failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths_are_encoded() {
        assert_eq!(
            user_path("87d349ed-44d7-43e1-9a83-5f2406dee5bd").unwrap(),
            "users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"
        );
        assert_eq!(
            user_path("AdeleVance_adatum.com#EXT#@contoso.com").unwrap(),
            "users/AdeleVance_adatum.com%23EXT%23@contoso.com"
        );
        assert_eq!(
            user_path("a b?c%d&é@x.com").unwrap(),
            "users/a%20b%3Fc%25d%26%C3%A9@x.com"
        );
        assert_eq!(
            user_path("$O'Neil@contoso.com").unwrap(),
            "users('%24O%27%27Neil@contoso.com')"
        );
    }

    #[test]
    fn bad_user_keys_are_refused() {
        for bad in ["", "  ", "a/b@contoso.com", &"x".repeat(257)] {
            let e = user_path(bad).unwrap_err();
            assert_eq!(e.validation_field(), Some(USER_KEY_FIELD), "{bad:?}");
        }
        assert!(user_path(&"x".repeat(256)).is_ok());
    }
}
