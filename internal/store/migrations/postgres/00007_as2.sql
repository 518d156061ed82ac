-- +goose Up
-- Every MDN the hub sent for an AS2 message it received, byte for byte: it proves
-- what we told the partner, and a resent Message-ID gets the same MDN again.
CREATE TABLE as2_mdns (
    partner        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    mdn_message_id TEXT NOT NULL,
    disposition    TEXT NOT NULL,
    mic            TEXT NOT NULL DEFAULT '',
    header         TEXT NOT NULL,
    body           BYTEA NOT NULL,
    async          BOOLEAN NOT NULL DEFAULT FALSE,
    url            TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (partner, message_id)
);

-- Every AS2 message the hub sent and the MDN that came back, kept raw for
-- non-repudiation of receipt.
CREATE TABLE as2_sent (
    message_id  TEXT PRIMARY KEY,
    partner     TEXT NOT NULL,
    name        TEXT NOT NULL,
    mic         TEXT NOT NULL,
    status      TEXT NOT NULL,
    disposition TEXT NOT NULL DEFAULT '',
    mdn         BYTEA,
    sent_at     TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE as2_sent;
DROP TABLE as2_mdns;
