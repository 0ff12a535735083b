//! Carrying out the hub's commands. Each is applied once (the inbox sees to that) and
//! acknowledged after it was applied: a configuration reload and a sync trigger are done by
//! then; an import or an export batch has been handed to its worker, whose results travel as
//! reliable messages of their own. A command that cannot be carried out at all (an unknown
//! connector, one that does not open) is answered with `command_failed` naming why.

use std::sync::Arc;

use identitymesh_connectors::ExportStyle;
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::ExportItem;
use identitymesh_protocol::{ChangeNotice, Command, ConfigReload, ImportRequest, Message};
use tokio::sync::Semaphore;

use crate::state::{Run, State};
use crate::work;

impl State {
    /// Applies the command numbered `seq`.
    pub(crate) fn apply(&mut self, seq: u64, command: Command) {
        match command {
            Command::ConfigReload(reload) => self.reload(seq, &reload),
            Command::RunImport(request) => self.start_import(seq, request),
            Command::CancelImport { run_id } => self.cancel(run_id),
            Command::ApplyExports {
                run_id,
                connector,
                items,
            } => self.start_exports(seq, run_id, &connector, items),
            Command::SyncTrigger { connector } => self.probe(seq, &connector),
        }
    }

    fn reload(&mut self, seq: u64, reload: &ConfigReload) {
        let problems = self.take_config(reload);
        if let Err(e) = self.save_config(reload) {
            tracing::warn!(error = %e, "the configuration could not be saved for the next start");
        }
        tracing::info!(
            version = reload.version,
            connectors = self.hosted.connectors.len(),
            "configuration reloaded"
        );
        if !problems.is_empty() {
            self.fail(seq, problems.join("\n"));
        }
    }

    fn start_import(&mut self, seq: u64, request: ImportRequest) {
        let config = match self.hosted(request.connector.as_str()) {
            Ok(c) => c,
            Err(message) => return self.fail(seq, message),
        };
        let credit = Arc::new(Semaphore::new(0));
        let job = work::Import {
            ctx: self.ctx.clone(),
            config,
            request,
            credit: credit.clone(),
            tx: self.tx.clone(),
            command_seq: seq,
        };
        let run_id = job.request.run_id;
        let task = tokio::spawn(job.run()).abort_handle();
        if let Some(old) = self.runs.insert(run_id, Run { credit, task }) {
            tracing::warn!(
                run_id,
                "a new import replaces one still running under the same run id"
            );
            old.task.abort();
        }
    }

    fn cancel(&mut self, run_id: i64) {
        match self.runs.remove(&run_id) {
            Some(run) => {
                run.credit.close();
                run.task.abort();
                tracing::info!(run_id, "import cancelled by the hub");
            }
            None => tracing::debug!(run_id, "cancel for an import not in progress"),
        }
    }

    fn start_exports(
        &mut self,
        seq: u64,
        run_id: i64,
        connector: &ConnectorName,
        items: Vec<ExportItem>,
    ) {
        let config = match self.hosted(connector.as_str()) {
            Ok(c) => c,
            Err(message) => return self.fail(seq, message),
        };
        let job = work::Exports {
            ctx: self.ctx.clone(),
            config,
            run_id,
            items,
            tx: self.tx.clone(),
            command_seq: seq,
        };
        tokio::spawn(job.run());
    }

    /// The cheap probe: a connector whose content has a fingerprint (a CSV file) reports a
    /// change when the fingerprint differs from the last one seen (or none was seen yet);
    /// a connector without one (a directory: its delta import is the cheap check) always
    /// reports, so the engine runs its delta import.
    fn probe(&mut self, seq: u64, name: &ConnectorName) {
        let config = match self.hosted(name.as_str()) {
            Ok(c) => c,
            Err(message) => return self.fail(seq, message),
        };
        let connector = match self.ctx.open(&config) {
            Ok(c) => c,
            Err(message) => return self.fail(seq, message),
        };
        let changed = match connector.snapshot_fingerprint() {
            Ok(Some(now)) => {
                let mut seen = self.ctx.probes.lock().unwrap_or_else(|p| p.into_inner());
                seen.insert(name.to_string(), now.clone()).as_ref() != Some(&now)
            }
            Ok(None) => connector.export_style() == ExportStyle::PerItem,
            Err(e) => return self.fail(seq, e.to_string()),
        };
        if changed {
            let _ = self.tx.send(Message::ChangeNotice(ChangeNotice {
                connector: name.clone(),
            }));
        }
    }
}
