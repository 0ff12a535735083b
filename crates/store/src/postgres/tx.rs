//! The PostgreSQL transaction: a pooled connection with an open `sqlx::Transaction`, and
//! the runtime handle each call is bridged with. Each port method runs one area module's
//! async function to completion with `block_on`. One savepoint level (`sp`) isolates one
//! object's work: after an error PostgreSQL refuses everything until the savepoint (or the
//! transaction) is rolled back, which is exactly what the engine does.

use chrono::{DateTime, Utc};
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::export::{ExportItem, ExportState, NewExport};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord, RunStats, RunStatus};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId};
use sqlx::{PgConnection, Postgres, Transaction};
use std::collections::BTreeMap;
use tokio::runtime::Handle;

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

/// An open PostgreSQL transaction.
pub(super) struct PgTx {
    /// The runtime the pool lives on.
    handle: Handle,
    /// The transaction; taken by commit or rollback, dropped (rolled back) otherwise.
    tx: Option<Transaction<'static, Postgres>>,
    /// Whether the savepoint `sp` is open.
    in_savepoint: bool,
}

impl PgTx {
    pub(super) fn new(handle: Handle, tx: Transaction<'static, Postgres>) -> Self {
        Self {
            handle,
            tx: Some(tx),
            in_savepoint: false,
        }
    }

    /// The runtime handle and the connection, for one call.
    fn parts(&mut self) -> StoreResult<(&Handle, &mut PgConnection)> {
        match self.tx.as_mut() {
            Some(tx) => Ok((&self.handle, &mut **tx)),
            None => Err(savepoint_misuse(
                "a transaction call",
                "the transaction is already finished",
            )),
        }
    }

    /// Runs one fixed control statement.
    fn control(&mut self, sql: &'static str, operation: &'static str) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(sqlx::raw_sql(sql).execute(c))
            .map(drop)
            .map_err(db(operation))
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // sqlx queues the rollback and hands the connection back to the pool from a task,
        // which needs the runtime entered on this (blocking) thread.
        if let Some(tx) = self.tx.take() {
            let _entered = self.handle.enter();
            drop(tx);
        }
    }
}

