"""Exports of a published board snapshot: CSV, Excel, a PDF briefing per province, and risk rows.

The snapshot is a DuckDB file written by `wxrisk.store.publish` (tables `runs`, `risk`,
`segments`, `stretches`, `stretch_measures`, `dispatch`, `teams`). Times are shown in local
time (`tz`, the settings' time zone) with their offset; the risk export keeps UTC (CONTRACT section 4).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from wxrisk.board.stretches import percent_text
from wxrisk.config import WxriskError
from wxrisk.levels import CONDITION_WORDS, TIER_RANK, TIER_RGBA, TIERS, hex_colour, tier_word, window_start
from wxrisk.store.publish import open_board
from wxrisk.vocab import k_stake, local_stamp

FONT = "STSong-Light"  # reportlab's built-in CID font for Chinese: no font file needed
SYNTHETIC_MARK = "合成演示数据 / SYNTHETIC DEMO DATA"
TIER_COLOURS = {tier: colors.HexColor(hex_colour(rgba)) for tier, rgba in TIER_RGBA.items()}
BOARD_TABLES = ("runs", "risk", "segments", "stretches", "stretch_measures", "dispatch", "teams")
WORDS = {
    "zh": {
        "title": "冰雪天气高速公路风险研判简报", "province": "省份", "run": "研判批次", "start": "起始时间",
        "weather": "气象资料", "issued": "起报", "model": "模型版本", "missing": "缺失或过期输入",
        "none": "无", "unknown": "未注明", "stretches": "风险路段", "measures": "管控措施", "dispatch": "警力派勤",
        "teams": "警力驻点", "map": "路网风险图（线段颜色为研判期内最高等级）", "no_stretches": "本省无风险路段。",
        "road_ref": "线路", "name": "名称", "km_from": "起点桩号", "km_to": "终点桩号", "length_km": "长度(km)",
        "tier": "等级", "onset": "开始", "peak_time": "峰值时间", "end_time": "结束", "peak_risk": "峰值风险",
        "expected_incidents": "预计事故(起)", "conditions": "条件", "measure_list": "措施", "reasons": "原因",
        "stretch": "路段", "measure": "措施", "start_at": "开始时间", "reason": "原因", "team": "队伍",
        "cars": "车辆", "travel_min": "路程(分钟)", "depart_by": "最迟出发", "arrive_by": "最迟到达",
        "status": "状态", "cars_needed": "需车辆", "team_id": "编号", "lon": "经度", "lat": "纬度",
        "synthetic": "数据性质", "stretch_id": "路段编号", "measure_id": "措施编号", "lead_hours": "提前(小时)",
        "window": "时段", "assigned": "已派", "unreachable": "无法按时到达", "uncovered": "警力不足",
        "real": "真实数据", "local_time": "表中时间为当地时间",
        "priority": "优先序", "priority_list": "优先处置清单（按此顺序派警）",
        "expected_weather": "预计天气事故(起)", "icing_warning": "道路结冰预警", "visibility_warning": "能见度管控",
        "first_measure": "首项措施", "due_at": "首项措施开始",
    },
    "en": {
        "title": "Expressway ice and snow risk briefing", "province": "Province", "run": "Run", "start": "Start",
        "weather": "Weather", "issued": "issued", "model": "Model version", "missing": "Missing or stale inputs",
        "none": "none", "unknown": "unnamed", "stretches": "Risk stretches", "measures": "Measures",
        "dispatch": "Dispatch plan", "teams": "Team bases",
        "map": "Network risk map (segments coloured by the highest tier of the run)",
        "no_stretches": "No risk stretch in this province.",
        "road_ref": "Road", "name": "Name", "km_from": "From", "km_to": "To", "length_km": "Length (km)",
        "tier": "Tier", "onset": "Onset", "peak_time": "Peak", "end_time": "End", "peak_risk": "Peak risk",
        "expected_incidents": "Expected incidents", "conditions": "Conditions", "measure_list": "Measures",
        "reasons": "Reasons", "stretch": "Stretch", "measure": "Measure", "start_at": "Start by", "reason": "Reason",
        "team": "Team", "cars": "Cars", "travel_min": "Travel (min)", "depart_by": "Leave by", "arrive_by": "Arrive by",
        "status": "Status", "cars_needed": "Cars needed", "team_id": "Id", "lon": "Lon", "lat": "Lat",
        "synthetic": "Data", "stretch_id": "Stretch id", "measure_id": "Measure id", "lead_hours": "Lead (h)",
        "window": "Window", "assigned": "assigned", "unreachable": "cannot arrive in time",
        "uncovered": "not enough cars", "real": "real data", "local_time": "Times are local",
        "priority": "Priority", "priority_list": "Priority list (teams are sent in this order)",
        "expected_weather": "Expected weather incidents", "icing_warning": "Road-icing warning",
        "visibility_warning": "Visibility control", "first_measure": "First measure", "due_at": "First measure starts",
    },
}


@dataclass(frozen=True)
class Board:
    """One published run, read whole from its snapshot."""

    run: dict
    risk: pd.DataFrame
    segments: pd.DataFrame
    stretches: pd.DataFrame
    measures: pd.DataFrame
    dispatch: pd.DataFrame
    teams: pd.DataFrame


def read_board(board_db_path: str | Path) -> Board:
    """The run and its tables from a snapshot file (a table absent from it reads as empty)."""
    path = Path(board_db_path)
    if not path.exists():
        raise WxriskError(f"{path}: no such board snapshot")
    con = open_board(path)
    try:
        present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        frames = {name: con.execute(f"SELECT * FROM {name}").df() if name in present else pd.DataFrame()
                  for name in BOARD_TABLES}
    finally:
        con.close()
    if frames["runs"].empty:
        raise WxriskError(f"{path}: the snapshot holds no run")
    return Board(frames["runs"].iloc[0].to_dict(), frames["risk"], frames["segments"], frames["stretches"],
                 frames["stretch_measures"], frames["dispatch"], frames["teams"])


def local_text(moment, tz: str, with_offset: bool = False) -> str:
    """A naive UTC time as local text: `02-02 08:00` or ISO with offset; empty for none."""
    if moment is None or pd.isna(moment):
        return ""
    local = local_stamp(moment, tz)
    return local.isoformat(timespec="minutes") if with_offset else f"{local:%m-%d %H:%M}"


def _conditions_text(conditions_json: str, lang: str) -> str:
    names = json.loads(conditions_json or "[]")
    return ("、" if lang == "zh" else ", ").join(CONDITION_WORDS[c][0 if lang == "zh" else 1] for c in names)


def warning_text(level, lang: str) -> str:
    """A warning level as on the board: `橙色` / `orange`; empty for none or unknown (older boards)."""
    return tier_word(level, lang) if isinstance(level, str) and level not in ("none", "") else ""


def in_priority_order(stretches: pd.DataFrame) -> pd.DataFrame:
    """Stretches by their place in the priority list (boards without one: by tier, then expected incidents)."""
    if "priority" in stretches and stretches["priority"].notna().all():
        return stretches.sort_values("priority")
    return stretches.sort_values(["tier", "expected_incidents"], key=_tier_then_value, ascending=False)


def stretch_table(board: Board, lang: str, tz: str, iso: bool = True) -> pd.DataFrame:
    """One row per stretch with its window, measures and reasons, headers in `lang`; times ISO
    with offset (`iso`) or short local text, peak risk as a probability or a percentage."""
    words = WORDS[lang]
    label = "label_zh" if lang == "zh" else "label_en"
    measures = board.measures.sort_values(["stretch_id", "priority"]) if not board.measures.empty else board.measures
    measure_text = {
        sid: "；".join(f"{m[label]}（{local_text(m['start_at'], tz)}）" for _, m in group.iterrows())
        for sid, group in (measures.groupby("stretch_id") if not measures.empty else [])
    }
    rows = []
    for s in in_priority_order(board.stretches).itertuples():
        rows.append({
            words["priority"]: getattr(s, "priority", None), words["stretch_id"]: s.stretch_id, words["road_ref"]: s.road_ref, words["name"]: s.name,
            words["province"]: s.province, words["km_from"]: k_stake(s.km_from), words["km_to"]: k_stake(s.km_to),
            words["length_km"]: round(float(s.length_km), 1), words["tier"]: tier_word(s.tier, lang),
            words["icing_warning"]: warning_text(getattr(s, "icing_warning", None), lang),
            words["visibility_warning"]: warning_text(getattr(s, "visibility_warning", None), lang),
            words["onset"]: local_text(window_start(s.onset), tz, iso), words["peak_time"]: local_text(s.peak_time, tz, iso),
            words["end_time"]: local_text(s.end_time, tz, iso),
            words["peak_risk"]: round(float(s.peak_risk), 4) if iso else percent_text(s.peak_risk),
            words["expected_weather"]: round(float(getattr(s, "expected_weather_incidents", s.expected_incidents)), 3),
            words["expected_incidents"]: round(float(s.expected_incidents), 3),
            words["conditions"]: _conditions_text(s.conditions, lang),
            words["measure_list"]: measure_text.get(s.stretch_id, ""),
            words["reasons"]: s.reasons_zh if lang == "zh" else s.reasons_en,
            words["synthetic"]: SYNTHETIC_MARK if board.run.get("synthetic") else words["real"],
        })
    keys = ("priority", "stretch_id", "road_ref", "name", "province", "km_from", "km_to", "length_km", "tier",
            "icing_warning", "visibility_warning", "onset", "peak_time", "end_time", "peak_risk", "expected_weather",
            "expected_incidents", "conditions", "measure_list", "reasons", "synthetic")
    return pd.DataFrame(rows, columns=[words[k] for k in keys])


def _tier_then_value(column: pd.Series) -> pd.Series:
    return column.map(TIER_RANK) if column.name == "tier" else column


def measure_table(board: Board, lang: str, tz: str, iso: bool = True) -> pd.DataFrame:
    words = WORDS[lang]
    suffix = "zh" if lang == "zh" else "en"
    if board.measures.empty:
        keys = ("stretch_id", "measure_id", "measure", "start_at", "lead_hours", "reason")
        return pd.DataFrame(columns=[words[k] for k in keys])
    frame = board.measures.sort_values(["stretch_id", "priority"])
    return pd.DataFrame({
        words["stretch_id"]: frame["stretch_id"], words["measure_id"]: frame["measure_id"],
        words["measure"]: frame[f"label_{suffix}"],
        words["start_at"]: [local_text(t, tz, iso) for t in frame["start_at"]],
        words["lead_hours"]: frame["lead_hours"], words["reason"]: frame[f"reason_{suffix}"],
    })


def dispatch_table(board: Board, lang: str, tz: str, iso: bool = True) -> pd.DataFrame:
    words = WORDS[lang]
    teams = board.teams.set_index("team_id")["name"].to_dict() if not board.teams.empty else {}
    frame = board.dispatch
    return pd.DataFrame({
        words["stretch_id"]: frame.get("stretch_id", pd.Series(dtype=str)),
        words["team"]: [f"{teams.get(t, t)}" if isinstance(t, str) else "" for t in frame.get("team_id", [])],
        words["cars"]: frame.get("cars", pd.Series(dtype=int)),
        words["cars_needed"]: frame.get("cars_needed", pd.Series(dtype=int)),
        words["travel_min"]: frame.get("travel_min", pd.Series(dtype=float)),
        words["depart_by"]: [local_text(t, tz, iso) for t in frame.get("depart_by", [])],
        words["arrive_by"]: [local_text(t, tz, iso) for t in frame.get("arrive_by", [])],
        words["status"]: [words.get(s, s) for s in frame.get("status", [])],
    })


def team_table(board: Board, lang: str) -> pd.DataFrame:
    words = WORDS[lang]
    columns = ["team_id", "name", "province", "lon", "lat", "cars"]
    frame = board.teams[columns] if not board.teams.empty else pd.DataFrame(columns=columns)
    return frame.rename(columns={c: words["team" if c == "name" else c] for c in columns})


def run_lines(board: Board, lang: str, tz: str) -> list[str]:
    """The run's identity: id, start, weather issue, model version and missing inputs."""
    words, run = WORDS[lang], board.run
    missing = json.loads(run.get("missing_inputs") or "[]")
    weather = str(run.get("weather_kind") or "")
    if run.get("weather_issued_at") is not None and not pd.isna(run.get("weather_issued_at")):
        weather += f" ({words['issued']} {local_text(run['weather_issued_at'], tz, True)})"
    return [
        f"{words['run']}: {run['run_id']}",
        f"{words['start']}: {local_text(run['start_time'], tz, True)}, {run['hours']} h",
        f"{words['weather']}: {weather}",
        f"{words['model']}: {run.get('model_version') or ''}",
        f"{words['missing']}: {'; '.join(missing) if missing else words['none']}",
        f"{words['local_time']}: {tz}",
    ]


