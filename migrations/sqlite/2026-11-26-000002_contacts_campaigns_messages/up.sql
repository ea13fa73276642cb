-- Contacts, campaigns and the outbox (messages: the queue and the delivery log in one).

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_user_id BIGINT NOT NULL,
    -- Copied from the owner so a client's or group's contacts page is one index range.
    client_id BIGINT NOT NULL,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    FOREIGN KEY (owner_user_id, client_id) REFERENCES users (id, client_id),
    FOREIGN KEY (client_id, group_id) REFERENCES clients (id, group_id),
    UNIQUE (owner_user_id, email)
);
-- Keyset pages ordered by address, for an owner (the unique index above), a client, a group.
CREATE INDEX contacts_client_page ON contacts (client_id, email, id);
CREATE INDEX contacts_group_page ON contacts (group_id, email, id);
CREATE INDEX contacts_by_email ON contacts (email);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    client_id BIGINT NOT NULL,
    owner_user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    from_name TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'sent')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    FOREIGN KEY (owner_user_id, client_id) REFERENCES users (id, client_id),
    FOREIGN KEY (client_id, group_id) REFERENCES clients (id, group_id)
);
CREATE INDEX campaigns_owner_page ON campaigns (owner_user_id, id);
CREATE INDEX campaigns_client_page ON campaigns (client_id, id);
CREATE INDEX campaigns_group_page ON campaigns (group_id, id);

CREATE TABLE messages (
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
-- The delivery worker's claim query: due rows in order.
CREATE INDEX messages_due ON messages (status, next_attempt_at, id);
CREATE INDEX messages_by_campaign ON messages (campaign_id, status);
-- Linking recipients to their messages when a send is queued.
CREATE INDEX messages_by_campaign_contact ON messages (campaign_id, contact_id);
-- Admin › Activity › Emails, newest first, per group.
CREATE INDEX messages_group_recent ON messages (group_id, created_at, id);
CREATE INDEX messages_client_recent ON messages (client_id, created_at, id);

CREATE TABLE campaign_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'suppressed')),
    -- The broadest level that suppressed this recipient at send time.
    suppressed_level TEXT CHECK (suppressed_level IN ('group', 'client', 'user')),
    message_id BIGINT REFERENCES messages (id),
    added_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_page ON campaign_recipients (campaign_id, id);
