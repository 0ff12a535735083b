//! Managing users and API tokens (administrators only): create a user, change a user's role,
//! password or whether it may sign in, delete a user; list and revoke API tokens.
//!
//! The last enabled administrator cannot be demoted, disabled or deleted (409), so the
//! system always has someone who can manage it; the check and the change happen in one
//! transaction. Disabling or deleting a user ends its sessions and deletes its tokens in that
//! same transaction, so it loses access at once. Every change is audited with the actor;
//! a password, its hash and a token's value never reach a response or the audit log.

use axum::Json;
use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use chrono::{DateTime, Utc};
use identitymesh_domain::audit::NewAudit;
use identitymesh_store::{Store, Tx, UserRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Operation, guarded};
use crate::auth::bootstrap::add_user;
use crate::auth::password::{MIN_PASSWORD, hash_password};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// The routes of this module.
pub const OPERATIONS: &[Operation] = &[
    (
        "post",
        "/api/v1/users",
        Some(Role::Admin),
        "Create a user (password: 12 characters or more, not the name)",
    ),
    (
        "patch",
        "/api/v1/users/{name}",
        Some(Role::Admin),
        "Change a user's role, password, or whether it may sign in",
    ),
    (
        "delete",
        "/api/v1/users/{name}",
        Some(Role::Admin),
        "Delete a user (its sessions and tokens end)",
    ),
    (
        "get",
        "/api/v1/tokens",
        Some(Role::Admin),
        "API tokens: owner, role, expiry (never the value)",
    ),
    (
        "delete",
        "/api/v1/tokens/{id}",
        Some(Role::Admin),
        "Revoke an API token",
    ),
];

/// The routes of this module, behind the admin role.
pub fn router(state: &AppState) -> Router<AppState> {
    let admin = Router::new()
        .route("/api/v1/users", axum::routing::post(create))
        .route("/api/v1/users/{name}", delete(remove).patch(update))
        .route("/api/v1/tokens", get(tokens))
        .route("/api/v1/tokens/{id}", delete(revoke));
    guarded(state, Role::Admin, admin)
}

/// The body of `POST /api/v1/users`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Login name.
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// The password (12 characters or more, not the name).
    pub password: String,
}

/// The password policy: at least [`MIN_PASSWORD`] characters, and not the user's name
/// (ignoring case). The message never repeats the password.
pub fn check_policy(name: &str, password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::BadRequest(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    if password.trim().eq_ignore_ascii_case(name.trim()) {
        return Err(ApiError::BadRequest(
            "a password may not be the user's name".into(),
        ));
    }
    Ok(())
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role '{raw}' is not known: use admin, operator or viewer"
        ))
    })
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (id, role) = create_user(&state, &who, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": body.name, "role": role })),
    ))
}

/// Creates a user after checking the role and the password policy (audited `user.add`).
pub async fn create_user(
    state: &AppState,
    who: &Principal,
    body: &NewUserBody,
) -> ApiResult<(i64, Role)> {
    let role = parse_role(&body.role)?;
    check_policy(&body.name, &body.password)?;
    let id = add_user(
        &state.store,
        &body.name,
        role,
        &body.password,
        &who.actor(),
        state.now(),
    )
    .await?;
    Ok((id, role))
}

/// The body of `PATCH /api/v1/users/{name}`: any of the fields.
#[derive(Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// A new role.
    pub role: Option<String>,
    /// `true` disables the user (ending its sessions and tokens), `false` enables it.
    pub disabled: Option<bool>,
    /// A new password.
    pub password: Option<String>,
}

/// A user's public fields.
pub fn user_json(u: &UserRecord) -> Value {
    json!({ "id": u.id, "name": u.name, "role": u.role, "created_at": u.created_at,
            "disabled": u.disabled_at.is_some(), "disabled_at": u.disabled_at })
}

/// Refuses when removing `user`'s administration would leave no enabled administrator.
fn keep_an_admin(tx: &mut dyn Tx, user: &UserRecord, what: &str) -> ApiResult<()> {
    if user.role != Role::Admin.as_str() || user.disabled_at.is_some() {
        return Ok(());
    }
    let admins = tx.enabled_admin_ids()?;
    if admins.iter().all(|id| *id == user.id) {
        return Err(ApiError::Conflict(format!(
            "'{}' is the last enabled administrator and cannot be {what}; make another user an administrator first",
            user.name
        )));
    }
    Ok(())
}

fn load(tx: &mut dyn Tx, name: &str) -> ApiResult<UserRecord> {
    tx.user_by_name(name)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no user named '{name}'")))
}

/// Who makes a change, and when: what every change here records in the audit log. The API
/// builds it from the signed-in caller; the command line from its own actor.
#[derive(Clone, Debug)]
pub struct By {
    /// The store.
    pub store: Store,
    /// The audit actor (`user:ada`, `cli:root`).
    pub actor: String,
    /// The time of the change.
    pub at: DateTime<Utc>,
}

impl By {
    /// The signed-in caller, now.
    pub fn caller(state: &AppState, who: &Principal) -> By {
        By {
            store: state.store.clone(),
            actor: who.actor(),
            at: state.now(),
        }
    }