def export_board(board_db_path: str | Path, fmt: str, out: str | Path, lang: str = "zh", *, tz: str) -> Path:
    """Write the board of a snapshot as `csv`, `xlsx` or `pdf` to `out`; returns the path."""
    if lang not in WORDS:
        raise WxriskError(f"lang {lang!r}: use zh or en")
    writers = {"csv": _write_csv, "xlsx": _write_xlsx, "pdf": _write_pdf}
    if fmt not in writers:
        raise WxriskError(f"format {fmt!r}: use csv, xlsx or pdf")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writers[fmt](read_board(board_db_path), out, lang, tz)
    return out


def _write_csv(board: Board, out: Path, lang: str, tz: str) -> None:
    stretch_table(board, lang, tz).to_csv(out, index=False, encoding="utf-8-sig")


def _write_xlsx(board: Board, out: Path, lang: str, tz: str) -> None:
    from openpyxl.styles import Font

    words = WORDS[lang]
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        lines = ([SYNTHETIC_MARK] if board.run.get("synthetic") else []) + run_lines(board, lang, tz)
        pd.DataFrame({words["title"]: lines}).to_excel(writer, sheet_name=words["run"][:31], index=False)
        stretch_table(board, lang, tz).to_excel(writer, sheet_name=words["stretches"][:31], index=False)
        measure_table(board, lang, tz).to_excel(writer, sheet_name=words["measures"][:31], index=False)
        dispatch_table(board, lang, tz).to_excel(writer, sheet_name=words["dispatch"][:31], index=False)
        team_table(board, lang).to_excel(writer, sheet_name=words["teams"][:31], index=False)
        if board.run.get("synthetic"):
            writer.book[words["run"][:31]]["A2"].font = Font(bold=True, color="D7191C")


