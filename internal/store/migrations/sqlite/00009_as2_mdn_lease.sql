-- +goose Up
-- The lease of an asynchronous MDN being delivered (adapters/as2): the receiver
-- sending it owns it until lease_until, renewed before each wait between
-- attempts. A pending MDN with no lease, or one that has run out (the hub stopped
-- or crashed mid-delivery), is taken over by the next resume of any hub instance
-- on this database, and only one of them gets it.
ALTER TABLE as2_mdns ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE as2_mdns ADD COLUMN lease_until TIMESTAMP;
CREATE INDEX as2_mdns_status ON as2_mdns (status, updated_at);

-- +goose Down
DROP INDEX as2_mdns_status;
ALTER TABLE as2_mdns DROP COLUMN lease_until;
ALTER TABLE as2_mdns DROP COLUMN lease_owner;
