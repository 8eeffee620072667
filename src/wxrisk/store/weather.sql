-- Weather room. All times UTC (naive).

-- Stations and points whose series are stored once (not fanned out to the segments).
CREATE TABLE IF NOT EXISTS weather_stations (
    station_id   TEXT PRIMARY KEY,           -- GHCN id, the mapping's id, or openmeteo:<lat>N_<lon>E
    name         TEXT,
    lon          DOUBLE NOT NULL,            -- WGS84 [degrees]
    lat          DOUBLE NOT NULL,
    elevation_m  DOUBLE,                     -- station height [m above sea level]; NULL: unknown
    resolution   TEXT NOT NULL,              -- hourly | daily
    reach_km     DOUBLE NOT NULL,            -- serves segments at most this far [km]
    source       TEXT NOT NULL,              -- window key of the import that wrote it
    import_id    BIGINT
);

-- Hourly station/point series, canonical units (as weather_hourly), one row per station and hour.
CREATE TABLE IF NOT EXISTS station_hourly (
    station_id  TEXT NOT NULL,
    valid_time  TIMESTAMP NOT NULL,          -- UTC; amounts are over the hour ending here
    kind        TEXT NOT NULL,               -- analysis
    issued_at   TIMESTAMP,
    t2m_c       REAL,                        -- at the station's height [°C]
    d2m_c       REAL,
    skt_c       REAL,
    precip_mm   REAL,
    snowfall_mm REAL,                        -- water equivalent [mm]
    ptype       SMALLINT,
    wind_ms     REAL,
    vis_m       REAL,
    source      TEXT NOT NULL,
    import_id   BIGINT
);

-- Daily station values (GHCN-Daily and daily station CSVs). Never spread into hours.
CREATE TABLE IF NOT EXISTS station_daily (
    station_id    TEXT NOT NULL,
    day           DATE NOT NULL,             -- the station's own observation day (local)
    tmax_c        REAL,                      -- daily maximum temperature [°C]
    tmin_c        REAL,
    tavg_c        REAL,
    precip_mm     REAL,                      -- precipitation of the day [mm]
    snowfall_mm   REAL,                      -- new snow of the day, water equivalent [mm]
    snow_depth_cm REAL,                      -- snow on the ground [cm]
    wind_ms       REAL,                      -- daily mean wind [m/s]
    source        TEXT NOT NULL,
    import_id     BIGINT
);

-- Each segment's nearest station of each resolution within that station's reach.
CREATE TABLE IF NOT EXISTS segment_station (
    segment_id   TEXT NOT NULL,
    station_id   TEXT NOT NULL,
    resolution   TEXT NOT NULL,              -- hourly | daily
    distance_km  DOUBLE NOT NULL,            -- midpoint to station, great circle [km]
    height_m     DOUBLE,                     -- segment minus station height [m]; NULL: one unknown
    t_offset_c   DOUBLE NOT NULL             -- lapse-rate temperature adjustment [°C] (0 if height unknown)
);

-- Every segment-hour of weather: grids sampled onto segments (weather_hourly) and station
-- series through the nearest-station map, temperature lapse-adjusted (dew point capped at it).
CREATE OR REPLACE VIEW weather_rows AS
SELECT segment_id, valid_time, kind, issued_at, t2m_c, d2m_c, skt_c, precip_mm, snowfall_mm, ptype,
       wind_ms, vis_m, source, import_id
FROM weather_hourly
UNION ALL
SELECT m.segment_id, s.valid_time, s.kind, s.issued_at,
       CAST(s.t2m_c + m.t_offset_c AS REAL),
       CAST(least(s.d2m_c, s.t2m_c + m.t_offset_c) AS REAL),
       CAST(s.skt_c + m.t_offset_c AS REAL),
       s.precip_mm, s.snowfall_mm, s.ptype, s.wind_ms, s.vis_m, s.source, s.import_id
FROM station_hourly s JOIN segment_station m ON m.station_id = s.station_id AND m.resolution = 'hourly';

-- The hours (and kinds, issue times) that weather_rows holds, without fanning stations out.
CREATE OR REPLACE VIEW weather_times AS
SELECT valid_time, kind, issued_at FROM weather_hourly
UNION ALL
SELECT valid_time, kind, issued_at FROM station_hourly
WHERE station_id IN (SELECT station_id FROM segment_station WHERE resolution = 'hourly');

-- Daily station values on the segments (no hours invented), temperatures lapse-adjusted.
CREATE OR REPLACE VIEW weather_daily_rows AS
SELECT m.segment_id, d.station_id, d.day,
       CAST(d.tmax_c + m.t_offset_c AS REAL) AS tmax_c, CAST(d.tmin_c + m.t_offset_c AS REAL) AS tmin_c,
       CAST(d.tavg_c + m.t_offset_c AS REAL) AS tavg_c, d.precip_mm, d.snowfall_mm, d.snow_depth_cm,
       d.wind_ms, d.source, d.import_id
FROM station_daily d JOIN segment_station m ON m.station_id = d.station_id AND m.resolution = 'daily';
