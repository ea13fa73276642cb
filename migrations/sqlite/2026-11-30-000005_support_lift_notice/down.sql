-- Back to the kinds before support_lift_notice; such notices are dropped (nothing references
-- them). The same rebuild as up.sql.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DELETE FROM messages WHERE kind = 'support_lift_notice';
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('campaign', 'opt_out_confirmation', 'opt_in_request')),
    group_id BIGINT NOT NULL REFERENCES groups (id),
    client_id BIGINT REFERENCES clients (id),
    sender_user_id BIGINT REFERENCES users (id),
    campaign_id BIGINT REFERENCES campaigns (id),
    contact_id BIGINT REFERENCES contacts (id),
    to_email TEXT NOT NULL,
    -- Kind-specific facts as JSON, e.g. which opt-out a confirmation confirms.
    payload TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker's claim: which worker holds the row and until when (then others may take it).
    claimed_by TEXT,
    claim_expires_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
-- Ids must never be reused (unsubscribe links name a message by its id): the new table
-- continues the old one's sequence, even past rows that no longer exist.
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_new', seq FROM sqlite_sequence WHERE name = 'messages';
INSERT INTO messages_new SELECT * FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
-- The delivery worker's claim query: due rows in order.
CREATE INDEX messages_due ON messages (status, next_attempt_at, id);
CREATE INDEX messages_by_campaign ON messages (campaign_id, status);
-- Linking recipients to their messages when a send is queued.
CREATE INDEX messages_by_campaign_contact ON messages (campaign_id, contact_id);
-- Admin › Activity › Emails, newest first, per group.
CREATE INDEX messages_group_recent ON messages (group_id, created_at, id);
CREATE INDEX messages_client_recent ON messages (client_id, created_at, id);
COMMIT;
PRAGMA foreign_keys = ON;
