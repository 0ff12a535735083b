-- IdentityMesh schema, version 2 (PostgreSQL): connector secrets, the data-protection key ring
-- and the key-encryption key (KEK) the database is wrapped under. Values are never stored in
-- clear: `ciphertext` is sealed with a per-secret data key, `wrapped_key` is that data key
-- sealed by the KEK named in `kek_id`. The KEK itself lives in key files, never here.

CREATE TABLE secrets (
    name         TEXT        PRIMARY KEY,
    purpose      TEXT        NOT NULL,
    version      BIGINT      NOT NULL,
    kek_id       TEXT        NOT NULL,
    wrapped_key  BYTEA       NOT NULL,
    ciphertext   BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

CREATE TABLE protection_keys (
    id           TEXT        PRIMARY KEY,
    kek_id       TEXT        NOT NULL,
    wrapped_key  BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    activates_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

-- One row: the KEK new records are wrapped with, and whether it is a host or a shared key.
CREATE TABLE key_settings (
    id          SMALLINT    PRIMARY KEY CHECK (id = 1),
    kek_id      TEXT        NOT NULL,
    mode        TEXT        NOT NULL CHECK (mode IN ('host', 'shared')),
    updated_at  TIMESTAMPTZ NOT NULL
);
