-- IdentityMesh schema, version 5 (PostgreSQL): relay agents. A relay is enrolled once with a
-- one-time token (stored by hash) and its Ed25519 public key; afterwards it proves that key
-- on every connection. Presence (who is connected to which Admin API instance, since when,
-- last heartbeat) lives here so every instance and the topology check see it. The hub's
-- reliable commands wait in relay_outbox until the relay acknowledges them, and inbox_upto
-- records the highest relay message the hub applied, in the same transaction as its effect.

CREATE TABLE relays (
    id                 TEXT        PRIMARY KEY,
    name               TEXT        NOT NULL UNIQUE,
    public_key         TEXT        NOT NULL,
    status             TEXT        NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
    created_at         TIMESTAMPTZ NOT NULL,
    host               TEXT,
    agent_version      TEXT,
    connected_instance TEXT,
    connected_since    TIMESTAMPTZ,
    last_heartbeat_at  TIMESTAMPTZ,
    inbox_upto         BIGINT      NOT NULL DEFAULT 0,
    outbox_next        BIGINT      NOT NULL DEFAULT 1
);

CREATE TABLE relay_enrollment_tokens (
    id          BIGSERIAL   PRIMARY KEY,
    name        TEXT        NOT NULL,
    token_hash  TEXT        NOT NULL UNIQUE,
    created_by  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    relay_id    TEXT        REFERENCES relays (id) ON DELETE SET NULL
);

CREATE TABLE relay_outbox (
    relay_id    TEXT        NOT NULL REFERENCES relays (id) ON DELETE CASCADE,
    seq         BIGINT      NOT NULL,
    frame       TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (relay_id, seq)
);
