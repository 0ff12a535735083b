//! The SQLite transaction: holds the connection's lock from `BEGIN IMMEDIATE` to `COMMIT`
//! or `ROLLBACK`, and routes each port method to the area module holding its SQL. One
//! savepoint level (`sp`) isolates one object's work inside a batch.

use chrono::{DateTime, Utc};
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::export::{ExportItem, ExportState, NewExport};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord, RunStats, RunStatus};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use super::{db, exports, leases, mesh, records, relays, runs, secrets, staged, users};
use crate::codec::savepoint_misuse;
use crate::port::{
    AuditFilter, ConfigVersion, Lease, NewStaged, RunRequest, StagedFilter, StoreResult, Tx,
};
use crate::relay_rows::{
    EnrollmentTokenRecord, NewEnrollmentToken, NewRelay, RelayRecord, RelayStatus,
};
use crate::run_rows::{CancelOutcome, CancelRequest, RunQuery};
use crate::secret_rows::{
    KeySettings, SecretInfo, StoredProtectionKey, StoredSecret, WrappedKeyRow, WrappedKind,
};
use crate::user_rows::{ApiTokenRecord, NewApiToken, NewUser, SessionRecord, UserRecord};

/// An open SQLite transaction.
pub(super) struct SqliteTx<'a> {
    /// The connection, locked for the transaction's life.
    conn: MutexGuard<'a, Connection>,
    /// Set once committed or rolled back; otherwise `Drop` rolls back.
    finished: bool,
    /// Whether the savepoint `sp` is open.
    in_savepoint: bool,
    /// The backend's record of which thread holds the transaction; cleared on drop.
    owner: &'a Mutex<Option<ThreadId>>,
}

impl<'a> SqliteTx<'a> {
    pub(super) fn begin(
        conn: MutexGuard<'a, Connection>,
        owner: &'a Mutex<Option<ThreadId>>,
    ) -> StoreResult<Self> {
        // Built first so that a failing BEGIN still clears the owner on drop.
        let tx = Self {
            conn,
            finished: false,
            in_savepoint: false,
            owner,
        };
        run(&tx.conn, "BEGIN IMMEDIATE", "begin")?;
        Ok(tx)
    }

    /// A read transaction on one of the read-only connections: a deferred `BEGIN`, so the
    /// first read takes a WAL snapshot and nothing waits for (or blocks) the writer.
    pub(super) fn begin_read(
        conn: MutexGuard<'a, Connection>,
        owner: &'a Mutex<Option<ThreadId>>,
    ) -> StoreResult<Self> {
        let tx = Self {
            conn,
            finished: false,
            in_savepoint: false,
            owner,
        };
        run(&tx.conn, "BEGIN", "begin a read")?;
        Ok(tx)
    }
}

