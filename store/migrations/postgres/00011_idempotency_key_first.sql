-- A group of orders reads the Idempotency-Keys it carries already used in one statement
-- (scope = ? AND idem_key IN (...)). Every key of a till or an API token shares one
-- scope, so with the primary key led by the scope a cached generic plan, costed from
-- statistics taken when the table was small, could read the index on the scope alone and
-- filter every key the scope ever used: a lookup that grew with the table (tens of
-- milliseconds at 25,000 keys, one whole group's wait). Led by the key, the only index
-- path is one descent per key, whatever the statistics say.

-- +goose Up
ALTER TABLE loyalty_idempotency DROP CONSTRAINT loyalty_idempotency_pkey;
ALTER TABLE loyalty_idempotency ADD PRIMARY KEY (idem_key, scope);

-- +goose Down
ALTER TABLE loyalty_idempotency DROP CONSTRAINT loyalty_idempotency_pkey;
ALTER TABLE loyalty_idempotency ADD PRIMARY KEY (scope, idem_key);
