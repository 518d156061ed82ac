-- +goose Up
-- AS2 messages the hub sent asking for an asynchronous MDN that has not come yet
-- (connectors/as2 PendingStore): the MDN POSTed to /as2 claims its row by partner
-- and Message-ID, and the sweep resends or parks the rows whose deadline passed. In
-- the database, so that a receipt arriving after a restart, or at another hub
-- instance, still finds its message.
CREATE TABLE as2_pending (
    partner    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    mic        TEXT NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL,
    deadline   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (partner, message_id)
);
CREATE INDEX as2_pending_deadline ON as2_pending (deadline);

-- The delivery (deliveries.id) an AS2 message carries, so that its asynchronous
-- MDN settles that delivery; and the MDN's header fields (JSON), whose
-- Content-Type holds the boundary and micalg needed to verify the kept MDN again.
ALTER TABLE as2_sent ADD COLUMN delivery_id TEXT NOT NULL DEFAULT '';
ALTER TABLE as2_sent ADD COLUMN mdn_header TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE as2_sent DROP COLUMN mdn_header;
ALTER TABLE as2_sent DROP COLUMN delivery_id;
DROP TABLE as2_pending;
