-- Customer portal (issue 3 item 7): single-use sign-in links sent by e-mail and customer
-- sessions. Tokens are stored only as SHA-256 hashes; rows hold IDs and times only (D-5)
-- and go with the customer when they are erased (ON DELETE CASCADE). Existing installations
-- get the "subject" role, the customer acting on their own data through the portal.

-- +goose Up
CREATE TABLE portal_links (
    token_hash  BYTEA PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX portal_links_customer ON portal_links (customer_id, created_at);
CREATE INDEX portal_links_expiry ON portal_links (expires_at);

CREATE TABLE portal_sessions (
    id_hash     BYTEA PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX portal_sessions_customer ON portal_sessions (customer_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

-- The subject role (privacy.DefaultGrants) for a registry stored before it existed, when
-- the purposes it needs are declared.
UPDATE registry
SET document = jsonb_set(document::jsonb, '{grants}',
        (document::jsonb -> 'grants') || '[{"role":"subject","purposes":["data_protection","loyalty"],"actions":["read","update","export"]}]'::jsonb)::text,
    updated_at = (extract(epoch FROM now()) * 1000000)::bigint
WHERE jsonb_typeof(document::jsonb -> 'grants') = 'array'
  AND NOT (document::jsonb -> 'grants') @> '[{"role":"subject"}]'::jsonb
  AND (document::jsonb -> 'purposes') @> '[{"name":"data_protection"},{"name":"loyalty"}]'::jsonb;

-- +goose Down
-- The subject grant stays in the registry: without the portal no actor holds it.
DROP TABLE portal_sessions;
DROP TABLE portal_links;
