-- Rights requests (R-1..R-4) and the suppression list (R-15).
-- A case holds IDs, codes and times only (no personal values, D-5): the indexed columns, and
-- the rest (identity check, extension, refusal, answer) as a JSON document of codes.
-- Due dates are calendar dates 'YYYY-MM-DD' (they sort as text); times are UTC microseconds.
-- The suppression list holds keyed blind-index hashes of e-mail and phone, never values.

-- +goose Up
CREATE TABLE rights_requests (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    original_due TEXT NOT NULL,
    due          TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX rights_requests_due ON rights_requests (due, id);
CREATE INDEX rights_requests_customer ON rights_requests (customer_id);

CREATE TABLE suppressions (
    kind       TEXT NOT NULL,
    bidx       BYTEA NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, bidx)
);
CREATE INDEX suppressions_expiry ON suppressions (expires_at);

-- +goose Down
DROP TABLE suppressions;
DROP TABLE rights_requests;
