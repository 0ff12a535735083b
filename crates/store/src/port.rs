//! The persistence port: a [`Store`] handle, and the [`Tx`] trait with intention-named
//! methods that both backends implement.

use chrono::{DateTime, Utc};
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::export::{ExportItem, ExportState, NewExport};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord, RunStats, RunStatus};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::StoreError;
use crate::relay_rows::{
    EnrollmentTokenRecord, NewEnrollmentToken, NewRelay, RelayRecord, RelayStatus,
};
use crate::run_rows::{CancelOutcome, CancelRequest, RunQuery};
use crate::secret_rows::{
    KeySettings, SecretInfo, StoredProtectionKey, StoredSecret, WrappedKeyRow, WrappedKind,
};
use crate::space_rows::SpaceQuery;
use crate::url::DatabaseUrl;
use crate::user_rows::{ApiTokenRecord, NewApiToken, NewUser, SessionRecord, UserRecord};

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The highest schema version this build knows (both backends have the same migrations).
pub const SCHEMA_VERSION: i64 = 5;

/// The store handle: cheap to clone, shared by every part of a process.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.0.kind())
    }
}

impl Store {
    /// Opens the database the URL names, applying pending migrations when `migrate` is true
    /// (otherwise a schema older than this build is an error). A schema newer than this
    /// build is always refused. Must be called inside a tokio runtime (PostgreSQL keeps its
    /// handle), from a blocking context.
    pub fn open(url: &DatabaseUrl, migrate: bool) -> StoreResult<Store> {
        let backend: Arc<dyn Backend> = match url {
            DatabaseUrl::Sqlite(path) => Arc::new(crate::sqlite::SqliteBackend::open(path)?),
            DatabaseUrl::Postgres(raw) => Arc::new(crate::postgres::PostgresBackend::open(raw)?),
        };
        backend.migrate(migrate)?;
        Ok(Store(backend))
    }

    /// Which backend: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The schema version found in the database.
    pub fn schema_version(&self) -> StoreResult<i64> {
        self.0.schema_version()
    }

    /// Starts a transaction. Dropping it without `commit` rolls it back.
    pub fn begin(&self) -> StoreResult<Box<dyn Tx + '_>> {
        self.0.begin()
    }

    /// Starts a read-only transaction: it sees the last committed state, never waits for an
    /// open write transaction, and any write through it fails. For pages and reports that
    /// must stay fast while a run is writing.
    pub fn begin_read(&self) -> StoreResult<Box<dyn Tx + '_>> {
        self.0.begin_read()
    }

    /// Runs `work` in one read-only transaction ([`Store::begin_read`]) on a blocking thread.
    pub async fn read_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> StoreResult<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut tx = store.begin_read()?;
            let value = work(tx.as_mut())?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Database {
            operation: "a blocking store task",
            message: e.to_string(),
        })?
    }

    /// Runs `work` in one transaction on a blocking thread, committing when it returns `Ok`.
    pub async fn run_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> StoreResult<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut tx = store.begin()?;
            let value = work(tx.as_mut())?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Database {
            operation: "a blocking store task",
            message: e.to_string(),
        })?
    }

    /// A bulk insert of `rows` plain rows into a scratch table, the database's own speed
    /// limit for the benchmark's baseline.
    pub fn baseline_bulk_insert(
        &self,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> StoreResult<u64> {
        self.0.baseline_bulk_insert(rows)
    }
}

/// What a backend provides to the handle. Private in spirit: callers use [`Store`].
pub trait Backend: Send + Sync {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// Applies migrations (or only checks the version when `apply` is false).
    fn migrate(&self, apply: bool) -> StoreResult<()>;
    /// The schema version in the database.
    fn schema_version(&self) -> StoreResult<i64>;
    /// Starts a transaction.
    fn begin(&self) -> StoreResult<Box<dyn Tx + '_>>;
    /// See [`Store::begin_read`].
    fn begin_read(&self) -> StoreResult<Box<dyn Tx + '_>>;
    /// See [`Store::baseline_bulk_insert`].
    fn baseline_bulk_insert(
        &self,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> StoreResult<u64>;
}

/// A staged object to insert.
#[derive(Clone, Debug)]
pub struct NewStaged {
    /// Connector.
    pub connector: ConnectorName,
    /// Connector object type.
    pub object_type: String,
    /// Anchor.
    pub anchor: Anchor,
    /// Name in the system.
    pub name: Option<String>,
    /// Attributes.
    pub attributes: Attributes,
    /// Content hash.
    pub hash: String,
    /// Pending import change.
    pub pending: PendingImport,
    /// Link.
    pub link: Link,
    /// Source change time.
    pub changed_at: DateTime<Utc>,
    /// Run that saw it.
    pub seen_run: i64,
}

/// Which staged objects a page holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StagedFilter {
    /// Every object of the connector.
    All,
    /// Objects with a pending import change.
    Pending,
    /// Objects not seen by the given run (deletion candidates of a full import).
    NotSeenBy(i64),
}

