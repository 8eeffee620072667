"""The winters of the demo world: windows around each Spring Festival, random weather, scripted episodes.

The 2024 event is scripted after the real one (persistent freezing rain and snow over Hubei, Hunan,
Anhui, Henan and Jiangxi, strongest about 31 January to 7 February 2024, Spring Festival on
10 February); the training winters get random outbreaks and systems plus three scripted icing
episodes each, so that the model sees enough incidents on ice to learn from (docs/demo-world.md).
Only the 2024 dates follow real events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
from lunardate import LunarDate

from wxrisk.scenario.anchor import wuhan_station
from wxrisk.scenario.roads import substream
from wxrisk.scenario.weather import PHYSICS, Outbreak, System, WeatherPhysics, World, hours_of

WINDOW_DAYS_BEFORE_FESTIVAL = 18   # history window: from 18 days before Spring Festival ...
WINDOW_DAYS_AFTER_FESTIVAL = 14    # ... to 14 days after (32 days; the rush runs from -15 to +25)
LEAD_IN_DAYS = 6                   # weather before a window that can still be felt in it
WEATHER_DAYS = (24, 21)            # random weather is drawn from 24 days before to 21 days after Spring
                                   # Festival, wider than the window: its length does not reshuffle it


def spring_festival(year: int) -> date:
    """Gregorian date of the Lunar New Year (Spring Festival) of `year`, from the lunar calendar."""
    return LunarDate(year, 1, 1).to_solar_date()


@dataclass(frozen=True)
class Winter:
    """One history window: hours [start_h, end_h) since EPOCH (UTC), and what it is used for."""

    label: str          # e.g. "2021-22"
    festival: date
    start_h: int
    end_h: int
    role: str           # train | holdout

    @property
    def start(self) -> datetime:
        return datetime(2000, 1, 1) + timedelta(hours=self.start_h)

    @property
    def end(self) -> datetime:
        return datetime(2000, 1, 1) + timedelta(hours=self.end_h)


def winter(festival_year: int, role: str, days_before: int = WINDOW_DAYS_BEFORE_FESTIVAL,
           days_after: int = WINDOW_DAYS_AFTER_FESTIVAL) -> Winter:
    """The window around the Spring Festival of `festival_year` (local midnight = 16 UTC the day before)."""
    festival = spring_festival(festival_year)
    first_local_day = festival - timedelta(days=days_before)
    start_h = hours_of(np.datetime64(first_local_day)) - 8
    end_h = start_h + 24 * (days_before + days_after)
    return Winter(f"{festival_year - 1}-{festival_year % 100:02d}", festival, start_h, end_h, role)


TRAINING_YEARS = (2021, 2022, 2023)
HOLDOUT_YEAR = 2024


def history_winters() -> tuple[Winter, ...]:
    """The history windows of every world: three training winters and the held-out 2023-24."""
    return tuple(winter(y, "train") for y in TRAINING_YEARS) + (winter(HOLDOUT_YEAR, "holdout"),)


def band(start: str | int, hours: float, lon0: float, lat0: float, peak_mm_h: float, warm_k: float,
         u_deg_h: float = 0.05, sigma_along: float = 5.0, sigma_across: float = 1.3, tilt: float = 12.0,
         texture: tuple[float, float, float] = (0.3, 1.7, 2.9)) -> System:
    """A precipitation band from `start` (UTC text or hours since EPOCH) lasting `hours`, with warm air aloft."""
    start_h = start if isinstance(start, int) else hours_of(start)
    return System(start_h, start_h + hours, lon0, lat0, u_deg_h, 0.0, peak_mm_h, sigma_along, sigma_across,
                  tilt, warm_k, texture)


def event_2024() -> World:
    """The 2024 winter after the real timeline at Wuhan (NOAA GHCN-Daily CHM00057494; CMA and Ministry of
    Transport reports): cold late January, rain in the warm sector on 30-31 January, shallow cold air from
    1 February under a warm, moist band (freezing rain 1-3 February), deeper cold on 3-4 February (snow),
    light snow on 5-6 February, the thaw from 7 February and a warm spell on 11-13 February, then a second
    cold wave with freezing rain and snow on 19-23 February. Times UTC."""
    return World(
        outbreaks=(
            Outbreak(hours_of("2024-01-19T06"), 0.35, -10.0, 110.0, 0.5),
            Outbreak(hours_of("2024-01-30T23"), 0.30, -11.0, 150.0, 0.2),
            Outbreak(hours_of("2024-02-02T20"), 0.35, -7.0, 72.0, 0.9),
            Outbreak(hours_of("2024-02-10T00"), 0.30, 7.0, 72.0, 0.5),
            Outbreak(hours_of("2024-02-19T18"), 0.30, -12.0, 120.0, 0.25),
        ),
        systems=(
            band("2024-01-29T18", 60, 111.0, 30.3, 0.8, 3.0, u_deg_h=0.06, sigma_along=4.0, sigma_across=1.2),
            band("2024-02-01T00", 78, 113.0, 30.0, 1.5, 6.5, u_deg_h=0.02, sigma_along=5.0, sigma_across=1.4,
                  tilt=10.0, texture=(2.2, 0.4, 1.1)),
            band("2024-02-05T06", 36, 113.5, 30.3, 0.5, 0.5, u_deg_h=0.03, texture=(4.0, 3.3, 0.2)),
            band("2024-02-18T12", 108, 112.5, 30.0, 1.4, 5.5, u_deg_h=0.02, sigma_along=5.0, sigma_across=1.4),
        ),
    )


# Three scripted icing episodes per training winter: (outbreak onset, band start, band centre lat) UTC.
TRAINING_EPISODES = {
    2021: (("2021-01-29T00", "2021-01-30T06", 30.5), ("2021-02-05T00", "2021-02-06T06", 30.0),
           ("2021-02-14T00", "2021-02-15T06", 29.6)),
    2022: (("2022-01-17T00", "2022-01-18T06", 30.2), ("2022-01-26T00", "2022-01-27T00", 29.8),
           ("2022-02-06T00", "2022-02-07T06", 30.6)),
    2023: (("2023-01-06T00", "2023-01-07T06", 30.0), ("2023-01-13T00", "2023-01-14T06", 30.8),
           ("2023-01-26T00", "2023-01-27T06", 29.4)),
}


def training_episodes(year: int) -> tuple[World, ...]:
    """The scripted icing episodes of a training winter: an outbreak, then a warm band over it a day later."""
    return tuple(World(outbreaks=(Outbreak(hours_of(onset), 0.33, -8.0, 96.0, 0.3),),
                       systems=(band(band_start, 36, 113.8, band_lat, 1.4, 4.5, u_deg_h=0.08),))
                 for onset, band_start, band_lat in TRAINING_EPISODES[year])


@dataclass(frozen=True)
class RandomWeather:
    """The ranges a world's random weather is drawn from (uniform unless said otherwise)."""

    outbreak_every_days: tuple[float, float] = (5.0, 9.0)
    outbreak_speed_deg_h: tuple[float, float] = (0.25, 0.45)
    outbreak_strength_k: tuple[float, float] = (-10.0, -4.0)
    outbreak_decay_h: tuple[float, float] = (48.0, 120.0)
    outbreak_depth: tuple[float, float] = (0.3, 0.6)
    system_mean_gap_days: float = 3.0          # exponential, at least a day
    system_lon: tuple[float, float] = (106.5, 124.0)   # enters at the first, leaves at the second [deg]
    system_lat: tuple[float, float] = (25.0, 33.0)
    system_speed_deg_h: tuple[float, float] = (0.3, 0.5)
    system_peak_mm_h: tuple[float, float] = (0.4, 2.2)
    system_sigma_along_deg: tuple[float, float] = (2.5, 5.0)
    system_sigma_across_deg: tuple[float, float] = (0.7, 1.5)
    system_warm_aloft_k: tuple[float, float] = (0.0, 3.0)


