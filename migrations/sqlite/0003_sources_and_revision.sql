-- Every record of every source that describes an actor. An import upserts on
-- (source, source_ref); a SIRET already known from another source adds a row here instead of
-- a second actor. `fields_hash` is the hash of what this source last said, so that a re-import
-- of the same data counts as unchanged.
CREATE TABLE actor_sources (
    source      TEXT    NOT NULL,
    source_ref  TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    fields_hash TEXT    NOT NULL DEFAULT '',
    first_seen  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_seen   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (source, source_ref)
) WITHOUT ROWID;
CREATE INDEX actor_sources_actor ON actor_sources (actor_id);
INSERT INTO actor_sources (source, source_ref, actor_id)
    SELECT source, source_ref, id FROM actors WHERE source_ref IS NOT NULL;

-- Set when the source's coordinates contradicted its commune and another location was used.
ALTER TABLE actors ADD COLUMN location_flag TEXT
    CHECK (location_flag IS NULL OR location_flag IN ('outside-commune', 'outside-france'));

-- A counter bumped by every change to actors, whoever makes it (an import in another process,
-- the administration API, SQL by hand): running servers poll it and reload when it moves.
CREATE TABLE store_revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO store_revision (id, value) VALUES (1, 0);
CREATE TRIGGER actors_revision_insert AFTER INSERT ON actors
BEGIN UPDATE store_revision SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER actors_revision_update AFTER UPDATE ON actors
BEGIN UPDATE store_revision SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER actors_revision_delete AFTER DELETE ON actors
BEGIN UPDATE store_revision SET value = value + 1 WHERE id = 1; END;

-- One row per import, written in the import's own transaction: present only if it committed.
CREATE TABLE import_runs (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    input       TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    read        INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    rejected    INTEGER NOT NULL
);