/// A stored configuration version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigVersion {
    /// Version number, increasing.
    pub id: i64,
    /// Content hash (hex).
    pub hash: String,
    /// Who applied it.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The configuration text.
    pub content: String,
}

/// A filter for the audit log.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this target (`mesh:42`).
    pub target: Option<String>,
    /// Only records with id below this (paging backwards).
    pub before_id: Option<i64>,
    /// At most this many (newest first).
    pub limit: u32,
}

/// A granted lease on a connector's runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The connector.
    pub connector: String,
    /// Who holds it.
    pub holder: String,
    /// The fencing token: increases on every grant.
    pub token: i64,
    /// When it expires unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// A queued request to run a profile, kept until an engine takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// Request id.
    pub id: i64,
    /// Connector.
    pub connector: String,
    /// Profile.
    pub profile: RunProfile,
    /// Who asked.
    pub actor: String,
    /// When.
    pub requested_at: DateTime<Utc>,
}

/// One transaction. Every method runs inside it; nothing is visible to others until
/// [`Tx::commit`]. Savepoints isolate one object's work inside a batch.
pub trait Tx {
    // ---- transaction control ----
    /// Commits.
    fn commit(self: Box<Self>) -> StoreResult<()>;
    /// Rolls back.
    fn rollback(self: Box<Self>) -> StoreResult<()>;
    /// Opens a savepoint (one object's work).
    fn savepoint(&mut self) -> StoreResult<()>;
    /// Keeps the work since the last savepoint.
    fn release_savepoint(&mut self) -> StoreResult<()>;
    /// Undoes the work since the last savepoint.
    fn rollback_to_savepoint(&mut self) -> StoreResult<()>;

