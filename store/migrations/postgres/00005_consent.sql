-- Consent ledger (C-1): versioned consent notices and append-only consent records; and the
-- current privacy state of each subject (consents folded, restriction, objections), read by
-- the lawfulness decision at processing time. IDs, codes and times only (D-5).

-- +goose Up
CREATE TABLE consent_notices (
    purpose      TEXT NOT NULL,
    version      BIGINT NOT NULL,
    text_fr      TEXT NOT NULL,
    text_en      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (purpose, version)
);

CREATE TABLE consents (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    decision       TEXT NOT NULL CHECK (decision IN ('granted', 'refused', 'withdrawn')),
    notice_version BIGINT,
    notice_hash    TEXT,
    method         TEXT NOT NULL,
    parental       BIGINT NOT NULL,
    minor          BIGINT NOT NULL,
    reference      TEXT NOT NULL,
    collected_at   BIGINT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    recorded_by    TEXT NOT NULL
);
CREATE INDEX consents_customer ON consents (customer_id, id);

CREATE TABLE subject_states (
    customer_id TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    restricted  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE subject_states;
DROP TABLE consents;
DROP TABLE consent_notices;
