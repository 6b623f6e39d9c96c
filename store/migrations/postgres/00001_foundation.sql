-- Foundation schema: sealed customers, per-customer keys, history, erasure receipts,
-- authenticated audit entries with their Merkle leaves and signed checkpoints, the event
-- outbox, staff users, sessions, API tokens and the purpose registry.
-- Personal fields are BYTEA ciphertext only (D-5); times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    email_bidx  BYTEA,
    phone_bidx  BYTEA,
    given_name  BYTEA,
    family_name BYTEA,
    email       BYTEA,
    phone       BYTEA,
    birth_date  BYTEA,
    street      BYTEA,
    postal_code BYTEA,
    city        BYTEA,
    country     BYTEA,
    locale      BYTEA,
    attributes  BYTEA
);
CREATE INDEX customers_email_bidx ON customers (email_bidx, id) WHERE email_bidx IS NOT NULL;
CREATE INDEX customers_phone_bidx ON customers (phone_bidx, id) WHERE phone_bidx IS NOT NULL;

CREATE TABLE customer_keys (
    customer_id TEXT PRIMARY KEY,
    kek_id      TEXT NOT NULL,
    wrapped_dek BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_keys_kek ON customer_keys (kek_id);

CREATE TABLE customer_changes (
    customer_id TEXT NOT NULL,
    version     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    fields      TEXT NOT NULL,
    previous    BYTEA,
    PRIMARY KEY (customer_id, version)
);

CREATE TABLE erasures (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    erased_at   BIGINT NOT NULL,
    receipt     TEXT NOT NULL
);
CREATE INDEX erasures_customer ON erasures (customer_id);

CREATE TABLE audit_entries (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid        TEXT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    fields     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    mac        BYTEA NOT NULL,
    leaf_index BIGINT UNIQUE,
    leaf_hash  BYTEA
);
CREATE INDEX audit_entries_subject ON audit_entries (subject, id);
CREATE INDEX audit_entries_unsealed ON audit_entries (id) WHERE leaf_index IS NULL;

CREATE TABLE audit_checkpoints (
    tree_size  BIGINT PRIMARY KEY,
    root_hash  BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  BYTEA NOT NULL,
    frontier   BYTEA NOT NULL
);

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    type         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (at) WHERE delivered_at IS NULL;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    id_hash    BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE registry (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE registry;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE outbox;
DROP TABLE audit_checkpoints;
DROP TABLE audit_entries;
DROP TABLE erasures;
DROP TABLE customer_changes;
DROP TABLE customer_keys;
DROP TABLE customers;
