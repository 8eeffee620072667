"""The second scenario world: the Guizhou plateau, where winter icing is 凝冻 (freezing fog and drizzle).

Unlike the demo's plain with its freezing-rain belt and snow, Guizhou's expressways run over a karst
plateau at 700-2,000 m (Guiyang about 1,100 m) with long grades, tunnels and high bridges. Its icing
comes when shallow cold air from the north-east is dammed against the Yunnan plateau (the
Kunming quasi-stationary front, 昆明准静止锋): under warm south-westerly air aloft, low cloud sits on
the plateau for days with freezing drizzle and freezing fog (rime), while valleys stay just above
freezing and the west, beyond the front, is dry and sunny. Everything here is synthetic: the roads
follow real cities, the lines between them are drawn, the weather is the analytic model of
`weather.py` with this region's physics. See docs/demo-world.md, "The second world: Guizhou".
"""

from __future__ import annotations

import math
from functools import lru_cache

from wxrisk.scenario.episodes import HOLDOUT_YEAR, RandomWeather, band, compose_winter
from wxrisk.scenario.geography import BORDER, Corridor, Geography
from wxrisk.scenario.weather import Outbreak, WeatherPhysics, World, hours_of

CORRIDORS: tuple[Corridor, ...] = (
    Corridor("G75", "兰海高速", {"贵州": 32000, "广西": 18000}, 4, 100, (
        ("崇溪河", 106.75, 28.48, "贵州"), ("桐梓", 106.82, 28.13, "贵州"), ("娄山关", 106.82, 27.95, "贵州"),
        ("遵义", 106.93, 27.70, "贵州"), ("息烽", 106.74, 27.09, "贵州"), ("贵阳", 106.71, 26.58, "贵州"),
        ("龙里", 106.98, 26.45, "贵州"), ("贵定", 107.23, 26.56, "贵州"), ("都匀", 107.52, 26.26, "贵州"),
        ("独山", 107.54, 25.83, "贵州"), ("黔桂界", 107.60, 25.30, BORDER), ("南丹", 107.54, 24.98, "广西"),
    )),
    Corridor("G60", "沪昆高速", {"湖南": 28000, "贵州": 30000, "云南": 20000}, 4, 100, (
        ("新晃", 109.17, 27.36, "湖南"), ("湘黔界", 109.03, 27.30, BORDER), ("玉屏", 108.91, 27.24, "贵州"),
        ("三穗", 108.68, 26.95, "贵州"), ("凯里", 107.98, 26.58, "贵州"), ("麻江", 107.59, 26.49, "贵州"),
        ("福泉", 107.40, 26.68, "贵州"), ("龙里北", 106.97, 26.50, "贵州"), ("贵阳西", 106.63, 26.61, "贵州"),
        ("清镇", 106.47, 26.55, "贵州"), ("平坝", 106.26, 26.41, "贵州"), ("安顺", 105.93, 26.25, "贵州"),
        ("关岭", 105.62, 25.95, "贵州"), ("晴隆", 105.22, 25.83, "贵州"), ("普安", 104.95, 25.78, "贵州"),
        ("盘州", 104.47, 25.71, "贵州"), ("胜境关", 104.23, 25.68, BORDER), ("富源", 104.25, 25.58, "云南"),
    )),
    Corridor("G56", "杭瑞高速", {"贵州": 18000, "云南": 14000}, 4, 100, (
        ("遵义", 106.93, 27.70, "贵州"), ("金沙", 106.22, 27.46, "贵州"), ("黔西", 106.03, 27.03, "贵州"),
        ("大方", 105.61, 27.14, "贵州"), ("毕节", 105.29, 27.30, "贵州"), ("赫章", 104.72, 27.12, "贵州"),
        ("六盘水", 104.83, 26.59, "贵州"), ("都格", 104.48, 26.15, "贵州"), ("黔滇界", 104.30, 26.15, BORDER),
        ("宣威", 104.10, 26.22, "云南"),
    )),
)

