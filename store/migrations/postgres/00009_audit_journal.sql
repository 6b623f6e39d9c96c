-- Audit journals are a SQLite feature (see store/auditjournal.go): on PostgreSQL, audit
-- entries are committed to audit_entries directly. This migration keeps both dialects'
-- numbering in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