    pub(crate) fn audit(
        &self,
        tx: &mut dyn Tx,
        action: &str,
        target: String,
        before: Option<Value>,
        after: Option<Value>,
    ) -> ApiResult<()> {
        let record = NewAudit {
            actor: self.actor.clone(),
            action: action.into(),
            target,
            before,
            after,
            run_id: None,
        };
        tx.append_audit(&record, self.at)?;
        Ok(())
    }

    /// Runs `work` in one transaction; an [`ApiError`] from it rolls the transaction back.
    pub(crate) async fn in_tx<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Tx, &By) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let by = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut tx = by.store.begin()?;
            let value = work(tx.as_mut(), &by)?;
            tx.commit()?;
            Ok(value)
        })
        .await?
    }
}

/// A checked change: the role and the new password's hash.
struct Checked {
    role: Option<Role>,
    disabled: Option<bool>,
    password_hash: Option<String>,
}

async fn check_change(name: &str, change: UserChange) -> ApiResult<Checked> {
    if change.role.is_none() && change.disabled.is_none() && change.password.is_none() {
        return Err(ApiError::BadRequest(
            "send at least one of 'role', 'disabled' or 'password'".into(),
        ));
    }
    let role = change.role.as_deref().map(parse_role).transpose()?;
    let password_hash = match change.password {
        Some(p) => {
            check_policy(name, &p)?;
            Some(tokio::task::spawn_blocking(move || hash_password(&p)).await??)
        }
        None => None,
    };
    Ok(Checked {
        role,
        disabled: change.disabled,
        password_hash,
    })
}

fn apply_change(tx: &mut dyn Tx, by: &By, name: &str, c: &Checked) -> ApiResult<UserRecord> {
    let user = load(tx, name)?;
    if c.role.is_some_and(|r| r != Role::Admin) {
        keep_an_admin(tx, &user, "demoted")?;
    }
    if let Some(role) = c.role {
        tx.set_user_role(user.id, role.as_str())?;
    }
    match c.disabled {
        Some(true) if user.disabled_at.is_none() => {
            keep_an_admin(tx, &user, "disabled")?;
            tx.set_user_disabled(user.id, Some(by.at))?;
            tx.end_user_access(user.id)?;
        }
        Some(false) => {
            tx.set_user_disabled(user.id, None)?;
        }
        _ => {}
    }
    if let Some(hash) = &c.password_hash {
        tx.set_user_password(user.id, hash)?;
    }
    let after = load(tx, name)?;
    let record = |u: &UserRecord| json!({ "role": u.role, "disabled": u.disabled_at.is_some() });
    let mut changed = record(&after);
    changed["password_changed"] = json!(c.password_hash.is_some());
    by.audit(
        tx,
        "user.update",
        format!("user:{name}"),
        Some(record(&user)),
        Some(changed),
    )?;
    Ok(after)
}

/// `PATCH /api/v1/users/{name}`.
pub async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<Value>> {
    Ok(Json(user_json(
        &change_user(&By::caller(&state, &who), name, change).await?,
    )))
}

/// Applies a change to a user in one transaction (audited `user.update`).
pub async fn change_user(by: &By, name: String, change: UserChange) -> ApiResult<UserRecord> {
    let checked = check_change(&name, change).await?;
    by.in_tx(move |tx, by| apply_change(tx, by, &name, &checked))
        .await
}

/// `DELETE /api/v1/users/{name}`.
pub async fn remove(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    delete_user(&By::caller(&state, &who), name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a user unless it is the last enabled administrator (audited `user.delete`).
pub async fn delete_user(by: &By, name: String) -> ApiResult<()> {
    by.in_tx(move |tx, by| {
        let user = load(tx, &name)?;
        keep_an_admin(tx, &user, "deleted")?;
        tx.delete_user(user.id)?;
        let before = json!({ "role": user.role, "disabled": user.disabled_at.is_some() });
        by.audit(
            tx,
            "user.delete",
            format!("user:{name}"),
            Some(before),
            None,
        )
    })
    .await
}

/// `GET /api/v1/tokens`: every token with its owner, never its value or hash.
pub async fn tokens(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": token_list(&state).await? })))
}

/// Every token with its owner's name and whether it expired; never its value or hash.
pub async fn token_list(state: &AppState) -> ApiResult<Vec<Value>> {
    let (tokens, users) = state
        .store
        .read_blocking(|tx| Ok((tx.api_tokens()?, tx.users()?)))
        .await?;
    let now = state.now();
    let items: Vec<Value> = tokens
        .iter()
        .map(|t| {
            let owner = users
                .iter()
                .find(|u| u.id == t.user_id)
                .map(|u| u.name.as_str());
            json!({ "id": t.id, "name": t.name, "owner": owner, "role": t.role,
                    "created_at": t.created_at, "expires_at": t.expires_at,
                    "expired": now >= t.expires_at })
        })
        .collect();
    Ok(items)
}

/// `DELETE /api/v1/tokens/{id}`: the token stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    revoke_token(&By::caller(&state, &who), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an API token (audited `token.revoke`).
pub async fn revoke_token(by: &By, id: i64) -> ApiResult<()> {
    by.in_tx(move |tx, by| {
        if !tx.delete_api_token(id)? {
            return Err(ApiError::NotFound(format!("there is no API token {id}")));
        }
        by.audit(tx, "token.revoke", format!("token:{id}"), None, None)
    })
    .await
}
