//! A test double for the hub: a real WebSocket server on 127.0.0.1 that speaks the relay
//! protocol through `identitymesh-protocol` — enrollment, the signed challenge (verified
//! with the key the relay enrolled), welcome, commands from an outbox, acks, credit, and an
//! inbox that applies each relay message once. The real hub's end-to-end tests come with it.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use futures_util::{SinkExt, StreamExt};
use identitymesh_protocol::{
    Ack, Challenge, Command, Credit, Delivery, Frame, Inbox, Message, Outbox, Welcome,
    challenge_payload,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;

pub const TOKEN: &str = "imr_enroll_test-token";
const WAIT: Duration = Duration::from_secs(20);

/// The hub's memory of relays and of one relay's reliable streams.
pub struct FakeHub {
    listener: TcpListener,
    pub url: String,
    pub origin: String,
    pub keys: HashMap<String, VerifyingKey>,
    pub outbox: Outbox<Message>,
    pub inbox: Inbox,
    /// Every reliable relay message as it arrived, duplicates included: (seq, message).
    pub arrivals: Vec<(u64, Message)>,
    /// The relay messages applied, once each, in order.
    pub applied: Vec<Message>,
    pub connections: usize,
}

/// One accepted connection.
pub struct Conn {
    pub ws: WebSocketStream<TcpStream>,
    pub relay_id: String,
    pub proof_received_upto: u64,
}

impl FakeHub {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        Self {
            listener,
            url: format!("ws://127.0.0.1:{port}/hub/v1"),
            origin: format!("ws://127.0.0.1:{port}"),
            keys: HashMap::new(),
            outbox: Outbox::new(1000),
            inbox: Inbox::default(),
            arrivals: Vec::new(),
            applied: Vec::new(),
            connections: 0,
        }
    }

    /// The next WebSocket connection, before any frame.
    pub async fn accept_raw(&mut self) -> WebSocketStream<TcpStream> {
        let (tcp, _) = tokio::time::timeout(WAIT, self.listener.accept())
            .await
            .expect("the relay did not connect in time")
            .unwrap();
        self.connections += 1;
        tokio_tungstenite::accept_async(tcp).await.unwrap()
    }

    /// Accepts a connection and runs the handshake: enrollment when the relay presents a
    /// token, then the challenge, whose signature is verified with the enrolled key.
    pub async fn accept(&mut self, heartbeat_seconds: u32) -> Conn {
        let mut ws = self.accept_raw().await;
        let Message::Hello(hello) = recv(&mut ws).await.message else {
            panic!("the relay did not say hello first")
        };
        assert_eq!((hello.min_version, hello.max_version), (1, 1));
        let (relay_id, assigned) = match hello.relay_id {
            Some(id) => (id, None),
            None => {
                let Message::Enroll(enroll) = recv(&mut ws).await.message else {
                    panic!("an unenrolled relay must enroll")
                };
                assert_eq!(enroll.token.0, TOKEN);
                let id = format!("r-{}", self.keys.len() + 1);
                let bytes: [u8; 32] = URL_SAFE_NO_PAD
                    .decode(&enroll.public_key)
                    .unwrap()
                    .try_into()
                    .unwrap();
                self.keys
                    .insert(id.clone(), VerifyingKey::from_bytes(&bytes).unwrap());
                (id.clone(), Some(id))
            }
        };
        let nonce = format!("nonce-{}", self.connections);
        let challenge = Challenge {
            nonce: nonce.clone(),
            version: 1,
            relay_id: assigned,
        };
        send(&mut ws, Frame::control(Message::Challenge(challenge))).await;
        let Message::Proof(proof) = recv(&mut ws).await.message else {
            panic!("the relay did not answer the challenge")
        };
        assert_eq!(proof.relay_id, relay_id);
        let sig: [u8; 64] = URL_SAFE_NO_PAD
            .decode(&proof.signature)
            .unwrap()
            .try_into()
            .unwrap();
        let payload = challenge_payload(&relay_id, &self.origin, &nonce);
        self.keys[&relay_id]
            .verify_strict(&payload, &Signature::from_bytes(&sig))
            .expect("the proof must verify with the enrolled key");
        self.outbox.ack(proof.received_upto).unwrap();
        let welcome = Welcome {
            relay_id: relay_id.clone(),
            connectors: vec!["hr".into()],
            heartbeat_seconds,
            received_upto: self.inbox.applied_upto(),
        };
        send(&mut ws, Frame::control(Message::Welcome(welcome))).await;
        Conn {
            ws,
            relay_id,
            proof_received_upto: proof.received_upto,
        }
    }

    /// Queues a command and sends it.
    pub async fn command(&mut self, conn: &mut Conn, command: Command) -> u64 {
        let message = Message::Command(command);
        let seq = self.outbox.push(message.clone()).unwrap();
        send(&mut conn.ws, Frame::reliable(seq, message)).await;
        seq
    }

    /// The next reliable message the relay sends, applied once (duplicates recorded in
    /// `arrivals` only, and skipped); answers pings, takes acks.
    pub async fn next(&mut self, conn: &mut Conn) -> Message {
        loop {
            let frame = recv(&mut conn.ws).await;
            match frame.message {
                Message::Ping(h) => send(&mut conn.ws, Frame::control(Message::Pong(h))).await,
                Message::Pong(_) => {}
                Message::Ack(ack) => {
                    self.outbox.ack(ack.upto).unwrap();
                }
                message => {
                    let seq = frame.seq.expect("a reliable message");
                    self.arrivals.push((seq, message.clone()));
                    if self.inbox.check(seq).unwrap() == Delivery::New {
                        self.inbox.applied(seq);
                        self.applied.push(message.clone());
                        return message;
                    }
                }
            }
        }
    }

    /// Acknowledges everything applied so far.
    pub async fn ack(&mut self, conn: &mut Conn) {
        let upto = self.inbox.applied_upto();
        send(&mut conn.ws, Frame::control(Message::Ack(Ack { upto }))).await;
    }

    /// Reads until the relay's acknowledgements cover `seq`, answering pings; a reliable
    /// message arriving meanwhile is dropped unapplied (as if lost with the connection).
    pub async fn until_acked(&mut self, conn: &mut Conn, seq: u64) {
        while self.outbox.pending().any(|(s, _)| *s <= seq) {
            let frame = recv(&mut conn.ws).await;
            match frame.message {
                Message::Ping(h) => send(&mut conn.ws, Frame::control(Message::Pong(h))).await,
                Message::Ack(ack) => {
                    self.outbox.ack(ack.upto).unwrap();
                }
                _ => {}
            }
        }
    }

    /// Reads the next reliable message without applying it (as if the connection lost it).
    pub async fn lose_next(&mut self, conn: &mut Conn) -> Message {
        loop {
            let frame = recv(&mut conn.ws).await;
            match frame.message {
                Message::Ping(h) => send(&mut conn.ws, Frame::control(Message::Pong(h))).await,
                Message::Ack(ack) => {
                    self.outbox.ack(ack.upto).unwrap();
                }
                Message::Pong(_) => {}
                other => return other,
            }
        }
    }

    /// Grants credit for a run.
    pub async fn credit(&mut self, conn: &mut Conn, run_id: i64, batches: u32) {
        let credit = Credit { run_id, batches };
        send(&mut conn.ws, Frame::control(Message::Credit(credit))).await;
    }
}

/// The next text frame (transport pings skipped), decoded.
pub async fn recv(ws: &mut WebSocketStream<TcpStream>) -> Frame {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the relay sent nothing in time")
            .expect("the relay closed the connection")
            .expect("a WebSocket message");
        if let Ws::Text(text) = message {
            return Frame::decode(text.as_str()).expect("the relay's frames decode");
        }
    }
}

pub async fn send(ws: &mut WebSocketStream<TcpStream>, frame: Frame) {
    ws.send(Ws::text(frame.encode())).await.unwrap();
}
