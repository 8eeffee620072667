"""The `wxrisk` command line (README.md, docs/). Bad input ends with one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from wxrisk.config import Settings, WxriskError, load_settings, options_help

CONFIG_HELP = ("Settings file: `--config FILE`, else WXRISK_CONFIG, else wxrisk.toml beside the database "
               "(TOML; sections and options below; environment variables win over the file).\n\n"
               + "\n\n".join(escape(line) for line in options_help().splitlines()))
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Extreme-weather road risk: import, train, score, publish and show the board.",
                  epilog=CONFIG_HELP)
import_app = typer.Typer(no_args_is_help=True, help="Import roads, incidents, weather grids or teams.")
export_app = typer.Typer(no_args_is_help=True, help="Export the published board.")
fetch_app = typer.Typer(no_args_is_help=True, help="Fetch live weather forecasts.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(fetch_app, name="fetch")

DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default data/wxrisk.duckdb or WXRISK_DB).")]


@app.callback()
def main_options(
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML); see the list below")] = None,
) -> None:
    """Extreme-weather road risk: import, train, score, publish and show the board."""
    if config is not None:
        if not config.is_file():
            raise WxriskError(f"{config}: no such config file")
        os.environ["WXRISK_CONFIG"] = str(config.resolve())  # the flows and the board read it too


def _settings(db: str | None) -> Settings:
    return load_settings(db)


def _say(message: str) -> None:
    typer.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)


def _connect(settings: Settings):
    from wxrisk.store import connect

    return connect(settings.db_path)


def _time(value: str | None) -> datetime | None:
    from wxrisk.vocab import utc_naive

    return utc_naive(value) if value else None


def _flows():
    """The Prefect flows (`flows/`, installed as `wxrisk.flows`)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy 2-core machine
    from wxrisk.flows import pipeline as flows_pipeline

    return flows_pipeline


@app.command()
def demo(
    db: DbOption = None,
    size: Annotated[str, typer.Option(help="demo (the whole world) or tiny (seconds, for tests).")] = "demo",
    seed: int = 2024,
    world: Annotated[str, typer.Option(help="demo (central China, the 2024 event) or guizhou (the Guizhou plateau's "
                                            "freezing fog and drizzle).")] = "demo",
    serve: Annotated[bool, typer.Option(help="Start the board at http://localhost:PORT when done.")] = False,
    port: int = 8501,
) -> None:
    """A synthetic scenario world end to end (as Prefect flows), then optionally the board."""
    from wxrisk.scenario.world import world_spec

    world_spec(world)
    if world != "demo" and "WXRISK_DATA" not in os.environ:
        os.environ["WXRISK_DATA"] = str(Path("data") / world)   # its own database, models and boards
        os.environ.setdefault("WXRISK_MODELS", str(Path("data") / world / "models"))
        _say(f"world {world}: database, models and boards under data/{world} (set WXRISK_DATA to choose)")
    settings = _settings(db)
    out_dir = settings.data_dir / "demo"
    _say(f"{world} world ({size}, seed {seed}) -> {out_dir}; database {settings.db_path}")
    _say("starting Prefect (a temporary local server) and running the flows: generate, import, train, score")
    run_id = _flows().demo_flow(str(settings.db_path), str(out_dir), size, seed, world)
    _say(f"board published: run {run_id} (SYNTHETIC {world} world)")
    if serve:
        board(db=db, port=port)


