-- Reference territories (communes, EPCI, départements, régions). Geometry is GeoJSON text:
-- the spatial work happens in the in-memory index, so both backends store plain columns.
CREATE TABLE territories (
    kind            TEXT    NOT NULL CHECK (kind IN ('commune', 'epci', 'departement', 'region')),
    code            TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    population      INTEGER NOT NULL CHECK (population >= 0),
    commune_count   INTEGER NOT NULL,
    postcodes       TEXT    NOT NULL DEFAULT '',  -- space-separated
    epci            TEXT,
    departement     TEXT,
    departements    TEXT    NOT NULL DEFAULT '',  -- space-separated, EPCI only
    region          TEXT,
    area_m2         REAL,                         -- NULL when the outline is unknown
    point_lon       REAL,                         -- NULL when no honest point is known
    point_lat       REAL,
    point_origin    TEXT,
    geometry_origin TEXT,
    geometry        TEXT,
    PRIMARY KEY (kind, code)
);

CREATE TABLE categories (
    position INTEGER NOT NULL UNIQUE,
    slug     TEXT    NOT NULL PRIMARY KEY,
    parent   TEXT    REFERENCES categories (slug),
    label_fr TEXT    NOT NULL,
    label_en TEXT    NOT NULL,
    colour   TEXT    NOT NULL,
    icon     TEXT    NOT NULL
);

CREATE TABLE actors (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   TEXT,
    categories    TEXT    NOT NULL CHECK (categories <> ''),  -- space-separated category slugs
    family        TEXT    NOT NULL CHECK (family IN ('association', 'cooperative', 'mutuelle', 'fondation', 'entreprise-ess', 'autre')),
    is_tiers_lieu INTEGER NOT NULL DEFAULT 0 CHECK (is_tiers_lieu IN (0, 1)),
    is_ptce       INTEGER NOT NULL DEFAULT 0 CHECK (is_ptce IN (0, 1)),
    is_reseau     INTEGER NOT NULL DEFAULT 0 CHECK (is_reseau IN (0, 1)),
    siret         TEXT    CHECK (siret IS NULL OR length(siret) = 14),
    street        TEXT,
    postcode      TEXT,
    commune_code  TEXT    NOT NULL,
    lon           REAL    NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat           REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
    precision     TEXT    NOT NULL CHECK (precision IN ('address', 'street', 'commune', 'manual')),
    website       TEXT,
    email         TEXT,
    phone         TEXT,
    opening_hours TEXT,
    accessibility TEXT,
    source        TEXT    NOT NULL,
    source_ref    TEXT,
    demo          INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),
    status        TEXT    NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'pending', 'archived')),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE UNIQUE INDEX actors_source_ref ON actors (source, source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX actors_commune ON actors (commune_code);
CREATE INDEX actors_siret ON actors (siret) WHERE siret IS NOT NULL;

CREATE INDEX actors_status ON actors (status);

-- What first-start seeding has done, so that later starts reuse the store.
CREATE TABLE seed_runs (
    name       TEXT NOT NULL PRIMARY KEY,
    detail     TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
