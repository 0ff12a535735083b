//! Creating users: `identitymesh users add` and the bootstrap administrator made on the first
//! start of the API when no user exists. Both are audited (`user.add`); the audit record
//! names the user and role, never the password or its hash.

use chrono::{DateTime, Utc};
use identitymesh_domain::audit::NewAudit;
use identitymesh_store::{NewUser, Store};
use serde_json::json;

use super::Role;
use super::password::{hash_password, random_secret};
use crate::error::{ApiError, ApiResult};

/// The bootstrap administrator's name.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// Creates a user with an Argon2id hash of `password`; a taken name is a conflict.
pub async fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> ApiResult<i64> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(ApiError::BadRequest(
            "a user name is 1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        ));
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let user = NewUser {
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        password_hash: hash,
    };
    let actor = actor.to_owned();
    let id = store
        .run_blocking(move |tx| {
            let Some(id) = tx.insert_user(&user, at)? else {
                return Ok(None);
            };
            let record = NewAudit {
                actor,
                action: "user.add".into(),
                target: format!("user:{}", user.name),
                before: None,
                after: Some(json!({ "role": user.role })),
                run_id: None,
            };
            tx.append_audit(&record, at)?;
            Ok(Some(id))
        })
        .await?;
    id.ok_or_else(|| ApiError::Conflict(format!("a user named '{name}' already exists")))
}

/// When no user exists, creates the administrator `admin` with a random password and
/// returns that password (for the caller to show once); `None` when users exist.
pub async fn ensure_bootstrap_admin(store: &Store, at: DateTime<Utc>) -> ApiResult<Option<String>> {
    if store.run_blocking(|tx| tx.count_users()).await? > 0 {
        return Ok(None);
    }
    let password = random_secret(18);
    match add_user(
        store,
        BOOTSTRAP_ADMIN,
        Role::Admin,
        &password,
        "admin-api:bootstrap",
        at,
    )
    .await
    {
        Ok(_) => Ok(Some(password)),
        // another instance made it first
        Err(ApiError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