@app.command()
def board(db: DbOption = None, port: int = 8501) -> None:
    """Start the Streamlit risk board on the last published run."""
    settings = _settings(db)
    env = {**os.environ, "WXRISK_DB": str(settings.db_path), "WXRISK_DATA": str(settings.data_dir),
           "WXRISK_BOARDS": str(settings.boards_dir), "WXRISK_MODELS": str(settings.models_dir)}
    _say(f"board at http://localhost:{port} (Ctrl-C to stop)")
    from wxrisk.boardview.bench import APP_PATH

    command = [sys.executable, "-m", "streamlit", "run", str(APP_PATH),
               "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(command, env=env))


@import_app.command("roads")
def import_roads(path: Path, db: DbOption = None) -> None:
    """Roads from GeoJSON or OSM PBF, cut into segments of at most 1 km."""
    from wxrisk.incidents.importer import rematch_incidents
    from wxrisk.roads.importer import import_roads as run
    from wxrisk.weather.stations import remap_stations

    settings = _settings(db)
    with _connect(settings) as con:
        result = run(con, settings, path)
        typer.echo(result.summary())
        if result.status != "unchanged":
            typer.echo(f"incidents re-matched to the new segments: {rematch_incidents(con, settings)}")
            for resolution, served in remap_stations(con).items():
                typer.echo(f"{resolution} weather stations re-mapped: {served['segments_served']} segments served, "
                           f"{served['segments_beyond_reach']} beyond reach")


@import_app.command("incidents")
def import_incidents(
    path: Path,
    preset: Annotated[str | None, typer.Option(help="generic (default), stats19 or stats19-decoded")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping for any other export (a path or a shipped name)")] = None,
    tz: Annotated[str | None, typer.Option(help="time zone of local times: IANA name or UTC offset")] = None,
    encoding: Annotated[str | None, typer.Option(help="text encoding (default: UTF-8, or GB18030 Chinese)")] = None,
    max_quarantined: Annotated[float, typer.Option(help="refuse the file when more than this share of rows "
                                                        "would be quarantined")] = 0.5,
    replace: Annotated[str | None, typer.Option(help="an earlier import (id or path) this file supersedes")] = None,
    db: DbOption = None,
) -> None:
    """Incidents from CSV or Parquet, matched to the nearest segment (docs/importers.md)."""
    from wxrisk.incidents.importer import import_incidents as run

    settings = _settings(db)
    with _connect(settings) as con:
        typer.echo(run(con, settings, path, preset=preset, mapping=mapping, tz=tz, encoding=encoding,
                       max_quarantined=max_quarantined, replace=replace).summary())


@import_app.command("list")
def import_list(db: DbOption = None) -> None:
    """Every source's current import: id, kind, rows, path."""
    from wxrisk.store.ledger import current_imports

    settings = _settings(db)
    with _connect(settings) as con:
        for found in current_imports(con):
            typer.echo(f"{found.import_id:>5}  {found.kind:<9}  {found.finished_at:%Y-%m-%d %H:%M}  "
                       f"{found.rows_kept:>9} kept  {found.rows_quarantined:>7} quarantined  {found.path}")


@import_app.command("remove")
def import_remove(
    target: Annotated[str, typer.Argument(help="import id, file path or source (see `wxrisk import list`)")],
    db: DbOption = None,
) -> None:
    """Delete the rows of one import (incidents, roads or weather) in one transaction."""
    from wxrisk.incidents.importer import rematch_incidents
    from wxrisk.store.ledger import remove_import

    settings = _settings(db)
    with _connect(settings) as con:
        result = remove_import(con, target)
        typer.echo(result.summary())
        if result.kind == "roads":
            typer.echo(f"incidents re-matched to the remaining segments: {rematch_incidents(con, settings)}")


@import_app.command("weather")
def import_weather(
    paths: list[Path],
    kind: Annotated[str, typer.Option(help="analysis or forecast")] = "analysis",
    issued: Annotated[str | None, typer.Option(help="forecast issue time, ISO 8601 (else read from the file)")] = None,
    station: Annotated[str | None, typer.Option(
        help="station/point position lon,lat[,elevation_m] (Open-Meteo CSV without metadata, GHCN .dly)")] = None,
    station_list: Annotated[Path | None, typer.Option(help="GHCN station list (ghcnd-stations.txt) for .dly files")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping of a station CSV")] = None,
    tz: Annotated[str | None, typer.Option(help="time zone of a station CSV's times (default: the file's, else UTC)")] = None,
    max_km: Annotated[float | None, typer.Option(help="a station serves segments this close [km] (default 25)")] = None,
    db: DbOption = None,
) -> None:
    """Weather grids (NetCDF, GRIB, Zarr) sampled onto the segments, or station and point series
    (Open-Meteo CSV, GHCN-Daily .dly, a station CSV with --mapping) served by nearest station."""
    from wxrisk.weather.importer import import_weather as run
    from wxrisk.weather.stations import station_summary

    if kind not in ("analysis", "forecast"):
        raise WxriskError(f"--kind {kind}: must be analysis or forecast")
    settings = _settings(db)
    with _connect(settings) as con:
        for result in run(con, settings, [str(p) for p in paths], kind=kind, issued=_time(issued), station=station,
                          station_list=station_list, mapping=mapping, tz=tz, max_km=max_km):
            typer.echo(result.summary())
            if line := station_summary(result):
                typer.echo(line)


@import_app.command("teams")
def import_teams(path: Path, db: DbOption = None) -> None:
    """Police bases available for dispatch (CSV or YAML: team_id, name, province, lon, lat, cars)."""
    from wxrisk.board.dispatch import load_teams

    settings = _settings(db)
    with _connect(settings) as con:
        typer.echo(f"{path}: {load_teams(con, path)} teams")


@fetch_app.command("weather")
def fetch_weather(
    source: Annotated[str, typer.Option(help="open-meteo, ecmwf or gfs")],
    start: Annotated[str, typer.Option(help="forecast issue/start time, ISO 8601")],
    hours: Annotated[int, typer.Option(help="hours ahead")] = 72,
    bbox: Annotated[str | None, typer.Option(help="W,S,E,N (default: the network's extent)")] = None,
    base_url: Annotated[str | None, typer.Option(help="another server (a mirror, or a test server)")] = None,
    db: DbOption = None,
) -> None:
    """Download a forecast and import it."""
    from wxrisk.sources import fetch_and_import, parse_bbox

    box = parse_bbox(bbox) if bbox else None
    settings = _settings(db)
    with _connect(settings) as con:
        fetched, results = fetch_and_import(con, settings, source, _time(start), hours, bbox=box, base_url=base_url)
        typer.echo(f"{source}: {len(fetched.paths)} file(s), issued {fetched.issued_at:%Y-%m-%d %H:%MZ}"
                   f"{' (from cache)' if fetched.from_cache else ''}")
        for result in results:
            typer.echo(result.summary())


@app.command()
def train(
    until: Annotated[str | None, typer.Option(help="use history before this time, ISO 8601")] = None,
    promote: Annotated[bool, typer.Option(
        help="make the new version the champion when the registry has none, or when it beats the champion "
             "(higher PR-AUC, Brier score no worse) on the last validated winter. Without --promote the "
             "champion never changes, not even for a first version")] = False,
    dask: Annotated[bool, typer.Option(help="refit the final risk trees through lightgbm.dask on "
                                            "scoring.dask_address / WXRISK_DASK_ADDRESS, else on a local cluster")] = False,
    db: DbOption = None,
) -> None:
    """Train and evaluate a model version (rolling origin by winter) and register it; see --promote."""
    from wxrisk.model.train import train_model

    settings = _settings(db)
    with _connect(settings) as con:
        if not dask:
            train_model(con, settings, until=_time(until), promote=promote, progress=typer.echo)
            return
        from functools import partial

        from wxrisk.distributed import dask_client, fit_booster_on_dask

        with dask_client(settings.dask_address) as client:
            train_model(con, settings, until=_time(until), promote=promote, progress=typer.echo,
                        fit=partial(fit_booster_on_dask, client))


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="a registered version (its folder name under the models directory)")],
    db: DbOption = None,
) -> None:
    """Make a registered model version the champion, the one `score` uses by default."""
    from wxrisk.model.registry import set_champion

    set_champion(_settings(db), version, "promoted by hand (wxrisk promote)")
    typer.echo(f"{version}: champion")


