-- +goose Up
-- The newest version of each source order the hub has seen (Shopify's updated_at):
-- a late or replayed update never overwrites a newer one.
CREATE TABLE source_versions (
    channel     TEXT NOT NULL,
    partner     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, partner, external_id)
);

-- +goose Down
DROP TABLE source_versions;
