//! A live progress line for runs on a terminal (nothing when output is redirected).

use identitymesh_domain::run::RunStats;
use identitymesh_engine::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Attaches a spinner with live counters to the engine when stderr is a terminal. Returns the
/// engine and the bar to clear when done.
pub fn attach(engine: Engine) -> (Engine, Option<ProgressBar>) {
    if !std::io::stderr().is_terminal() {
        return (engine, None);
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let shown = bar.clone();
    let engine = engine.with_progress(Arc::new(move |connector: &str, stats: &RunStats| {
        shown.set_message(format!(
            "{connector}: read {} · synced {} · projected {} · queued {} · exported {} · errors {}",
            stats.read,
            stats.synced,
            stats.projected,
            stats.queued_adds + stats.queued_updates + stats.queued_deletes + stats.queued_disables,
            stats.exported_adds + stats.exported_updates + stats.exported_deletes,
            stats.errors
        ));
    }));
    (engine, Some(bar))
}

/// Clears the bar, if any.
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