# --- PDF briefing -------------------------------------------------------------------------------

def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=11.5, leading=15, spaceBefore=6, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "mark": ParagraphStyle("mark", fontName=FONT, fontSize=13, leading=17, textColor=TIER_COLOURS["red"]),
    }


def segment_tiers(board: Board) -> pd.Series:
    """The highest tier of each segment over the run."""
    if board.risk.empty:
        return pd.Series(dtype=str)
    rank = board.risk.assign(rank=board.risk["tier"].map(TIER_RANK)).groupby("segment_id")["rank"].max()
    return rank.map(lambda r: TIERS[int(r)])


def province_map(board: Board, province: str | None, stretches: pd.DataFrame, width: float, height: float,
                 lang: str) -> Drawing:
    """The province's segments as lines coloured by their highest tier, stretches labelled."""
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, strokeColor=colors.grey, fillColor=None, strokeWidth=0.5))
    segments = board.segments if province is None else board.segments[board.segments["province"] == province]
    if segments.empty:
        return drawing
    paths = [json.loads(p) for p in segments["path_json"]]
    lons = [pt[0] for path in paths for pt in path] + stretches["lon"].tolist()
    lats = [pt[1] for path in paths for pt in path] + stretches["lat"].tolist()
    project = _projection(min(lons), max(lons), min(lats), max(lats), width, height - 14, margin=18)
    tiers = segment_tiers(board)
    order = sorted(range(len(paths)), key=lambda i: TIER_RANK.get(tiers.get(segments["segment_id"].iloc[i], "none"), 0))
    for i in order:
        tier = tiers.get(segments["segment_id"].iloc[i], "none")
        points = [project(lon, lat) for lon, lat in paths[i]]
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            drawing.add(Line(x1, y1, x2, y2, strokeColor=TIER_COLOURS[tier], strokeWidth=1.2 + TIER_RANK[tier]))
    placed: list[tuple[float, float]] = []
    for s in stretches.sort_values("expected_incidents", ascending=False).itertuples():
        x, y = project(s.lon, s.lat)
        drawing.add(Circle(x, y, 2.5, fillColor=colors.black, strokeColor=None))
        if any(abs(x - px) < 90 and abs(y - py) < 9 for px, py in placed):
            continue  # labels never overlap: the stretch with more expected incidents keeps its label
        placed.append((x, y))
        drawing.add(String(x + 4, y + 2, f"{s.road_ref} {k_stake(s.km_from)}–{k_stake(s.km_to)}", fontName=FONT,
                           fontSize=7, fillColor=colors.black))
    for n, tier in enumerate(TIERS[1:]):
        x = 8 + n * 62
        drawing.add(Line(x, height - 9, x + 16, height - 9, strokeColor=TIER_COLOURS[tier], strokeWidth=3))
        drawing.add(String(x + 20, height - 12, tier_word(tier, lang), fontName=FONT, fontSize=7))
    return drawing


