-- +goose Up
-- Every payload the hub accepted from outside, keyed by its dedupe key. The row and the
-- inbound message are written in one transaction: accept = durable.
CREATE TABLE ingest (
    id              BIGSERIAL PRIMARY KEY,
    source          TEXT NOT NULL,
    partner         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    message_uuid    TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    order_id        TEXT NOT NULL DEFAULT '',
    content_type    TEXT NOT NULL DEFAULT '',
    payload         BYTEA NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (source, partner, idempotency_key)
);

-- The stable hub order id of each source order.
CREATE TABLE order_ids (
    channel     TEXT NOT NULL,
    partner     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    order_id    TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, partner, external_id)
);

-- Where each order has been: one row per stage reached.
CREATE TABLE order_trail (
    id             BIGSERIAL PRIMARY KEY,
    order_id       TEXT NOT NULL,
    stage          TEXT NOT NULL,
    topic          TEXT NOT NULL DEFAULT '',
    handler        TEXT NOT NULL DEFAULT '',
    message_uuid   TEXT NOT NULL DEFAULT '',
    correlation_id TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX order_trail_order ON order_trail (order_id, id);

-- Idempotency keys a handler has processed, written in the handler's own transaction.
CREATE TABLE processed (
    handler         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    message_uuid    TEXT NOT NULL,
    processed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (handler, idempotency_key)
);

-- The dead-letter queue: the original message and why it failed.
CREATE TABLE dlq_entries (
    id             BIGSERIAL PRIMARY KEY,
    message_uuid   TEXT NOT NULL,
    handler        TEXT NOT NULL,
    topic          TEXT NOT NULL,
    error_class    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    error_chain    TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    payload        BYTEA NOT NULL,
    metadata       TEXT NOT NULL,
    order_id       TEXT NOT NULL DEFAULT '',
    correlation_id TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'open',
    times_failed   INTEGER NOT NULL DEFAULT 1,
    failed_at      TIMESTAMPTZ NOT NULL,
    last_failed_at TIMESTAMPTZ NOT NULL,
    replay_count   INTEGER NOT NULL DEFAULT 0,
    replayed_at    TIMESTAMPTZ,
    UNIQUE (handler, message_uuid)
);
CREATE INDEX dlq_entries_status ON dlq_entries (status, id);

-- +goose Down
DROP TABLE dlq_entries;
DROP TABLE processed;
DROP TABLE order_trail;
DROP TABLE order_ids;
DROP TABLE ingest;
