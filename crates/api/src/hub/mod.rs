//! The relay hub: the WebSocket endpoint `/hub/v1` that relay agents dial, and the
//! in-process link the engine uses to run imports and exports on them.
//!
//! One [`Hub`] per Admin API process. It keeps the live connections of the relays connected
//! to *this* instance (presence is mirrored to the database for the others and for the
//! topology check), sends each relay its reliable commands in order — persisted first in the
//! relay's outbox, so a torn connection or a restart loses none — and routes what relays send
//! back (import batches, export results) to the run waiting for them.
//!
//! Ordering: every reliable send to a relay, and the resend of its outbox when it connects,
//! happens under that relay's send lock, so the relay always sees its commands in sequence.

mod remote;
mod session;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use identitymesh_domain::config::Config;
use identitymesh_engine::Clock;
use identitymesh_protocol::{
    Command, ConfigReload, ExportResults, Frame, ImportBatch, ImportFinished, ImportStarted,
    MAX_FRAME_BYTES, Message, Refusal,
};
use identitymesh_secrets::license::License;
use identitymesh_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

use crate::state::AppState;

pub use remote::RelayConnectors;

/// Tunables of the hub.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// How often each side pings; three silent intervals close the connection.
    pub heartbeat_seconds: u32,
    /// How long a relay may take to answer a command (start an import, return export
    /// results), reconnections included, before the run gives up on it.
    pub answer_timeout: std::time::Duration,
    /// Import batches a relay may send ahead of the engine.
    pub import_credit: u32,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            heartbeat_seconds: 15,
            answer_timeout: std::time::Duration::from_secs(300),
            import_credit: 4,
        }
    }
}

/// A frame for a connection's writer, or the order to refuse and close.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Text(String),
    Close(Refusal),
}

/// What a relay sent for an import the engine is running.
#[derive(Debug)]
pub(crate) enum ImportEvent {
    Started(ImportStarted),
    Batch(ImportBatch),
    Finished(ImportFinished),
    Failed(String),
}

/// A live connection of a relay to this instance.
struct Live {
    id: u64,
    out: mpsc::UnboundedSender<Outgoing>,
}

/// Runs waiting for relays, by the key their command carries (`run_id` on the wire).
#[derive(Default)]
struct Waiters {
    imports: HashMap<i64, mpsc::UnboundedSender<ImportEvent>>,
    exports: HashMap<i64, oneshot::Sender<Result<ExportResults, String>>>,
    /// (relay id, command sequence number) → key, to route a `command_failed`.
    commands: HashMap<(String, u64), i64>,
}

/// A relay's inbox position behind an async lock: checking a message's number, applying it
/// and recording it happen under one hold.
type SharedInbox = Arc<tokio::sync::Mutex<Option<identitymesh_protocol::Inbox>>>;

struct Inner {
    instance: String,
    store: Store,
    clock: Arc<dyn Clock>,
    settings: HubSettings,
    /// The license whose `relay_agents` limit enrollment enforces.
    license: Arc<License>,
    live: Mutex<HashMap<String, Live>>,
    send_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// What each relay's messages have been applied up to, shared by all its connections to
    /// this instance: a connection torn while its last frames are still being read and the
    /// relay's new connection resending them must not both apply one message.
    inboxes: Mutex<HashMap<String, SharedInbox>>,
    waiters: Mutex<Waiters>,
    next_key: AtomicI64,
    next_connection: AtomicU64,
}

