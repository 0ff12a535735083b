-- IdentityMesh schema, version 1 (SQLite).
-- Times are TEXT in RFC 3339 UTC with microseconds and a trailing Z
-- (2024-01-31T08:00:00.000000Z): fixed width, so they sort as text.
-- JSON columns hold serde_json text.

CREATE TABLE staged_objects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    connector   TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    anchor      TEXT    NOT NULL,
    name        TEXT,
    attributes  TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    pending     TEXT    NOT NULL,
    link        TEXT    NOT NULL,
    link_state  TEXT    NOT NULL,
    mesh_id     INTEGER,
    changed_at  TEXT    NOT NULL,
    seen_run    INTEGER NOT NULL,
    UNIQUE (connector, anchor)
);
CREATE INDEX staged_objects_connector_id ON staged_objects (connector, id);
CREATE INDEX staged_objects_pending ON staged_objects (connector, id) WHERE pending <> 'none';
CREATE INDEX staged_objects_mesh ON staged_objects (mesh_id) WHERE mesh_id IS NOT NULL;
CREATE INDEX staged_objects_seen ON staged_objects (connector, seen_run);
CREATE INDEX staged_objects_review ON staged_objects (connector, id)
    WHERE link_state IN ('ambiguous', 'awaiting_adoption');

CREATE TABLE mesh_objects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    object_type TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    provenance  TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX mesh_objects_type ON mesh_objects (object_type, id);

CREATE TABLE mesh_keys (
    mesh_id     INTEGER NOT NULL REFERENCES mesh_objects (id) ON DELETE CASCADE,
    object_type TEXT    NOT NULL,
    attribute   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    is_unique   INTEGER NOT NULL,
    PRIMARY KEY (mesh_id, attribute, key)
);
-- mesh_id last: a join lookup reads the index alone, already in mesh_id order (no sort)
CREATE INDEX mesh_keys_lookup ON mesh_keys (object_type, attribute, key, mesh_id);
CREATE UNIQUE INDEX mesh_keys_unique ON mesh_keys (object_type, attribute, key) WHERE is_unique;

CREATE TABLE export_queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    connector   TEXT    NOT NULL,
    staged_id   INTEGER NOT NULL UNIQUE,
    anchor      TEXT    NOT NULL,
    mesh_id     INTEGER,
    op          TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    hold_id     INTEGER,
    run_id      INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX export_queue_page ON export_queue (connector, id);
CREATE INDEX export_queue_state ON export_queue (connector, state, reason);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    connector   TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    simulation  INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT,
    stats       TEXT    NOT NULL,
    reason      TEXT
);
CREATE INDEX runs_connector ON runs (connector, profile, id);

CREATE TABLE run_errors (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    object      TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    before      TEXT,
    after       TEXT,
    run_id      INTEGER
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_target ON audit (target, id);

CREATE TABLE watermarks (
    connector   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (connector, kind)
);

CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are never reused: links and queue items refer to them
    hash        TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    active      INTEGER NOT NULL
);
CREATE UNIQUE INDEX config_versions_one_active ON config_versions (active) WHERE active;

CREATE TABLE simulations (
    run_id      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    change      TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE leases (
    connector   TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    token       INTEGER NOT NULL,
    expires_at  TEXT    NOT NULL
);

-- Fencing tokens come from here so they keep increasing after a lease row is deleted.
CREATE TABLE counters (
    name        TEXT    PRIMARY KEY,
    value       INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('lease_token', 0);

CREATE TABLE run_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    connector    TEXT    NOT NULL,
    profile      TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    requested_at TEXT    NOT NULL
);

-- Scratch table for the benchmark's raw bulk-load baseline.
CREATE TABLE baseline (
    a TEXT NOT NULL,
    b TEXT NOT NULL
);
