-- IdentityMesh schema, version 4 (SQLite): what operators steer while the system runs.
-- A cancel request on a run (the engine running it checks at every batch boundary, so any
-- instance can ask), and disabled users (kept for the audit trail, refused at sign-in).

ALTER TABLE runs ADD COLUMN cancel_requested_at TEXT;
ALTER TABLE runs ADD COLUMN cancel_requested_by TEXT;
CREATE INDEX runs_status ON runs (status, id);

ALTER TABLE users ADD COLUMN disabled_at TEXT;
