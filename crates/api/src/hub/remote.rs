//! Relay-hosted connectors as the engine sees them: a stand-in [`Connector`] per run that
//! sends the relay a command and turns what comes back into the connector contract — an
//! import stream paced by credit, export outcomes in item order. The engine runs them like
//! local connectors (same profiles, statistics, guards and watermarks).
//!
//! Watermarks: the engine binds a watermark to `source_id()`, which for a relay-hosted
//! connector is `relay:RELAY/CONNECTOR`. The relay's own watermark (bound to the system it
//! reads) travels inside the position, so the relay can still tell a foreign one.

use async_trait::async_trait;
use identitymesh_connectors::{
    Connector, ConnectorError, ExportStyle, ImportEnd, ImportMode, ImportRecord, ImportShape,
    ImportStream, RemoteConnectors,
};
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::export::{ExportItem, ExportOutcome};
use identitymesh_domain::watermark::{WATERMARK_FORMAT, Watermark};
use identitymesh_protocol::{
    Command, Credit, ImportRequest, ImportRequestMode, Message, WireImportShape, WireRecord,
};
use std::collections::VecDeque;
use tokio::sync::mpsc;

use super::{Hub, ImportEvent};

/// Builds the stand-ins; given to the engine by the process that runs the hub.
#[derive(Clone, Debug)]
pub struct RelayConnectors {
    hub: Hub,
}

impl RelayConnectors {
    /// Stand-ins that reach relays through `hub`.
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

impl RemoteConnectors for RelayConnectors {
    fn open(&self, config: &ConnectorConfig) -> Result<Box<dyn Connector>, ConnectorError> {
        let relay = config.relay.clone().ok_or_else(|| ConnectorError::Config {
            connector: config.name.to_string(),
            message: "is not hosted by a relay".into(),
        })?;
        Ok(Box::new(RelayConnector {
            hub: self.hub.clone(),
            connector: config.name.clone(),
            relay,
            per_item: config.kind != "csv",
        }))
    }
}

struct RelayConnector {
    hub: Hub,
    connector: identitymesh_domain::ConnectorName,
    relay: String,
    per_item: bool,
}

impl RelayConnector {
    fn unavailable(&self, message: String) -> ConnectorError {
        ConnectorError::Unavailable {
            connector: self.connector.to_string(),
            message,
        }
    }

    /// The relay's id, if it is enrolled, active and connected to this instance.
    async fn connected_relay(&self) -> Result<String, ConnectorError> {
        let name = self.relay.clone();
        let relays = self
            .hub
            .0
            .store
            .read_blocking(|tx| tx.relays())
            .await
            .map_err(|e| self.unavailable(e.to_string()))?;
        let relay = relays.into_iter().find(|r| r.name == name).ok_or_else(|| {
            self.unavailable(format!(
                "is hosted by relay '{name}', which is not enrolled: create an enrollment token and start the relay"
            ))
        })?;
        if !self.hub.is_connected(&relay.id) {
            return Err(self.unavailable(format!(
                "is hosted by relay '{name}', which is not connected to this Admin API instance; nothing was read or changed"
            )));
        }
        Ok(relay.id)
    }

    async fn send(&self, relay_id: &str, key: i64, command: Command) -> Result<(), ConnectorError> {
        let seq = self
            .hub
            .send_command(relay_id, command)
            .await
            .map_err(|e| self.unavailable(e.to_string()))?;
        self.hub.note_command(relay_id, seq, key);
        Ok(())
    }
}

/// The relay's watermark, carried inside the engine's.
fn wrap(inner: &Watermark, source_id: &str) -> Watermark {
    Watermark {
        format: WATERMARK_FORMAT,
        source_id: source_id.to_owned(),
        position: serde_json::to_string(inner).unwrap_or_default(),
    }
}

fn unwrap(outer: &Watermark) -> Option<Watermark> {
    serde_json::from_str(&outer.position).ok()
}

#[async_trait]
impl Connector for RelayConnector {
    fn source_id(&self) -> String {
        format!("relay:{}/{}", self.relay, self.connector)
    }

    async fn import(&mut self, mode: ImportMode) -> Result<Box<dyn ImportStream>, ConnectorError> {
        let relay_id = self.connected_relay().await?;
        let mode = match &mode {
            ImportMode::Full => ImportRequestMode::Full,
            ImportMode::Delta(w) => match unwrap(w) {
                Some(watermark) => ImportRequestMode::Delta { watermark },
                None => ImportRequestMode::Full,
            },
        };
        let key = self.hub.next_key();
        let mut events = self.hub.expect_import(key);
        let request = ImportRequest {
            run_id: key,
            connector: self.connector.clone(),
            mode,
            batch_size: 1000,
        };
        self.send(&relay_id, key, Command::RunImport(request))
            .await?;
        let timeout = self.hub.0.settings.answer_timeout;
        let started = match tokio::time::timeout(timeout, events.recv()).await {
            Ok(Some(ImportEvent::Started(s))) => s,
            Ok(Some(ImportEvent::Failed(m))) => {
                self.hub.forget(key);
                return Err(self.unavailable(format!("the relay could not start the import: {m}")));
            }
            _ => {
                self.hub.forget(key);
                return Err(self.unavailable(format!(
                    "relay '{}' did not start the import within {} s",
                    self.relay,
                    timeout.as_secs()
                )));
            }
        };
        let credit = self.hub.0.settings.import_credit;
        self.hub.send_control(
            &relay_id,
            Message::Credit(Credit {
                run_id: key,
                batches: credit,
            }),
        );
        Ok(Box::new(RelayImport {
            hub: self.hub.clone(),
            relay_id,
            key,
            source_id: self.source_id(),
            shape: match started.shape {
                WireImportShape::Full => ImportShape::Full,
                WireImportShape::Delta => ImportShape::Delta,
                WireImportShape::Unchanged => ImportShape::Unchanged,
            },
            events,
            buffered: VecDeque::new(),
            batches_seen: 0,
            end: None,
        }))
    }

