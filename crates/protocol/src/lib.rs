//! # identitymesh-protocol
//!
//! The wire protocol between relay agents and the Admin API's hub (`/hub/v1`): versioned JSON
//! frames, one WebSocket text message each. A relay dials out, says [`Hello`], enrolls once
//! ([`Enroll`]) or proves its enrolled key by signing the hub's [`Challenge`], and is
//! [`Welcome`]d with the connectors assigned to it. From then on the hub sends commands (a sync
//! trigger, a configuration reload, run an import, apply these exports) and the relay streams
//! import batches (paced by the hub's [`Credit`]) and export results back.
//!
//! Every command and every result is *reliable*: it carries a sequence number, its sender
//! keeps it in an [`Outbox`] until the peer acknowledges it ([`Ack`]), and resends whatever is
//! unacknowledged after a reconnect; the receiver's [`Inbox`] recognises a redelivered
//! message, so it is applied once. Handshake, heartbeat, credit and acknowledgement frames
//! are not sequenced.
//!
//! [`Frame::decode`] is the only way in for bytes from the network: it bounds the size, checks
//! the version and the sequencing rule, and refuses unknown fields, so a hostile or broken peer
//! gets a [`ProtocolError`] naming what is wrong — never a panic.
//!
//! This crate is pure: it depends on `identitymesh-domain` and serde only — no tokio, no
//! WebSocket library, no store, no cryptography (signatures are made and checked by the
//! callers with the secrets crate over [`challenge_payload`]).

#![warn(missing_docs)]

mod command;
mod error;
mod frame;
mod hello;
mod reliable;
mod transfer;

pub use command::{
    Command, ConfigReload, ImportRequest, ImportRequestMode, MAX_BATCH, MAX_EXPORTS_PER_COMMAND,
};
pub use error::ProtocolError;
pub use frame::{Frame, MAX_FRAME_BYTES, Message, PROTOCOL_VERSION, SUPPORTED_VERSIONS};
pub use hello::{
    Challenge, Enroll, EnrollmentToken, Hello, Proof, Refusal, RefusalCode, Welcome,
    challenge_payload, negotiate,
};
pub use reliable::{Delivery, Inbox, Outbox, OutboxFull};
pub use transfer::{
    Ack, ChangeNotice, CommandFailed, Credit, ExportResult, ExportResults, ImportBatch,
    ImportFinished, ImportStarted, WireImportEnd, WireImportShape, WireRecord,
};

/// A heartbeat, either way; the peer answers a [`Message::Ping`] with a [`Message::Pong`]
/// carrying the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The sender's clock, milliseconds since the Unix epoch (only echoed, never trusted).
    pub at_ms: i64,
}
