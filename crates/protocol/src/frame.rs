//! The frame: `{"v": 1, "seq": 7, "type": "command", "body": {...}}`, one WebSocket text
//! message. `seq` is present exactly on reliable messages.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::Heartbeat;
use crate::command::Command;
use crate::error::ProtocolError;
use crate::hello::{Challenge, Enroll, Hello, Proof, Refusal, Welcome};
use crate::transfer::{
    Ack, ChangeNotice, CommandFailed, Credit, ExportResults, ImportBatch, ImportFinished,
    ImportStarted,
};

/// The version this build speaks by default.
pub const PROTOCOL_VERSION: u32 = 1;
/// Every version this build speaks, lowest first.
pub const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 1..=1;
/// The largest frame either side accepts (an import batch of a few thousand objects fits).
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
pub enum Message {
    /// Relay → hub, first frame of every connection.
    Hello(Hello),
    /// Relay → hub, once, with an enrollment token instead of a proof.
    Enroll(Enroll),
    /// Hub → relay: sign this.
    Challenge(Challenge),
    /// Relay → hub: the signature.
    Proof(Proof),
    /// Hub → relay: accepted.
    Welcome(Welcome),
    /// Either way, then the connection closes.
    Refused(Refusal),
    /// Either way.
    Ping(Heartbeat),
    /// The answer to a ping.
    Pong(Heartbeat),
    /// Either way: every reliable message up to a sequence number arrived.
    Ack(Ack),
    /// Hub → relay: how many more import batches it may send.
    Credit(Credit),
    /// Hub → relay, reliable.
    Command(Command),
    /// Relay → hub, reliable.
    ImportStarted(ImportStarted),
    /// Relay → hub, reliable.
    ImportBatch(ImportBatch),
    /// Relay → hub, reliable.
    ImportFinished(ImportFinished),
    /// Relay → hub, reliable.
    ExportResults(ExportResults),
    /// Relay → hub, reliable: a command could not be carried out at all.
    CommandFailed(CommandFailed),
    /// Relay → hub, reliable: a connector's system changed.
    ChangeNotice(ChangeNotice),
}

impl Message {
    /// The wire name of the message type.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "hello",
            Message::Enroll(_) => "enroll",
            Message::Challenge(_) => "challenge",
            Message::Proof(_) => "proof",
            Message::Welcome(_) => "welcome",
            Message::Refused(_) => "refused",
            Message::Ping(_) => "ping",
            Message::Pong(_) => "pong",
            Message::Ack(_) => "ack",
            Message::Credit(_) => "credit",
            Message::Command(_) => "command",
            Message::ImportStarted(_) => "import_started",
            Message::ImportBatch(_) => "import_batch",
            Message::ImportFinished(_) => "import_finished",
            Message::ExportResults(_) => "export_results",
            Message::CommandFailed(_) => "command_failed",
            Message::ChangeNotice(_) => "change_notice",
        }
    }

    /// Whether the message is sequenced, kept until acknowledged and applied once.
    pub fn is_reliable(&self) -> bool {
        matches!(
            self,
            Message::Command(_)
                | Message::ImportStarted(_)
                | Message::ImportBatch(_)
                | Message::ImportFinished(_)
                | Message::ExportResults(_)
                | Message::CommandFailed(_)
                | Message::ChangeNotice(_)
        )
    }

    /// Whether a relay may send it (the hub refuses the others from a relay).
    pub fn sent_by_relay(&self) -> bool {
        matches!(
            self,
            Message::Hello(_)
                | Message::Enroll(_)
                | Message::Proof(_)
                | Message::Refused(_)
                | Message::Ping(_)
                | Message::Pong(_)
                | Message::Ack(_)
                | Message::ImportStarted(_)
                | Message::ImportBatch(_)
                | Message::ImportFinished(_)
                | Message::ExportResults(_)
                | Message::CommandFailed(_)
                | Message::ChangeNotice(_)
        )
    }

    /// Whether the hub may send it (a relay refuses the others from the hub).
    pub fn sent_by_hub(&self) -> bool {
        matches!(
            self,
            Message::Challenge(_)
                | Message::Welcome(_)
                | Message::Refused(_)
                | Message::Ping(_)
                | Message::Pong(_)
                | Message::Ack(_)
                | Message::Credit(_)
                | Message::Command(_)
        )
    }

    /// Checks values the types cannot express (limits, non-empty lists).
    pub fn validate(&self) -> Result<(), ProtocolError> {
        match self {
            Message::Hello(m) => m.validate(),
            Message::Enroll(m) => m.validate(),
            Message::Command(m) => m.validate(),
            Message::ImportBatch(m) => m.validate(),
            Message::ExportResults(m) => m.validate(),
            _ => Ok(()),
        }
    }
}

/// One frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Protocol version.
    pub v: u32,
    /// Sequence number, on reliable messages only (from 1, per sender and relay).
    pub seq: Option<u64>,
    /// The message.
    pub message: Message,
}

/// The outer shape, read before the body so that the version is checked first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrame {
    v: u32,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    body: Json,
}

impl Frame {
    /// An unsequenced (control) frame at the default version.
    pub fn control(message: Message) -> Self {
        Self {
            v: PROTOCOL_VERSION,
            seq: None,
            message,
        }
    }

    /// A reliable frame with its sequence number.
    pub fn reliable(seq: u64, message: Message) -> Self {
        Self {
            v: PROTOCOL_VERSION,
            seq: Some(seq),
            message,
        }
    }

    /// Reads one frame from the network: size, outer shape, version, message, sequencing
    /// and value rules, in that order.
    pub fn decode(text: &str) -> Result<Frame, ProtocolError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(ProtocolError::TooLarge {
                size: text.len(),
                limit: MAX_FRAME_BYTES,
            });
        }
        let raw: RawFrame =
            serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        if !SUPPORTED_VERSIONS.contains(&raw.v) {
            return Err(ProtocolError::Version {
                got: raw.v,
                min: *SUPPORTED_VERSIONS.start(),
                max: *SUPPORTED_VERSIONS.end(),
            });
        }
        let tagged = serde_json::json!({ "type": raw.kind, "body": raw.body });
        let message: Message = serde_json::from_value(tagged)
            .map_err(|e| ProtocolError::Malformed(format!("{} message: {e}", raw.kind)))?;
        match (message.is_reliable(), raw.seq) {
            (true, None) => {
                return Err(ProtocolError::Sequencing {
                    message: message.name(),
                    rule: "need a sequence number",
                });
            }
            (true, Some(0)) => {
                return Err(ProtocolError::Sequencing {
                    message: message.name(),
                    rule: "number their sequence from 1",
                });
            }
            (false, Some(_)) => {
                return Err(ProtocolError::Sequencing {
                    message: message.name(),
                    rule: "carry no sequence number",
                });
            }
            _ => {}
        }
        message.validate()?;
        Ok(Frame {
            v: raw.v,
            seq: raw.seq,
            message,
        })
    }

    /// The frame as one JSON text.
    pub fn encode(&self) -> String {
        // The message serializes to {"type": ..., "body": ...}; the frame adds v and seq.
        let mut object = match serde_json::to_value(&self.message) {
            Ok(Json::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        object.insert("v".into(), Json::from(self.v));
        if let Some(seq) = self.seq {
            object.insert("seq".into(), Json::from(seq));
        }
        Json::Object(object).to_string()
    }
}
