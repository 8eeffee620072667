"""The scenario worlds' maps as plain data: corridors through real cities, rivers, mountains, police bases.

`Geography` holds one world's map and its terrain function; `CENTRAL_CHINA` is the demo's (the
second world's is in `guizhou.py`).

Coordinates are approximate city positions (WGS84 lon, lat) from public gazetteers; the lines
between them are synthetic. In Anhui the G3 and G42 follow the real roads through waypoints at real
OpenStreetMap bridge positions (© OpenStreetMap contributors, ODbL 1.0), so that the real bridges
fall on them (`osm_bridges.py`). Province names are the Chinese short names used on the board.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BORDER = "border"  # a waypoint where the road enters the province of the next waypoint


@dataclass(frozen=True)
class Corridor:
    """One expressway: its number, Chinese name, traffic, lanes and waypoints (name, lon, lat, province)."""

    ref: str
    name: str
    aadt: dict[str, int]          # vehicles/day by province
    lanes: int
    maxspeed_kmh: int
    waypoints: tuple[tuple[str, float, float, str], ...]


CORRIDORS: tuple[Corridor, ...] = (
    Corridor("G4", "京港澳高速", {"河南": 52000, "湖北": 58000, "湖南": 55000, "广东": 48000}, 8, 120, (
        ("郑州", 113.70, 34.72, "河南"), ("新郑", 113.74, 34.40, "河南"), ("许昌", 113.85, 34.02, "河南"),
        ("漯河", 114.02, 33.58, "河南"), ("驻马店", 114.05, 32.98, "河南"), ("确山", 114.03, 32.80, "河南"),
        ("信阳", 114.10, 32.13, "河南"), ("豫鄂界", 114.08, 31.84, BORDER), ("大悟", 114.12, 31.56, "湖北"),
        ("孝感", 114.00, 30.95, "湖北"), ("军山", 114.08, 30.42, "湖北"), ("咸宁", 114.32, 29.84, "湖北"),
        ("赤壁", 113.90, 29.72, "湖北"), ("鄂湘界", 113.62, 29.55, BORDER), ("临湘", 113.45, 29.48, "湖南"),
        ("岳阳", 113.15, 29.36, "湖南"), ("汨罗", 113.07, 28.80, "湖南"), ("长沙", 113.05, 28.22, "湖南"),
        ("株洲", 113.13, 27.83, "湖南"), ("衡山", 112.87, 27.24, "湖南"), ("衡阳", 112.62, 26.89, "湖南"),
        ("耒阳", 112.86, 26.42, "湖南"), ("郴州", 113.01, 25.77, "湖南"), ("宜章", 112.95, 25.40, "湖南"),
        ("湘粤界", 113.08, 25.22, BORDER), ("乐昌", 113.35, 25.13, "广东"), ("韶关", 113.60, 24.81, "广东"),
    )),
    Corridor("G70", "福银高速", {"江西": 30000, "湖北": 36000}, 4, 120, (
        ("九江", 115.97, 29.68, "江西"), ("赣鄂界", 115.96, 29.78, BORDER), ("黄梅", 115.94, 30.07, "湖北"),
        ("蕲春", 115.43, 30.23, "湖北"), ("浠水", 115.27, 30.45, "湖北"), ("黄冈", 114.87, 30.47, "湖北"),
        ("武汉东", 114.55, 30.64, "湖北"), ("武汉北", 114.25, 30.80, "湖北"), ("孝感北", 113.97, 31.02, "湖北"),
        ("安陆", 113.69, 31.26, "湖北"), ("随州", 113.38, 31.69, "湖北"), ("枣阳", 112.77, 32.13, "湖北"),
        ("襄阳", 112.14, 32.04, "湖北"),
    )),
    Corridor("G42", "沪蓉高速", {"江苏": 50000, "安徽": 38000, "湖北": 32000}, 6, 120, (
        ("南京", 118.80, 32.00, "江苏"), ("浦口", 118.62, 32.12, "江苏"), ("苏皖界", 118.45, 32.10, BORDER),
        ("全椒", 118.284, 32.122, "安徽"), ("大墅", 117.947, 32.012, "安徽"), ("肥东", 117.560, 31.909, "安徽"),
        ("合肥北", 117.317, 32.016, "安徽"), ("合肥西", 117.038, 31.961, "安徽"), ("六安北", 116.758, 31.888, "安徽"),
        ("六安", 116.494, 31.855, "安徽"), ("叶集", 116.068, 31.838, "安徽"), ("金寨", 115.935, 31.608, "安徽"),
        ("皖鄂界", 115.55, 31.42, BORDER), ("麻城", 115.03, 31.18, "湖北"), ("红安", 114.62, 31.29, "湖北"),
        ("武汉北", 114.30, 30.84, "湖北"),
    )),
    Corridor("G60", "沪昆高速", {"江西": 34000, "湖南": 40000}, 4, 120, (
        ("南昌", 115.92, 28.66, "江西"), ("高安", 115.37, 28.42, "江西"), ("宜春", 114.39, 27.80, "江西"),
        ("萍乡", 113.85, 27.62, "江西"), ("赣湘界", 113.70, 27.65, BORDER), ("醴陵", 113.50, 27.65, "湖南"),
        ("湘潭", 112.94, 27.83, "湖南"), ("湘潭西", 112.78, 27.86, "湖南"),
    )),
    Corridor("G3", "京台高速", {"安徽": 30000}, 4, 120, (
        ("合肥", 117.294, 31.799, "安徽"), ("肥西", 117.231, 31.675, "安徽"), ("舒城", 117.182, 31.553, "安徽"),
        ("庐江北", 117.185, 31.414, "安徽"), ("庐江", 117.207, 31.249, "安徽"), ("枞阳", 117.620, 30.877, "安徽"),
        ("铜陵", 117.766, 30.828, "安徽"), ("青阳", 117.892, 30.424, "安徽"), ("九华山", 117.978, 30.324, "安徽"),
        ("太平", 118.149, 30.302, "安徽"), ("黄山区", 118.248, 30.138, "安徽"), ("汤口", 118.226, 30.001, "安徽"),
        ("黄山北", 118.261, 29.858, "安徽"), ("黄山", 118.235, 29.670, "安徽"),
    )),
)

# Rivers as polylines (lon, lat): a road crossing one gets a bridge feature.
RIVERS: dict[str, tuple[tuple[float, float], ...]] = {
    "长江": ((111.0, 30.75), (111.6, 30.5), (112.2, 30.3), (112.9, 29.75), (113.1, 29.45), (113.6, 29.9),
           (113.9, 30.2), (114.1, 30.42), (114.3, 30.58), (114.6, 30.65), (114.9, 30.42), (115.1, 30.22),
           (115.6, 29.85), (116.0, 29.76), (116.6, 30.1), (117.05, 30.5), (117.8, 30.9), (118.4, 31.35),
           (118.72, 32.06), (119.0, 32.2), (119.45, 32.22), (120.3, 31.95), (120.9, 31.95), (121.8, 31.4)),
    "汉江": ((110.8, 32.6), (111.5, 32.4), (112.1, 32.07), (112.6, 31.2), (113.0, 30.8), (113.4, 30.45),
           (113.8, 30.6), (114.27, 30.57)),
    "淮河": ((113.5, 32.35), (114.3, 32.35), (115.0, 32.45), (116.0, 32.55), (117.4, 32.95), (118.5, 33.2)),
    "湘江": ((111.6, 26.4), (112.6, 26.9), (112.9, 27.5), (113.0, 27.8), (112.93, 28.2), (112.85, 29.1)),
    "赣江": ((114.9, 25.85), (115.0, 27.1), (115.6, 28.2), (115.88, 28.68), (116.05, 29.1)),
    "汨罗江": ((113.6, 28.85), (113.25, 28.82), (112.95, 28.78)),
    "沙河": ((113.2, 33.65), (113.7, 33.6), (114.3, 33.6), (115.0, 33.5)),
}

# Mountains as Gaussian hills: (name, lon, lat, height above the plain [m], radius [deg]).
MOUNTAINS: tuple[tuple[str, float, float, float, float], ...] = (
    ("南岭", 113.10, 25.25, 420.0, 0.30),
    ("骑田岭", 112.90, 25.55, 250.0, 0.20),
    ("大别山", 115.60, 31.35, 450.0, 0.35),
    ("桐柏山", 114.05, 31.80, 250.0, 0.20),
    ("幕阜山", 113.90, 29.30, 300.0, 0.35),
    ("罗霄山", 113.95, 27.00, 450.0, 0.45),
    ("黄山", 118.20, 30.10, 420.0, 0.30),
    ("伏牛山", 112.30, 33.60, 700.0, 0.55),
    ("武夷山", 117.60, 27.40, 800.0, 0.60),
    ("雪峰山", 110.80, 27.30, 700.0, 0.70),
    ("大巴山", 109.80, 32.20, 900.0, 0.90),
)

# Passes where an expressway climbs steeply (road scale, narrower than a weather grid cell); the roads
# carry them in `ele`/`incline`, the weather grid sees only the ranges above.
PASSES: tuple[tuple[str, float, float, float, float], ...] = (
    ("南岭", 113.08, 25.22, 320.0, 0.05),
    ("骑田岭", 112.97, 25.55, 220.0, 0.05),
    ("大别山", 115.50, 31.43, 260.0, 0.05),
    ("桐柏山", 114.08, 31.82, 160.0, 0.04),
    ("黄山", 118.36, 30.05, 250.0, 0.05),
)

PLAIN_ELEVATION_M = 40.0

# Expressway police bases: (team_id, name, province, lon, lat, patrol cars).
TEAMS: tuple[tuple[str, str, str, float, float, int], ...] = (
    ("HA-ZZ", "河南高速交警郑州支队", "河南", 113.65, 34.75, 10),
    ("HA-ZMD", "河南高速交警驻马店支队", "河南", 114.02, 32.98, 6),
    ("HA-XY", "河南高速交警信阳支队", "河南", 114.07, 32.13, 6),
    ("HB-XG", "湖北高速交警孝感支队", "湖北", 113.92, 30.92, 8),
    ("HB-WH", "湖北高速交警武汉支队", "湖北", 114.30, 30.60, 12),
    ("HB-XN", "湖北高速交警咸宁支队", "湖北", 114.32, 29.84, 7),
    ("HB-SZ", "湖北高速交警随州支队", "湖北", 113.38, 31.69, 5),
    ("HB-XY", "湖北高速交警襄阳支队", "湖北", 112.14, 32.04, 6),
    ("HB-HG", "湖北高速交警黄冈支队", "湖北", 114.87, 30.45, 6),
    ("HB-MC", "湖北高速交警麻城大队", "湖北", 115.03, 31.18, 4),
    ("HN-YY", "湖南高速交警岳阳支队", "湖南", 113.13, 29.36, 8),
    ("HN-CS", "湖南高速交警长沙支队", "湖南", 112.98, 28.20, 12),
    ("HN-HY", "湖南高速交警衡阳支队", "湖南", 112.57, 26.89, 7),
    ("HN-CZ", "湖南高速交警郴州支队", "湖南", 113.01, 25.77, 8),
    ("HN-XT", "湖南高速交警湘潭支队", "湖南", 112.94, 27.83, 5),
    ("GD-SG", "广东高速交警韶关支队", "广东", 113.60, 24.81, 8),
    ("JX-JJ", "江西高速交警九江支队", "江西", 115.97, 29.70, 6),
    ("JX-NC", "江西高速交警南昌支队", "江西", 115.86, 28.68, 9),
    ("JX-PX", "江西高速交警萍乡支队", "江西", 113.85, 27.62, 4),
    ("AH-HF", "安徽高速交警合肥支队", "安徽", 117.23, 31.82, 10),
    ("AH-LA", "安徽高速交警六安支队", "安徽", 116.52, 31.73, 5),
    ("AH-TL", "安徽高速交警铜陵支队", "安徽", 117.81, 30.94, 5),
    ("AH-HS", "安徽高速交警黄山支队", "安徽", 118.32, 29.71, 5),
    ("JS-NJ", "江苏高速交警南京支队", "江苏", 118.78, 32.06, 10),
)


Hill = tuple[str, float, float, float, float]      # (name, lon, lat, height above the plain [m], radius [deg])


@dataclass(frozen=True, eq=False)
class Geography:
    """One world's map: corridors, rivers, terrain, police bases, and how its roads are cut."""

    name: str
    corridors: tuple[Corridor, ...]
    rivers: dict[str, tuple[tuple[float, float], ...]]
    mountains: tuple[Hill, ...]           # Gaussian hills the weather grid sees
    passes: tuple[Hill, ...]              # road-scale climbs only the roads carry
    teams: tuple[tuple[str, str, str, float, float, int], ...]
    plain_elevation_m: float
    plateaus: tuple[Hill, ...] = ()       # flat-topped uplands: height / (1 + (r / radius)^8)
    road_relief_m: float = 0.0            # road-scale ups and downs of a plateau road [m]
    mountain_ele_m: float = 250.0         # a stretch above this elevation is a mountain stretch [m]
    tunnel_min_peak_m: float = 450.0      # a summit above this gets a tunnel [m] ...
    tunnel_spacing_km: float = math.inf   # ... if it is the highest point within this distance [km]
    valley_bridge_spacing_km: float = math.inf  # a mountain road's lowest point within this distance is a bridge [km]
    long_bridge_river: str = "长江"        # crossings of this river are long bridges

    def terrain_elevation_m(self, lon: np.ndarray, lat: np.ndarray, with_passes: bool = False) -> np.ndarray:
        """Ground elevation [m]: the plain, the plateaus, Gaussian hills at the real ranges (and, for
        roads, the steep passes)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        elevation = np.full(np.broadcast(lon, lat).shape, self.plain_elevation_m)
        for _name, lon0, lat0, height_m, radius_deg in self.plateaus:
            r2 = ((lon - lon0) * np.cos(np.radians(lat0))) ** 2 + (lat - lat0) ** 2
            elevation = elevation + height_m / (1.0 + (r2 / radius_deg**2) ** 4)
        for _name, lon0, lat0, height_m, radius_deg in self.mountains + (self.passes if with_passes else ()):
            r2 = ((lon - lon0) * np.cos(np.radians(lat0))) ** 2 + (lat - lat0) ** 2
            elevation = elevation + height_m * np.exp(-0.5 * r2 / radius_deg**2)
        return elevation


CENTRAL_CHINA = Geography("central-china", CORRIDORS, RIVERS, MOUNTAINS, PASSES, TEAMS, PLAIN_ELEVATION_M)
