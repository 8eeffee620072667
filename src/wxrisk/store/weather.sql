-- Weather room: one row per segment, hour, kind and issue time, combining imports.
-- Files carrying different variables for the same hours (e.g. ERA5 t2m and tp downloaded apart)
-- are stored side by side in weather_hourly; here the newest import's non-NULL value of each
-- column wins.
CREATE OR REPLACE VIEW weather_segment_hour AS
SELECT
    segment_id,
    valid_time,
    kind,
    issued_at,
    arg_max(t2m_c, import_id) FILTER (WHERE t2m_c IS NOT NULL)             AS t2m_c,
    arg_max(d2m_c, import_id) FILTER (WHERE d2m_c IS NOT NULL)             AS d2m_c,
    arg_max(skt_c, import_id) FILTER (WHERE skt_c IS NOT NULL)             AS skt_c,
    arg_max(precip_mm, import_id) FILTER (WHERE precip_mm IS NOT NULL)     AS precip_mm,
    arg_max(snowfall_mm, import_id) FILTER (WHERE snowfall_mm IS NOT NULL) AS snowfall_mm,
    arg_max(ptype, import_id) FILTER (WHERE ptype IS NOT NULL)             AS ptype,
    arg_max(wind_ms, import_id) FILTER (WHERE wind_ms IS NOT NULL)         AS wind_ms,
    arg_max(vis_m, import_id) FILTER (WHERE vis_m IS NOT NULL)             AS vis_m
FROM weather_hourly
GROUP BY segment_id, valid_time, kind, issued_at;