RIVERS: dict[str, tuple[tuple[float, float], ...]] = {
    "乌江": ((105.5, 26.75), (106.0, 27.0), (106.5, 27.15), (106.9, 27.35), (107.3, 27.6), (107.7, 27.9),
           (108.3, 28.4)),
    "北盘江": ((104.4, 26.9), (104.6, 26.3), (104.9, 26.0), (105.3, 25.85), (105.65, 25.6), (105.9, 25.2)),
    "清水江": ((107.2, 26.3), (107.7, 26.45), (108.1, 26.65), (108.6, 26.8), (109.2, 26.9)),
    "南明河": ((106.55, 26.45), (106.75, 26.6), (106.95, 26.75), (107.1, 27.0)),
}

# Flat-topped uplands: (name, lon, lat, height above the plain [m], radius [deg]).
PLATEAUS = (
    ("黔中高原", 106.6, 26.55, 850.0, 1.25),
    ("乌蒙山高原", 104.6, 26.8, 1000.0, 1.0),
    ("滇东高原", 103.4, 25.3, 1400.0, 0.8),
)
MOUNTAINS = (
    ("乌蒙山", 104.40, 26.90, 550.0, 0.50),
    ("乌蒙山南麓", 104.70, 25.80, 800.0, 0.50),
    ("大娄山", 106.80, 28.10, 550.0, 0.22),
    ("苗岭", 107.20, 26.45, 250.0, 0.30),
    ("安顺高原", 105.90, 26.10, 250.0, 0.40),
    ("武陵山", 108.70, 27.90, 700.0, 0.35),
)
PASSES = (
    ("娄山关", 106.82, 27.95, 400.0, 0.05),
    ("关岭", 105.55, 25.92, 200.0, 0.05),
    ("苗岭", 107.35, 26.35, 150.0, 0.04),
)

TEAMS = (
    ("GZ-GY", "贵州高速交警贵阳支队", "贵州", 106.71, 26.58, 10),
    ("GZ-ZY", "贵州高速交警遵义支队", "贵州", 106.93, 27.70, 8),
    ("GZ-AS", "贵州高速交警安顺支队", "贵州", 105.93, 26.25, 6),
    ("GZ-KL", "贵州高速交警黔东南支队", "贵州", 107.98, 26.58, 6),
    ("GZ-DY", "贵州高速交警黔南支队", "贵州", 107.52, 26.26, 6),
    ("GZ-BJ", "贵州高速交警毕节支队", "贵州", 105.29, 27.30, 6),
    ("GZ-LPS", "贵州高速交警六盘水支队", "贵州", 104.83, 26.59, 5),
    ("GZ-TR", "贵州高速交警铜仁支队玉屏大队", "贵州", 108.91, 27.24, 4),
    ("GZ-TZ", "贵州高速交警遵义支队桐梓大队", "贵州", 106.82, 28.13, 4),
    ("GZ-PZ", "贵州高速交警六盘水支队盘州大队", "贵州", 104.47, 25.71, 4),
    ("HN-XH", "湖南高速交警怀化支队新晃大队", "湖南", 109.17, 27.36, 3),
    ("YN-QJ", "云南高速交警曲靖支队", "云南", 104.10, 26.22, 3),
    ("GX-HC", "广西高速交警河池支队", "广西", 107.54, 24.98, 3),
)

GEOGRAPHY = Geography(
    "guizhou", CORRIDORS, RIVERS, MOUNTAINS, PASSES, TEAMS, plain_elevation_m=250.0, plateaus=PLATEAUS,
    road_relief_m=70.0, mountain_ele_m=600.0, tunnel_min_peak_m=1150.0, tunnel_spacing_km=12.0,
    valley_bridge_spacing_km=10.0,
    long_bridge_river="北盘江",
)

