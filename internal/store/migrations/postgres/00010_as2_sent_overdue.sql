-- +goose Up
-- mdn_overdue: the hub gave up waiting for the asynchronous MDN of this message
-- (the sweep found it overdue, and its delivery was resent or parked). A late MDN
-- that verifies against the kept MIC may still settle it once; the flag is what
-- says so, not the text of status. Rows marked before this column existed are
-- found by the status the sweep wrote then.
ALTER TABLE as2_sent ADD COLUMN mdn_overdue BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE as2_sent SET mdn_overdue = TRUE WHERE status LIKE 'failed: asynchronous MDN overdue%';
-- The send of a delivery is looked up by its delivery, to resend under the same
-- Message-ID.
CREATE INDEX as2_sent_delivery ON as2_sent (delivery_id);

-- +goose Down
DROP INDEX as2_sent_delivery;
ALTER TABLE as2_sent DROP COLUMN mdn_overdue;
