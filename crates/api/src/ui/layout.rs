//! The page frame: document head with the one stylesheet, a skip link, the navigation (what
//! the role may open), the sign-out form, and small pieces every page uses.

use axum::response::Html;
use identitymesh_domain::run::{RunRecord, RunStatus};
use maud::{DOCTYPE, Markup, html};

use super::Viewer;
use crate::auth::Role;

/// Options of a page frame.
#[derive(Default)]
pub struct Frame<'a> {
    /// The signed-in user (navigation and sign-out), if any.
    pub viewer: Option<&'a Viewer>,
    /// Reload the page after this many seconds (a running run).
    pub refresh: Option<u32>,
}

fn document(title: &str, frame: &Frame<'_>, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // form posts must carry this server's Origin for the anti-forgery Origin check
                meta name="referrer" content="same-origin";
                @if let Some(seconds) = frame.refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · IdentityMesh" }
                link rel="stylesheet" href="/ui/static/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui" { "IdentityMesh" }
                    @if let Some(v) = frame.viewer { (nav(v)) }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    };
    Html(markup.into_string())
}

fn nav(v: &Viewer) -> Markup {
    html! {
        nav aria-label="Main" {
            ul {
                li { a href="/ui" { "Dashboard" } }
                li { a href="/ui/connectors" { "Connectors" } }
                li { a href="/ui/runs" { "Runs" } }
                li { a href="/ui/mesh" { "Mesh objects" } }
                li { a href="/ui/review" { "Review" } }
                li { a href="/ui/config" { "Configuration" } }
                li { a href="/ui/relays" { "Relays" } }
                li { a href="/ui/system" { "License and secrets" } }
                @if v.who.role >= Role::Operator { li { a href="/ui/audit" { "Audit log" } } }
                @if v.who.role >= Role::Admin { li { a href="/ui/users" { "Users" } } }
            }
        }
        form.signout method="post" action="/ui/signout" {
            (csrf(v))
            span.muted { (v.who.name) " (" (v.who.role.as_str()) ")" }
            " "
            button type="submit" { "Sign out" }
        }
    }
}

/// A page for a signed-in user.
pub fn page(viewer: &Viewer, title: &str, body: Markup) -> Html<String> {
    let frame = Frame {
        viewer: Some(viewer),
        refresh: None,
    };
    document(title, &frame, body)
}

/// A page with frame options.
pub fn framed(title: &str, frame: &Frame<'_>, body: Markup) -> Html<String> {
    document(title, frame, body)
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Html<String> {
    document(title, &Frame::default(), body)
}

/// The hidden anti-forgery field every form carries.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

/// A run's status as a labelled badge.
pub fn status(s: RunStatus) -> Markup {
    let class = match s {
        RunStatus::Completed => "ok",
        RunStatus::Running => "info",
        RunStatus::Held
        | RunStatus::Partial
        | RunStatus::CompletedWithErrors
        | RunStatus::Cancelled => "warn",
        RunStatus::Failed => "bad",
    };
    html! { span class={ "badge " (class) } { (s.as_str().replace('_', " ")) } }
}

/// A table of runs.
pub fn runs_table(caption: &str, runs: &[RunRecord]) -> Markup {
    html! {
        @if runs.is_empty() {
            p.muted { "No runs yet." }
        } @else {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Run" } th scope="col" { "Connector" } th scope="col" { "Profile" }
                    th scope="col" { "Status" } th scope="col" { "Started" } th scope="col" { "Actor" }
                    th scope="col" { "Errors" }
                } }
                tbody {
                    @for r in runs {
                        tr {
                            td { a href={ "/ui/runs/" (r.id) } { "#" (r.id) } }
                            td { a href={ "/ui/connectors/" (r.connector) } { (r.connector) } }
                            td { (r.profile.as_str()) @if r.simulation { " (simulation)" } }
                            td { (status(r.status)) }
                            td { time { (r.started_at) } }
                            td { (r.actor) }
                            td.num { (r.stats.errors) }
                        }
                    }
                }
            }
        }
    }
}
