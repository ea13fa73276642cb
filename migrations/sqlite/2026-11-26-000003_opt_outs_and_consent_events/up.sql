-- Active opt-outs (the fast index) and consent events (the evidence, append-only).

CREATE TABLE opt_outs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    level TEXT NOT NULL CHECK (level IN ('group', 'client', 'user')),
    -- The group's id for level 'group', a client's id for 'client', a user's id for 'user'.
    scope_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    source TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    campaign_id BIGINT REFERENCES campaigns (id),
    message_id BIGINT REFERENCES messages (id),
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    CHECK (level <> 'group' OR scope_id = group_id)
);
-- One active opt-out per (address, group, level, scope); led by the address so the suppression
-- check for one address, or a join against many, is an index look-up.
CREATE UNIQUE INDEX opt_outs_one_active ON opt_outs (email, group_id, level, scope_id);
-- Admin › Activity › Opt outs: keyset pages newest first, per group, per scope, and overall.
CREATE INDEX opt_outs_group_recent ON opt_outs (group_id, created_at, id);
CREATE INDEX opt_outs_scope_recent ON opt_outs (level, scope_id, created_at, id);
CREATE INDEX opt_outs_recent ON opt_outs (created_at, id);

CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    email TEXT NOT NULL,
    -- opt_out, opt_in, opt_in_request_sent, confirmation_sent
    kind TEXT NOT NULL,
    level TEXT CHECK (level IN ('group', 'client', 'user')),
    scope_id BIGINT,
    -- preference_center, one_click, manual, import, support, ...
    source TEXT NOT NULL,
    -- user (signed-in staff), recipient (through a signed link), support, system
    actor_kind TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    campaign_id BIGINT REFERENCES campaigns (id),
    message_id BIGINT REFERENCES messages (id),
    reason TEXT,
    ip_address TEXT,
    user_agent TEXT,
    -- JSON: the written consent for a support opt-in, the file name for an import, ...
    evidence TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX consent_events_by_address ON consent_events (email, created_at, id);
CREATE INDEX consent_events_group_recent ON consent_events (group_id, created_at, id);

-- The evidence is never rewritten: refuse UPDATE and DELETE in the database itself.
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