EXIT_INCOMPLETE = 3


@app.command()
def score(
    start: Annotated[str, typer.Option(help="first hour, ISO 8601 (UTC unless an offset is given)")],
    hours: int = 72,
    model: Annotated[str, typer.Option(help="champion or a version")] = "champion",
    dask: Annotated[bool, typer.Option(help="score tiles on Dask (scoring.dask_address / WXRISK_DASK_ADDRESS, "
                                            "else a local cluster)")] = False,
    db: DbOption = None,
) -> None:
    """Score every segment hour by hour, build the board and publish it.

    Exit status 3: the board is published but incomplete (hours without weather, named on stderr,
    were not scored).
    """
    from wxrisk.pipeline import score_run

    settings = _settings(db)
    if dask:
        flows = _flows()
        flow = flows.score_flow.with_options(task_runner=flows.dask_task_runner(settings.dask_address))
        run_id = flow(str(settings.db_path), _time(start), hours, model, distributed=True)
    else:
        run_id = score_run(settings, start, hours, model, progress=_say).plan.run_id
    typer.echo(run_id)
    with _connect(settings) as con:
        status, message = con.execute("SELECT status, message FROM runs WHERE run_id = ?", [run_id]).fetchall()[0]
    if status != "complete":
        typer.echo(f"wxrisk: board {run_id} published {message}", err=True)
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def evaluate(
    start: Annotated[str, typer.Option(help="ISO 8601")],
    end: Annotated[str, typer.Option(help="ISO 8601")],
    model: str = "champion",
    truth: Annotated[Path | None, typer.Option(
        help="a scenario world's truth.parquet: also report skill against its known hazard")] = None,
    published: Annotated[bool, typer.Option(
        help="verify the published boards' risk instead of the model on analysis weather")] = False,
    out: Annotated[Path | None, typer.Option(help="also write every figure to this JSON file")] = None,
    db: DbOption = None,
) -> None:
    """Verification of a past period: ours beside the plain yardstick, the historical average and the rule."""
    import json

    from wxrisk.model.evaluate import evaluate_period

    settings = _settings(db)
    with _connect(settings) as con:
        report = evaluate_period(con, settings, _time(start), _time(end), model=model, truth=truth,
                                 published=published, progress=_say)
    typer.echo(report.table)
    if out is not None:
        out.write_text(json.dumps(report.to_json(), indent=1, default=float), encoding="utf-8")