impl Tx for PgTx {
    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        match self.tx.take() {
            Some(tx) => self.handle.block_on(tx.commit()).map_err(db("commit")),
            None => Err(savepoint_misuse(
                "commit",
                "the transaction is already finished",
            )),
        }
    }
    fn rollback(mut self: Box<Self>) -> StoreResult<()> {
        match self.tx.take() {
            Some(tx) => self.handle.block_on(tx.rollback()).map_err(db("rollback")),
            None => Err(savepoint_misuse(
                "rollback",
                "the transaction is already finished",
            )),
        }
    }
    fn savepoint(&mut self) -> StoreResult<()> {
        if self.in_savepoint {
            return Err(savepoint_misuse(
                "savepoint",
                "a savepoint is already open (one level only)",
            ));
        }
        self.control("SAVEPOINT sp", "savepoint")?;
        self.in_savepoint = true;
        Ok(())
    }
    fn release_savepoint(&mut self) -> StoreResult<()> {
        // Releasing after a rollback to the savepoint is a no-op: that already closed it.
        if self.in_savepoint {
            self.control("RELEASE SAVEPOINT sp", "release_savepoint")?;
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
        self.control(
            "ROLLBACK TO SAVEPOINT sp; RELEASE SAVEPOINT sp",
            "rollback_to_savepoint",
        )?;
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
        let (h, c) = self.parts()?;
        h.block_on(runs::start_run(
            c, connector, profile, simulation, actor, at,
        ))
    }
    fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        stats: &RunStats,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(runs::finish_run(c, run_id, status, stats, reason, at))
    }
    fn update_run_stats(&mut self, run_id: i64, stats: &RunStats) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(runs::update_run_stats(c, run_id, stats))
    }
    fn add_run_errors(&mut self, run_id: i64, errors: &[ObjectError]) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(runs::add_run_errors(c, run_id, errors))
    }
    fn run(&mut self, run_id: i64) -> StoreResult<Option<RunRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::run(c, run_id))
    }
    fn run_errors(&mut self, run_id: i64, limit: u32) -> StoreResult<Vec<ObjectError>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::run_errors(c, run_id, limit))
    }
    fn recent_runs(&mut self, connector: Option<&str>, limit: u32) -> StoreResult<Vec<RunRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::recent_runs(c, connector, limit))
    }
    fn last_run(
        &mut self,
        connector: &str,
        profile: RunProfile,
        statuses: &[RunStatus],
    ) -> StoreResult<Option<RunRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::last_run(c, connector, profile, statuses))
    }
    fn runs(&mut self, query: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::runs(c, query))
    }
    fn request_run_cancel(
        &mut self,
        run_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CancelOutcome> {
        let (h, c) = self.parts()?;
        h.block_on(runs::request_run_cancel(c, run_id, actor, at))
    }
    fn run_cancel_request(&mut self, run_id: i64) -> StoreResult<Option<CancelRequest>> {
        let (h, c) = self.parts()?;
        h.block_on(runs::run_cancel_request(c, run_id))
    }

    fn insert_staged(&mut self, object: &NewStaged) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(staged::insert_staged(c, object))
    }
    fn staged_by_anchor(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(staged::staged_by_anchor(c, connector, anchor))
    }
    fn staged_by_id(&mut self, id: i64) -> StoreResult<Option<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(staged::staged_by_id(c, id))
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
        let (h, c) = self.parts()?;
        h.block_on(staged::update_staged_content(
            c, id, name, attributes, hash, pending, changed_at, seen_run,
        ))
    }
    fn update_staged_anchor(&mut self, id: i64, anchor: &Anchor) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::update_staged_anchor(c, id, anchor))
    }
    fn mark_staged_seen(&mut self, id: i64, run_id: i64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::mark_staged_seen(c, id, run_id))
    }
    fn set_staged_pending(&mut self, id: i64, pending: PendingImport) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::set_staged_pending(c, id, pending))
    }
    fn set_staged_link(&mut self, id: i64, link: &Link) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::set_staged_link(c, id, link))
    }
    fn delete_staged(&mut self, id: i64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::delete_staged(c, id))
    }
    fn staged_page(
        &mut self,
        connector: &ConnectorName,
        filter: StagedFilter,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(staged::staged_page(c, connector, filter, after_id, limit))
    }
    fn count_staged(
        &mut self,
        connector: &ConnectorName,
        filter: StagedFilter,
    ) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(staged::count_staged(c, connector, filter))
    }
    fn stage_unseen_as_deleted(
        &mut self,
        connector: &ConnectorName,
        run_id: i64,
    ) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(staged::stage_unseen_as_deleted(c, connector, run_id))
    }
    fn staged_for_mesh(&mut self, mesh_id: MeshId) -> StoreResult<Vec<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(staged::staged_for_mesh(c, mesh_id))
    }
    fn staged_needing_review(
        &mut self,
        connector: Option<&ConnectorName>,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(staged::staged_needing_review(c, connector, limit))
    }

    fn insert_mesh(&mut self, object: &NewMeshObject, at: DateTime<Utc>) -> StoreResult<MeshId> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::insert_mesh(c, object, at))
    }
    fn mesh_by_id(&mut self, id: MeshId) -> StoreResult<Option<MeshObject>> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::mesh_by_id(c, id))
    }
    fn update_mesh(
        &mut self,
        id: MeshId,
        attributes: &Attributes,
        provenance: &BTreeMap<String, Provenance>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::update_mesh(c, id, attributes, provenance, at))
    }
    fn delete_mesh(&mut self, id: MeshId) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::delete_mesh(c, id))
    }
    fn replace_mesh_keys(
        &mut self,
        id: MeshId,
        object_type: &str,
        keys: &[MeshKey],
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::replace_mesh_keys(c, id, object_type, keys))
    }
    fn mesh_ids_by_key(
        &mut self,
        object_type: &str,
        attribute: &str,
        key: &str,
    ) -> StoreResult<Vec<MeshId>> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::mesh_ids_by_key(c, object_type, attribute, key))
    }
    fn mesh_page(
        &mut self,
        object_type: Option<&str>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<MeshObject>> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::mesh_page(c, object_type, after_id, limit))
    }
    fn count_mesh(&mut self, object_type: Option<&str>) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::count_mesh(c, object_type))
    }

    fn queue_export(
        &mut self,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(exports::queue_export(c, export, run_id, at))
    }
    fn export_for_staged(&mut self, staged_id: i64) -> StoreResult<Option<ExportItem>> {
        let (h, c) = self.parts()?;
        h.block_on(exports::export_for_staged(c, staged_id))
    }
    fn cancel_exports_for_staged(&mut self, staged_id: i64) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(exports::cancel_exports_for_staged(c, staged_id))
    }
    fn export_page(
        &mut self,
        connector: &ConnectorName,
        states: &[ExportState],
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportItem>> {
        let (h, c) = self.parts()?;
        h.block_on(exports::export_page(c, connector, states, after_id, limit))
    }
    fn count_exports(
        &mut self,
        connector: &ConnectorName,
        state: ExportState,
        destructive_only: bool,
    ) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(exports::count_exports(
            c,
            connector,
            state,
            destructive_only,
        ))
    }
    fn hold_pending_exports(
        &mut self,
        connector: &ConnectorName,
        hold_id: i64,
    ) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(exports::hold_pending_exports(c, connector, hold_id))
    }
    fn release_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(exports::release_held_exports(c, connector))
    }
    fn reject_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<Vec<ExportItem>> {
        let (h, c) = self.parts()?;
        h.block_on(exports::reject_held_exports(c, connector))
    }
    fn complete_export(&mut self, id: i64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(exports::complete_export(c, id))
    }
    fn fail_export(
        &mut self,
        id: i64,
        message: &str,
        dead: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(exports::fail_export(c, id, message, dead, at))
    }

    fn watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<Option<String>> {
        let (h, c) = self.parts()?;
        h.block_on(records::watermark(c, connector, kind))
    }
    fn set_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
        value: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(records::set_watermark(c, connector, kind, value, at))
    }
    fn clear_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(records::clear_watermark(c, connector, kind))
    }
    fn append_audit(&mut self, record: &NewAudit, at: DateTime<Utc>) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(records::append_audit(c, record, at))
    }
    fn audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(records::audit(c, filter))
    }
    fn apply_config(
        &mut self,
        content: &str,
        hash: &str,
        author: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(records::apply_config(c, content, hash, author, at))
    }
    fn active_config(&mut self) -> StoreResult<Option<ConfigVersion>> {
        let (h, c) = self.parts()?;
        h.block_on(records::active_config(c))
    }
    fn config_versions(&mut self, limit: u32) -> StoreResult<Vec<ConfigVersion>> {
        let (h, c) = self.parts()?;
        h.block_on(records::config_versions(c, limit))
    }
    fn store_simulation(&mut self, run_id: i64, changes: &[serde_json::Value]) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(records::store_simulation(c, run_id, changes))
    }
    fn simulation(&mut self, run_id: i64) -> StoreResult<Vec<serde_json::Value>> {
        let (h, c) = self.parts()?;
        h.block_on(records::simulation(c, run_id))
    }

    fn acquire_lease(
        &mut self,
        connector: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl_seconds: i64,
    ) -> StoreResult<Option<Lease>> {
        let (h, c) = self.parts()?;
        h.block_on(leases::acquire_lease(
            c,
            connector,
            holder,
            now,
            ttl_seconds,
        ))
    }
    fn release_lease(&mut self, connector: &str, holder: &str, token: i64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(leases::release_lease(c, connector, holder, token))
    }
    fn lease(&mut self, connector: &str) -> StoreResult<Option<Lease>> {
        let (h, c) = self.parts()?;
        h.block_on(leases::lease(c, connector))
    }
    fn check_fence(&mut self, connector: &str, token: i64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(leases::check_fence(c, connector, token))
    }
    fn enqueue_run_request(
        &mut self,
        connector: &str,
        profile: RunProfile,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(leases::enqueue_run_request(
            c, connector, profile, actor, at,
        ))
    }
    fn run_requests(&mut self, limit: u32) -> StoreResult<Vec<RunRequest>> {
        let (h, c) = self.parts()?;
        h.block_on(leases::run_requests(c, limit))
    }
    fn take_run_request(&mut self, id: i64) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(leases::take_run_request(c, id))
    }

    // ---- several steps in one call ----
    fn insert_mesh_with_keys(
        &mut self,
        object: &NewMeshObject,
        keys: &[MeshKey],
        at: DateTime<Utc>,
    ) -> StoreResult<MeshId> {
        let (h, c) = self.parts()?;
        h.block_on(mesh::insert_mesh_with_keys(c, object, keys, at))
    }
    fn insert_staged_with_export(
        &mut self,
        object: &NewStaged,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<(i64, i64)>> {
        let (h, c) = self.parts()?;
        h.block_on(async {
            if staged::staged_by_anchor(c, &object.connector, &object.anchor)
                .await?
                .is_some()
            {
                return Ok(None);
            }
            let staged_id = staged::insert_staged(c, object).await?;
            let export = NewExport {
                staged_id,
                ..export.clone()
            };
            let queue_id = exports::queue_export(c, &export, run_id, at).await?;
            Ok(Some((staged_id, queue_id)))
        })
    }
    fn set_staged_link_and_pending(
        &mut self,
        id: i64,
        link: &Link,
        pending: PendingImport,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(staged::set_staged_link_and_pending(c, id, link, pending))
    }

    // ---- secrets and keys (issue 3) ----
    fn put_secret(&mut self, secret: &StoredSecret) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::put_secret(c, secret))
    }
    fn secret(&mut self, name: &str) -> StoreResult<Option<StoredSecret>> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::secret(c, name))
    }
    fn secret_infos(&mut self) -> StoreResult<Vec<SecretInfo>> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::secret_infos(c))
    }
    fn delete_secret(&mut self, name: &str) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::delete_secret(c, name))
    }
    fn touch_secret(&mut self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::touch_secret(c, name, at))
    }
    fn wrapped_keys(&mut self) -> StoreResult<Vec<WrappedKeyRow>> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::wrapped_keys(c))
    }
    fn replace_wrapped_key(
        &mut self,
        kind: WrappedKind,
        id: &str,
        kek_id: &str,
        wrapped_key: &[u8],
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::replace_wrapped_key(
            c,
            kind,
            id,
            kek_id,
            wrapped_key,
        ))
    }
    fn put_protection_key(&mut self, key: &StoredProtectionKey) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::put_protection_key(c, key))
    }
    fn protection_keys(&mut self) -> StoreResult<Vec<StoredProtectionKey>> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::protection_keys(c))
    }
    fn delete_expired_protection_keys(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::delete_expired_protection_keys(c, before))
    }
    fn key_settings(&mut self) -> StoreResult<Option<KeySettings>> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::key_settings(c))
    }
    fn set_key_settings(&mut self, settings: &KeySettings) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(secrets::set_key_settings(c, settings))
    }

    // ---- relay agents (issue 6) ----
    fn insert_enrollment_token(&mut self, token: &NewEnrollmentToken) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(relays::insert_enrollment_token(c, token))
    }
    fn enrollment_tokens(&mut self) -> StoreResult<Vec<EnrollmentTokenRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(relays::enrollment_tokens(c))
    }
    fn enroll_relay(
        &mut self,
        token_hash: &str,
        relay: &NewRelay,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<RelayRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(relays::enroll_relay(c, token_hash, relay, at))
    }
    fn relay(&mut self, id: &str) -> StoreResult<Option<RelayRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_by_id(c, id))
    }
    fn relays(&mut self) -> StoreResult<Vec<RelayRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relays(c))
    }
    fn set_relay_status(&mut self, id: &str, status: RelayStatus) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(relays::set_relay_status(c, id, status))
    }
    fn rename_relay(&mut self, id: &str, name: &str) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(relays::rename_relay(c, id, name))
    }
    fn relay_connected(
        &mut self,
        id: &str,
        instance: &str,
        host: &str,
        agent_version: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_connected(
            c,
            id,
            instance,
            host,
            agent_version,
            at,
        ))
    }
    fn relay_heartbeat(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_heartbeat(c, id, at))
    }
    fn relay_disconnected(&mut self, id: &str, instance: &str) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_disconnected(c, id, instance))
    }
    fn relay_inbox_applied(&mut self, id: &str, seq: u64) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_inbox_applied(c, id, seq))
    }
    fn push_relay_outbox(&mut self, id: &str, frame: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(relays::push_relay_outbox(c, id, frame, at))
    }
    fn relay_outbox(&mut self, id: &str) -> StoreResult<Vec<(u64, String)>> {
        let (h, c) = self.parts()?;
        h.block_on(relays::relay_outbox(c, id))
    }
    fn ack_relay_outbox(&mut self, id: &str, upto: u64) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(relays::ack_relay_outbox(c, id, upto))
    }

    // ---- users, sessions, tokens (issue 5) ----
    fn count_users(&mut self) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(users::count_users(c))
    }
    fn insert_user(&mut self, user: &NewUser, at: DateTime<Utc>) -> StoreResult<Option<i64>> {
        let (h, c) = self.parts()?;
        h.block_on(users::insert_user(c, user, at))
    }
    fn user_by_name(&mut self, name: &str) -> StoreResult<Option<UserRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::user_by_name(c, name))
    }
    fn user_by_id(&mut self, id: i64) -> StoreResult<Option<UserRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::user_by_id(c, id))
    }
    fn users(&mut self) -> StoreResult<Vec<UserRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::users(c))
    }
    fn insert_session(&mut self, session: &SessionRecord) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(users::insert_session(c, session))
    }
    fn session(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::session(c, id_hash))
    }
    fn touch_session(&mut self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (h, c) = self.parts()?;
        h.block_on(users::touch_session(c, id_hash, at))
    }
    fn delete_session(&mut self, id_hash: &str) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::delete_session(c, id_hash))
    }
    fn delete_expired_sessions(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(users::delete_expired_sessions(c, before))
    }
    fn insert_api_token(&mut self, token: &NewApiToken) -> StoreResult<i64> {
        let (h, c) = self.parts()?;
        h.block_on(users::insert_api_token(c, token))
    }
    fn api_token_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::api_token_by_hash(c, token_hash))
    }
    fn api_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>> {
        let (h, c) = self.parts()?;
        h.block_on(users::api_tokens(c))
    }
    fn delete_api_token(&mut self, id: i64) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::delete_api_token(c, id))
    }
    fn run_status_counts(&mut self) -> StoreResult<Vec<(String, u64)>> {
        let (h, c) = self.parts()?;
        h.block_on(users::run_status_counts(c))
    }

    // ---- Admin API reads and user administration (issue 5: config, space, users) ----
    fn space_page(
        &mut self,
        query: &crate::space_rows::SpaceQuery,
    ) -> StoreResult<Vec<StagedObject>> {
        let (h, c) = self.parts()?;
        h.block_on(super::space::space_page(c, query))
    }
    fn config_version(&mut self, id: i64) -> StoreResult<Option<ConfigVersion>> {
        let (h, c) = self.parts()?;
        h.block_on(super::space::config_version(c, id))
    }
    fn set_user_role(&mut self, id: i64, role: &str) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::set_user_role(c, id, role))
    }
    fn set_user_password(&mut self, id: i64, password_hash: &str) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::set_user_password(c, id, password_hash))
    }
    fn set_user_disabled(&mut self, id: i64, at: Option<DateTime<Utc>>) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::set_user_disabled(c, id, at))
    }
    fn end_user_access(&mut self, id: i64) -> StoreResult<u64> {
        let (h, c) = self.parts()?;
        h.block_on(users::end_user_access(c, id))
    }
    fn delete_user(&mut self, id: i64) -> StoreResult<bool> {
        let (h, c) = self.parts()?;
        h.block_on(users::delete_user(c, id))
    }
    fn enabled_admin_ids(&mut self) -> StoreResult<Vec<i64>> {
        let (h, c) = self.parts()?;
        h.block_on(users::enabled_admin_ids(c))
    }
}
