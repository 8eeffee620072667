"""Exports of a published snapshot: CSV, Excel, the PDF briefing (checked as images), risk rows."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image

from wxrisk.board.build import build_board
from wxrisk.board.export import RISK_COLUMNS, SYNTHETIC_MARK, export_board, export_risk
from wxrisk.config import Settings, WxriskError
from wxrisk.scored import ScoredRun
from wxrisk.store.publish import open_board, publish_run
from wxrisk.vocab import k_stake

from .conftest import make_world

TZ = "Asia/Shanghai"  # the board's local time


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    made = make_world(tmp_path_factory.mktemp("world"))
    yield made
    made["con"].close()


@pytest.fixture(scope="module")
def snapshot(world):
    """The world's board, built and published as the app and exports read it."""
    settings = Settings(db_path=world["tmp_path"] / "board.duckdb", boards_dir=world["tmp_path"] / "boards")
    build_board(world["con"], settings, world["run_id"], world["scored"])
    return publish_run(world["con"], settings, world["run_id"])


def page_images(pdf, tmp_path) -> list[np.ndarray]:
    """The PDF's pages as RGB arrays, rendered by poppler's pdftoppm at 40 dpi."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(tmp_path.glob("page*.png"))]


def pdf_text(pdf) -> str:
    """The PDF's text, extracted by poppler's pdftotext."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()


def test_pdf_briefing_renders_one_section_per_province(snapshot, tmp_path):
    pdf = export_board(snapshot, "pdf", tmp_path / "briefing.pdf", tz=TZ)
    pages = page_images(pdf, tmp_path)
    assert len(pages) >= 3  # the priority list, then 湖北 (G4) and 湖南 (G70)
    for page in pages:
        ink = (page.min(axis=2) < 200).mean()
        assert ink > 0.01, f"page nearly blank ({ink:.2%} ink)"
    for page in pages[:2]:  # the red tier cell of the list; the red-tier segments of 湖北's map
        rgb = page.astype(int)
        red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
        assert red.sum() > 20
    text = "".join(pdf_text(pdf).split())  # table cells wrap their words
    with open_board(snapshot) as board:
        top_km = board.execute("SELECT km_from FROM stretches WHERE road_ref = 'G4' ORDER BY peak_risk DESC LIMIT 1"
                               ).fetchone()[0]
    for words in ("合成演示数据", "湖北", "湖南", "警车带道", "编队通行", f"G4{k_stake(top_km)}", "优先处置清单",
                  "道路结冰预警"):
        assert words in text
    assert text.index("优先处置清单") < text.index("路网风险图")  # the briefing opens with the priority list


def test_pdf_in_english(snapshot, tmp_path):
    pdf = export_board(snapshot, "pdf", tmp_path / "briefing-en.pdf", lang="en", tz=TZ)
    text = pdf_text(pdf)
    assert "police car leading" in text and "SYNTHETIC DEMO DATA" in text


def test_csv_and_excel_list_stretches_with_measures(snapshot, tmp_path):
    csv = pd.read_csv(export_board(snapshot, "csv", tmp_path / "board.csv", tz=TZ), encoding="utf-8-sig")
    assert csv["优先序"].tolist() == [1, 2] and csv["线路"].tolist() == ["G4", "G70"]  # the priority list
    assert csv["等级"].tolist()[0] == "红色" and csv["道路结冰预警"].tolist() == ["红色", "红色"]
    assert csv["措施"].str.contains("必要时封闭道路").all()
    assert (csv["数据性质"] == SYNTHETIC_MARK).all()
    assert csv["开始"].str.endswith("+08:00").all()
    with open_board(snapshot) as board:  # hours are labelled by their end: the window starts an hour earlier
        onsets = board.execute("SELECT onset FROM stretches ORDER BY priority").df()["onset"]
    begins = pd.to_datetime(csv["开始"]).dt.tz_convert("UTC").dt.tz_localize(None)
    assert (begins == onsets - pd.Timedelta(hours=1)).all()
    book = openpyxl.load_workbook(export_board(snapshot, "xlsx", tmp_path / "board.xlsx", tz=TZ))
    assert book.sheetnames == ["研判批次", "风险路段", "管控措施", "警力派勤", "警力驻点"]
    assert book["研判批次"]["A2"].value == SYNTHETIC_MARK
    assert book["风险路段"].max_row == 3  # header and two stretches


def test_risk_export_follows_the_contract(snapshot, world, tmp_path):
    for suffix in ("csv", "parquet"):
        out = export_risk(snapshot, tmp_path / f"risk.{suffix}")
        rows = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
        assert rows.columns.tolist() == RISK_COLUMNS
        assert RISK_COLUMNS[-4:] == ["top_drivers", "ice_risk", "icing_warning", "visibility_warning"]
        assert rows["ice_risk"].isna().all(), "no ice model in this world: NULL, never a made-up number"
        assert set(rows["icing_warning"]) == {"none", "yellow", "orange", "red"}
        assert len(rows) == len(world["risk"])
        assert rows["valid_time"].iloc[0] == "2024-02-01T16:00:00Z"
        assert set(rows["tier"]) <= {"none", "blue", "yellow", "orange", "red"}
    with pytest.raises(WxriskError, match="csv or .parquet"):
        export_risk(snapshot, tmp_path / "risk.json")


def test_unknown_format_is_refused(snapshot, tmp_path):
    with pytest.raises(WxriskError, match="use csv, xlsx or pdf"):
        export_board(snapshot, "docx", tmp_path / "x.docx", tz=TZ)


def test_a_quiet_board_still_exports(tmp_path):
    quiet = make_world(tmp_path)
    quiet["con"].execute("UPDATE risk SET tier = 'none', risk = 0.001")
    settings = Settings(db_path=tmp_path / "board.duckdb", boards_dir=tmp_path / "boards")
    calm = quiet["scored"].frame.assign(risk=0.001, tier="none")
    assert build_board(quiet["con"], settings, quiet["run_id"], ScoredRun(quiet["run_id"], calm,
                                                                            quiet["scored"].rules))["stretches"] == 0
    path = publish_run(quiet["con"], settings, quiet["run_id"])
    quiet["con"].close()
    csv = pd.read_csv(export_board(path, "csv", tmp_path / "quiet.csv", tz=TZ), encoding="utf-8-sig")
    assert csv.empty and "线路" in csv.columns
    pages = page_images(export_board(path, "pdf", tmp_path / "quiet.pdf", tz=TZ), tmp_path)
    assert len(pages) == 1 and (pages[0].min(axis=2) < 200).mean() > 0.005
    text = pdf_text(tmp_path / "quiet.pdf")
    assert "无风险路段" in text


def test_the_pdf_names_the_osm_bridges_of_the_demo_world(snapshot, tmp_path):
    from wxrisk.board.export import read_board, shows_osm_bridges

    board = read_board(snapshot)
    assert not shows_osm_bridges(board, "湖北")  # the test world has no OpenStreetMap bridge
    anhui = board.segments.assign(province="安徽", bridge=True)
    demo = board.__class__(board.run, board.risk, anhui, board.stretches, board.measures, board.dispatch, board.teams)
    assert shows_osm_bridges(demo, "安徽") and not shows_osm_bridges(demo, "湖北")
    real = demo.__class__({**demo.run, "synthetic": False}, *list(demo.__dict__.values())[1:])
    assert not shows_osm_bridges(real, "安徽")