    fn export_style(&self) -> ExportStyle {
        if self.per_item {
            ExportStyle::PerItem
        } else {
            ExportStyle::Snapshot
        }
    }

    async fn apply_exports(
        &mut self,
        items: &[ExportItem],
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        let relay_id = self.connected_relay().await?;
        let key = self.hub.next_key();
        let answer = self.hub.expect_exports(key);
        let command = Command::ApplyExports {
            run_id: key,
            connector: self.connector.clone(),
            items: items.to_vec(),
        };
        self.send(&relay_id, key, command).await?;
        let timeout = self.hub.0.settings.answer_timeout;
        let result = tokio::time::timeout(timeout, answer).await;
        self.hub.forget(key);
        let results = match result {
            Ok(Ok(Ok(results))) => results,
            Ok(Ok(Err(message))) => {
                return Err(
                    self.unavailable(format!("the relay could not apply the exports: {message}"))
                );
            }
            _ => {
                return Err(self.unavailable(format!(
                    "relay '{}' did not report export results within {} s; the exports stay queued and are retried (the relay applies each once)",
                    self.relay,
                    timeout.as_secs()
                )));
            }
        };
        Ok(items
            .iter()
            .map(|item| {
                results
                    .results
                    .iter()
                    .find(|r| r.item_id == item.id)
                    .map(|r| r.outcome.clone())
                    .unwrap_or(ExportOutcome::Failed {
                        message: "the relay reported no outcome for this export".into(),
                    })
            })
            .collect())
    }
}

/// An import streamed from a relay.
struct RelayImport {
    hub: Hub,
    relay_id: String,
    key: i64,
    source_id: String,
    shape: ImportShape,
    events: mpsc::UnboundedReceiver<ImportEvent>,
    buffered: VecDeque<ImportRecord>,
    batches_seen: u64,
    end: Option<ImportEnd>,
}

fn record(wire: WireRecord) -> ImportRecord {
    match wire {
        WireRecord::Upsert(o) => ImportRecord::Upsert(o),
        WireRecord::Delete {
            object_type,
            anchor,
        } => ImportRecord::Delete {
            object_type,
            anchor,
        },
        WireRecord::Rejected(e) => ImportRecord::Rejected(e),
    }
}

impl RelayImport {
    fn fail(&mut self, reason: String) {
        self.end = Some(ImportEnd {
            complete: false,
            failed: true,
            reason: Some(reason),
            watermark: None,
        });
    }

    /// Waits for the relay's next batch or its end.
    async fn receive(&mut self) {
        let timeout = self.hub.0.settings.answer_timeout;
        match tokio::time::timeout(timeout, self.events.recv()).await {
            Ok(Some(ImportEvent::Batch(b))) => {
                self.batches_seen += 1;
                self.buffered.extend(b.records.into_iter().map(record));
                let credit = Credit {
                    run_id: self.key,
                    batches: 1,
                };
                self.hub
                    .send_control(&self.relay_id, Message::Credit(credit));
            }
            Ok(Some(ImportEvent::Finished(f))) => {
                let mut end = ImportEnd {
                    complete: f.end.complete,
                    failed: f.end.failed,
                    reason: f.end.reason,
                    watermark: f.end.watermark.map(|w| wrap(&w, &self.source_id)),
                };
                if f.batches != self.batches_seen {
                    end.complete = false;
                    end.watermark = None;
                    end.reason = Some(format!(
                        "the relay sent {} batches but {} arrived; nothing is deleted on this import",
                        f.batches, self.batches_seen
                    ));
                }
                self.end = Some(end);
            }
            Ok(Some(ImportEvent::Failed(m))) => {
                self.fail(format!("the relay stopped the import: {m}"))
            }
            Ok(Some(ImportEvent::Started(_))) => {}
            Ok(None) | Err(_) => self.fail(format!(
                "no data from the relay for {} s; the import is incomplete and deletes nothing",
                timeout.as_secs()
            )),
        }
    }
}

#[async_trait]
impl ImportStream for RelayImport {
    fn shape(&self) -> ImportShape {
        self.shape
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<ImportRecord>, ConnectorError> {
        while self.buffered.is_empty() && self.end.is_none() {
            self.receive().await;
        }
        let take = max.min(self.buffered.len());
        Ok(self.buffered.drain(..take).collect())
    }

    fn finish(mut self: Box<Self>) -> ImportEnd {
        self.hub.forget(self.key);
        if self.end.is_none() {
            // stopped early (cancelled, or the engine failed): tell the relay to stop reading
            let (hub, relay_id, run_id) = (self.hub.clone(), self.relay_id.clone(), self.key);
            tokio::spawn(async move {
                let _ = hub
                    .send_command(&relay_id, Command::CancelImport { run_id })
                    .await;
            });
        }
        self.end.take().unwrap_or(ImportEnd {
            complete: false,
            failed: false,
            reason: Some("the import was stopped before the relay finished it".into()),
            watermark: None,
        })
    }
}
