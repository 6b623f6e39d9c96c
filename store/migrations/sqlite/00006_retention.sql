-- Retention (T-1..T-8): the last activity from each customer by kind (the retention clock),
-- the operator's overrides of the default periods with their written reason, legal holds,
-- the renewal requests and warnings sent (asked once), the anonymous counts of each run,
-- and the lease that keeps runs one at a time on SQLite (PostgreSQL uses an advisory lock).
-- IDs, codes and times only (D-5); times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE retention_activity (
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    last_at     INTEGER NOT NULL,
    PRIMARY KEY (customer_id, kind)
);

CREATE TABLE retention_overrides (
    rule_id TEXT PRIMARY KEY,
    months  INTEGER NOT NULL CHECK (months > 0),
    reason  TEXT NOT NULL,
    set_by  TEXT NOT NULL,
    set_at  INTEGER NOT NULL
);

CREATE TABLE retention_holds (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    case_ref    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    placed_by   TEXT NOT NULL,
    placed_at   INTEGER NOT NULL,
    lifted_by   TEXT NOT NULL DEFAULT '',
    lifted_at   INTEGER,
    lift_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retention_holds_customer ON retention_holds (customer_id, id);

CREATE TABLE retention_notices (
    customer_id TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    notice      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    result      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    PRIMARY KEY (customer_id, rule_id)
);

CREATE TABLE retention_runs (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    by_actor    TEXT NOT NULL,
    scanned     INTEGER NOT NULL,
    counts      TEXT NOT NULL,
    duration_us INTEGER NOT NULL
);

CREATE TABLE job_leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE job_leases;
DROP TABLE retention_runs;
DROP TABLE retention_notices;
DROP TABLE retention_holds;
DROP TABLE retention_overrides;
DROP TABLE retention_activity;
