-- Seal: the keys that encrypt personal data at rest. Each row holds one key
-- wrapped (AES-256-GCM) by the master key, which never enters the database:
-- a copied file or dump holds only ciphertext. kind 'data' keys encrypt field
-- values and are rotated; the single kind 'index' key computes blind indexes.
-- handle is a random name fixed at creation and bound into the wrapping as
-- associated data, because id is not known before the insert.

-- The identity never reuses the id of a deleted row (SQLite uses
-- AUTOINCREMENT for the same reason): a key id inside a sealed value must
-- never come to name a different key.
CREATE TABLE seal_keys (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('data', 'index')),
    handle     TEXT    NOT NULL UNIQUE,
    wrapped    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    retired_at BIGINT
);
CREATE INDEX seal_keys_kind ON seal_keys (kind, retired_at);
-- Exactly one blind-index key, ever: a second one would split every index
-- into values computed with one key or the other.
CREATE UNIQUE INDEX seal_keys_one_index_key ON seal_keys (kind) WHERE kind = 'index';