CENTRAL_CHINA_RANDOM = RandomWeather()


def random_world(seed: int, w: Winter, spec: RandomWeather = CENTRAL_CHINA_RANDOM) -> World:
    """Outbreaks every few days and precipitation systems crossing from the west, drawn from `spec`."""
    rng = substream(seed, f"weather/{w.label}")
    outbreaks = []
    t = w.start_h - 24 * LEAD_IN_DAYS + rng.uniform(0, 72)
    while t < w.end_h:
        outbreaks.append(Outbreak(float(t), rng.uniform(*spec.outbreak_speed_deg_h), rng.uniform(*spec.outbreak_strength_k),
                                  rng.uniform(*spec.outbreak_decay_h), rng.uniform(*spec.outbreak_depth)))
        t += 24 * rng.uniform(*spec.outbreak_every_days)
    systems = []
    t = w.start_h - 48 + rng.uniform(0, 48)
    west, east = spec.system_lon
    while t < w.end_h:
        u = rng.uniform(*spec.system_speed_deg_h)
        systems.append(System(float(t), float(t + (east - west) / u), west, rng.uniform(*spec.system_lat), u,
                              rng.uniform(-0.03, 0.03), rng.uniform(*spec.system_peak_mm_h),
                              rng.uniform(*spec.system_sigma_along_deg), rng.uniform(*spec.system_sigma_across_deg),
                              rng.uniform(0.0, 25.0), rng.uniform(*spec.system_warm_aloft_k),
                              tuple(rng.uniform(0, 2 * np.pi, 3))))
        t += 24 * max(1.0, rng.exponential(spec.system_mean_gap_days))
    return World(tuple(outbreaks), tuple(systems))


