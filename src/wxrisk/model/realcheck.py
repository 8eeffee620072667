"""The real check of docs/model.md: central Leeds, trained on 2018/19-2021/22, evaluated on 2022/23.

    python -m wxrisk.model.realcheck [--data tests/data/real] [--workdir DIR]

Runs the command line exactly as an analyst types it (import roads, incidents, weather; train
`--until 2022-07-01 --promote`; evaluate the year from 2022-07-01) in a fresh folder, prints the
evaluation and the figures of issue 14's check, and exits 1 when one fails:

- the hourly sum of `ice_risk` over the network ranks the hours with an ice/snow collision
  anywhere in Leeds at least as well as the better of the two weather scores, in ROC-AUC and AP;
- the hourly sum of `risk` ranks the hours with any collision at least as well as the region's
  hour-of-week rate.

Too heavy for `make test` (a full train on 34 M segment-hours: minutes of CPU, several GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WEATHER_SCORES = ("minus air temperature", "minus temperature, raised after precipitation")
HOUR_OF_WEEK = "hour-of-week rate (history before start)"
FILES = {"roads": "leeds-roads.geojson", "incidents": "leeds_stats19_collisions_2019_2023_columns.csv",
         "weather": "openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"}


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env})
    if done.returncode != 0:
        raise SystemExit(f"wxrisk {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def run_check(data: Path, workdir: Path) -> dict:
    """Import, train and evaluate in `workdir`; the evaluation's figures (`wxrisk evaluate --out`)."""
    env = {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(workdir), "WXRISK_DB": str(workdir / "wxrisk.duckdb"),
           "WXRISK_MODELS": str(workdir / "models"), "WXRISK_BOARDS": str(workdir / "boards")}
    print(_cli(env, "import", "roads", str(data / FILES["roads"])).strip())
    print(_cli(env, "import", "incidents", str(data / FILES["incidents"]), "--preset", "stats19-decoded").strip())
    print(_cli(env, "import", "weather", str(data / FILES["weather"])).strip())
    trained = _cli(env, "train", "--until", "2022-07-01", "--promote")
    print(trained.strip())
    out = workdir / "evaluation.json"
    print(_cli(env, "evaluate", "--start", "2022-07-01", "--end", "2023-07-01", "--out", str(out)).strip())
    return json.loads(out.read_text(encoding="utf-8"))


def verdicts(report: dict) -> list[tuple[str, bool]]:
    """The check's comparisons as (line, passed)."""
    scores = {row["scorer"]: row for row in report["region_hours"]["scores"]}
    found = []
    ice = scores["network sum of ice_risk"]
    for metric in ("ice ROC-AUC", "ice AP"):
        best_name = max(WEATHER_SCORES, key=lambda name: scores[name][metric])
        found.append((f"ice_risk {metric} {ice[metric]:.3f} vs {best_name} {scores[best_name][metric]:.3f}",
                      ice[metric] >= scores[best_name][metric]))
    ours, rate = scores["network sum of risk"], scores[HOUR_OF_WEEK]
    for metric in ("any ROC-AUC", "any AP"):
        found.append((f"risk {metric} {ours[metric]:.3f} vs hour-of-week rate {rate[metric]:.3f}",
                      ours[metric] >= rate[metric]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("tests/data/real"), help="folder of the Leeds files")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the database and models here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wxrisk-leeds-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        report = run_check(args.data, workdir)
    hours = report["region_hours"]
    print(f"\n{hours['hours']} hours; {hours['any_hours']} with a collision, {hours['ice_hours']} with an ice/snow one "
          f"({hours['ice_incidents']} ice/snow of {hours['incidents']} collisions)")
    found = verdicts(report)
    for line, passed in found:
        print(f"{'PASS' if passed else 'FAIL'}  {line}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"wall {time.monotonic() - started:.0f} s, CPU {children.ru_utime + children.ru_stime:.0f} s, "
          f"peak memory of a step {children.ru_maxrss / 1e6:.1f} GB (shared machine)")
    return 0 if all(passed for _, passed in found) else 1


if __name__ == "__main__":
    sys.exit(main())