/// The hub; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hub({})", self.0.instance)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A hub for this Admin API instance (`instance` names it in relay presence), enrolling
    /// relays within the `relay_agents` limit of `license` (the license in force, the one the
    /// Admin API's state holds).
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        instance: String,
        settings: HubSettings,
        license: Arc<License>,
    ) -> Self {
        // keys must not repeat across restarts: a relay may still resend results of an
        // earlier process's command, which must not reach a new run
        let seed = clock.now().timestamp_millis().saturating_mul(1000);
        Hub(Arc::new(Inner {
            instance,
            store,
            clock,
            settings,
            license,
            live: Mutex::new(HashMap::new()),
            send_locks: Mutex::new(HashMap::new()),
            inboxes: Mutex::new(HashMap::new()),
            waiters: Mutex::new(Waiters::default()),
            next_key: AtomicI64::new(seed),
            next_connection: AtomicU64::new(1),
        }))
    }

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.0.instance
    }

    /// The license whose `relay_agents` limit this hub enforces at enrollment.
    pub fn license(&self) -> &Arc<License> {
        &self.0.license
    }

    /// The `/hub/v1` route. Relays authenticate in the protocol, not with a session.
    pub fn router() -> Router<AppState> {
        Router::new().route("/hub/v1", get(upgrade))
    }

    /// Whether the relay is connected to this instance.
    pub fn is_connected(&self, relay_id: &str) -> bool {
        lock(&self.0.live).contains_key(relay_id)
    }

    /// Sends every relay connected here the configuration version `version` with the
    /// connectors it now hosts (none, when it hosts none any more). Reliable: a relay that
    /// drops before acknowledging gets it again when it reconnects.
    pub async fn configuration_applied(&self, version: i64, text: &str, config: &Config) {
        let connected: Vec<String> = lock(&self.0.live).keys().cloned().collect();
        if connected.is_empty() {
            return;
        }
        let relays = match self.0.store.read_blocking(|tx| tx.relays()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "relay hub: cannot list relays to reload their configuration");
                return;
            }
        };
        for relay in relays.iter().filter(|r| connected.contains(&r.id)) {
            let connectors = config
                .connectors
                .values()
                .filter(|c| c.relay.as_deref() == Some(relay.name.as_str()))
                .map(|c| c.name.clone())
                .collect();
            let reload = ConfigReload {
                version,
                config_toml: text.to_owned(),
                connectors,
            };
            if let Err(e) = self
                .send_command(&relay.id, Command::ConfigReload(reload))
                .await
            {
                tracing::error!(relay = %relay.name, error = %e, "relay hub: cannot queue a configuration reload");
            }
        }
    }

    /// Closes the relay's connection to this instance, if any, telling it why.
    pub fn disconnect(&self, relay_id: &str, refusal: Refusal) {
        if let Some(live) = lock(&self.0.live).remove(relay_id) {
            let _ = live.out.send(Outgoing::Close(refusal));
        }
    }

    /// The relay's inbox position, shared by its connections (`None` until the first of them
    /// seeds it from the database).
    fn inbox(&self, relay_id: &str) -> SharedInbox {
        lock(&self.0.inboxes)
            .entry(relay_id.to_owned())
            .or_default()
            .clone()
    }

    fn send_lock(&self, relay_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.0.send_locks)
            .entry(relay_id.to_owned())
            .or_default()
            .clone()
    }

    /// Queues a reliable command for a relay (persisted first) and sends it now if the relay
    /// is connected here; returns its sequence number.
    pub(crate) async fn send_command(
        &self,
        relay_id: &str,
        command: Command,
    ) -> Result<u64, identitymesh_store::StoreError> {
        let guard = self.send_lock(relay_id);
        let _held = guard.lock().await;
        let message = Message::Command(command);
        let text = serde_json::to_string(&message).map_err(|e| {
            identitymesh_store::StoreError::Database {
                operation: "encoding a relay command",
                message: e.to_string(),
            }
        })?;
        let (id, now) = (relay_id.to_owned(), self.0.clock.now());
        let seq = self
            .0
            .store
            .run_blocking(move |tx| tx.push_relay_outbox(&id, &text, now))
            .await?;
        self.send_live(relay_id, Frame::reliable(seq, message).encode());
        Ok(seq)
    }

    /// Sends a control frame if the relay is connected here (dropped otherwise).
    pub(crate) fn send_control(&self, relay_id: &str, message: Message) {
        self.send_live(relay_id, Frame::control(message).encode());
    }

    fn send_live(&self, relay_id: &str, text: String) {
        if let Some(live) = lock(&self.0.live).get(relay_id) {
            let _ = live.out.send(Outgoing::Text(text));
        }
    }

    /// A fresh key for a command's `run_id`.
    pub(crate) fn next_key(&self) -> i64 {
        self.0.next_key.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn expect_import(&self, key: i64) -> mpsc::UnboundedReceiver<ImportEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.0.waiters).imports.insert(key, tx);
        rx
    }

    pub(crate) fn expect_exports(
        &self,
        key: i64,
    ) -> oneshot::Receiver<Result<ExportResults, String>> {
        let (tx, rx) = oneshot::channel();
        lock(&self.0.waiters).exports.insert(key, tx);
        rx
    }

    pub(crate) fn note_command(&self, relay_id: &str, seq: u64, key: i64) {
        lock(&self.0.waiters)
            .commands
            .insert((relay_id.to_owned(), seq), key);
    }

    /// Forgets a run's waiters (it ended).
    pub(crate) fn forget(&self, key: i64) {
        let mut w = lock(&self.0.waiters);
        w.imports.remove(&key);
        w.exports.remove(&key);
        w.commands.retain(|_, k| *k != key);
    }

    /// Delivers what a relay sent to the run waiting for it; `false` when none waits (a
    /// result for a run of an earlier process, or one that gave up).
    pub(crate) fn deliver(&self, relay_id: &str, message: Message) -> bool {
        let mut w = lock(&self.0.waiters);
        let to_import = |w: &Waiters, key: i64, event: ImportEvent| {
            w.imports.get(&key).is_some_and(|tx| tx.send(event).is_ok())
        };
        match message {
            Message::ImportStarted(m) => to_import(&w, m.run_id, ImportEvent::Started(m)),
            Message::ImportBatch(m) => to_import(&w, m.run_id, ImportEvent::Batch(m)),
            Message::ImportFinished(m) => to_import(&w, m.run_id, ImportEvent::Finished(m)),
            Message::ExportResults(m) => match w.exports.remove(&m.run_id) {
                Some(tx) => tx.send(Ok(m)).is_ok(),
                None => false,
            },
            Message::CommandFailed(m) => {
                let Some(key) = w.commands.remove(&(relay_id.to_owned(), m.command_seq)) else {
                    return false;
                };
                if let Some(tx) = w.exports.remove(&key) {
                    return tx.send(Err(m.message)).is_ok();
                }
                to_import(&w, key, ImportEvent::Failed(m.message))
            }
            _ => false,
        }
    }

    fn register(&self, relay_id: &str, out: mpsc::UnboundedSender<Outgoing>) -> u64 {
        let id = self.0.next_connection.fetch_add(1, Ordering::Relaxed);
        let replaced = lock(&self.0.live).insert(relay_id.to_owned(), Live { id, out });
        if let Some(old) = replaced {
            let _ = old.out.send(Outgoing::Close(Refusal {
                code: identitymesh_protocol::RefusalCode::Replaced,
                message: "the relay connected again; this older connection is closed".into(),
            }));
        }
        id
    }

    /// Whether `connection` is the relay's current connection to this instance (a newer one
    /// replaces it; a revoked or disabled relay has none).
    fn is_live(&self, relay_id: &str, connection: u64) -> bool {
        lock(&self.0.live)
            .get(relay_id)
            .is_some_and(|l| l.id == connection)
    }

    fn unregister(&self, relay_id: &str, connection: u64) -> bool {
        let mut live = lock(&self.0.live);
        if live.get(relay_id).is_some_and(|l| l.id == connection) {
            live.remove(relay_id);
            return true;
        }
        false
    }
}

/// The scheme, host and port a relay dialed, as it signs them: `ws(s)://host:port`, the
/// port always written out.
fn hub_origin(headers: &HeaderMap, tls: bool) -> String {
    let scheme = if tls { "wss" } else { "ws" };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(']'));
    if has_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{}", if tls { 443 } else { 80 })
    }
}

/// `GET /hub/v1`: the WebSocket upgrade.
async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = hub_origin(&headers, state.security.tls);
    let hub = state.hub.clone();
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session::run(hub, socket, origin))
}

#[cfg(test)]
mod tests {
    use super::hub_origin;
    use axum::http::{HeaderMap, HeaderValue, header::HOST};

    fn with_host(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HOST,
            HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("x")),
        );
        h
    }

    #[test]
    fn the_origin_always_names_the_port() {
        assert_eq!(
            hub_origin(&with_host("hub.example"), true),
            "wss://hub.example:443"
        );
        assert_eq!(
            hub_origin(&with_host("127.0.0.1:8080"), false),
            "ws://127.0.0.1:8080"
        );
        assert_eq!(hub_origin(&with_host("[::1]"), false), "ws://[::1]:80");
        assert_eq!(hub_origin(&with_host("[::1]:9"), false), "ws://[::1]:9");
    }
}
