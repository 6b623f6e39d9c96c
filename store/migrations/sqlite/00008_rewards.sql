-- Loyalty tiers, rewards catalogue with reservations and vouchers, and referral (L-3, L-5,
-- L-7). Tier schedules and referral policies are versioned policies of a programme, each
-- citing the version of the terms that states it. Reservations hold points on the member's
-- "reserved" ledger account and one unit of stock until confirmed, cancelled or expired.
-- Customer IDs are pseudonymous; voucher and referral codes are random and carry nothing
-- about the member (D-5). Times are UTC microseconds since the epoch.

-- +goose Up
CREATE TABLE loyalty_policies (
    programme_id  TEXT NOT NULL REFERENCES loyalty_programmes (id),
    kind          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    terms_version INTEGER NOT NULL,
    definition    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (programme_id, kind, version)
);

CREATE TABLE loyalty_member_tiers (
    programme_id     TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    tier_id          TEXT NOT NULL,
    schedule_version INTEGER NOT NULL,
    since            INTEGER NOT NULL,
    PRIMARY KEY (programme_id, customer_id)
);

CREATE TABLE loyalty_tier_changes (
    id               TEXT PRIMARY KEY,
    programme_id     TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    at               INTEGER NOT NULL,
    from_tier        TEXT NOT NULL,
    to_tier          TEXT NOT NULL,
    direction        TEXT NOT NULL,
    schedule_version INTEGER NOT NULL,
    terms_version    INTEGER NOT NULL,
    metric_value     INTEGER NOT NULL,
    threshold        INTEGER NOT NULL,
    period_from      INTEGER NOT NULL,
    period_to        INTEGER NOT NULL,
    reason_fr        TEXT NOT NULL,
    reason_en        TEXT NOT NULL
);
CREATE INDEX loyalty_tier_changes_member ON loyalty_tier_changes (programme_id, customer_id, id);
CREATE INDEX loyalty_tier_changes_customer ON loyalty_tier_changes (customer_id, id);

CREATE TABLE loyalty_tier_reviews (
    programme_id TEXT NOT NULL,
    period       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (programme_id, period)
);

CREATE TABLE loyalty_rewards (
    id            TEXT PRIMARY KEY,
    programme_id  TEXT NOT NULL REFERENCES loyalty_programmes (id),
    kind          TEXT NOT NULL,
    name_fr       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    cost_points   INTEGER NOT NULL CHECK (cost_points > 0),
    stock         INTEGER CHECK (stock >= 0),
    value_cents   INTEGER NOT NULL CHECK (value_cents >= 0),
    gtin          TEXT NOT NULL,
    valid_from    INTEGER,
    valid_until   INTEGER,
    voucher_days  INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL
);
CREATE INDEX loyalty_rewards_programme ON loyalty_rewards (programme_id, id);

CREATE TABLE loyalty_reservations (
    id                 TEXT PRIMARY KEY,
    programme_id       TEXT NOT NULL,
    customer_id        TEXT NOT NULL,
    reward_id          TEXT NOT NULL REFERENCES loyalty_rewards (id),
    points             INTEGER NOT NULL CHECK (points > 0),
    status             TEXT NOT NULL,
    reference          TEXT NOT NULL,
    reserved_at        INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    settled_at         INTEGER,
    hold_tx            TEXT NOT NULL,
    settle_tx          TEXT NOT NULL,
    voucher_code       TEXT UNIQUE,
    voucher_expires_at INTEGER,
    voucher_used_at    INTEGER,
    voucher_used_ref   TEXT NOT NULL
);
CREATE INDEX loyalty_reservations_programme ON loyalty_reservations (programme_id, id);
CREATE INDEX loyalty_reservations_customer ON loyalty_reservations (customer_id, id);
CREATE INDEX loyalty_reservations_reward ON loyalty_reservations (reward_id);
CREATE INDEX loyalty_reservations_open ON loyalty_reservations (expires_at) WHERE status = 'reserved';

CREATE TABLE loyalty_referral_codes (
    programme_id TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (programme_id, customer_id)
);

CREATE TABLE loyalty_referrals (
    id             TEXT PRIMARY KEY,
    programme_id   TEXT NOT NULL,
    referrer_id    TEXT NOT NULL,
    referee_id     TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    joined_at      INTEGER NOT NULL,
    status         TEXT NOT NULL,
    first_order_id TEXT NOT NULL,
    settled_at     INTEGER,
    UNIQUE (programme_id, referee_id)
);
CREATE INDEX loyalty_referrals_referrer ON loyalty_referrals (programme_id, referrer_id);

-- +goose Down
DROP TABLE loyalty_referrals;
DROP TABLE loyalty_referral_codes;
DROP TABLE loyalty_reservations;
DROP TABLE loyalty_rewards;
DROP TABLE loyalty_tier_reviews;
DROP TABLE loyalty_tier_changes;
DROP TABLE loyalty_member_tiers;
DROP TABLE loyalty_policies;
