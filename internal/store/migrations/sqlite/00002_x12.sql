-- +goose Up
-- Interchanges received per partner and sender, to recognise a file sent twice.
CREATE TABLE x12_interchanges (
    partner        TEXT NOT NULL,
    sender         TEXT NOT NULL,
    control_number TEXT NOT NULL,
    message_uuid   TEXT NOT NULL,
    received_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (partner, sender, control_number)
);

-- Gap-free, never reused control numbers per partner and kind (ISA, GS, ST): taken in
-- the transaction that publishes what carries them, so a rollback returns the number.
CREATE TABLE control_numbers (
    partner TEXT NOT NULL,
    kind    TEXT NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (partner, kind)
);

-- +goose Down
DROP TABLE control_numbers;
DROP TABLE x12_interchanges;
