"""What a scenario world's hazard gives: incidents per window, the ice/snow share, rates by road surface and
by air temperature (the Leeds-style table). `python -m wxrisk.scenario.summary [--world guizhou] [--size tiny]`; with `--days`,
the held-out window day by day (road with ice or snow, provinces, expected incidents).

Figures are expectations under the generating hazard (the known hazard), not draws.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from wxrisk.scenario.anchor import BEIJING_OFFSET_H
from wxrisk.scenario.surface import SURFACES
from wxrisk.scenario.world import world_hazards

TEMPERATURE_BINS_C = ((-99.0, -1.0), (-1.0, 0.0), (0.0, 1.0), (1.0, 5.0), (5.0, 99.0))


@dataclass
class Tally:
    """Sums over segment-hours: how many, expected incidents, of which ice/snow."""

    hours: float = 0.0
    expected: float = 0.0
    ice: float = 0.0

    def add(self, mask: np.ndarray, expected: np.ndarray, ice: np.ndarray) -> None:
        self.hours += float(mask.sum())
        self.expected += float(expected[mask].sum())
        self.ice += float(ice[mask].sum())

    @property
    def rate(self) -> float:
        """Expected incidents per 1000 segment-hours."""
        return 1000 * self.expected / max(self.hours, 1.0)

    @property
    def ice_share(self) -> float:
        return 100 * self.ice / max(self.expected, 1e-12)


def summarize(size: str = "demo", seed: int = 2024, world: str = "demo") -> list[str]:
    """The summary as Markdown tables, for one world size (roads written to a temporary directory)."""
    windows = ["| window | expected incidents | ice/snow | traffic part |", "|---|---:|---:|---:|"]
    by_surface = {name: Tally() for name in SURFACES}
    by_temperature = {b: Tally() for b in TEMPERATURE_BINS_C}
    causes = {name: 0.0 for name in ICE_CAUSES}
    with tempfile.TemporaryDirectory() as tmp:
        for winter, pieces, weather, result in world_hazards(Path(tmp), seed, size, world=world):
            for name, where in ice_causes(pieces, weather).items():
                causes[name] += float(result.expected_ice[where].sum())
            total, ice = result.expected.sum(), result.expected_ice.sum()
            windows.append(f"| {winter.label} ({winter.role}) | {total:,.0f} | {ice:,.0f} ({100 * ice / total:.0f} %) "
                           f"| {result.traffic.sum():,.0f} |")
            for code, name in enumerate(SURFACES):
                by_surface[name].add(result.surface.code == code, result.expected, result.expected_ice)
            for lo, hi in TEMPERATURE_BINS_C:
                mask = (weather.t2m_c > lo) & (weather.t2m_c <= hi)
                by_temperature[(lo, hi)].add(mask, result.expected, result.expected_ice)
    all_hours = sum(t.hours for t in by_surface.values())
    surfaces = ["| road surface | share of segment-hours | incidents per 1000 segment-hours |", "|---|---:|---:|"]
    surfaces += [f"| {name} | {100 * t.hours / all_hours:.1f} % | {t.rate:.2f} |" for name, t in by_surface.items()]
    temperatures = ["| 2 m air temperature [°C] | incidents per 1000 segment-hours | ice/snow share |", "|---|---:|---:|"]
    temperatures += [f"| ({lo:g}, {hi:g}] | {t.rate:.2f} | {t.ice_share:.1f} % |"
                     for (lo, hi), t in by_temperature.items() if t.hours]
    total_ice = sum(causes[name] for name in ICE_CAUSES[:5])
    mix = ["| ice/snow incidents (all windows) | share |", "|---|---:|"]
    mix += [f"| {name} | {100 * value / max(total_ice, 1e-12):.0f} % |" for name, value in causes.items()]
    return [*windows, "", *surfaces, "", *temperatures, "", *mix]


ICE_CAUSES = ("in freezing rain", "in freezing drizzle", "in snow, wet snow or ice pellets", "in rain on ice left",
              "with nothing falling (ice, frost or snow left, rime)", "in fog under 200 m", "on bridges",
              "on grades of 2 % or more")


def ice_causes(pieces, weather) -> dict[str, np.ndarray]:
    """Masks (hours, segments) of what was falling and where: the first five split all segment-hours."""
    ptype = weather.ptype
    return dict(zip(ICE_CAUSES, (
        ptype == 3, ptype == 12, np.isin(ptype, (5, 6, 7, 8)), ptype == 1, ptype == 0, weather.vis_m < 200,
        np.broadcast_to(pieces.is_bridge[None, :], ptype.shape), np.broadcast_to(pieces.grade_pct[None, :] >= 2, ptype.shape),
    ), strict=True))


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
    args = parser.parse_args(argv)
    lines = (held_out_days if args.days else summarize)(args.size, args.seed, args.world)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
