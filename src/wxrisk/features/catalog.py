"""The model's inputs, in column order, with units, physical direction and words for officers.

Monotone constraints only where physics is one-directional: more precipitation, snow or
freezing rain, a black-ice flag, more water, ice or snow lying on the road, wind on a bridge,
more traffic or a worse incident record never lower the risk; better visibility never raises it. Temperatures are left free: ice is
slipperiest near 0 °C (wet ice) and grips better when much colder, so "colder" is not
always "worse".
"""

from __future__ import annotations

from wxrisk.features.spec import FeatureSpec

ACCUMULATION_HOURS = (1, 3, 6, 12, 24)


def _accumulations(prefix: str, zh: str, en: str) -> list[FeatureSpec]:
    return [FeatureSpec(f"{prefix}_mm_{h}h", "mm", +1, f"{zh}({h}小时)", f"{en} ({h} h)")
            for h in ACCUMULATION_HOURS]


FEATURE_SPECS: list[FeatureSpec] = [
    # weather at the segment
    FeatureSpec("t2m_c", "°C", 0, "气温", "air temperature"),
    FeatureSpec("d2m_c", "°C", 0, "露点", "dew point"),
    FeatureSpec("rh_pct", "%", 0, "相对湿度", "relative humidity", 0),
    FeatureSpec("wet_bulb_c", "°C", 0, "湿球温度", "wet-bulb temperature"),
    FeatureSpec("road_temp_c", "°C", 0, "路面温度", "road-surface temperature"),
    FeatureSpec("skt_c", "°C", 0, "地表温度", "skin temperature"),
    FeatureSpec("phase_code", "", 0, "降水相态", "precipitation phase", None),
    *_accumulations("precip", "降水", "precipitation"),
    *_accumulations("snow", "降雪", "snowfall"),
    *_accumulations("fzra", "冻雨", "freezing rain"),
    FeatureSpec("rain_on_frozen_road_mm_3h", "mm", +1, "雨落冰冻路面", "rain on a frozen road"),
    FeatureSpec("hours_since_precip_h", "h", 0, "降水停止后", "hours since precipitation", 0),
    FeatureSpec("hours_below_zero_h", "h", 0, "持续零下", "hours below 0 °C", 0),
    FeatureSpec("precip_event_start", "", 0, "降水初期", "first hours of precipitation", None),
    FeatureSpec("black_ice", "", +1, "路面结冰风险", "black ice likely", None),
    FeatureSpec("surface_water_mm", "mm", +1, "路面积水", "water on the road", 2),
    FeatureSpec("surface_ice_mm", "mm", +1, "路面结冰", "ice on the road", 2),
    FeatureSpec("surface_snow_mm", "mm", +1, "路面积雪", "snow on the road", 1),
    FeatureSpec("wind_ms", "m/s", 0, "风速", "wind"),
    FeatureSpec("bridge_wind_ms", "m/s", +1, "桥面大风", "wind on bridge"),
    FeatureSpec("vis_m", "m", -1, "能见度", "visibility", 0),
    FeatureSpec("solar_elev_deg", "°", 0, "太阳高度角", "solar elevation", 0),
    FeatureSpec("dark", "", 0, "夜间", "darkness", None),
    # calendar (day counters to the Spring Festival and holidays are computed but not model inputs:
    # with a few winters they name the days of past storms and the trees learn those, not traffic;
    # the traffic they stand for is `travel_rush_factor`)
    FeatureSpec("hour_local", "", 0, "时段", "hour of day", 0),
    FeatureSpec("dow_local", "", 0, "星期", "day of week", 0),
    FeatureSpec("is_holiday", "", 0, "法定节假日", "official holiday", None),
    # exposure
    FeatureSpec("travel_rush_factor", "×", +1, "春运车流", "travel-rush traffic"),
    FeatureSpec("traffic_vph", "veh/h", +1, "车流量", "traffic", 0),
    # segment geometry
    FeatureSpec("bridge", "", 0, "桥梁", "bridge", None),
    FeatureSpec("tunnel", "", 0, "隧道", "tunnel", None),
    FeatureSpec("is_ramp", "", 0, "匝道", "ramp", None),
    FeatureSpec("grade_pct", "%", 0, "纵坡", "grade"),
    FeatureSpec("curvature_deg_per_km", "°/km", 0, "弯道", "curvature", 0),
    FeatureSpec("elevation_m", "m", 0, "海拔", "elevation", 0),
    FeatureSpec("maxspeed_kmh", "km/h", 0, "限速", "speed limit", 0),
    FeatureSpec("lanes", "", 0, "车道数", "lanes", 0),
    # incident history (strictly before the hour)
    FeatureSpec("hist_rate_per_year", "/yr", +1, "本路段历史事故率", "segment's incident record"),
    FeatureSpec("road_hist_rate_per_year", "/yr", +1, "本路线历史事故率", "road's incident record"),
]

FEATURE_NAMES: list[str] = [spec.name for spec in FEATURE_SPECS]
SPECS_BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURE_SPECS}