PHYSICS = WeatherPhysics(
    clim_t2m_knots=((24.5, 15.5), (26.0, 13.0), (27.5, 11.5), (29.0, 10.0)),
    clim_nose_knots=((24.5, 9.0), (26.5, 6.5), (28.5, 4.5), (29.0, 4.0)),
    coast_warming_k=0.0,
    coast_lon=math.inf,
    west_warming_k=3.0,
    front_entry_lat=29.5,
    outbreak_weakening_knots=((24.5, 0.7), (29.5, 1.0)),
    nanling_barrier_lat=-90.0,
    cold_air_west_lon=104.9,
    cold_air_edge_deg=0.35,
    hill_fog_min_m=1000.0,
)

RANDOM = RandomWeather(
    outbreak_every_days=(6.0, 10.0), outbreak_speed_deg_h=(0.12, 0.25), outbreak_strength_k=(-9.0, -4.0),
    outbreak_decay_h=(72.0, 160.0), outbreak_depth=(0.15, 0.4), system_mean_gap_days=3.5,
    system_lon=(103.0, 110.5), system_lat=(25.0, 28.5), system_speed_deg_h=(0.15, 0.3),
    system_peak_mm_h=(0.15, 1.2), system_sigma_along_deg=(1.5, 3.0), system_sigma_across_deg=(0.7, 1.3),
    system_warm_aloft_k=(0.0, 3.0),
)

# Two 凝冻 episodes per training winter: (outbreak onset UTC, drizzle centre latitude).
TRAINING_EPISODES = {
    2021: (("2021-01-30T00", 26.7), ("2021-02-16T00", 26.4)),
    2022: (("2022-01-20T00", 26.8), ("2022-02-05T00", 26.5)),
    2023: (("2023-01-08T00", 26.6), ("2023-01-27T00", 26.9)),
}


def ningdong(onset: str, drizzle_lat: float, strength_k: float = -9.0, drizzle_hours: float = 72.0,
             drizzle_mm_h: float = 0.22) -> World:
    """One 凝冻 episode: shallow cold air arriving from the north-east (a sixth of it aloft), then a
    nearly stationary deck of freezing drizzle over the plateau under warm air aloft."""
    onset_h = hours_of(onset)
    deck = band(onset_h + 18, drizzle_hours, 106.4, drizzle_lat, drizzle_mm_h, 2.5, u_deg_h=0.01,
                sigma_along=2.5, sigma_across=1.0, tilt=10.0)
    return World(outbreaks=(Outbreak(onset_h, 0.15, strength_k, 240.0, 0.15),), systems=(deck,))


def event_2024() -> World:
    """The 2023-24 winter on the plateau after the cold waves that reached Guizhou in 2024: a cold spell from
    19 January, 凝冻 from 1 to 6 February with a wetter freezing-rain core on 2-3 February, and again on
    20-24 February (CMA and Ministry of Transport reports of closures in Guizhou; the dates are real, the
    amounts synthetic)."""
    first, second = ningdong("2024-01-31T12", 26.7, -10.0, 110.0), ningdong("2024-02-19T12", 26.6, -10.0, 96.0)
    core = band("2024-02-02T00", 36, 105.8, 26.5, 0.6, 3.0, u_deg_h=0.03, sigma_along=1.8, sigma_across=0.7)
    return World(outbreaks=(Outbreak(hours_of("2024-01-19T12"), 0.2, -8.0, 96.0, 0.4),) + first.outbreaks
                 + second.outbreaks, systems=first.systems + (core,) + second.systems)


@lru_cache(maxsize=8)
def winter_world(seed: int, festival_year: int) -> World:
    """The weather of a Guizhou winter: random weather plus its scripted 凝冻 episodes (2023-24: the
    episodes of `event_2024`)."""
    if festival_year == HOLDOUT_YEAR:
        scripted = (event_2024(),)
    else:
        scripted = tuple(ningdong(onset, lat) for onset, lat in TRAINING_EPISODES[festival_year])
    return compose_winter(seed, festival_year, scripted, RANDOM, PHYSICS)
