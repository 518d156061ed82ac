-- +goose Up
-- A file on its way to a partner (an acknowledgement, an 856, a 945). The delivery
-- handler inserts it in the consumer's transaction; delivery workers claim it under a
-- lease and put it on the partner's server outside any transaction. id is the
-- message's UUID, so a redelivered message is one delivery.
CREATE TABLE deliveries (
    id           TEXT PRIMARY KEY,
    partner      TEXT NOT NULL,
    via          TEXT NOT NULL,
    name         TEXT NOT NULL,
    handler      TEXT NOT NULL,
    topic        TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    metadata     TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    lease_until  TIMESTAMPTZ,
    lease_owner  TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    remote_path  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

-- +goose Down
DROP TABLE deliveries;
