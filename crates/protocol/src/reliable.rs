//! At-least-once delivery made exactly-once: the sender numbers each reliable message and
//! keeps it until acknowledged ([`Outbox`]); the receiver applies each number once, in
//! order ([`Inbox`]). After a torn connection the sender resends everything unacknowledged;
//! what the receiver had already applied is recognised as a duplicate, acknowledged again
//! and not applied twice.
//!
//! Both sides keep their inbox position where it survives them: the hub in the database
//! (in the same transaction as the message's effect), the relay in memory for the life of
//! its process (a relay restarted mid-import loses that import, and the engine's run fails
//! and is retried — it never half-applies).

use std::collections::VecDeque;

use crate::error::ProtocolError;

/// Messages sent and not yet acknowledged, oldest first.
#[derive(Debug)]
pub struct Outbox<T> {
    next_seq: u64,
    unacked: VecDeque<(u64, T)>,
    capacity: usize,
}

/// The outbox holds `capacity` unacknowledged messages: the sender must wait for acks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} messages are waiting for acknowledgement; wait for the peer")]
pub struct OutboxFull(pub usize);

impl<T: Clone> Outbox<T> {
    /// An empty outbox whose first message gets number 1.
    pub fn new(capacity: usize) -> Self {
        Self {
            next_seq: 1,
            unacked: VecDeque::new(),
            capacity,
        }
    }

    /// An empty outbox whose first message gets number `last_sent + 1`: a sender that
    /// lost its outbox (a restarted relay) continues after what the peer has already applied
    /// (`welcome.received_upto`), so its new messages are not taken for duplicates.
    pub fn resume_after(last_sent: u64, capacity: usize) -> Self {
        Self {
            next_seq: last_sent + 1,
            unacked: VecDeque::new(),
            capacity,
        }
    }

    /// Numbers `message` and keeps it; returns its number.
    pub fn push(&mut self, message: T) -> Result<u64, OutboxFull> {
        if self.unacked.len() >= self.capacity {
            return Err(OutboxFull(self.unacked.len()));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.unacked.push_back((seq, message));
        Ok(seq)
    }

    /// Drops every message up to `upto`; returns how many were dropped. An ack beyond what
    /// was sent is a protocol violation.
    pub fn ack(&mut self, upto: u64) -> Result<usize, ProtocolError> {
        if upto >= self.next_seq {
            return Err(ProtocolError::Invalid {
                field: "ack",
                reason: format!(
                    "acknowledges {upto}, but only {} were sent",
                    self.next_seq - 1
                ),
            });
        }
        let before = self.unacked.len();
        while self.unacked.front().is_some_and(|(seq, _)| *seq <= upto) {
            self.unacked.pop_front();
        }
        Ok(before - self.unacked.len())
    }

    /// What to (re)send after a (re)connect, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &(u64, T)> {
        self.unacked.iter()
    }

    /// How many wait for acknowledgement.
    pub fn len(&self) -> usize {
        self.unacked.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.unacked.is_empty()
    }
}

/// What the receiver should do with a reliable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Apply it, then record `seq` as applied.
    New,
    /// Already applied: acknowledge again, do nothing else.
    Duplicate,
}

/// The receiving side's position: the highest sequence number applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inbox {
    applied_upto: u64,
}

impl Inbox {
    /// An inbox that has applied everything up to `applied_upto` (0: nothing yet).
    pub fn at(applied_upto: u64) -> Self {
        Self { applied_upto }
    }

    /// The highest number applied (what to acknowledge).
    pub fn applied_upto(&self) -> u64 {
        self.applied_upto
    }

    /// Classifies an arriving number. Messages arrive in order on one connection, so the
    /// next new one is exactly `applied_upto + 1`; anything further ahead means a message
    /// was lost, which the protocol cannot repair on this connection.
    pub fn check(&self, seq: u64) -> Result<Delivery, ProtocolError> {
        let expected = self.applied_upto + 1;
        match seq {
            s if s < expected => Ok(Delivery::Duplicate),
            s if s == expected => Ok(Delivery::New),
            got => Err(ProtocolError::Gap { expected, got }),
        }
    }

    /// Records `seq` as applied (call after its effect is durable).
    pub fn applied(&mut self, seq: u64) {
        self.applied_upto = self.applied_upto.max(seq);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unacknowledged_messages_are_resent_and_duplicates_applied_once() {
        let mut out = Outbox::new(10);
        let mut inbox = Inbox::default();
        let mut applied = Vec::new();
        for m in ["a", "b", "c"] {
            out.push(m).unwrap();
        }
        // the first connection delivers a and b, then tears before any ack
        for (seq, m) in out.pending().take(2) {
            assert_eq!(inbox.check(*seq).unwrap(), Delivery::New);
            applied.push(*m);
            inbox.applied(*seq);
        }
        // reconnect: everything unacknowledged is resent
        for (seq, m) in out.pending() {
            if inbox.check(*seq).unwrap() == Delivery::New {
                applied.push(*m);
                inbox.applied(*seq);
            }
        }
        assert_eq!(applied, ["a", "b", "c"]);
        assert_eq!(out.ack(inbox.applied_upto()).unwrap(), 3);
        assert!(out.is_empty());
    }

    #[test]
    fn a_gap_is_an_error_and_an_ack_beyond_what_was_sent_too() {
        let inbox = Inbox::at(4);
        assert_eq!(
            inbox.check(6),
            Err(ProtocolError::Gap {
                expected: 5,
                got: 6
            })
        );
        let mut out: Outbox<()> = Outbox::new(2);
        out.push(()).unwrap();
        assert!(out.ack(2).is_err());
        out.push(()).unwrap();
        assert_eq!(out.push(()), Err(OutboxFull(2)));
    }
}
