-- The account hierarchy: Group › Client › User (staff logins).
-- Timestamps are naive UTC written by the application (microsecond precision on both backends).

CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (group_id, name),
    -- Lets other tables check that a client belongs to the group they name.
    UNIQUE (id, group_id)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'client_admin', 'group_admin', 'support')),
    group_id BIGINT REFERENCES groups (id),
    client_id BIGINT,
    password_hash TEXT NOT NULL,
    -- Bumped to sign the user out everywhere: sessions carry the version they were issued at.
    session_version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    FOREIGN KEY (client_id, group_id) REFERENCES clients (id, group_id),
    UNIQUE (id, client_id),
    CHECK (
        (role = 'support' AND group_id IS NULL AND client_id IS NULL)
        OR (role = 'group_admin' AND group_id IS NOT NULL)
        OR (role IN ('user', 'client_admin') AND group_id IS NOT NULL AND client_id IS NOT NULL)
    )
);
CREATE INDEX users_by_client ON users (client_id);
CREATE INDEX users_by_group ON users (group_id);
