-- On PostgreSQL the primary key of loyalty_idempotency is now led by the key (see the
-- PostgreSQL migration of the same number). SQLite has no cached generic plans: its
-- planner always looks up (scope, idem_key) one key at a time, so nothing changes here.
-- This migration keeps both dialects' numbering in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
