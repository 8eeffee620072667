-- Board tables: teams, stretches, their measures and the dispatch plan. UTC timestamps.

CREATE TABLE IF NOT EXISTS teams (
    team_id  TEXT PRIMARY KEY,
    name     TEXT,
    province TEXT,
    lon      DOUBLE NOT NULL,
    lat      DOUBLE NOT NULL,
    cars     INTEGER NOT NULL,               -- patrol cars available
    source   TEXT
);

CREATE TABLE IF NOT EXISTS stretches (
    run_id             TEXT NOT NULL,
    stretch_id         TEXT NOT NULL,
    road_ref           TEXT,
    route_id           TEXT,                  -- the route its K-stakes are counted along
    name               TEXT,
    province           TEXT,
    km_from            DOUBLE,                -- K-stakes [km]
    km_to              DOUBLE,
    length_km          DOUBLE,
    n_segments         INTEGER,
    onset              TIMESTAMP,             -- first hour at or above the board's minimum tier (stretch.min_tier; hours are labelled by their end)
    peak_time          TIMESTAMP,
    end_time           TIMESTAMP,             -- last hour at or above the minimum tier
    tier               TEXT,                  -- blue | yellow | orange | red (the highest reached)
    peak_risk          DOUBLE,                -- highest weather risk of a segment-hour (ice_risk, else risk above normal)
    expected_incidents DOUBLE,                -- sum of risk (any incident) over segments and hours
    conditions         TEXT,                  -- JSON list: freezing_rain, snow, black_ice, fog, grade, bridge, cross_province
    lon                DOUBLE,                -- centre, for maps
    lat                DOUBLE,
    segment_ids        TEXT,                  -- JSON list
    reasons_zh         TEXT,
    reasons_en         TEXT,
    tier_onsets        TEXT,                  -- JSON {tier: first hour at or above it (UTC ISO)}
    provinces          TEXT,                  -- JSON list, most segments first
    expected_weather_incidents DOUBLE,        -- sum of weather risk over segments and hours (what ranks)
    icing_warning      TEXT,                  -- highest road-icing warning on it in its window: none | yellow | orange | red
    visibility_warning TEXT,                  -- highest visibility control level: none | yellow | orange | red
    warning_onsets     TEXT,                  -- JSON {icing|visibility: {level: first hour at or above it (UTC ISO)}}
    due_at             TIMESTAMP,             -- when its first measure starts
    priority           INTEGER                -- 1 = the teams go here first
);
-- Boards made before the priority list gain its columns (NULL for their rows).
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS expected_weather_incidents DOUBLE;
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS icing_warning TEXT;
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS visibility_warning TEXT;
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS warning_onsets TEXT;
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS due_at TIMESTAMP;
ALTER TABLE stretches ADD COLUMN IF NOT EXISTS priority INTEGER;

CREATE TABLE IF NOT EXISTS stretch_measures (
    run_id     TEXT NOT NULL,
    stretch_id TEXT NOT NULL,
    measure_id TEXT NOT NULL,                 -- playbook key, e.g. police_escort
    label_zh   TEXT,
    label_en   TEXT,
    start_at   TIMESTAMP,                     -- when it must start
    lead_hours DOUBLE,
    reason_zh  TEXT,
    reason_en  TEXT,
    priority   INTEGER
);

CREATE TABLE IF NOT EXISTS dispatch (
    run_id     TEXT NOT NULL,
    stretch_id TEXT NOT NULL,
    team_id    TEXT,                          -- NULL when uncovered
    cars       INTEGER,
    travel_min DOUBLE,
    depart_by  TIMESTAMP,
    arrive_by  TIMESTAMP,
    status     TEXT NOT NULL,                 -- assigned | unreachable | uncovered
    cars_needed INTEGER                       -- patrol cars the stretch's tier needs
);
