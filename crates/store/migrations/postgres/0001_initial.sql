-- IdentityMesh schema, version 1 (PostgreSQL).

CREATE TABLE staged_objects (
    id          BIGSERIAL   PRIMARY KEY,
    connector   TEXT        NOT NULL,
    object_type TEXT        NOT NULL,
    anchor      TEXT        NOT NULL,
    name        TEXT,
    attributes  JSONB       NOT NULL,
    hash        TEXT        NOT NULL,
    pending     TEXT        NOT NULL,
    link        JSONB       NOT NULL,
    link_state  TEXT        NOT NULL,
    mesh_id     BIGINT,
    changed_at  TIMESTAMPTZ NOT NULL,
    seen_run    BIGINT      NOT NULL,
    UNIQUE (connector, anchor)
);
CREATE INDEX staged_objects_connector_id ON staged_objects (connector, id);
CREATE INDEX staged_objects_pending ON staged_objects (connector, id) WHERE pending <> 'none';
CREATE INDEX staged_objects_mesh ON staged_objects (mesh_id) WHERE mesh_id IS NOT NULL;
CREATE INDEX staged_objects_seen ON staged_objects (connector, seen_run);
CREATE INDEX staged_objects_review ON staged_objects (connector, id)
    WHERE link_state IN ('ambiguous', 'awaiting_adoption');

CREATE TABLE mesh_objects (
    id          BIGSERIAL   PRIMARY KEY,
    object_type TEXT        NOT NULL,
    attributes  JSONB       NOT NULL,
    provenance  JSONB       NOT NULL,
    version     BIGINT      NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX mesh_objects_type ON mesh_objects (object_type, id);

CREATE TABLE mesh_keys (
    mesh_id     BIGINT  NOT NULL REFERENCES mesh_objects (id) ON DELETE CASCADE,
    object_type TEXT    NOT NULL,
    attribute   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    is_unique   BOOLEAN NOT NULL,
    PRIMARY KEY (mesh_id, attribute, key)
);
-- mesh_id last: a join lookup reads the index alone, already in mesh_id order (no sort)
CREATE INDEX mesh_keys_lookup ON mesh_keys (object_type, attribute, key, mesh_id);
CREATE UNIQUE INDEX mesh_keys_unique ON mesh_keys (object_type, attribute, key) WHERE is_unique;

CREATE TABLE export_queue (
    id          BIGSERIAL   PRIMARY KEY,
    connector   TEXT        NOT NULL,
    staged_id   BIGINT      NOT NULL UNIQUE,
    anchor      TEXT        NOT NULL,
    mesh_id     BIGINT,
    op          JSONB       NOT NULL,
    reason      TEXT        NOT NULL,
    state       TEXT        NOT NULL,
    attempts    BIGINT      NOT NULL DEFAULT 0,
    last_error  TEXT,
    hold_id     BIGINT,
    run_id      BIGINT      NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX export_queue_page ON export_queue (connector, id);
CREATE INDEX export_queue_state ON export_queue (connector, state, reason);

CREATE TABLE runs (
    id          BIGSERIAL   PRIMARY KEY,
    connector   TEXT        NOT NULL,
    profile     TEXT        NOT NULL,
    simulation  BOOLEAN     NOT NULL,
    status      TEXT        NOT NULL,
    actor       TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    stats       JSONB       NOT NULL,
    reason      TEXT
);
CREATE INDEX runs_connector ON runs (connector, profile, id);

CREATE TABLE run_errors (
    run_id      BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    object      TEXT   NOT NULL,
    message     TEXT   NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE audit (
    id          BIGSERIAL   PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT        NOT NULL,
    action      TEXT        NOT NULL,
    target      TEXT        NOT NULL,
    before      JSONB,
    after       JSONB,
    run_id      BIGINT
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_target ON audit (target, id);

CREATE TABLE watermarks (
    connector   TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    value       TEXT        NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connector, kind)
);

CREATE TABLE config_versions (
    id          BIGSERIAL   PRIMARY KEY,
    hash        TEXT        NOT NULL,
    author      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    content     TEXT        NOT NULL,
    active      BOOLEAN     NOT NULL
);
CREATE UNIQUE INDEX config_versions_one_active ON config_versions (active) WHERE active;

CREATE TABLE simulations (
    run_id      BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    change      JSONB  NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE leases (
    connector   TEXT        PRIMARY KEY,
    holder      TEXT        NOT NULL,
    token       BIGINT      NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Fencing tokens: a sequence never goes back, even after a lease row is deleted.
CREATE SEQUENCE lease_token_seq;

CREATE TABLE run_requests (
    id           BIGSERIAL   PRIMARY KEY,
    connector    TEXT        NOT NULL,
    profile      TEXT        NOT NULL,
    actor        TEXT        NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL
);

-- Scratch table for the benchmark's raw bulk-load baseline.
CREATE TABLE baseline (
    a TEXT NOT NULL,
    b TEXT NOT NULL
);
