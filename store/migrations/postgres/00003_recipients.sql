-- Recipients and processors registry (D-4) and webhook deliveries (R-9): one delivery per
-- outbox event and recipient, with its attempts. Deliveries hold ids and field names only
-- (D-5); webhook secrets are sealed under a key derived from the keyring.
-- Times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE recipients (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    purposes      TEXT NOT NULL,
    country       TEXT NOT NULL,
    safeguard     TEXT NOT NULL,
    contract_ref  TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    endpoint      TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret_kek    TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES recipients (id),
    event_type   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    event_at     BIGINT NOT NULL,
    body         TEXT NOT NULL,
    required     BOOLEAN NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    retry_from   BIGINT NOT NULL,
    next_attempt BIGINT,
    last_attempt BIGINT,
    last_status  BIGINT NOT NULL,
    last_error   TEXT NOT NULL,
    delivered_at BIGINT,
    created_at   BIGINT NOT NULL,
    lease        TEXT NOT NULL,
    UNIQUE (event_id, recipient_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_recipient ON webhook_deliveries (recipient_id, id);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subject, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id),
    n            BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    status_code  BIGINT NOT NULL,
    error_class  TEXT NOT NULL,
    duration_us  BIGINT NOT NULL,
    next_attempt BIGINT,
    PRIMARY KEY (delivery_id, n)
);

CREATE INDEX outbox_pending_order ON outbox (at, id) WHERE delivered_at IS NULL;

-- +goose Down
DROP INDEX outbox_pending_order;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE recipients;
