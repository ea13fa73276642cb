-- Preference center settings: one row of group defaults, optional rows of client overrides.
-- A NULL setting means "inherit": a client row from its group's row, a group row from the
-- built-in defaults.
CREATE TABLE preference_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    client_id BIGINT,
    -- Comma-separated levels offered on the page, e.g. 'user,group'.
    levels_offered TEXT,
    one_click_level TEXT CHECK (one_click_level IN ('group', 'client', 'user')),
    confirmation_email BOOLEAN,
    ask_reason BOOLEAN,
    display_name TEXT,
    accent_colour TEXT,
    custom_message TEXT,
    updated_at TIMESTAMP NOT NULL,
    updated_by_user_id BIGINT REFERENCES users (id),
    FOREIGN KEY (client_id, group_id) REFERENCES clients (id, group_id)
);
CREATE UNIQUE INDEX preference_settings_group_default ON preference_settings (group_id)
    WHERE client_id IS NULL;
CREATE UNIQUE INDEX preference_settings_client_override ON preference_settings (client_id)
    WHERE client_id IS NOT NULL;

-- Failed sign-ins, per account and per network address, to slow down guessing. Kept in the
-- database so every instance behind a load balancer sees the same count.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    throttle_key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (throttle_key, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);

-- Sessions ended by signing out. Sessions are signed tokens; this list stops a copied cookie
-- from working after its owner signed out. Rows are dropped once the token would have expired.
CREATE TABLE revoked_sessions (
    session_id TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
