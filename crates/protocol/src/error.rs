//! Everything that can be wrong with a frame from the network.

/// Why a frame was refused. Each message names what is wrong; none repeats a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    /// The frame is larger than [`crate::MAX_FRAME_BYTES`].
    #[error("frame of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or not a message this version knows (unknown type or field, wrong type).
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A protocol version this build does not speak.
    #[error(
        "protocol version {got} is not supported (this side speaks {min} to {max}); upgrade the older of relay and Admin API"
    )]
    Version {
        /// The version in the frame.
        got: u32,
        /// Lowest supported.
        min: u32,
        /// Highest supported.
        max: u32,
    },
    /// A reliable message without a sequence number, or a control message with one.
    #[error("{message} frames {rule}")]
    Sequencing {
        /// The message type.
        message: &'static str,
        /// The rule broken.
        rule: &'static str,
    },
    /// A sequence number that skips ahead of what was received: a message was lost.
    #[error("sequence gap: expected {expected}, got {got}")]
    Gap {
        /// The next number expected.
        expected: u64,
        /// The number received.
        got: u64,
    },
    /// A message that is not allowed in the current state (a command before the handshake).
    #[error("{message} is not allowed {state}")]
    OutOfOrder {
        /// The message type.
        message: &'static str,
        /// Where the connection stands.
        state: &'static str,
    },
    /// A field with an invalid value (an empty connector list entry, a zero batch size).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}
