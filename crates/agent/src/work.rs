//! The workers: an import streamed to the hub batch by batch as the hub grants credit, and a
//! batch of exports applied to a per-item connector. Each hands its reliable messages to the
//! connection loop, which numbers them, keeps them until acknowledged and sends them.

use std::sync::Arc;

use identitymesh_connectors::{
    ExportStyle, ImportEnd, ImportMode, ImportRecord, ImportShape, ImportStream,
};
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::export::ExportItem;
use identitymesh_protocol::{
    CommandFailed, ExportResult, ExportResults, ImportBatch, ImportFinished, ImportRequest,
    ImportRequestMode, ImportStarted, Message, WireImportEnd, WireImportShape, WireRecord,
};
use tokio::sync::{Semaphore, mpsc};

use crate::state::Ctx;

/// An import to stream.
pub(crate) struct Import {
    pub ctx: Arc<Ctx>,
    pub config: ConnectorConfig,
    pub request: ImportRequest,
    pub credit: Arc<Semaphore>,
    pub tx: mpsc::UnboundedSender<Message>,
    pub command_seq: u64,
}

impl Import {
    fn fail(&self, message: String) {
        tracing::warn!(run_id = self.request.run_id, %message, "import could not start");
        let _ = self.tx.send(Message::CommandFailed(CommandFailed {
            command_seq: self.command_seq,
            message,
        }));
    }

    /// Opens the connector, announces the stream and sends its batches, each after a credit.
    pub async fn run(self) {
        let run_id = self.request.run_id;
        let mut connector = match self.ctx.open(&self.config) {
            Ok(c) => c,
            Err(message) => return self.fail(message),
        };
        let fingerprint = connector.snapshot_fingerprint().ok().flatten();
        let mode = match &self.request.mode {
            ImportRequestMode::Full => ImportMode::Full,
            ImportRequestMode::Delta { watermark } => ImportMode::Delta(watermark.clone()),
        };
        let mut stream = match connector.import(mode).await {
            Ok(s) => s,
            Err(e) => return self.fail(e.to_string()),
        };
        if let Some(fp) = fingerprint {
            let mut seen = self.ctx.probes.lock().unwrap_or_else(|p| p.into_inner());
            seen.insert(self.config.name.to_string(), fp);
        }
        let _ = self.tx.send(Message::ImportStarted(ImportStarted {
            run_id,
            shape: wire_shape(stream.shape()),
            source_id: connector.source_id(),
        }));
        let (batches, failure) = self.stream(stream.as_mut()).await;
        let end = match failure {
            Some(reason) => WireImportEnd {
                complete: false,
                failed: true,
                reason: Some(reason),
                watermark: None,
            },
            None => wire_end(stream.finish()),
        };
        tracing::info!(run_id, batches, complete = end.complete, "import streamed");
        let _ = self.tx.send(Message::ImportFinished(ImportFinished {
            run_id,
            batches,
            end,
        }));
    }

    /// Sends batches until the stream ends; returns how many and why it stopped early.
    async fn stream(&self, stream: &mut dyn ImportStream) -> (u64, Option<String>) {
        let run_id = self.request.run_id;
        let mut index = 0u64;
        loop {
            let records = match stream.next_batch(self.request.batch_size as usize).await {
                Ok(r) if r.is_empty() => return (index, None),
                Ok(r) => r,
                Err(e) => {
                    return (
                        index,
                        Some(format!(
                            "the import stopped on the relay: {e}; no deletion staged"
                        )),
                    );
                }
            };
            // no credit left: wait until the hub grants more (a closed semaphore: cancelled)
            match self.credit.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return (index, Some("cancelled by the hub".into())),
            }
            let records = records.into_iter().map(wire_record).collect();
            let _ = self.tx.send(Message::ImportBatch(ImportBatch {
                run_id,
                index,
                records,
            }));
            index += 1;
        }
    }
}

/// A batch of exports to apply.
pub(crate) struct Exports {
    pub ctx: Arc<Ctx>,
    pub config: ConnectorConfig,
    pub run_id: i64,
    pub items: Vec<ExportItem>,
    pub tx: mpsc::UnboundedSender<Message>,
    pub command_seq: u64,
}

impl Exports {
    fn fail(&self, message: String) {
        tracing::warn!(run_id = self.run_id, %message, "exports not applied");
        let _ = self.tx.send(Message::CommandFailed(CommandFailed {
            command_seq: self.command_seq,
            message,
        }));
    }

    /// Applies the items in order and sends one outcome per item.
    pub async fn run(self) {
        let mut connector = match self.ctx.open(&self.config) {
            Ok(c) => c,
            Err(message) => return self.fail(message),
        };
        if connector.export_style() == ExportStyle::Snapshot {
            return self.fail(format!(
                "connector '{}' is a snapshot target (its file is rewritten whole from the connector space, which lives in the hub's database); snapshot targets are not yet relay-hosted: run this connector on the engine's host",
                self.config.name
            ));
        }
        let outcomes = match connector.apply_exports(&self.items).await {
            Ok(o) => o,
            Err(e) => return self.fail(e.to_string()),
        };
        let results: Vec<ExportResult> = self
            .items
            .iter()
            .zip(outcomes)
            .map(|(item, outcome)| ExportResult {
                item_id: item.id,
                outcome,
            })
            .collect();
        tracing::info!(
            run_id = self.run_id,
            results = results.len(),
            "exports applied"
        );
        let _ = self.tx.send(Message::ExportResults(ExportResults {
            run_id: self.run_id,
            connector: self.config.name.clone(),
            results,
        }));
    }
}

fn wire_shape(shape: ImportShape) -> WireImportShape {
    match shape {
        ImportShape::Full => WireImportShape::Full,
        ImportShape::Delta => WireImportShape::Delta,
        ImportShape::Unchanged => WireImportShape::Unchanged,
    }
}

fn wire_record(record: ImportRecord) -> WireRecord {
    match record {
        ImportRecord::Upsert(o) => WireRecord::Upsert(o),
        ImportRecord::Delete {
            object_type,
            anchor,
        } => WireRecord::Delete {
            object_type,
            anchor,
        },
        ImportRecord::Rejected(e) => WireRecord::Rejected(e),
    }
}

fn wire_end(end: ImportEnd) -> WireImportEnd {
    WireImportEnd {
        complete: end.complete,
        failed: end.failed,
        reason: end.reason,
        watermark: end.watermark,
    }
}
