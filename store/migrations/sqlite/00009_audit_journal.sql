-- Audit journals (SQLite): the audit entries of reads are appended to a journal file of
-- the process beside the database and ingested into audit_entries in batches (see
-- store/auditjournal.go). Each row says up to which byte a journal file is ingested, and
-- is updated in the same transaction as the entries it covers, so that recovery after a
-- crash ingests exactly what is missing. Journals hold no personal data (D-5).

-- +goose Up
CREATE TABLE audit_journals (
    name     TEXT PRIMARY KEY,
    ingested INTEGER NOT NULL
);

-- +goose Down
DROP TABLE audit_journals;