def _projection(lon_min, lon_max, lat_min, lat_max, width, height, margin):
    """Lon/lat [degrees] -> drawing points, equirectangular at the mid latitude, aspect kept."""
    import math

    kx = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x, span_y = max((lon_max - lon_min) * kx, 1e-6), max(lat_max - lat_min, 1e-6)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    x0 = (width - span_x * scale) / 2
    y0 = (height - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return x0 + (lon - lon_min) * kx * scale, y0 + (lat - lat_min) * scale

    return project


def _table(frame: pd.DataFrame, styles, widths: list[float]) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(str(c), cell) for c in frame.columns]]
    data += [[Paragraph("" if pd.isna(v) else str(v), cell) for v in row] for row in frame.itertuples(index=False)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _province_story(board: Board, province: str | None, styles, lang: str, tz: str, page_width: float) -> list:
    words = WORDS[lang]
    stretches = board.stretches if province is None else board.stretches[board.stretches["province"] == province]
    place = province or words["unknown"]
    story = [Paragraph(f"{words['title']}（{place}）" if lang == "zh" else f"{words['title']}: {place}", styles["title"])]
    if board.run.get("synthetic"):
        story.append(Paragraph(SYNTHETIC_MARK, styles["mark"]))
    story += [Paragraph(line, styles["body"]) for line in run_lines(board, lang, tz)]
    story += [Paragraph(words["map"], styles["h2"]), province_map(board, province, stretches, page_width, 62 * mm, lang)]
    if shows_osm_bridges(board, province):
        from wxrisk.scenario.osm_bridges import ATTRIBUTION  # the demo world's Anhui bridges (ODbL)

        story.append(Paragraph(ATTRIBUTION, styles["body"]))
    story.append(Paragraph(words["stretches"], styles["h2"]))
    if stretches.empty:
        story.append(Paragraph(words["no_stretches"], styles["body"]))
        return story
    ids = set(stretches["stretch_id"])
    sub = Board(board.run, board.risk, board.segments, stretches, board.measures[board.measures["stretch_id"].isin(ids)],
                board.dispatch[board.dispatch["stretch_id"].isin(ids)], board.teams)
    table = stretch_table(sub, lang, tz, iso=False)
    keep = [words[k] for k in ("priority", "road_ref", "km_from", "km_to", "tier", "icing_warning", "onset", "end_time",
                               "expected_weather", "conditions", "reasons")]
    story.append(_table(table[keep], styles, _widths(page_width, [4, 5, 7, 7, 5, 6, 9, 9, 7, 10, 31])))
    story.append(Paragraph(words["measures"], styles["h2"]))
    measures = table[[words["stretch_id"], words["measure_list"]]]
    story.append(_table(measures, styles, _widths(page_width, [18, 82])))
    story.append(Paragraph(words["dispatch"], styles["h2"]))
    story.append(_table(dispatch_table(sub, lang, tz, iso=False), styles, _widths(page_width, [16, 18, 6, 7, 8, 14, 14, 17])))
    teams = team_table(board, lang)
    if province is not None and not board.teams.empty:
        teams = teams[board.teams["province"].to_numpy() == province]
    story.append(Paragraph(words["teams"], styles["h2"]))
    story.append(_table(teams, styles, _widths(page_width, [12, 30, 12, 14, 14, 18])))
    return story


def priority_table(board: Board, lang: str, tz: str) -> pd.DataFrame:
    """The priority list as the briefing opens with it: place, stretch, tier, warnings, window,
    expected weather incidents, first measure and its start, the team sent."""
    words, label = WORDS[lang], "label_zh" if lang == "zh" else "label_en"
    first = (board.measures.sort_values(["start_at", "priority"]).drop_duplicates("stretch_id").set_index("stretch_id")
             if not board.measures.empty else pd.DataFrame(columns=[label, "start_at"]))
    team_names = board.teams.set_index("team_id")["name"].to_dict() if not board.teams.empty else {}
    sent = {sid: "、".join(f"{team_names.get(t, t)}({n})" for t, n in zip(g["team_id"], g["cars"], strict=True)
                         if isinstance(t, str)) or words.get(g["status"].iloc[0], g["status"].iloc[0])
            for sid, g in (board.dispatch.groupby("stretch_id") if not board.dispatch.empty else [])}
    rows = []
    for s in in_priority_order(board.stretches).itertuples():
        warned = [warning_text(getattr(s, "icing_warning", None), lang), warning_text(getattr(s, "visibility_warning", None), lang)]
        rows.append({
            words["priority"]: getattr(s, "priority", ""),
            words["stretch"]: f"{s.road_ref} {k_stake(s.km_from)}–{k_stake(s.km_to)}",
            words["tier"]: tier_word(s.tier, lang),
            words["icing_warning"]: warned[0], words["visibility_warning"]: warned[1],
            words["window"]: f"{local_text(window_start(s.onset), tz)} – {local_text(s.end_time, tz)}",
            words["expected_weather"]: f"{float(getattr(s, 'expected_weather_incidents', s.expected_incidents)):.2f}",
            words["first_measure"]: first[label].get(s.stretch_id, "") if s.stretch_id in first.index else "",
            words["due_at"]: local_text(first["start_at"].get(s.stretch_id), tz) if s.stretch_id in first.index else "",
            words["team"]: sent.get(s.stretch_id, ""),
        })
    keys = ("priority", "stretch", "tier", "icing_warning", "visibility_warning", "window", "expected_weather",
            "first_measure", "due_at", "team")
    return pd.DataFrame(rows, columns=[words[k] for k in keys])


def _priority_story(board: Board, styles, lang: str, tz: str, page_width: float) -> list:
    """The briefing's first page(s): the whole board's priority list."""
    words = WORDS[lang]
    story = [Paragraph(words["title"], styles["title"])]
    if board.run.get("synthetic"):
        story.append(Paragraph(SYNTHETIC_MARK, styles["mark"]))
    story += [Paragraph(line, styles["body"]) for line in run_lines(board, lang, tz)]
    story.append(Paragraph(words["priority_list"], styles["h2"]))
    if board.stretches.empty:
        return [*story, Paragraph(words["no_stretches"], styles["body"])]
    ranked = in_priority_order(board.stretches)
    table = _table(priority_table(board, lang, tz), styles, _widths(page_width, [5, 17, 5, 7, 7, 14, 7, 16, 9, 13]))
    table.setStyle(TableStyle([("BACKGROUND", (2, row), (2, row), TIER_COLOURS.get(tier, TIER_COLOURS["none"]))
                               for row, tier in enumerate(ranked["tier"], start=1)]))
    story.append(table)
    return story


def shows_osm_bridges(board: Board, province: str | None) -> bool:
    """Whether this section's map draws the demo world's bridges taken from OpenStreetMap."""
    segments = board.segments if province is None else board.segments[board.segments["province"] == province]
    return bool(board.run.get("synthetic")) and not segments.empty and bool(
        (segments["province"].eq("安徽") & segments["bridge"].fillna(False).astype(bool)).any())


def _widths(total: float, parts: list[float]) -> list[float]:
    return [total * p / sum(parts) for p in parts]


def _write_pdf(board: Board, out: Path, lang: str, tz: str) -> None:
    styles = _styles()
    page = landscape(A4)
    doc = SimpleDocTemplate(str(out), pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title=WORDS[lang]["title"])
    provinces = sorted(board.stretches["province"].dropna().unique()) if not board.stretches.empty else []
    if not board.stretches.empty and board.stretches["province"].isna().any():
        provinces.append(None)
    story: list = _priority_story(board, styles, lang, tz, doc.width)
    for province in provinces:
        story.append(PageBreak())
        story += _province_story(board, province, styles, lang, tz, doc.width)
    story.append(Spacer(1, 4))
    doc.build(story)


# --- risk rows (CONTRACT section 4) -------------------------------------------------------------

RISK_COLUMNS = ["segment_id", "road_ref", "name", "km_from", "km_to", "lon", "lat", "valid_time", "risk", "tier",
                "top_drivers", "ice_risk", "icing_warning", "visibility_warning"]


def export_risk(board_db_path: str | Path, out: str | Path, lang: str = "zh") -> Path:
    """One row per segment and hour (CONTRACT section 4) to `out` (`.csv` or `.parquet`);
    `valid_time` as UTC ISO 8601, `top_drivers` in `lang`; the warnings `none`..`red` (NULL on older boards)."""
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise WxriskError(f"{out}: the risk export is .csv or .parquet")
    board = read_board(board_db_path)
    drivers = "top_drivers" if lang == "zh" else "top_drivers_en"
    risk = board.risk.reindex(columns=["segment_id", "valid_time", "risk", "tier", drivers, "ice_risk", "icing_warning",
                                       "visibility_warning"])
    risk = risk.rename(columns={drivers: "top_drivers"}).astype({"ice_risk": "float64"})  # older snapshots: NULL
    segments = board.segments[["segment_id", "road_ref", "name", "km_from", "km_to", "lon", "lat"]]
    rows = risk.merge(segments, on="segment_id", how="left").sort_values(["segment_id", "valid_time"])
    rows["valid_time"] = pd.to_datetime(rows["valid_time"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = rows[RISK_COLUMNS]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        rows.to_csv(out, index=False, encoding="utf-8")
    else:
        rows.to_parquet(out, index=False)
    return out
