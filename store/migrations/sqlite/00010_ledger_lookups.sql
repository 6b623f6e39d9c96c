-- Ledger lookups that scanned a whole programme. Transactions citing an order, a
-- reservation or a referral (an order's page, a replayed order, a refund, a cancelled
-- reservation) were found through (programme_id, at), reading every transaction of the
-- programme; paging through a programme's ledger by ID (fidelis loyalty verify) read and
-- sorted the whole programme for every page. Both now follow an index whose entries are
-- appended in time order (IDs and references are time-ordered IDs). The index on
-- (programme_id, at) served no query better than these and goes.

-- +goose Up
CREATE INDEX loyalty_transactions_reference ON loyalty_transactions (programme_id, reference, id);
CREATE INDEX loyalty_transactions_programme ON loyalty_transactions (programme_id, id);
DROP INDEX loyalty_transactions_at;

-- +goose Down
CREATE INDEX loyalty_transactions_at ON loyalty_transactions (programme_id, at);
DROP INDEX loyalty_transactions_programme;
DROP INDEX loyalty_transactions_reference;
