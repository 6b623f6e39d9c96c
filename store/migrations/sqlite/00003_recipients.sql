-- Recipients and processors registry (D-4) and webhook deliveries (R-9): one delivery per
-- outbox event and recipient, with its attempts. Deliveries hold ids and field names only
-- (D-5); webhook secrets are sealed under a key derived from the keyring.
-- Times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE recipients (
    id            TEXT PRIMARY KEY,
    version       INTEGER NOT NULL,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    purposes      TEXT NOT NULL,
    country       TEXT NOT NULL,
    safeguard     TEXT NOT NULL,
    contract_ref  TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    active        INTEGER NOT NULL,
    endpoint      TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret_kek    TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES recipients (id),
    event_type   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    event_at     INTEGER NOT NULL,
    body         TEXT NOT NULL,
    required     INTEGER NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    retry_from   INTEGER NOT NULL,
    next_attempt INTEGER,
    last_attempt INTEGER,
    last_status  INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    delivered_at INTEGER,
    created_at   INTEGER NOT NULL,
    lease        TEXT NOT NULL,
    UNIQUE (event_id, recipient_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_recipient ON webhook_deliveries (recipient_id, id);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subject, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id),
    n            INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    status_code  INTEGER NOT NULL,
    error_class  TEXT NOT NULL,
    duration_us  INTEGER NOT NULL,
    next_attempt INTEGER,
    PRIMARY KEY (delivery_id, n)
);

CREATE INDEX outbox_pending_order ON outbox (at, id) WHERE delivered_at IS NULL;

-- +goose Down
DROP INDEX outbox_pending_order;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE recipients;
