"""The weather variables wxrisk recognises in a grid: plain data, applied once at import.

A grid variable is matched by its name or GRIB `shortName` (ECMWF/NCEP short names) or by its
CF `standard_name`. Several source variables can feed one canonical column of `weather_hourly`;
the first one found in `GRID_VARIABLES` order wins (e.g. `tp` before `prate`).
"""

from __future__ import annotations

from dataclasses import dataclass

CANONICAL_COLUMNS = ("t2m_c", "d2m_c", "skt_c", "precip_mm", "snowfall_mm", "ptype", "wind_ms", "vis_m")


@dataclass(frozen=True)
class GridVariable:
    """One source quantity.

    key            : our id of the source quantity (`t2m`, `cfrzr`)
    column         : the canonical `weather_hourly` column it feeds
    quantity       : how its units convert and how it is sampled: `temperature`, `accumulation`
                     (water depth), `rate` (water flux), `speed`, `wind_component`, `distance`,
                     `category` (ECMWF ptype codes), `flag` (NCEP 0/1 categorical)
    short_names    : variable names / GRIB shortNames that identify it (lower case)
    standard_names : CF standard names that identify it
    """

    key: str
    column: str
    quantity: str
    short_names: tuple[str, ...]
    standard_names: tuple[str, ...] = ()


GRID_VARIABLES: tuple[GridVariable, ...] = (
    GridVariable("t2m", "t2m_c", "temperature", ("t2m", "2t", "tmp2m"), ("air_temperature",)),
    GridVariable("d2m", "d2m_c", "temperature", ("d2m", "2d", "dpt2m"), ("dew_point_temperature",)),
    GridVariable("skt", "skt_c", "temperature", ("skt", "tsk"), ("surface_temperature",)),
    GridVariable("tp", "precip_mm", "accumulation", ("tp", "apcp"),
                 ("precipitation_amount", "lwe_thickness_of_precipitation_amount")),
    GridVariable("prate", "precip_mm", "rate", ("prate", "tprate"), ("precipitation_flux",)),
    GridVariable("sf", "snowfall_mm", "accumulation", ("sf",),
                 ("snowfall_amount", "lwe_thickness_of_snowfall_amount")),
    GridVariable("ptype", "ptype", "category", ("ptype",)),
    GridVariable("crain", "ptype", "flag", ("crain",)),
    GridVariable("csnow", "ptype", "flag", ("csnow",)),
    GridVariable("cfrzr", "ptype", "flag", ("cfrzr",)),
    GridVariable("cicep", "ptype", "flag", ("cicep",)),
    GridVariable("si10", "wind_ms", "speed", ("si10", "10si", "wind"), ("wind_speed",)),
    GridVariable("u10", "wind_ms", "wind_component", ("u10", "10u"), ("eastward_wind",)),
    GridVariable("v10", "wind_ms", "wind_component", ("v10", "10v"), ("northward_wind",)),
    GridVariable("vis", "vis_m", "distance", ("vis",), ("visibility_in_air",)),
)

# ECMWF precipitation-type code each NCEP categorical flag stands for, most hazardous first:
# freezing rain 3, ice pellets 8, snow 5, rain 1 (rain and snow together: 7, mixed).
NCEP_FLAG_PTYPE: dict[str, int] = {"cfrzr": 3, "cicep": 8, "csnow": 5, "crain": 1}
PTYPE_RAIN_SNOW_MIX = 7

# Which GRIB stepType to take when a quantity comes in several (first found wins).
STEP_TYPE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "accumulation": ("accum", "", "instant", "avg"),
    "rate": ("avg", "instant", ""),
}
DEFAULT_STEP_TYPE_PREFERENCE: tuple[str, ...] = ("instant", "", "avg")

# Quantities sampled from the nearest grid point instead of bilinearly (codes and 0/1 flags).
NEAREST_QUANTITIES = frozenset({"category", "flag"})

# Unit strings, normalised by `units.normalise_unit`, mapped to (scale, offset) into the canonical
# unit of the quantity: value_canonical = value * scale + offset.
UNIT_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "temperature": {  # -> °C
        "k": (1.0, -273.15), "kelvin": (1.0, -273.15), "degk": (1.0, -273.15),
        "degc": (1.0, 0.0), "°c": (1.0, 0.0), "c": (1.0, 0.0), "celsius": (1.0, 0.0),
        "degrees_c": (1.0, 0.0), "degreec": (1.0, 0.0),
        "degf": (5.0 / 9.0, -32.0 * 5.0 / 9.0), "°f": (5.0 / 9.0, -32.0 * 5.0 / 9.0),
    },
    "accumulation": {  # water depth -> mm
        "m": (1000.0, 0.0), "mofwaterequivalent": (1000.0, 0.0), "mm": (1.0, 0.0),
        "kgm-2": (1.0, 0.0), "kg/m2": (1.0, 0.0), "cm": (10.0, 0.0), "inch": (25.4, 0.0), "in": (25.4, 0.0),
    },
    "rate": {  # water flux -> mm/h
        "kgm-2s-1": (3600.0, 0.0), "kg/m2/s": (3600.0, 0.0), "mms-1": (3600.0, 0.0),
        "mm/s": (3600.0, 0.0), "ms-1": (3.6e6, 0.0), "m/s": (3.6e6, 0.0),
        "mmh-1": (1.0, 0.0), "mm/h": (1.0, 0.0), "mm/hr": (1.0, 0.0), "mmhr-1": (1.0, 0.0),
    },
    "speed": {  # -> m/s
        "ms-1": (1.0, 0.0), "m/s": (1.0, 0.0), "km/h": (1.0 / 3.6, 0.0), "kmh-1": (1.0 / 3.6, 0.0),
        "knots": (0.514444, 0.0), "kt": (0.514444, 0.0), "kn": (0.514444, 0.0), "mph": (0.44704, 0.0), "mp/h": (0.44704, 0.0),
    },
    "distance": {"m": (1.0, 0.0), "km": (1000.0, 0.0)},  # -> m
}
UNIT_CONVERSIONS["wind_component"] = UNIT_CONVERSIONS["speed"]

# Open-Meteo documents its snowfall in cm of fresh snow and its water equivalent as "divide by 7
# ... 7 cm snow = 10 mm precipitation water equivalent" (open-meteo.com/en/docs, hourly
# `snowfall`): 0.7 cm of snow per mm of water. Used for every depth-of-snow amount.
SNOW_CM_PER_WATER_MM = 0.7
UNIT_CONVERSIONS["snowfall"] = {  # -> mm water equivalent
    "mm": (1.0, 0.0), "kgm-2": (1.0, 0.0), "m": (1000.0, 0.0), "mofwaterequivalent": (1000.0, 0.0),
    "cm": (1.0 / SNOW_CM_PER_WATER_MM, 0.0),  # cm of snow (Open-Meteo)
    "cmsnow": (1.0 / SNOW_CM_PER_WATER_MM, 0.0), "mmsnow": (0.1 / SNOW_CM_PER_WATER_MM, 0.0),
    "inch": (2.54 / SNOW_CM_PER_WATER_MM, 0.0), "inchsnow": (2.54 / SNOW_CM_PER_WATER_MM, 0.0),
}
UNIT_CONVERSIONS["snow_depth"] = {  # -> cm of snow on the ground
    "m": (100.0, 0.0), "cm": (1.0, 0.0), "mm": (0.1, 0.0), "inch": (2.54, 0.0), "in": (2.54, 0.0),
}
