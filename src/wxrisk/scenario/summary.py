"""What a scenario world's hazard gives: incidents per window and their ice/snow share, inside and outside the
icing episodes, the Leeds signature (all incidents do not rise in dry frost, ice/snow ones rise steeply), rates by
road surface and by air temperature, and what was falling when ice/snow incidents happened.

    python -m wxrisk.scenario.summary [--world guizhou] [--size tiny] [--docs docs/demo-world.md]

With `--docs FILE` the world's block in FILE (between `<!-- summary:WORLD -->` and `<!-- /summary:WORLD -->`) is
rewritten; with `--days`, the held-out window day by day (road with ice or snow, provinces, expected incidents).

Figures are expectations under the generating hazard (the known hazard), except the drawn counts, which are the
incidents `generate` writes for the same world, seed and size.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from wxrisk.config import WxriskError
from wxrisk.scenario.anchor import BEIJING_OFFSET_H
from wxrisk.scenario.episodes import Winter
from wxrisk.scenario.history import HazardResult, PieceWeather, reports_ice_or_snow
from wxrisk.scenario.roads import RoadPieces
from wxrisk.scenario.surface import SURFACES
from wxrisk.scenario.world import window_incidents, world_hazards

TEMPERATURE_BINS_C = ((-99.0, -1.0), (-1.0, 0.0), (0.0, 1.0), (1.0, 5.0), (5.0, 99.0))
ICING_DAY_ROAD_SHARE = 0.10     # an icing day: at some hour at least this share of the road length is icy or snowy
MILD, DRY_FROST, FALLING = ("mild: air above 5 °C", "dry frost: air at or below 0 °C, nothing falling",
                            "snow or freezing rain falling")
ICE_CAUSES = ("in freezing rain", "in freezing drizzle", "in snow, wet snow or ice pellets", "in rain on ice left",
              "with nothing falling (ice, frost or snow left, rime)", "in fog under 200 m", "on bridges",
              "on grades of 2 % or more")


@dataclass
class Tally:
    """Sums over segment-hours: how many, expected incidents, of which ice/snow, and the traffic [vehicle-km]."""

    hours: float = 0.0
    expected: float = 0.0
    ice: float = 0.0
    vehicle_km: float = 0.0

    def add(self, mask: np.ndarray, result: HazardResult) -> None:
        """Add the segment-hours where `mask` (hours, segments) holds."""
        self.hours += float(mask.sum())
        self.expected += float(result.expected[mask].sum())
        self.ice += float(result.expected_ice[mask].sum())
        self.vehicle_km += float(result.vehicle_km[mask].sum(dtype=np.float64))

    @property
    def rate(self) -> float:
        """Expected incidents per 1000 segment-hours."""
        return 1000 * self.expected / max(self.hours, 1.0)

    @property
    def ice_rate(self) -> float:
        """Expected ice/snow incidents per 1000 segment-hours."""
        return 1000 * self.ice / max(self.hours, 1.0)

    @property
    def ice_share(self) -> float:
        """Ice/snow incidents among all [%]."""
        return 100 * self.ice / max(self.expected, 1e-12)

    @property
    def per_100m_vehicle_km(self) -> float:
        """Expected incidents per 100 million vehicle-km of traffic (before the drivers' weather response)."""
        return 1e8 * self.expected / max(self.vehicle_km, 1e-12)


@dataclass
class WindowMix:
    """One history window: all of it, its icing days and the other days, and the incidents drawn from it."""

    winter: Winter
    whole: Tally = field(default_factory=Tally)
    icing: Tally = field(default_factory=Tally)
    other: Tally = field(default_factory=Tally)
    traffic: float = 0.0             # expected incidents of the traffic part
    days: int = 0
    icing_days: int = 0
    drawn: int | None = None         # incidents written by `generate` (None: not drawn)
    drawn_ice: int | None = None     # of which the report says ice or snow


@dataclass
class WorldMix:
    """Everything the summary prints, for one world, seed and size."""

    windows: list[WindowMix] = field(default_factory=list)
    hour_classes: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in (MILD, DRY_FROST, FALLING)})
    by_surface: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in SURFACES})
    by_temperature: dict[tuple[float, float], Tally] = field(
        default_factory=lambda: {b: Tally() for b in TEMPERATURE_BINS_C})
    causes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ICE_CAUSES, 0.0))

    @property
    def all_windows(self) -> Tally:
        total = Tally()
        for w in self.windows:
            for name in ("hours", "expected", "ice", "vehicle_km"):
                setattr(total, name, getattr(total, name) + getattr(w.whole, name))
        return total


