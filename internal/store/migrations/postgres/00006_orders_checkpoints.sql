-- +goose Up
-- Each order as the hub released it to the fulfilment core (paklog.order.v1): what
-- goes back to the source when it ships (an 856 needs the order's parties and lines).
CREATE TABLE orders (
    order_id    TEXT PRIMARY KEY,
    payload     BYTEA NOT NULL,
    released_at TIMESTAMPTZ NOT NULL
);

-- How far a poll of a source has got (a shop's reconciliation watermark, a Magento
-- store's cursor). Saved only after what was read is committed.
CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE orders;
