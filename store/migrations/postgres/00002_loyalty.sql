-- Loyalty engine (L-1..L-7): programmes, versioned terms with their SHA-256 hash,
-- memberships with the proof of each acceptance, earning rules, orders, and the
-- append-only double-entry points ledger (transactions, postings, lots), with the
-- idempotency keys of external operations. Customer IDs are pseudonymous; no personal
-- value is stored here (D-5). Times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE loyalty_programmes (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    currency          TEXT NOT NULL,
    point_value_cents BIGINT NOT NULL CHECK (point_value_cents >= 0),
    notice_days       BIGINT NOT NULL CHECK (notice_days >= 0),
    created_at        BIGINT NOT NULL
);

CREATE TABLE loyalty_terms (
    programme_id     TEXT NOT NULL REFERENCES loyalty_programmes (id),
    version          BIGINT NOT NULL,
    text_fr          TEXT NOT NULL,
    text_en          TEXT NOT NULL,
    changes_fr       TEXT NOT NULL,
    changes_en       TEXT NOT NULL,
    mediator_name    TEXT NOT NULL,
    mediator_website TEXT NOT NULL,
    mediator_address TEXT NOT NULL,
    expiry_months    BIGINT NOT NULL CHECK (expiry_months >= 0),
    effective_at     BIGINT NOT NULL,
    published_at     BIGINT NOT NULL,
    hash             TEXT NOT NULL,
    PRIMARY KEY (programme_id, version)
);

CREATE TABLE loyalty_members (
    programme_id  TEXT NOT NULL REFERENCES loyalty_programmes (id),
    customer_id   TEXT NOT NULL,
    joined_at     BIGINT NOT NULL,
    left_at       BIGINT,
    terms_version BIGINT NOT NULL,
    balance       BIGINT NOT NULL CHECK (balance >= 0),
    debt          BIGINT NOT NULL CHECK (debt >= 0),
    version       BIGINT NOT NULL,
    PRIMARY KEY (programme_id, customer_id)
);
CREATE INDEX loyalty_members_customer ON loyalty_members (customer_id);

CREATE TABLE loyalty_acceptances (
    programme_id  TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    terms_version BIGINT NOT NULL,
    terms_hash    TEXT NOT NULL,
    accepted_at   BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    PRIMARY KEY (programme_id, customer_id, terms_version, accepted_at)
);

CREATE TABLE loyalty_rules (
    programme_id TEXT NOT NULL REFERENCES loyalty_programmes (id),
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    definition   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (programme_id, id, version)
);

CREATE TABLE loyalty_transactions (
    id            TEXT PRIMARY KEY,
    programme_id  TEXT NOT NULL REFERENCES loyalty_programmes (id),
    customer_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    at            BIGINT NOT NULL,
    rule_id       TEXT NOT NULL,
    rule_version  BIGINT NOT NULL,
    terms_version BIGINT NOT NULL,
    reason_fr     TEXT NOT NULL,
    reason_en     TEXT NOT NULL,
    reference     TEXT NOT NULL
);
CREATE INDEX loyalty_transactions_member ON loyalty_transactions (programme_id, customer_id, id);
CREATE INDEX loyalty_transactions_customer ON loyalty_transactions (customer_id, id);
CREATE INDEX loyalty_transactions_at ON loyalty_transactions (programme_id, at);

CREATE TABLE loyalty_postings (
    tx_id        TEXT NOT NULL REFERENCES loyalty_transactions (id),
    seq          BIGINT NOT NULL,
    programme_id TEXT NOT NULL,
    account      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    lot_id       TEXT NOT NULL,
    PRIMARY KEY (tx_id, seq)
);
CREATE INDEX loyalty_postings_account ON loyalty_postings (programme_id, account, customer_id);

CREATE TABLE loyalty_lots (
    id           TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    tx_id        TEXT NOT NULL REFERENCES loyalty_transactions (id),
    earned_at    BIGINT NOT NULL,
    expires_at   BIGINT,
    points       BIGINT NOT NULL CHECK (points > 0),
    remaining    BIGINT NOT NULL CHECK (remaining >= 0),
    notified_at  BIGINT
);
CREATE INDEX loyalty_lots_member ON loyalty_lots (programme_id, customer_id, earned_at, id);
CREATE INDEX loyalty_lots_expiry ON loyalty_lots (expires_at) WHERE remaining > 0;

CREATE TABLE loyalty_orders (
    id           TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES loyalty_programmes (id),
    customer_id  TEXT NOT NULL,
    ordered_at   BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    store        TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX loyalty_orders_customer ON loyalty_orders (customer_id, id);

CREATE TABLE loyalty_idempotency (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    programme_id TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

-- +goose Down
DROP TABLE loyalty_idempotency;
DROP TABLE loyalty_orders;
DROP TABLE loyalty_lots;
DROP TABLE loyalty_postings;
DROP TABLE loyalty_transactions;
DROP TABLE loyalty_rules;
DROP TABLE loyalty_acceptances;
DROP TABLE loyalty_members;
DROP TABLE loyalty_terms;
DROP TABLE loyalty_programmes;
