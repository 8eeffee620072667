-- wxrisk DuckDB schema. All TIMESTAMP columns are UTC (naive). Idempotent: safe to run on every connect.

CREATE SEQUENCE IF NOT EXISTS import_seq START 1;

-- One row per import attempt that wrote something (or was skipped as unchanged).
CREATE TABLE IF NOT EXISTS import_ledger (
    import_id        BIGINT PRIMARY KEY,
    kind             TEXT NOT NULL,          -- roads | incidents | weather
    path             TEXT NOT NULL,
    file_hash        TEXT NOT NULL,          -- sha256 of the file bytes
    window_key       TEXT NOT NULL,          -- what a newer file replaces (see store.ledger)
    rows_read        BIGINT,
    rows_kept        BIGINT,
    rows_quarantined BIGINT,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    status           TEXT NOT NULL,          -- imported | replaced
    details          TEXT                    -- JSON: missing variables, unmatched counts, ...
);

-- Rows an importer could not read, kept with their reason (never silently dropped).
CREATE TABLE IF NOT EXISTS quarantine (
    import_id  BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    path       TEXT NOT NULL,
    row_number BIGINT,                       -- 1-based data row in the source file (header excluded)
    reason     TEXT NOT NULL,
    raw        TEXT                          -- the row as read, JSON
);

-- Road segments of at most settings.segment_max_km.
CREATE TABLE IF NOT EXISTS segments (
    segment_id        TEXT PRIMARY KEY,      -- stable: same input, same id
    source            TEXT NOT NULL,         -- window key of the roads import (replaced by a newer file)
    feature_id        TEXT,                  -- the source feature's id (OSM id)
    route_id          TEXT,                  -- the chain of connected features of one road number
    road_ref          TEXT,                  -- road number, e.g. G4
    name              TEXT,
    highway           TEXT,                  -- OSM highway class
    province          TEXT,                  -- admin area where known
    km_from           DOUBLE NOT NULL,       -- K-stake of the start [km from the start of the route]
    km_to             DOUBLE NOT NULL,
    length_km         DOUBLE NOT NULL,
    lon               DOUBLE NOT NULL,       -- midpoint, WGS84
    lat               DOUBLE NOT NULL,
    path_json         TEXT NOT NULL,         -- [[lon, lat], ...] of the piece, for maps
    bridge            BOOLEAN DEFAULT FALSE,
    tunnel            BOOLEAN DEFAULT FALSE,
    is_ramp           BOOLEAN DEFAULT FALSE, -- *_link ways
    oneway            BOOLEAN,
    lanes             INTEGER,
    maxspeed_kmh      DOUBLE,
    elevation_m       DOUBLE,
    grade_pct         DOUBLE,                -- absolute longitudinal grade [%]
    curvature_deg_per_km DOUBLE,
    aadt              DOUBLE,                -- annual average daily traffic [vehicles/day]
    synthetic         BOOLEAN DEFAULT FALSE,
    import_id         BIGINT
);

CREATE TABLE IF NOT EXISTS incidents (
    incident_id      TEXT PRIMARY KEY,
    occurred_at      TIMESTAMP NOT NULL,     -- UTC
    lat              DOUBLE,
    lon              DOUBLE,
    road_ref         TEXT,
    severity         TEXT,                   -- fatal | serious | slight | damage_only
    surface          TEXT,                   -- dry | wet | snow | ice | frost | slush | flood | unknown
    weather          TEXT,                   -- clear | rain | snow | freezing_rain | fog | wind | other
    vehicles         INTEGER,
    casualties       INTEGER,
    segment_id       TEXT,                   -- NULL when unmatched within tolerance
    match_distance_m DOUBLE,
    source           TEXT NOT NULL,          -- window key of the import
    synthetic        BOOLEAN DEFAULT FALSE,
    import_id        BIGINT
);

-- Weather sampled onto segments, one row per segment and hour (never the whole grid).
CREATE TABLE IF NOT EXISTS weather_hourly (
    segment_id  TEXT NOT NULL,
    valid_time  TIMESTAMP NOT NULL,          -- UTC; accumulations are over the hour ending here
    kind        TEXT NOT NULL,               -- analysis | forecast
    issued_at   TIMESTAMP,                   -- forecast issue time (UTC); NULL for analyses
    t2m_c       REAL,                        -- 2 m air temperature [°C]
    d2m_c       REAL,                        -- 2 m dew point [°C]
    skt_c       REAL,                        -- skin temperature [°C]
    precip_mm   REAL,                        -- precipitation in the hour [mm]
    snowfall_mm REAL,                        -- snowfall water equivalent in the hour [mm]
    ptype       SMALLINT,                    -- ECMWF codes: 0 none 1 rain 3 fzra 5 snow 6 wet snow 7 mix 8 pellets 12 fzdz
    wind_ms     REAL,                        -- 10 m wind speed [m/s]
    vis_m       REAL,                        -- visibility [m]
    source      TEXT NOT NULL,               -- window key of the import
    import_id   BIGINT
);

-- A scoring run: one board. Published whole or not at all (see store.publish).
CREATE TABLE IF NOT EXISTS runs (
    run_id            TEXT PRIMARY KEY,
    created_at        TIMESTAMP NOT NULL,
    start_time        TIMESTAMP NOT NULL,    -- first valid hour (UTC)
    hours             INTEGER NOT NULL,
    weather_kind      TEXT,                  -- forecast | analysis
    weather_issued_at TIMESTAMP,
    model_version     TEXT,
    status            TEXT NOT NULL,         -- running | complete | failed
    missing_inputs    TEXT,                  -- JSON list of unavailable inputs/features
    synthetic         BOOLEAN DEFAULT FALSE,
    message           TEXT
);

CREATE TABLE IF NOT EXISTS risk (
    run_id         TEXT NOT NULL,
    segment_id     TEXT NOT NULL,
    valid_time     TIMESTAMP NOT NULL,       -- UTC
    risk           DOUBLE NOT NULL,          -- calibrated P(at least one incident in the hour)
    tier           TEXT NOT NULL,            -- none | blue | yellow | orange | red
    top_drivers    TEXT,                     -- three main drivers, Chinese
    top_drivers_en TEXT,                     -- the same, English
    ice_risk       DOUBLE                    -- calibrated P(at least one ice/snow incident in the hour); NULL
                                             -- when the model gives none
);
-- One rule resolves weather (wxrisk.features.build: forecast first, then analysis, newest import);
-- the older view with a rule of its own goes.
DROP VIEW IF EXISTS weather_segment_hour;

-- Databases made before ice_risk existed gain the column (NULL for their runs).
ALTER TABLE risk ADD COLUMN IF NOT EXISTS ice_risk DOUBLE;
-- The official warnings of the segment-hour, shown apart from the tier (board room):
-- none | yellow | orange | red; NULL for runs made before they existed.
ALTER TABLE risk ADD COLUMN IF NOT EXISTS icing_warning TEXT;
ALTER TABLE risk ADD COLUMN IF NOT EXISTS visibility_warning TEXT;