@app.command()
def bench(
    segments: Annotated[int, typer.Option(help="synthetic national network size (1 km segments)")] = 184_000,
    hours: int = 72,
    out: Annotated[Path, typer.Option(help="results JSON")] = Path("bench/results.json"),
    workdir: Annotated[Path, typer.Option(help="scratch folder for the bench database")] = Path("data/bench"),
    plain: Annotated[bool, typer.Option(help="then run the plain xarray/pandas/LightGBM pipeline of the same "
                                             "shape (bench/plain_pipeline.py) in a process of its own")] = True,
    board_latency: Annotated[bool, typer.Option(help="also time the app on the current published board")] = True,
    db: DbOption = None,
) -> None:
    """Time a national board through the run's very steps, with peak memory; print, write JSON.

    Measure the whole process from outside with `/usr/bin/time -v wxrisk bench --no-plain`.
    """
    import json
    from dataclasses import replace

    from wxrisk.bench import run_bench
    from wxrisk.store.publish import current_board_path_or_none

    served = _settings(db)
    settings = replace(served, data_dir=workdir, db_path=workdir / "bench.duckdb",
                       boards_dir=workdir / "boards", models_dir=workdir / "models", board_rules=None, playbook=None)
    report = run_bench(settings, segments, hours, out=out, plain=plain, progress=_say)
    typer.echo(report.table())
    if board_latency and current_board_path_or_none(served.boards_dir) is not None:
        from wxrisk.boardview.bench import board_latency as measure

        report.board_latency = measure(served, progress=_say)
        out.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    typer.echo(f"written {out}")


def _board_file(settings: Settings, run: str | None) -> Path:
    from wxrisk.store.publish import current_board_path

    if run is None:
        return current_board_path(settings)
    path = settings.boards_dir / f"{run}.duckdb"
    if not path.exists():
        raise WxriskError(f"{path}: no published board for run {run}")
    return path


@export_app.command("risk")
def export_risk(
    out: Annotated[Path, typer.Option(help="FILE.csv or FILE.parquet")],
    run: Annotated[str | None, typer.Option(help="run id (default: the current board)")] = None,
    db: DbOption = None,
) -> None:
    """One row per segment and hour: risk, ice risk, tier and top drivers (docs/architecture.md)."""
    from wxrisk.board.export import export_risk as run_export

    typer.echo(run_export(_board_file(_settings(db), run), out))


@export_app.command("board")
def export_board(
    format: Annotated[str, typer.Option("--format", help="csv, xlsx or pdf")] = "pdf",
    out: Annotated[Path | None, typer.Option(help="output file (default data/exports/board-RUN.FORMAT)")] = None,
    run: Annotated[str | None, typer.Option(help="run id (default: the current board)")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    db: DbOption = None,
) -> None:
    """The stretches, their window, tier, measures, reasons and teams."""
    from wxrisk.board.export import export_board as run_export

    settings = _settings(db)
    board_file = _board_file(settings, run)
    out = out or settings.data_dir / "exports" / f"board-{board_file.stem}.{format}"
    typer.echo(run_export(board_file, format, out, lang=lang, tz=settings.timezone))


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 1."""
    try:
        app()
    except WxriskError as exc:
        typer.echo(f"wxrisk: {exc}", err=True)
        sys.exit(1)
    except FileNotFoundError as exc:
        typer.echo(f"wxrisk: {exc.filename}: no such file", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