    // ---- runs ----
    /// Records the start of a run and returns its id.
    fn start_run(
        &mut self,
        connector: &str,
        profile: RunProfile,
        simulation: bool,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Records the end of a run.
    fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        stats: &RunStats,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Saves progress counters of a running run.
    fn update_run_stats(&mut self, run_id: i64, stats: &RunStats) -> StoreResult<()>;
    /// Appends per-object errors to a run.
    fn add_run_errors(&mut self, run_id: i64, errors: &[ObjectError]) -> StoreResult<()>;
    /// A run by id.
    fn run(&mut self, run_id: i64) -> StoreResult<Option<RunRecord>>;
    /// The errors of a run, in order.
    fn run_errors(&mut self, run_id: i64, limit: u32) -> StoreResult<Vec<ObjectError>>;
    /// Recent runs, newest first, optionally of one connector.
    fn recent_runs(&mut self, connector: Option<&str>, limit: u32) -> StoreResult<Vec<RunRecord>>;
    /// The newest finished run of a connector and profile with one of the given statuses.
    fn last_run(
        &mut self,
        connector: &str,
        profile: RunProfile,
        statuses: &[RunStatus],
    ) -> StoreResult<Option<RunRecord>>;
    /// Runs matching the query's filters, newest first, at most `query.limit`.
    fn runs(&mut self, query: &RunQuery) -> StoreResult<Vec<RunRecord>>;
    /// Asks the engine running a run to stop at its next batch boundary, recording who and
    /// when. Only a running run can be cancelled; asking again keeps the first request.
    fn request_run_cancel(
        &mut self,
        run_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CancelOutcome>;
    /// The cancel request on a run, if any (what the engine checks at each batch boundary).
    fn run_cancel_request(&mut self, run_id: i64) -> StoreResult<Option<CancelRequest>>;

    // ---- connector space ----
    /// Inserts a staged object, returning its id. The (connector, anchor) pair is unique.
    fn insert_staged(&mut self, object: &NewStaged) -> StoreResult<i64>;
    /// A staged object by connector and anchor.
    fn staged_by_anchor(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
    ) -> StoreResult<Option<StagedObject>>;
    /// A staged object by id.
    fn staged_by_id(&mut self, id: i64) -> StoreResult<Option<StagedObject>>;
    /// Replaces a staged object's name, content and pending state.
    #[allow(clippy::too_many_arguments)]
    fn update_staged_content(
        &mut self,
        id: i64,
        name: Option<&str>,
        attributes: &Attributes,
        hash: &str,
        pending: PendingImport,
        changed_at: DateTime<Utc>,
        seen_run: i64,
    ) -> StoreResult<()>;
    /// Changes a staged object's anchor (a target that assigned its own identifier on add).
    fn update_staged_anchor(&mut self, id: i64, anchor: &Anchor) -> StoreResult<()>;
    /// Records that a full import saw the object unchanged.
    fn mark_staged_seen(&mut self, id: i64, run_id: i64) -> StoreResult<()>;
    /// Sets the pending import change.
    fn set_staged_pending(&mut self, id: i64, pending: PendingImport) -> StoreResult<()>;
    /// Sets the link to the mesh.
    fn set_staged_link(&mut self, id: i64, link: &Link) -> StoreResult<()>;
    /// Deletes a staged object (and its queued exports).
    fn delete_staged(&mut self, id: i64) -> StoreResult<()>;
    /// A page of a connector's staged objects with id greater than `after_id`, in id order.
    fn staged_page(
        &mut self,
        connector: &ConnectorName,
        filter: StagedFilter,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>>;
    /// How many staged objects a connector has (optionally only those matching the filter).
    fn count_staged(&mut self, connector: &ConnectorName, filter: StagedFilter)
    -> StoreResult<u64>;
    /// Marks every object not seen by `run_id` as pending delete; returns how many.
    fn stage_unseen_as_deleted(
        &mut self,
        connector: &ConnectorName,
        run_id: i64,
    ) -> StoreResult<u64>;
    /// Every staged object (any connector) joined to a mesh object.
    fn staged_for_mesh(&mut self, mesh_id: MeshId) -> StoreResult<Vec<StagedObject>>;
    /// Staged objects whose link is ambiguous or awaiting adoption (for review), any connector.
    fn staged_needing_review(
        &mut self,
        connector: Option<&ConnectorName>,
        limit: u32,
    ) -> StoreResult<Vec<StagedObject>>;

    // ---- mesh ----
    /// Creates a mesh object and returns its id.
    fn insert_mesh(&mut self, object: &NewMeshObject, at: DateTime<Utc>) -> StoreResult<MeshId>;
    /// A mesh object by id.
    fn mesh_by_id(&mut self, id: MeshId) -> StoreResult<Option<MeshObject>>;
    /// Replaces a mesh object's attributes and provenance, bumping its version.
    fn update_mesh(
        &mut self,
        id: MeshId,
        attributes: &Attributes,
        provenance: &BTreeMap<String, Provenance>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes a mesh object and its keys.
    fn delete_mesh(&mut self, id: MeshId) -> StoreResult<()>;
    /// Replaces the indexed keys of a mesh object. A unique key held by another object is
    /// [`StoreError::UniqueViolation`].
    fn replace_mesh_keys(
        &mut self,
        id: MeshId,
        object_type: &str,
        keys: &[MeshKey],
    ) -> StoreResult<()>;
    /// Mesh objects of a type whose indexed attribute has this normalised key.
    fn mesh_ids_by_key(
        &mut self,
        object_type: &str,
        attribute: &str,
        key: &str,
    ) -> StoreResult<Vec<MeshId>>;
    /// A page of mesh objects in id order.
    fn mesh_page(
        &mut self,
        object_type: Option<&str>,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<MeshObject>>;
    /// How many mesh objects (of a type, or all).
    fn count_mesh(&mut self, object_type: Option<&str>) -> StoreResult<u64>;

    // ---- export queue ----
    /// Queues an export for a staged object, replacing a pending or failed one for the same
    /// object (held ones stay until approved or rejected). Returns the queue id.
    fn queue_export(
        &mut self,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// The queued export for a staged object, if any.
    fn export_for_staged(&mut self, staged_id: i64) -> StoreResult<Option<ExportItem>>;
    /// Removes any queued export for a staged object (it is no longer needed).
    fn cancel_exports_for_staged(&mut self, staged_id: i64) -> StoreResult<u64>;
    /// A page of a connector's exports in the given states with id greater than `after_id`.
    fn export_page(
        &mut self,
        connector: &ConnectorName,
        states: &[ExportState],
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportItem>>;
    /// Counts a connector's exports in a state; `destructive_only` counts deletes and disables.
    fn count_exports(
        &mut self,
        connector: &ConnectorName,
        state: ExportState,
        destructive_only: bool,
    ) -> StoreResult<u64>;
    /// Moves every pending export of the connector to held under `hold_id`; returns how many.
    fn hold_pending_exports(&mut self, connector: &ConnectorName, hold_id: i64)
    -> StoreResult<u64>;
    /// Moves held exports back to pending; returns how many.
    fn release_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<u64>;
    /// Deletes held exports and returns them (for the audit).
    fn reject_held_exports(&mut self, connector: &ConnectorName) -> StoreResult<Vec<ExportItem>>;
    /// Removes an applied export from the queue.
    fn complete_export(&mut self, id: i64) -> StoreResult<()>;
    /// Records a failed attempt; `dead` moves it to the dead-letter state.
    fn fail_export(
        &mut self,
        id: i64,
        message: &str,
        dead: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    // ---- watermarks ----
    /// The stored watermark text of a connector and kind.
    fn watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<Option<String>>;
    /// Stores a watermark.
    fn set_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
        value: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets a watermark (forcing a full import).
    fn clear_watermark(
        &mut self,
        connector: &ConnectorName,
        kind: WatermarkKind,
    ) -> StoreResult<()>;

    // ---- audit ----
    /// Appends an audit record.
    fn append_audit(&mut self, record: &NewAudit, at: DateTime<Utc>) -> StoreResult<i64>;
    /// Reads audit records, newest first.
    fn audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;

    // ---- configuration ----
    /// Stores a new configuration version and makes it active; returns its number. Storing
    /// content identical to the active version returns the active version's number.
    fn apply_config(
        &mut self,
        content: &str,
        hash: &str,
        author: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// The active configuration version.
    fn active_config(&mut self) -> StoreResult<Option<ConfigVersion>>;
    /// Configuration versions, newest first (content omitted: empty string).
    fn config_versions(&mut self, limit: u32) -> StoreResult<Vec<ConfigVersion>>;

    // ---- simulations ----
    /// Stores the change set a simulation would have made.
    fn store_simulation(&mut self, run_id: i64, changes: &[serde_json::Value]) -> StoreResult<()>;
    /// The change set of a simulation run.
    fn simulation(&mut self, run_id: i64) -> StoreResult<Vec<serde_json::Value>>;

    // ---- leases and run requests ----
    /// Takes the connector's lease for `holder` if it is free, expired or already held by
    /// `holder` (renewing it). A new grant gets a higher fencing token; a renewal keeps it.
    /// `None` when another holder has it.
    fn acquire_lease(
        &mut self,
        connector: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl_seconds: i64,
    ) -> StoreResult<Option<Lease>>;
    /// Releases a lease if `holder` still holds it with `token`.
    fn release_lease(&mut self, connector: &str, holder: &str, token: i64) -> StoreResult<()>;
    /// The current lease on a connector.
    fn lease(&mut self, connector: &str) -> StoreResult<Option<Lease>>;
    /// Refuses with [`StoreError::StaleLease`] unless `token` is the connector's current token.
    fn check_fence(&mut self, connector: &str, token: i64) -> StoreResult<()>;
    /// Queues a request to run a profile later.
    fn enqueue_run_request(
        &mut self,
        connector: &str,
        profile: RunProfile,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Queued run requests, oldest first.
    fn run_requests(&mut self, limit: u32) -> StoreResult<Vec<RunRequest>>;
    /// Removes a run request once taken.
    fn take_run_request(&mut self, id: i64) -> StoreResult<bool>;

    // ---- several steps in one call, for the sync hot path ----
    /// Creates a mesh object together with its indexed keys and returns its id: what
    /// [`Tx::insert_mesh`] followed by [`Tx::replace_mesh_keys`] does, for an object that holds
    /// no keys yet. A unique key held by another object is [`StoreError::UniqueViolation`]
    /// naming the holder, and then nothing is stored.
    fn insert_mesh_with_keys(
        &mut self,
        object: &NewMeshObject,
        keys: &[MeshKey],
        at: DateTime<Utc>,
    ) -> StoreResult<MeshId>;
    /// Stages a target object the engine provisions and queues its export, unless the
    /// object's (connector, anchor) is already staged: then nothing is written and the answer
    /// is `None`. Otherwise `(staged id, queue id)`; the export's `staged_id` is ignored and
    /// the new object's id used instead.
    fn insert_staged_with_export(
        &mut self,
        object: &NewStaged,
        export: &NewExport,
        run_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<(i64, i64)>>;
    /// Sets a staged object's link and its pending import change in one write: what
    /// [`Tx::set_staged_link`] followed by [`Tx::set_staged_pending`] does.
    fn set_staged_link_and_pending(
        &mut self,
        id: i64,
        link: &Link,
        pending: PendingImport,
    ) -> StoreResult<()>;

    // ---- secrets and keys (issue 3): sealed blobs only, never a value in clear ----
    /// Inserts or replaces a secret (by name); `created_at` and `last_used_at` of an existing
    /// secret are kept.
    fn put_secret(&mut self, secret: &StoredSecret) -> StoreResult<()>;
    /// A secret by name, with its sealed blobs.
    fn secret(&mut self, name: &str) -> StoreResult<Option<StoredSecret>>;
    /// Every secret's metadata (no blobs), in name order.
    fn secret_infos(&mut self) -> StoreResult<Vec<SecretInfo>>;
    /// Deletes a secret; whether it existed.
    fn delete_secret(&mut self, name: &str) -> StoreResult<bool>;
    /// Records that a secret was used at `at`.
    fn touch_secret(&mut self, name: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Every wrapped key in the database (secrets' data keys and key-ring keys), for a
    /// rewrap.
    fn wrapped_keys(&mut self) -> StoreResult<Vec<WrappedKeyRow>>;
    /// Replaces one record's wrapped key and the KEK id it names.
    fn replace_wrapped_key(
        &mut self,
        kind: WrappedKind,
        id: &str,
        kek_id: &str,
        wrapped_key: &[u8],
    ) -> StoreResult<()>;
    /// Adds a data-protection key.
    fn put_protection_key(&mut self, key: &StoredProtectionKey) -> StoreResult<()>;
    /// Every data-protection key, oldest activation first.
    fn protection_keys(&mut self) -> StoreResult<Vec<StoredProtectionKey>>;
    /// Deletes data-protection keys that expired before `before`; returns how many.
    fn delete_expired_protection_keys(&mut self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// The KEK the database is wrapped under, once recorded.
    fn key_settings(&mut self) -> StoreResult<Option<KeySettings>>;
    /// Records the KEK the database is wrapped under.
    fn set_key_settings(&mut self, settings: &KeySettings) -> StoreResult<()>;

    // ---- relay agents (issue 6): enrollment, presence, the hub's outbox and inbox ----
    /// Stores an enrollment token (its hash); returns its id.
    fn insert_enrollment_token(&mut self, token: &NewEnrollmentToken) -> StoreResult<i64>;
    /// Every enrollment token, newest first.
    fn enrollment_tokens(&mut self) -> StoreResult<Vec<EnrollmentTokenRecord>>;
    /// Enrolls a relay with a token: only if the token (by hash) exists, is unused and has
    /// not expired at `at`, and the relay's name is free. The token is marked used by the
    /// new relay. `None` when the token cannot be used; an error when the name is taken.
    fn enroll_relay(
        &mut self,
        token_hash: &str,
        relay: &NewRelay,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<RelayRecord>>;
    /// A relay by id.
    fn relay(&mut self, id: &str) -> StoreResult<Option<RelayRecord>>;
    /// Every relay, by name.
    fn relays(&mut self) -> StoreResult<Vec<RelayRecord>>;
    /// Sets a relay's status; whether it exists.
    fn set_relay_status(&mut self, id: &str, status: RelayStatus) -> StoreResult<bool>;
    /// Renames a relay; whether it exists (an error when the name is taken).
    fn rename_relay(&mut self, id: &str, name: &str) -> StoreResult<bool>;
    /// Records a relay's connection to an Admin API instance.
    fn relay_connected(
        &mut self,
        id: &str,
        instance: &str,
        host: &str,
        agent_version: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records a heartbeat.
    fn relay_heartbeat(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Clears the presence, if it still names `instance` (a newer connection elsewhere
    /// stays recorded).
    fn relay_disconnected(&mut self, id: &str, instance: &str) -> StoreResult<()>;
    /// Records that the hub applied the relay's messages up to `seq` (never goes back).
    fn relay_inbox_applied(&mut self, id: &str, seq: u64) -> StoreResult<()>;
    /// Queues a reliable frame for a relay; returns its sequence number.
    fn push_relay_outbox(&mut self, id: &str, frame: &str, at: DateTime<Utc>) -> StoreResult<u64>;
    /// The frames not yet acknowledged, oldest first.
    fn relay_outbox(&mut self, id: &str) -> StoreResult<Vec<(u64, String)>>;
    /// Drops the frames up to `upto`; returns how many.
    fn ack_relay_outbox(&mut self, id: &str, upto: u64) -> StoreResult<u64>;

    // ---- users, sessions, tokens (issue 5) ----
    /// How many users exist (none: the Admin API creates a bootstrap administrator).
    fn count_users(&mut self) -> StoreResult<u64>;
    /// Creates a user; `None` when the name is taken.
    fn insert_user(&mut self, user: &NewUser, at: DateTime<Utc>) -> StoreResult<Option<i64>>;
    /// A user by login name.
    fn user_by_name(&mut self, name: &str) -> StoreResult<Option<UserRecord>>;
    /// A user by id.
    fn user_by_id(&mut self, id: i64) -> StoreResult<Option<UserRecord>>;
    /// Every user, in name order.
    fn users(&mut self) -> StoreResult<Vec<UserRecord>>;
    /// Stores a new session.
    fn insert_session(&mut self, session: &SessionRecord) -> StoreResult<()>;
    /// A session by the hash of its id.
    fn session(&mut self, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    /// Records activity on a session (idle expiry counts from `at`).
    fn touch_session(&mut self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session; whether it existed.
    fn delete_session(&mut self, id_hash: &str) -> StoreResult<bool>;
    /// Deletes sessions whose absolute expiry is before `before`; returns how many.
    fn delete_expired_sessions(&mut self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Stores a new API token (its hash) and returns its id.
    fn insert_api_token(&mut self, token: &NewApiToken) -> StoreResult<i64>;
    /// An API token by the hash of its value.
    fn api_token_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>>;
    /// Every API token (hashes only), newest first.
    fn api_tokens(&mut self) -> StoreResult<Vec<ApiTokenRecord>>;
    /// Deletes an API token; whether it existed.
    fn delete_api_token(&mut self, id: i64) -> StoreResult<bool>;
    /// How many runs are in each status (`completed`, `failed`, …), for metrics.
    fn run_status_counts(&mut self) -> StoreResult<Vec<(String, u64)>>;

    // ---- Admin API reads and user administration (issue 5: config, space, users) ----
    /// A page of a connector-space search, in id order.
    fn space_page(&mut self, query: &SpaceQuery) -> StoreResult<Vec<StagedObject>>;
    /// A configuration version with its text.
    fn config_version(&mut self, id: i64) -> StoreResult<Option<ConfigVersion>>;
    /// Sets a user's role; whether the user exists.
    fn set_user_role(&mut self, id: i64, role: &str) -> StoreResult<bool>;
    /// Replaces a user's password hash; whether the user exists.
    fn set_user_password(&mut self, id: i64, password_hash: &str) -> StoreResult<bool>;
    /// Disables a user from `at` (or enables it with `None`); whether the user exists.
    fn set_user_disabled(&mut self, id: i64, at: Option<DateTime<Utc>>) -> StoreResult<bool>;
    /// Ends every session and deletes every API token of a user; returns how many.
    fn end_user_access(&mut self, id: i64) -> StoreResult<u64>;
    /// Deletes a user with its sessions and tokens; whether it existed.
    fn delete_user(&mut self, id: i64) -> StoreResult<bool>;
    /// The ids of the enabled administrators. On PostgreSQL the rows stay locked until the
    /// transaction ends, so a check "not the last administrator" holds until commit.
    fn enabled_admin_ids(&mut self) -> StoreResult<Vec<i64>>;
}
