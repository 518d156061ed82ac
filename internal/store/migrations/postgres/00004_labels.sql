-- +goose Up
-- A packed shipment waiting for, or holding, its labels. The label handler inserts
-- it in the consumer's transaction; the label workers claim it (state 'working'
-- with a lease), buy a label per package outside any transaction, and finish it.
CREATE TABLE label_shipments (
    shipment_id  TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    message_uuid TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    state        TEXT NOT NULL,
    lease_until  TIMESTAMPTZ,
    lease_owner  TEXT NOT NULL DEFAULT '',
    not_before   TIMESTAMPTZ,
    detail       TEXT NOT NULL DEFAULT '',
    -- waiting_for: the accounts a deferred shipment waits for (comma-separated).
    waiting_for  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX label_shipments_state ON label_shipments (state, created_at);

-- One carrier call that may create a label: committed before the call, keyed by
-- (shipment, package, attempt). id is the idempotency key the carrier sees.
CREATE TABLE label_requests (
    id                  TEXT PRIMARY KEY,
    shipment_id         TEXT NOT NULL,
    package_id          TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    carrier             TEXT NOT NULL,
    account             TEXT NOT NULL,
    service             TEXT NOT NULL,
    rule                TEXT NOT NULL,
    request_hash        TEXT NOT NULL,
    state               TEXT NOT NULL,
    tracking_number     TEXT NOT NULL DEFAULT '',
    carrier_shipment_id TEXT NOT NULL DEFAULT '',
    label_format        TEXT NOT NULL DEFAULT '',
    label               BYTEA,
    label_path          TEXT NOT NULL DEFAULT '',
    cost_amount         TEXT NOT NULL DEFAULT '',
    cost_currency       TEXT NOT NULL DEFAULT '',
    error               TEXT NOT NULL DEFAULT '',
    error_class         TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (shipment_id, package_id, attempt)
);
CREATE INDEX label_requests_state ON label_requests (state, updated_at);
CREATE INDEX label_requests_tracking ON label_requests (tracking_number);

-- Orders cancelled before (or while) their shipments reach the label service: a
-- shipment of one is never labelled.
CREATE TABLE label_cancelled_orders (
    order_id     TEXT PRIMARY KEY,
    cancelled_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE label_cancelled_orders;
DROP TABLE label_requests;
DROP TABLE label_shipments;