def icing_day_hours(winter: Winter, pieces: RoadPieces, result: HazardResult) -> tuple[np.ndarray, int]:
    """Which hours (hours,) fall on an icing day, and how many icing days: the window cut into 24-hour days from
    its start (Beijing midnight), a day being icing when at some hour at least ICING_DAY_ROAD_SHARE of the road
    length is icy or snowy."""
    icy_share = (result.surface.icy * pieces.length_km[None, :]).sum(axis=1) / pieces.length_km.sum()
    day = np.arange(winter.end_h - winter.start_h) // 24
    icing = np.zeros(day.max() + 1, dtype=bool)
    np.maximum.at(icing, day, icy_share >= ICING_DAY_ROAD_SHARE)
    return icing[day], int(icing.sum())


def hour_class_masks(weather: PieceWeather) -> dict[str, np.ndarray]:
    """The Leeds-style hour classes (hours, segments): mild, dry frost, snow or freezing rain falling."""
    return {MILD: weather.t2m_c > 5.0, DRY_FROST: (weather.t2m_c <= 0.0) & (weather.ptype == 0),
            FALLING: np.isin(weather.ptype, (3, 5, 6, 7, 8, 12))}


def ice_causes(pieces: RoadPieces, weather: PieceWeather) -> dict[str, np.ndarray]:
    """Masks (hours, segments) of what was falling and where: the first five split all segment-hours."""
    ptype = weather.ptype
    return dict(zip(ICE_CAUSES, (
        ptype == 3, ptype == 12, np.isin(ptype, (5, 6, 7, 8)), ptype == 1, ptype == 0, weather.vis_m < 200,
        np.broadcast_to(pieces.is_bridge[None, :], ptype.shape), np.broadcast_to(pieces.grade_pct[None, :] >= 2, ptype.shape),
    ), strict=True))


def world_mix(size: str = "demo", seed: int = 2024, world: str = "demo", draw: bool = True) -> WorldMix:
    """Tally a world's hazard over all its history windows (roads written to a temporary directory); with `draw`,
    also count the incidents `generate` draws."""
    mix = WorldMix()
    with tempfile.TemporaryDirectory() as tmp:
        for winter, pieces, weather, result in world_hazards(Path(tmp), seed, size, world=world):
            mix.windows.append(_window_mix(seed, winter, pieces, result, draw))
            for name, mask in hour_class_masks(weather).items():
                mix.hour_classes[name].add(mask, result)
            for code, name in enumerate(SURFACES):
                mix.by_surface[name].add(result.surface.code == code, result)
            for lo, hi in TEMPERATURE_BINS_C:
                mix.by_temperature[(lo, hi)].add((weather.t2m_c > lo) & (weather.t2m_c <= hi), result)
            for name, where in ice_causes(pieces, weather).items():
                mix.causes[name] += float(result.expected_ice[where].sum())
    return mix


