"""The winters of the demo world: windows around each Spring Festival, random weather, scripted episodes.

The 2024 event is scripted after the real one (persistent freezing rain and snow over Hubei, Hunan,
Anhui, Henan and Jiangxi, strongest about 31 January to 7 February 2024, Spring Festival on
10 February); the training winters get random outbreaks and systems plus three scripted icing
episodes each, so that the model sees enough incidents on ice to learn from (docs/demo-world.md).
Only the 2024 dates follow real events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from lunardate import LunarDate

from wxrisk.scenario.roads import substream
from wxrisk.scenario.weather import Outbreak, System, World, hours_of

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


def demo_winters() -> tuple[Winter, ...]:
    return tuple(winter(y, "train") for y in TRAINING_YEARS) + (winter(HOLDOUT_YEAR, "holdout"),)


def _band(start: str, hours: float, lon0: float, lat0: float, peak_mm_h: float, warm_k: float,
          u_deg_h: float = 0.05, sigma_along: float = 5.0, sigma_across: float = 1.3, tilt: float = 12.0,
          texture: tuple[float, float, float] = (0.3, 1.7, 2.9)) -> System:
    start_h = hours_of(start)
    return System(start_h, start_h + hours, lon0, lat0, u_deg_h, 0.0, peak_mm_h, sigma_along, sigma_across,
                  tilt, warm_k, texture)


def event_2024() -> World:
    """The scripted 2024 event: shallow persistent cold air under three waves of a warm, moist band."""
    return World(
        outbreaks=(
            Outbreak(hours_of("2024-01-30T00"), 0.30, -11.0, 200.0, 0.2),
            Outbreak(hours_of("2024-02-03T06"), 0.35, -4.0, 96.0, 0.3),
        ),
        systems=(
            _band("2024-01-31T06", 48, 113.5, 30.0, 1.6, 5.5),
            _band("2024-02-02T18", 60, 113.0, 28.9, 2.0, 6.5, texture=(2.2, 0.4, 1.1)),
            _band("2024-02-05T12", 48, 114.0, 30.4, 1.3, 5.0, texture=(4.0, 3.3, 0.2)),
        ),
    )


EVENT_2024_PERIOD = ("2024-01-30T00", "2024-02-08T12")

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
                       systems=(_band(band_start, 36, 113.8, band_lat, 1.4, 4.5, u_deg_h=0.08),))
                 for onset, band_start, band_lat in TRAINING_EPISODES[year])


def random_world(seed: int, w: Winter) -> World:
    """Outbreaks every 5-9 days and a precipitation system every ~3 days crossing from the west."""
    rng = substream(seed, f"weather/{w.label}")
    outbreaks = []
    t = w.start_h - 24 * LEAD_IN_DAYS + rng.uniform(0, 72)
    while t < w.end_h:
        outbreaks.append(Outbreak(float(t), rng.uniform(0.25, 0.45), rng.uniform(-10.0, -4.0),
                                  rng.uniform(48.0, 120.0), rng.uniform(0.3, 0.6)))
        t += 24 * rng.uniform(5.0, 9.0)
    systems = []
    t = w.start_h - 48 + rng.uniform(0, 48)
    while t < w.end_h:
        u = rng.uniform(0.3, 0.5)
        systems.append(System(float(t), float(t + (124.0 - 106.5) / u), 106.5, rng.uniform(25.0, 33.0), u,
                              rng.uniform(-0.03, 0.03), rng.uniform(0.4, 2.2), rng.uniform(2.5, 5.0),
                              rng.uniform(0.7, 1.5), rng.uniform(0.0, 25.0), rng.uniform(0.0, 3.0),
                              tuple(rng.uniform(0, 2 * np.pi, 3))))
        t += 24 * max(1.0, rng.exponential(3.0))
    return World(tuple(outbreaks), tuple(systems))


def _overlaps(start_h: float, end_h: float, period: tuple[int, int]) -> bool:
    return start_h < period[1] and end_h > period[0]


def _scripted_period(world: World) -> tuple[float, float]:
    """Hours [UTC since EPOCH] a scripted episode owns: random weather is kept out of them."""
    return (min(o.onset_h for o in world.outbreaks) - 48, max(s.end_h for s in world.systems) + 24)


def winter_world(seed: int, festival_year: int) -> World:
    """The weather of the demo winter of `festival_year`: random weather plus its scripted episodes, random
    events kept clear of the episodes. The same world serves every grid and time range cut from it."""
    w = winter(festival_year, "train", *WEATHER_DAYS)
    scripted = (event_2024(),) if festival_year == HOLDOUT_YEAR else training_episodes(festival_year)
    periods = [_scripted_period(world) for world in scripted]
    rand = random_world(seed, w)
    outbreaks = [o for o in rand.outbreaks
                 if not any(_overlaps(o.onset_h, o.onset_h + 2 * o.decay_h, p) for p in periods)]
    systems = [s for s in rand.systems if not any(_overlaps(s.start_h, s.end_h, p) for p in periods)]
    return World(tuple(outbreaks) + tuple(o for world in scripted for o in world.outbreaks),
                 tuple(systems) + tuple(s for world in scripted for s in world.systems))
