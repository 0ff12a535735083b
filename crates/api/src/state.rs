//! The state every handler receives, passed explicitly (no globals): the store, the engine
//! when this process runs one, the vault whose key ring protects cookies and anti-forgery
//! tokens, the clock, and the security settings.

use chrono::{DateTime, Duration, Utc};
use identitymesh_engine::{Clock, Engine};
use identitymesh_secrets::{KeyRing, License};
use identitymesh_store::Store;
use identitymesh_store::vault::Vault;
use std::sync::{Arc, Mutex, PoisonError};

use crate::auth::throttle::Throttle;
use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, HubSettings};
use crate::ops::Metrics;

/// How long a data-protection key lives, and how early the next one is made.
const KEY_LIFETIME_DAYS: i64 = 90;
const KEY_LEAD_DAYS: i64 = 7;
/// How often the cached key ring is re-read (another instance may have rotated it).
const KEY_RING_REFRESH_SECONDS: i64 = 300;

/// The key ring and when it was read.
type CachedRing = (KeyRing, DateTime<Utc>);

/// Security settings of the server.
#[derive(Clone, Debug)]
pub struct Security {
    /// Whether clients reach the server over TLS (cookies get `Secure`).
    pub tls: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, active or not.
    pub absolute_timeout: Duration,
    /// Failed sign-ins per user and address before throttling.
    pub max_failures: u32,
    /// How long a throttled user and address wait.
    pub lockout: Duration,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            tls: false,
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            max_failures: 5,
            lockout: Duration::minutes(15),
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The engine, when this process runs one (`serve`); `admin-api` alone queues requests.
    pub engine: Option<Engine>,
    /// The keys that open the data-protection key ring.
    pub vault: Vault,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Security settings.
    pub security: Security,
    /// The relay hub of this instance.
    pub hub: Hub,
    pub(crate) throttle: Arc<Throttle>,
    pub(crate) metrics: Arc<Metrics>,
    key_ring: Arc<Mutex<Option<CachedRing>>>,
}

impl AppState {
    /// State over these parts.
    pub fn new(
        store: Store,
        engine: Option<Engine>,
        vault: Vault,
        clock: Arc<dyn Clock>,
        security: Security,
    ) -> Self {
        let instance = format!("admin-api-{}", crate::auth::password::random_secret(6));
        let hub = Hub::new(
            store.clone(),
            clock.clone(),
            instance,
            HubSettings::default(),
            Arc::new(License::community()),
        );
        Self {
            hub,
            store,
            engine,
            vault,
            clock,
            security,
            throttle: Arc::new(Throttle::default()),
            metrics: Arc::new(Metrics::default()),
            key_ring: Arc::new(Mutex::new(None)),
        }
    }

    /// The same state with `hub` as its relay hub (the one whose [`crate::hub::RelayConnectors`]
    /// the engine was given); its license is the one in force.
    pub fn with_hub(mut self, hub: Hub) -> Self {
        self.hub = hub;
        self
    }

    /// The same state with `license` in force (what `license show` reports on this host): a
    /// new relay hub of its own enforcing it.
    pub fn with_license(mut self, license: License) -> Self {
        self.hub = Hub::new(
            self.store.clone(),
            self.clock.clone(),
            self.hub.instance().to_owned(),
            HubSettings::default(),
            Arc::new(license),
        );
        self
    }

    /// The license in force (read at start; community by default). It is the hub's, so that
    /// issuing enrollment tokens and enrolling relays enforce the same limits as the rest.
    pub fn license(&self) -> &Arc<License> {
        self.hub.license()
    }

    /// Now, by the state's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The data-protection key ring: cached, re-read every few minutes, and rotated (in the
    /// database, audited) when no key is active or the active one is about to expire.
    pub async fn key_ring(&self) -> ApiResult<KeyRing> {
        let now = self.now();
        {
            let cached = self.key_ring.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((ring, loaded)) = cached.as_ref()
                && now - *loaded < Duration::seconds(KEY_RING_REFRESH_SECONDS)
                && !ring.needs_rotation(now, Duration::days(KEY_LEAD_DAYS))
            {
                return Ok(ring.clone());
            }
        }
        let vault = self.vault.clone();
        let ring = self
            .store
            .run_blocking(move |tx| {
                let ring = vault.key_ring(tx)?;
                if !ring.needs_rotation(now, Duration::days(KEY_LEAD_DAYS)) {
                    return Ok(ring);
                }
                vault.rotate_key_ring(
                    tx,
                    now,
                    now,
                    Duration::days(KEY_LIFETIME_DAYS),
                    "admin-api",
                )?;
                vault.key_ring(tx)
            })
            .await?;
        if ring.active_key(now).is_none() {
            return Err(ApiError::Internal(
                "the data-protection key ring has no active key".into(),
            ));
        }
        *self.key_ring.lock().unwrap_or_else(PoisonError::into_inner) = Some((ring.clone(), now));
        Ok(ring)
    }

    /// The engine, or a clear 503 for a process that does not run one.
    pub(crate) fn engine(&self) -> ApiResult<&Engine> {
        self.engine.as_ref().ok_or_else(|| {
            ApiError::Unavailable("this process runs the Admin API without the engine; start `identitymesh serve` to run work from the API".into())
        })
    }
}
