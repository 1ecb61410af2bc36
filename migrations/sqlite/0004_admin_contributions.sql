-- Administrator tokens: only the SHA-256 of each token is kept (hex), never the token.
-- A name is unique among tokens that are not revoked, so a revoked name can be reused.
CREATE TABLE admin_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX admin_tokens_active_name ON admin_tokens (name) WHERE revoked_at IS NULL;

-- Proposals from the public: a new actor, a correction or a closure. Nothing here is public;
-- `contributor_email` in particular is for the moderators' follow-up only.
CREATE TABLE contributions (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('new', 'correction', 'closure')),
    actor_id          INTEGER REFERENCES actors (id) ON DELETE SET NULL,
    proposed          TEXT    NOT NULL,            -- JSON object of proposed values
    message           TEXT,
    contributor_email TEXT,
    status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    decided_at        TEXT,
    decided_by        TEXT,
    reason            TEXT,
    applied           TEXT,                        -- JSON object of the values approved
    result_actor_id   INTEGER REFERENCES actors (id) ON DELETE SET NULL
);
CREATE INDEX contributions_status ON contributions (status, id);

-- Who changed what and when, per actor: `changes` is a JSON object
-- {"field": {"before": …, "after": …}} of the fields that changed.
CREATE TABLE actor_history (
    id              INTEGER PRIMARY KEY,
    actor_id        INTEGER NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    at              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    author          TEXT    NOT NULL,
    action          TEXT    NOT NULL CHECK (action IN ('create', 'update', 'archive')),
    contribution_id INTEGER REFERENCES contributions (id) ON DELETE SET NULL,
    changes         TEXT    NOT NULL
);
CREATE INDEX actor_history_actor ON actor_history (actor_id, id);
