//! What the agent keeps for the life of its process, across connections: its outbox of
//! reliable messages and its inbox position (so a torn connection loses nothing and a
//! redelivered command is applied once), the connectors assigned to it, and the imports in
//! progress with their credit.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use identitymesh_connectors::{Connector, KNOWN_KINDS, open_connector};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::config::{ConnectorConfig, compile};
use identitymesh_protocol::{
    CommandFailed, ConfigReload, Credit, Delivery, Inbox, Message, Outbox, ProtocolError, Welcome,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use crate::error::AgentError;
use crate::identity::write_replace;
use crate::secret_store::LocalSecrets;

/// How many reliable messages may wait for the hub's acknowledgement; workers wait beyond.
pub const OUTBOX_CAPACITY: usize = 256;
/// The last configuration received, kept so a restarted relay can serve commands at once.
pub const CONFIG_FILE: &str = "config.json";

/// What workers (imports, exports) share: where the data lives and the secrets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub data_dir: PathBuf,
    pub secrets: LocalSecrets,
    /// The last fingerprint seen per connector (for the sync trigger's cheap probe).
    pub probes: Mutex<HashMap<String, String>>,
}

impl Ctx {
    /// Builds the connector `config` describes, with its secrets from the local store;
    /// relative paths resolve against the data directory.
    pub fn open(&self, config: &ConnectorConfig) -> Result<Box<dyn Connector>, String> {
        let secrets = self.secrets.resolve(config)?;
        open_connector(config, &self.data_dir, secrets).map_err(|e| e.to_string())
    }
}

/// An import in progress.
pub(crate) struct Run {
    pub credit: Arc<Semaphore>,
    pub task: AbortHandle,
}

/// The configuration this relay hosts.
#[derive(Default)]
pub(crate) struct Hosted {
    pub version: i64,
    pub connectors: BTreeMap<String, ConnectorConfig>,
}

/// The process-lifetime state.
pub(crate) struct State {
    pub ctx: Arc<Ctx>,
    pub outbox: Outbox<Message>,
    pub inbox: Inbox,
    /// No reliable message sent in this process yet: number after the hub's position.
    pub outbox_fresh: bool,
    /// No command received in this process yet: take the first as the hub's start.
    pub inbox_fresh: bool,
    pub hosted: Hosted,
    pub runs: HashMap<i64, Run>,
    pub tx: mpsc::UnboundedSender<Message>,
    pub rx: mpsc::UnboundedReceiver<Message>,
}

