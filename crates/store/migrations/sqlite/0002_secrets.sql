-- IdentityMesh schema, version 2 (SQLite): connector secrets, the data-protection key ring and
-- the key-encryption key (KEK) the database is wrapped under. Values are never stored in
-- clear: `ciphertext` is sealed with a per-secret data key, `wrapped_key` is that data key
-- sealed by the KEK named in `kek_id`. The KEK itself lives in key files, never here.

CREATE TABLE secrets (
    name         TEXT    PRIMARY KEY,
    purpose      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    kek_id       TEXT    NOT NULL,
    wrapped_key  BLOB    NOT NULL,
    ciphertext   BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    last_used_at TEXT
);

CREATE TABLE protection_keys (
    id           TEXT PRIMARY KEY,
    kek_id       TEXT NOT NULL,
    wrapped_key  BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    activates_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

-- One row: the KEK new records are wrapped with, and whether it is a host or a shared key.
CREATE TABLE key_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    kek_id      TEXT    NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN ('host', 'shared')),
    updated_at  TEXT    NOT NULL
);