def _overlaps(start_h: float, end_h: float, period: tuple[int, int]) -> bool:
    return start_h < period[1] and end_h > period[0]


def _scripted_period(world: World) -> tuple[float, float]:
    """Hours [UTC since EPOCH] a scripted episode owns: random weather is kept out of them."""
    return (min(o.onset_h for o in world.outbreaks) - 48, max(s.end_h for s in world.systems) + 24)


def compose_winter(seed: int, festival_year: int, scripted: tuple[World, ...], spec: RandomWeather,
                   physics: WeatherPhysics) -> World:
    """A winter's weather: random weather drawn from `spec` plus the scripted episodes, random events kept
    clear of the episodes."""
    w = winter(festival_year, "train", *WEATHER_DAYS)
    periods = [_scripted_period(world) for world in scripted]
    rand = random_world(seed, w, spec)
    outbreaks = [o for o in rand.outbreaks
                 if not any(_overlaps(o.onset_h, o.onset_h + 2 * o.decay_h, p) for p in periods)]
    systems = [s for s in rand.systems if not any(_overlaps(s.start_h, s.end_h, p) for p in periods)]
    return World(tuple(outbreaks) + tuple(o for world in scripted for o in world.outbreaks),
                 tuple(systems) + tuple(s for world in scripted for s in world.systems), physics=physics)


@lru_cache(maxsize=8)
def winter_world(seed: int, festival_year: int) -> World:
    """The weather of the demo winter of `festival_year`. Training winters: random weather plus their
    scripted episodes. 2023-24: the real timeline only (`event_2024`), anchored to the Wuhan station
    (`wuhan.fit_station_anchor`), whatever the seed. The same world serves every grid and time range cut
    from it."""
    if festival_year == HOLDOUT_YEAR:
        from wxrisk.scenario.wuhan import fit_station_anchor

        event = event_2024()
        return replace(event, anchors=(fit_station_anchor(event, wuhan_station()),))
    return compose_winter(seed, festival_year, training_episodes(festival_year), CENTRAL_CHINA_RANDOM, PHYSICS)