impl State {
    /// A fresh state; the last configuration received is reloaded from the data directory.
    pub fn new(data_dir: &Path) -> Result<Self, AgentError> {
        let ctx = Arc::new(Ctx {
            data_dir: data_dir.to_owned(),
            secrets: LocalSecrets::open(data_dir)?,
            probes: Mutex::new(HashMap::new()),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = Self {
            ctx,
            outbox: Outbox::new(OUTBOX_CAPACITY),
            inbox: Inbox::default(),
            outbox_fresh: true,
            inbox_fresh: true,
            hosted: Hosted::default(),
            runs: HashMap::new(),
            tx,
            rx,
        };
        if let Some(saved) = load_config(&data_dir.join(CONFIG_FILE))? {
            let problems = state.take_config(&saved);
            for problem in problems {
                tracing::warn!(%problem, "saved relay configuration");
            }
        }
        Ok(state)
    }

    /// Positions the outbox after the hub's welcome; returns what to resend, in order.
    pub fn welcomed(&mut self, welcome: &Welcome) -> Result<Vec<(u64, Message)>, ProtocolError> {
        if self.outbox_fresh {
            self.outbox = Outbox::resume_after(welcome.received_upto, OUTBOX_CAPACITY);
            self.outbox_fresh = false;
        } else {
            self.outbox.ack(welcome.received_upto)?;
        }
        Ok(self.outbox.pending().cloned().collect())
    }

    /// Classifies an arriving command number.
    pub fn delivery(&mut self, seq: u64) -> Result<Delivery, ProtocolError> {
        if self.inbox_fresh {
            self.inbox_fresh = false;
            self.inbox = Inbox::at(seq.saturating_sub(1).max(self.inbox.applied_upto()));
        }
        self.inbox.check(seq)
    }

    /// Numbers and keeps a reliable message; returns its number.
    pub fn push(&mut self, message: Message) -> Result<u64, AgentError> {
        if let Message::ImportFinished(f) = &message {
            self.runs.remove(&f.run_id);
        }
        self.runs.retain(|_, run| !run.task.is_finished());
        self.outbox_fresh = false;
        self.outbox
            .push(message)
            .map_err(|e| AgentError::Connection(e.to_string()))
    }

    /// The hub's credit for a run.
    pub fn credit(&mut self, credit: Credit) {
        match self.runs.get(&credit.run_id) {
            Some(run) => run.credit.add_permits(credit.batches as usize),
            None => tracing::debug!(run_id = credit.run_id, "credit for a run not in progress"),
        }
    }

    /// Queues a `command_failed` for the command `seq`.
    pub fn fail(&self, seq: u64, message: String) {
        tracing::warn!(command_seq = seq, %message, "command failed");
        let _ = self.tx.send(Message::CommandFailed(CommandFailed {
            command_seq: seq,
            message,
        }));
    }

    /// Compiles a configuration and keeps its assigned connectors; returns the problems
    /// (connectors missing from it or that do not open), each naming the connector.
    pub fn take_config(&mut self, reload: &ConfigReload) -> Vec<String> {
        let config = match compile(&reload.config_toml, KNOWN_KINDS) {
            Ok(c) => c,
            Err(e) => {
                return vec![format!(
                    "configuration version {} does not compile on this relay:\n{e}",
                    reload.version
                )];
            }
        };
        let mut problems = Vec::new();
        let mut hosted = Hosted {
            version: reload.version,
            connectors: BTreeMap::new(),
        };
        for name in &reload.connectors {
            let Some(connector) = config.connector(name.as_str()) else {
                problems.push(format!(
                    "connector '{name}' is assigned to this relay but not in configuration version {}",
                    reload.version
                ));
                continue;
            };
            if let Err(e) = self.ctx.open(connector) {
                problems.push(e);
            }
            hosted
                .connectors
                .insert(name.to_string(), connector.clone());
        }
        self.hosted = hosted;
        problems
    }

    /// Saves the configuration for the next start.
    pub fn save_config(&self, reload: &ConfigReload) -> Result<(), AgentError> {
        let path = self.ctx.data_dir.join(CONFIG_FILE);
        let text = serde_json::to_string(&SavedConfig::from(reload))
            .map_err(|e| AgentError::file(&path, e.to_string()))?;
        write_replace(&path, text.as_bytes())
    }

    /// The hosted connector `name`, or the message naming it and what this relay hosts.
    pub fn hosted(&self, name: &str) -> Result<ConnectorConfig, String> {
        self.hosted.connectors.get(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = self.hosted.connectors.keys().map(String::as_str).collect();
            format!(
                "connector '{name}' is not hosted by this relay (configuration version {}; hosted: {})",
                self.hosted.version,
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )
        })
    }
}

/// `config.json`: the last `config_reload`.
#[derive(Serialize, Deserialize)]
struct SavedConfig {
    version: i64,
    config_toml: String,
    connectors: Vec<String>,
}

impl From<&ConfigReload> for SavedConfig {
    fn from(r: &ConfigReload) -> Self {
        Self {
            version: r.version,
            config_toml: r.config_toml.clone(),
            connectors: r.connectors.iter().map(|c| c.to_string()).collect(),
        }
    }
}

fn load_config(path: &Path) -> Result<Option<ConfigReload>, AgentError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AgentError::file(path, format!("cannot read it: {e}"))),
    };
    let saved: SavedConfig = serde_json::from_str(&text)
        .map_err(|e| AgentError::file(path, format!("not a saved relay configuration: {e}")))?;
    let connectors = saved
        .connectors
        .into_iter()
        .map(|c| ConnectorName::parse(&c))
        .collect::<Result<_, _>>()
        .map_err(|e| AgentError::file(path, format!("bad connector name: {e}")))?;
    Ok(Some(ConfigReload {
        version: saved.version,
        config_toml: saved.config_toml,
        connectors,
    }))
}