def _window_mix(seed: int, winter: Winter, pieces: RoadPieces, result: HazardResult, draw: bool) -> WindowMix:
    icing_hours, icing_days = icing_day_hours(winter, pieces, result)
    on_icing_day = np.broadcast_to(icing_hours[:, None], result.expected.shape)
    mix = WindowMix(winter, traffic=float(result.traffic.sum()), days=-(-len(icing_hours) // 24),
                    icing_days=icing_days)
    mix.whole.add(np.ones(result.expected.shape, dtype=bool), result)
    mix.icing.add(on_icing_day, result)
    mix.other.add(~on_icing_day, result)
    if draw:
        rows = window_incidents(seed, winter, pieces, result)
        mix.drawn, mix.drawn_ice = len(rows), sum(map(reports_ice_or_snow, rows))
    return mix


def summarize(size: str = "demo", seed: int = 2024, world: str = "demo") -> list[str]:
    """The summary as Markdown tables."""
    return format_mix(world_mix(size, seed, world))


def format_mix(mix: WorldMix) -> list[str]:
    return [*_window_table(mix), "", *_icing_table(mix), "", *_signature_table(mix), "", *_surface_table(mix), "",
            *_temperature_table(mix), "", *_cause_table(mix)]


def _window_table(mix: WorldMix) -> list[str]:
    lines = ["| window | expected incidents | of which ice/snow | traffic part | per 100 million vehicle-km "
             "| drawn (ice/snow) |", "|---|---:|---:|---:|---:|---:|"]
    for w in mix.windows:
        drawn = "–" if w.drawn is None else f"{w.drawn:,} ({w.drawn_ice:,}, {100 * w.drawn_ice / max(w.drawn, 1):.0f} %)"
        lines.append(f"| {w.winter.label} ({w.winter.role}) | {w.whole.expected:,.0f} | {w.whole.ice:,.0f} "
                     f"({w.whole.ice_share:.0f} %) | {w.traffic:,.0f} | {w.whole.per_100m_vehicle_km:.0f} | {drawn} |")
    total = mix.all_windows
    drawn_all = [w.drawn for w in mix.windows if w.drawn is not None]
    drawn_ice = sum(w.drawn_ice for w in mix.windows if w.drawn_ice is not None)
    drawn = f"{sum(drawn_all):,} ({drawn_ice:,}, {100 * drawn_ice / max(sum(drawn_all), 1):.0f} %)" if drawn_all else "–"
    lines.append(f"| all windows | {total.expected:,.0f} | {total.ice:,.0f} ({total.ice_share:.0f} %) "
                 f"| {sum(w.traffic for w in mix.windows):,.0f} | {total.per_100m_vehicle_km:.0f} | {drawn} |")
    return lines


def _icing_table(mix: WorldMix) -> list[str]:
    lines = ["| window | icing days | ice/snow incidents on icing days | ice/snow share of incidents: icing days "
             "| other days |", "|---|---:|---:|---:|---:|"]
    for w in mix.windows:
        lines.append(f"| {w.winter.label} | {w.icing_days} of {w.days} | {100 * w.icing.ice / max(w.whole.ice, 1e-12):.0f} % "
                     f"| {w.icing.ice_share:.0f} % | {w.other.ice_share:.1f} % |")
    return lines


def _signature_table(mix: WorldMix) -> list[str]:
    total_hours = mix.all_windows.hours
    lines = ["| hours | share of segment-hours | all incidents per 1000 segment-hours | ice/snow per 1000 segment-hours "
             "| ice/snow share | all incidents per 100 million vehicle-km |", "|---|---:|---:|---:|---:|---:|"]
    for name, t in mix.hour_classes.items():
        lines.append(f"| {name} | {100 * t.hours / total_hours:.1f} % | {t.rate:.2f} | {t.ice_rate:.3f} "
                     f"| {t.ice_share:.1f} % | {t.per_100m_vehicle_km:.0f} |")
    frost, mild = mix.hour_classes[DRY_FROST], mix.hour_classes[MILD]
    lines.append(f"| dry frost ÷ mild | | × {frost.rate / mild.rate:.2f} | {_ratio(frost.ice_rate, mild.ice_rate)} | "
                 f"| × {frost.per_100m_vehicle_km / mild.per_100m_vehicle_km:.2f} |")
    return lines


def _ratio(numerator: float, denominator: float) -> str:
    return f"× {numerator / denominator:,.0f}" if denominator > 1e-6 * max(numerator, 1e-12) else "from 0"


def _surface_table(mix: WorldMix) -> list[str]:
    all_hours = sum(t.hours for t in mix.by_surface.values())
    return ["| road surface | share of segment-hours | incidents per 1000 segment-hours |", "|---|---:|---:|",
            *(f"| {name} | {100 * t.hours / all_hours:.1f} % | {t.rate:.2f} |" for name, t in mix.by_surface.items())]


def _temperature_table(mix: WorldMix) -> list[str]:
    return ["| 2 m air temperature [°C] | incidents per 1000 segment-hours | ice/snow share |", "|---|---:|---:|",
            *(f"| ({lo:g}, {hi:g}] | {t.rate:.2f} | {t.ice_share:.1f} % |"
              for (lo, hi), t in mix.by_temperature.items() if t.hours)]


def _cause_table(mix: WorldMix) -> list[str]:
    total_ice = sum(mix.causes[name] for name in ICE_CAUSES[:5])
    return ["| ice/snow incidents (all windows) | share |", "|---|---:|",
            *(f"| {name} | {100 * value / max(total_ice, 1e-12):.0f} % |" for name, value in mix.causes.items())]


def replace_docs_block(text: str, world: str, lines: list[str]) -> str:
    """`text` with the world's summary block (between its markers) replaced by `lines`."""
    pattern = re.compile(rf"(<!-- summary:{re.escape(world)} -->\n).*?(\n<!-- /summary:{re.escape(world)} -->)", re.S)
    if not pattern.search(text):
        raise WxriskError(f"no <!-- summary:{world} --> ... <!-- /summary:{world} --> block to rewrite")
    return pattern.sub(lambda m: m.group(1) + "\n".join(lines) + m.group(2), text, count=1)


def held_out_days(size: str = "demo", seed: int = 2024, world: str = "demo") -> list[str]:
    """Per Beijing day of the held-out window: the most road with ice or snow on it at any hour [km], the
    provinces with at least 10 km of it, and the expected incidents of the day, as a Markdown table."""
    lines = ["| Beijing day | most icy/snowy road at one hour | provinces (≥ 10 km) | expected ice/snow incidents "
             "| expected incidents |", "|---|---:|---|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for winter, pieces, _weather, result in world_hazards(Path(tmp), seed, size, roles=("holdout",), world=world):
            hours = np.arange(winter.start_h, winter.end_h, dtype=np.int64)
            day = (hours - 1 + BEIJING_OFFSET_H) // 24
            icy_km = result.surface.icy * pieces.length_km[None, :]
            for d in np.unique(day):
                rows = day == d
                busiest = int(np.argmax(icy_km[rows].sum(axis=1)))
                by_province = {p: float(icy_km[rows][busiest, pieces.province == p].sum())
                               for p in np.unique(pieces.province)}
                provinces = "、".join(p for p, km in sorted(by_province.items(), key=lambda kv: -kv[1]) if km >= 10)
                lines.append(f"| {date(2000, 1, 1) + timedelta(days=int(d))} | {icy_km[rows].sum(axis=1).max():,.0f} km "
                             f"| {provinces or '–'} | {result.expected_ice[rows].sum():.0f} | {result.expected[rows].sum():.0f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="demo", help="demo or guizhou")
    parser.add_argument("--size", default="demo")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--days", action="store_true", help="the held-out window day by day instead")
    parser.add_argument("--docs", type=Path, help="rewrite the world's summary block in this Markdown file")
    args = parser.parse_args(argv)
    if args.days and args.docs:
        parser.error("--docs rewrites the summary block; it does not take --days")
    lines = (held_out_days if args.days else summarize)(args.size, args.seed, args.world)
    if args.docs:
        args.docs.write_text(replace_docs_block(args.docs.read_text(encoding="utf-8"), args.world, lines),
                             encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
