//! `GET /organization` and `GET /users/$count` (customer tenant).

use gdap_core::Request;
use serde::Deserialize;

use crate::client::GraphClient;
use crate::error::Result;
use crate::models::Organization;

#[derive(Deserialize)]
struct Organizations {
    #[serde(default = "Vec::new")]
    value: Vec<Organization>,
}

impl GraphClient {
    /// `GET /organization`: the tenant's id, display name and verified domains.
    ///
    /// # Errors
    /// A decode error when the collection is empty; any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_organization"), err)]
    pub async fn get_organization(&self) -> Result<Organization> {
        let resp = self.send(Request::get("organization")).await?;
        let orgs: Organizations = resp.json()?;
        orgs.value.into_iter().next().ok_or_else(|| {
            resp.decode_error("the organization collection is empty")
                .into()
        })
    }

    /// `GET /users/$count` with `ConsistencyLevel: eventual`: the number of users (eventually
    /// consistent), read from a `text/plain` body.
    ///
    /// # Errors
    /// A decode error when the body is not an integer; any call failure.
    #[tracing::instrument(skip_all, fields(op = "count_users"), err)]
    pub async fn count_users(&self) -> Result<u64> {
        let req = Request::get("users/$count")
            .header("ConsistencyLevel", "eventual")?
            .header("Accept", "text/plain")?;
        let resp = self.send(req).await?;
        let text = String::from_utf8_lossy(resp.body());
        text.trim().parse::<u64>().map_err(|e| {
            resp.decode_error(format!("$count body is not an integer: {e}"))
                .into()
        })
    }
}