/// Runs one fixed control statement, prepared once.
fn run(conn: &Connection, sql: &str, operation: &'static str) -> StoreResult<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(db(operation))
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.finished
            && !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rolling back a dropped SQLite transaction failed");
        }
        *self.owner.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl Tx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        run(&self.conn, "COMMIT", "commit")?;
        self.finished = true;
        Ok(())
    }
    fn rollback(mut self: Box<Self>) -> StoreResult<()> {
        run(&self.conn, "ROLLBACK", "rollback")?;
        self.finished = true;
        Ok(())
    }
    fn savepoint(&mut self) -> StoreResult<()> {
        if self.in_savepoint {
            return Err(savepoint_misuse(
                "savepoint",
                "a savepoint is already open (one level only)",
            ));
        }
        run(&self.conn, "SAVEPOINT sp", "savepoint")?;
        self.in_savepoint = true;
        Ok(())
    }
    fn release_savepoint(&mut self) -> StoreResult<()> {
        // Releasing after a rollback to the savepoint is a no-op: that already closed it.
        if self.in_savepoint {
            run(&self.conn, "RELEASE sp", "release_savepoint")?;
            self.in_savepoint = false;
        }
        Ok(())
    }
    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        if !self.in_savepoint {
            return Err(savepoint_misuse(
                "rollback_to_savepoint",
                "no savepoint is open",
            ));
        }
        // ROLLBACK TO keeps the savepoint open; release it so the next object starts clean.
        run(&self.conn, "ROLLBACK TO sp", "rollback_to_savepoint")?;
        run(&self.conn, "RELEASE sp", "rollback_to_savepoint")?;
        self.in_savepoint = false;
        Ok(())
    }

    fn start_run(
        &mut self,
        connector: &str,
        profile: RunProfile,
        simulation: bool,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        runs::start_run(&self.conn, connector, profile, simulation, actor, at)
    }
    fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        stats: &RunStats,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        runs::finish_run(&self.conn, run_id, status, stats, reason, at)
    }
    fn update_run_stats(&mut self, run_id: i64, stats: &RunStats) -> StoreResult<()> {
        runs::update_run_stats(&self.conn, run_id, stats)
    }
    fn add_run_errors(&mut self, run_id: i64, errors: &[ObjectError]) -> StoreResult<()> {
        runs::add_run_errors(&self.conn, run_id, errors)
    }
    fn run(&mut self, run_id: i64) -> StoreResult<Option<RunRecord>> {
        runs::run(&self.conn, run_id)
    }
    fn run_errors(&mut self, run_id: i64, limit: u32) -> StoreResult<Vec<ObjectError>> {
        runs::run_errors(&self.conn, run_id, limit)
    }
    fn recent_runs(&mut self, connector: Option<&str>, limit: u32) -> StoreResult<Vec<RunRecord>> {
        runs::recent_runs(&self.conn, connector, limit)
    }
    fn last_run(
        &mut self,
        connector: &str,
        profile: RunProfile,
        statuses: &[RunStatus],
    ) -> StoreResult<Option<RunRecord>> {
        runs::last_run(&self.conn, connector, profile, statuses)
    }
    fn runs(&mut self, query: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        runs::runs(&self.conn, query)
    }
    fn request_run_cancel(
        &mut self,
        run_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CancelOutcome> {
        runs::request_run_cancel(&self.conn, run_id, actor, at)
    }
    fn run_cancel_request(&mut self, run_id: i64) -> StoreResult<Option<CancelRequest>> {
        runs::run_cancel_request(&self.conn, run_id)
    }

    fn insert_staged(&mut self, object: &NewStaged) -> StoreResult<i64> {
        staged::insert_staged(&self.conn, object)
    }
    fn staged_by_anchor(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<StagedObject>> {
        staged::staged_by_anchor(&self.conn, connector, anchor)
    }
    fn staged_by_id(&mut self, id: i64) -> StoreResult<Option<StagedObject>> {
        staged::staged_by_id(&self.conn, id)
    }
    fn update_staged_content(
        &mut self,
        id: i64,
        name: Option<&str>,
        attributes: &Attributes,
        hash: &str,
        pending: PendingImport,
        changed_at: DateTime<Utc>,
        seen_run: i64,
    ) -> StoreResult<()> {
        staged::update_staged_content(
            &self.conn, id, name, attributes, hash, pending, changed_at, seen_run,
        )
    }
    fn update_staged_anchor(&mut self, id: i64, anchor: &Anchor) -> StoreResult<()> {
        staged::update_staged_anchor(&self.conn, id, anchor)
    }
    fn mark_staged_seen(&mut self, id: i64, run_id: i64) -> StoreResult<()> {
        staged::mark_staged_seen(&self.conn, id, run_id)
    }
    fn set_staged_pending(&mut self, id: i64, pending: PendingImport) -> StoreResult<()> {
        staged::set_staged_pending(&self.conn, id, pending)
    }
    fn set_staged_link(&mut self, id: i64, link: &Link) -> StoreResult<()> {
        staged::set_staged_link(&self.conn, id, link)
    }
    fn delete_staged(&mut self, id: i64) -> StoreResult<()> {
        staged::delete_staged(&self.conn, id)
    }
    fn staged_page(
        &mut self,
        connector: &ConnectorName,
        filter: StagedFilter,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>> {
        staged::staged_page(&self.conn, connector, filter, after_id, limit)
    }
    fn count_staged(
        &mut self,
        connector: &ConnectorName,
        filter: StagedFilter,
    ) -> StoreResult<u64> {
        staged::count_staged(&self.conn, connector, filter)
    }
    fn stage_unseen_as_deleted(
        &mut self,
        connector: &ConnectorName,
        run_id: i64,
    ) -> StoreResult<u64> {
        staged::stage_unseen_as_deleted(&self.conn, connector, run_id)
    }
    fn staged_for_mesh(&mut self, mesh_id: MeshId) -> StoreResult<Vec<StagedObject>> {
        staged::staged_for_mesh(&self.conn, mesh_id)
    }
    fn staged_needing_review(
        &mut self,
        connector: Option<&ConnectorName>,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>> {
        staged::staged_needing_review(&self.conn, connector, limit)
    }

    fn insert_mesh(&mut self, object: &NewMeshObject, at: DateTime<Utc>) -> StoreResult<MeshId> {
        mesh::insert_mesh(&self.conn, object, at)
    }
    fn mesh_by_id(&mut self, id: MeshId) -> StoreResult<Option<MeshObject>> {
        mesh::mesh_by_id(&self.conn, id)
    }
    fn update_mesh(
        &mut self,
        id: MeshId,
        attributes: &Attributes,
        provenance: &BTreeMap<String, Provenance>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        mesh::update_mesh(&self.conn, id, attributes, provenance, at)
    }
    fn delete_mesh(&mut self, id: MeshId) -> StoreResult<()> {
        mesh::delete_mesh(&self.conn, id)
    }
    fn replace_mesh_keys(
        &mut self,
        id: MeshId,
        object_type: &str,
        keys: &[MeshKey],
    ) -> StoreResult<()> {
        mesh::replace_mesh_keys(&self.conn, id, object_type, keys)
    }
    fn mesh_ids_by_key(
        &mut self,
        object_type: &str,
        attribute: &str,
        key: &str,
    ) -> StoreResult<Vec<MeshId>> {
        mesh::mesh_ids_by_key(&self.conn, object_type, attribute, key)
    }
    fn mesh_page(
        &mut self,
        object_type: Option<&str>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<MeshObject>> {
        mesh::mesh_page(&self.conn, object_type, after_id, limit)
    }
    fn count_mesh(&mut self, object_type: Option<&str>) -> StoreResult<u64> {
        mesh::count_mesh(&self.conn, object_type)
    }

    fn queue_export(
        &mut self,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        exports::queue_export(&self.conn, export, run_id, at)
    }
    fn export_for_staged(&mut self, staged_id: i64) -> StoreResult<Option<ExportItem>> {
        exports::export_for_staged(&self.conn, staged_id)
    }
    fn cancel_exports_for_staged(&mut self, staged_id: i64) -> StoreResult<u64> {
        exports::cancel_exports_for_staged(&self.conn, staged_id)
    }
    fn export_page(
        &mut self,
        connector: &ConnectorName,
        states: &[ExportState],
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportItem>> {
        exports::export_page(&self.conn, connector, states, after_id, limit)
    }
    fn count_exports(
        &mut self,
        connector: &ConnectorName,
        state: ExportState,
        destructive_only: bool,
    ) -> StoreResult<u64> {
        exports::count_exports(&self.conn, connector, state, destructive_only)
    }
    fn hold_pending_exports(
        &mut self,
        connector: &ConnectorName,
        hold_id: i64,
    ) -> StoreResult<u64> {
        exports::hold_pending_exports(&self.conn, connector, hold_id)
    }
    fn release_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<u64> {
        exports::release_held_exports(&self.conn, connector)
    }
    fn reject_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<Vec<ExportItem>> {
        exports::reject_held_exports(&self.conn, connector)
    }
    fn complete_export(&mut self, id: i64) -> StoreResult<()> {
        exports::complete_export(&self.conn, id)
    }
    fn fail_export(
        &mut self,
        id: i64,
        message: &str,
        dead: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        exports::fail_export(&self.conn, id, message, dead, at)
    }

    fn watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<Option<String>> {
        records::watermark(&self.conn, connector, kind)
    }
    fn set_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
        value: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        records::set_watermark(&self.conn, connector, kind, value, at)
    }
    fn clear_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<()> {
        records::clear_watermark(&self.conn, connector, kind)
    }
    fn append_audit(&mut self, record: &NewAudit, at: DateTime<Utc>) -> StoreResult<i64> {
        records::append_audit(&self.conn, record, at)
    }
    fn audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        records::audit(&self.conn, filter)
    }
    fn apply_config(
        &mut self,
        content: &str,
        hash: &str,
        author: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        records::apply_config(&self.conn, content, hash, author, at)
    }
    fn active_config(&mut self) -> StoreResult<Option<ConfigVersion>> {
        records::active_config(&self.conn)
    }
    fn config_versions(&mut self, limit: u32) -> StoreResult<Vec<ConfigVersion>> {
        records::config_versions(&self.conn, limit)
    }
    fn store_simulation(&mut self, run_id: i64, changes: &[serde_json::Value]) -> StoreResult<()> {
        records::store_simulation(&self.conn, run_id, changes)
    }
    fn simulation(&mut self, run_id: i64) -> StoreResult<Vec<serde_json::Value>> {
        records::simulation(&self.conn, run_id)
    }

    fn acquire_lease(
        &mut self,
        connector: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl_seconds: i64,
    ) -> StoreResult<Option<Lease>> {
        leases::acquire_lease(&self.conn, connector, holder, now, ttl_seconds)
    }
    fn release_lease(&mut self, connector: &str, holder: &str, token: i64) -> StoreResult<()> {
        leases::release_lease(&self.conn, connector, holder, token)
    }
    fn lease(&mut self, connector: &str) -> StoreResult<Option<Lease>> {
        leases::lease(&self.conn, connector)
    }
    fn check_fence(&mut self, connector: &str, token: i64) -> StoreResult<()> {
        leases::check_fence(&self.conn, connector, token)
    }
    fn enqueue_run_request(
        &mut self,
        connector: &str,
        profile: RunProfile,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        leases::enqueue_run_request(&self.conn, connector, profile, actor, at)
    }
    fn run_requests(&mut self, limit: u32) -> StoreResult<Vec<RunRequest>> {
        leases::run_requests(&self.conn, limit)
    }
    fn take_run_request(&mut self, id: i64) -> StoreResult<bool> {
        leases::take_run_request(&self.conn, id)
    }

    // ---- several steps in one call ----
    fn insert_mesh_with_keys(
        &mut self,
        object: &NewMeshObject,
        keys: &[MeshKey],
        at: DateTime<Utc>,
    ) -> StoreResult<MeshId> {
        mesh::insert_mesh_with_keys(&self.conn, object, keys, at)
    }
    fn insert_staged_with_export(
        &mut self,
        object: &NewStaged,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<(i64, i64)>> {
        let Some(staged_id) = staged::insert_staged_if_new(&self.conn, object)? else {
            return Ok(None);
        };
        let queue_id = exports::queue_export_for(&self.conn, export, staged_id, run_id, at)?;
        Ok(Some((staged_id, queue_id)))
    }
    fn set_staged_link_and_pending(
        &mut self,
        id: i64,
        link: &Link,
        pending: PendingImport,
    ) -> StoreResult<()> {
        staged::set_staged_link_and_pending(&self.conn, id, link, pending)
    }

    // ---- secrets and keys (issue 3) ----
    fn put_secret(&mut self, secret: &StoredSecret) -> StoreResult<()> {
        secrets::put_secret(&self.conn, secret)
    }
    fn secret(&mut self, name: &str) -> StoreResult<Option<StoredSecret>> {
        secrets::secret(&self.conn, name)
    }
    fn secret_infos(&mut self) -> StoreResult<Vec<SecretInfo>> {
        secrets::secret_infos(&self.conn)
    }
    fn delete_secret(&mut self, name: &str) -> StoreResult<bool> {
        secrets::delete_secret(&self.conn, name)
    }
    fn touch_secret(&mut self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        secrets::touch_secret(&self.conn, name, at)
    }
    fn wrapped_keys(&mut self) -> StoreResult<Vec<WrappedKeyRow>> {
        secrets::wrapped_keys(&self.conn)
    }
    fn replace_wrapped_key(
        &mut self,
        kind: WrappedKind,
        id: &str,
        kek_id: &str,
        wrapped_key: &[u8],
    ) -> StoreResult<()> {
        secrets::replace_wrapped_key(&self.conn, kind, id, kek_id, wrapped_key)
    }
    fn put_protection_key(&mut self, key: &StoredProtectionKey) -> StoreResult<()> {
        secrets::put_protection_key(&self.conn, key)
    }
    fn protection_keys(&mut self) -> StoreResult<Vec<StoredProtectionKey>> {
        secrets::protection_keys(&self.conn)
    }
    fn delete_expired_protection_keys(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        secrets::delete_expired_protection_keys(&self.conn, before)
    }
    fn key_settings(&mut self) -> StoreResult<Option<KeySettings>> {
        secrets::key_settings(&self.conn)
    }
    fn set_key_settings(&mut self, settings: &KeySettings) -> StoreResult<()> {
        secrets::set_key_settings(&self.conn, settings)
    }

    // ---- relay agents (issue 6) ----
    fn insert_enrollment_token(&mut self, token: &NewEnrollmentToken) -> StoreResult<i64> {
        relays::insert_enrollment_token(&self.conn, token)
    }
    fn enrollment_tokens(&mut self) -> StoreResult<Vec<EnrollmentTokenRecord>> {
        relays::enrollment_tokens(&self.conn)
    }
    fn enroll_relay(
        &mut self,
        token_hash: &str,
        relay: &NewRelay,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<RelayRecord>> {
        relays::enroll_relay(&self.conn, token_hash, relay, at)
    }
    fn relay(&mut self, id: &str) -> StoreResult<Option<RelayRecord>> {
        relays::relay_by_id(&self.conn, id)
    }
    fn relays(&mut self) -> StoreResult<Vec<RelayRecord>> {
        relays::relays(&self.conn)
    }
    fn set_relay_status(&mut self, id: &str, status: RelayStatus) -> StoreResult<bool> {
        relays::set_relay_status(&self.conn, id, status)
    }
    fn rename_relay(&mut self, id: &str, name: &str) -> StoreResult<bool> {
        relays::rename_relay(&self.conn, id, name)
    }
    fn relay_connected(
        &mut self,
        id: &str,
        instance: &str,
        host: &str,
        agent_version: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        relays::relay_connected(&self.conn, id, instance, host, agent_version, at)
    }
    fn relay_heartbeat(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        relays::relay_heartbeat(&self.conn, id, at)
    }
    fn relay_disconnected(&mut self, id: &str, instance: &str) -> StoreResult<()> {
        relays::relay_disconnected(&self.conn, id, instance)
    }
    fn relay_inbox_applied(&mut self, id: &str, seq: u64) -> StoreResult<()> {
        relays::relay_inbox_applied(&self.conn, id, seq)
    }
    fn push_relay_outbox(&mut self, id: &str, frame: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        relays::push_relay_outbox(&self.conn, id, frame, at)
    }
    fn relay_outbox(&mut self, id: &str) -> StoreResult<Vec<(u64, String)>> {
        relays::relay_outbox(&self.conn, id)
    }
    fn ack_relay_outbox(&mut self, id: &str, upto: u64) -> StoreResult<u64> {
        relays::ack_relay_outbox(&self.conn, id, upto)
    }

    // ---- users, sessions, tokens (issue 5) ----
    fn count_users(&mut self) -> StoreResult<u64> {
        users::count_users(&self.conn)
    }
    fn insert_user(&mut self, user: &NewUser, at: DateTime<Utc>) -> StoreResult<Option<i64>> {
        users::insert_user(&self.conn, user, at)
    }
    fn user_by_name(&mut self, name: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_name(&self.conn, name)
    }
    fn user_by_id(&mut self, id: i64) -> StoreResult<Option<UserRecord>> {
        users::user_by_id(&self.conn, id)
    }
    fn users(&mut self) -> StoreResult<Vec<UserRecord>> {
        users::users(&self.conn)
    }
    fn insert_session(&mut self, session: &SessionRecord) -> StoreResult<()> {
        users::insert_session(&self.conn, session)
    }
    fn session(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        users::session(&self.conn, id_hash)
    }
    fn touch_session(&mut self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        users::touch_session(&self.conn, id_hash, at)
    }
    fn delete_session(&mut self, id_hash: &str) -> StoreResult<bool> {
        users::delete_session(&self.conn, id_hash)
    }
    fn delete_expired_sessions(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        users::delete_expired_sessions(&self.conn, before)
    }
    fn insert_api_token(&mut self, token: &NewApiToken) -> StoreResult<i64> {
        users::insert_api_token(&self.conn, token)
    }
    fn api_token_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        users::api_token_by_hash(&self.conn, token_hash)
    }
    fn api_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>> {
        users::api_tokens(&self.conn)
    }
    fn delete_api_token(&mut self, id: i64) -> StoreResult<bool> {
        users::delete_api_token(&self.conn, id)
    }
    fn run_status_counts(&mut self) -> StoreResult<Vec<(String, u64)>> {
        users::run_status_counts(&self.conn)
    }

    // ---- Admin API reads and user administration (issue 5: config, space, users) ----
    fn space_page(
        &mut self,
        query: &crate::space_rows::SpaceQuery,
    ) -> StoreResult<Vec<StagedObject>> {
        super::space::space_page(&self.conn, query)
    }
    fn config_version(&mut self, id: i64) -> StoreResult<Option<ConfigVersion>> {
        super::space::config_version(&self.conn, id)
    }
    fn set_user_role(&mut self, id: i64, role: &str) -> StoreResult<bool> {
        users::set_user_role(&self.conn, id, role)
    }
    fn set_user_password(&mut self, id: i64, password_hash: &str) -> StoreResult<bool> {
        users::set_user_password(&self.conn, id, password_hash)
    }
    fn set_user_disabled(&mut self, id: i64, at: Option<DateTime<Utc>>) -> StoreResult<bool> {
        users::set_user_disabled(&self.conn, id, at)
    }
    fn end_user_access(&mut self, id: i64) -> StoreResult<u64> {
        users::end_user_access(&self.conn, id)
    }
    fn delete_user(&mut self, id: i64) -> StoreResult<bool> {
        users::delete_user(&self.conn, id)
    }
    fn enabled_admin_ids(&mut self) -> StoreResult<Vec<i64>> {
        users::enabled_admin_ids(&self.conn)
    }
}
