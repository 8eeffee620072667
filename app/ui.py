"""Shared pieces of the pages: language, settings, the cached snapshot connection and queries."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from wxrisk.boardview import access, snapshot, staticmap
from wxrisk.boardview.i18n import t, tier_label, warning_level_label
from wxrisk.boardview.status import data_warnings, replay_text
from wxrisk.config import Settings, WxriskError, load_settings
from wxrisk.levels import TIER_RGBA, WARNING_LEVELS, window_start
from wxrisk.store.publish import current_board_path, open_board
from wxrisk.vocab import utc_now

LANGUAGES = ["中文", "English"]


def lang() -> str:
    return "en" if st.session_state.get("lang") == "English" else "zh"


def settings() -> Settings:
    return load_settings()


def now_utc() -> datetime:
    return utc_now()


@st.cache_resource(max_entries=3)
def _board_connection(path: str) -> duckdb.DuckDBPyConnection:
    return open_board(path)


def board_path() -> str | None:
    """The current snapshot file, or None (with a message on the page) when none is published."""
    try:
        return str(current_board_path(settings()))
    except WxriskError:
        st.warning(f"**{t('no_board', lang())}**  \n{t('no_board_hint', lang())}")
        return None


def cursor(path: str) -> duckdb.DuckDBPyConnection:
    """A cursor of the cached read-only connection (one per query: Streamlit serves from threads)."""
    return _board_connection(path).cursor()


@st.cache_data(max_entries=8)
def run_info(path: str) -> snapshot.RunInfo:
    with cursor(path) as cur:
        return snapshot.run_info(cur)


def query(path: str, name: str, *args: object) -> pd.DataFrame:
    """A cached call of `wxrisk.boardview.snapshot.<name>(cursor, *args)`."""
    return _cached_query(path, name, args)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_query(path: str, name: str, args: tuple) -> pd.DataFrame:
    with cursor(path) as cur:
        return getattr(snapshot, name)(cur, *args)


@st.cache_data(max_entries=64, show_spinner=False)
def map_image(path: str, hour_index: int, provinces: tuple[str, ...], roads: tuple[str, ...], language: str,
              warnings: bool) -> bytes:
    """The board's map at one hour as a PNG drawn on the server (`wxrisk.boardview.staticmap`)."""
    hour = run_info(path).valid_hours()[hour_index]
    segments = query(path, "segment_paths").merge(query(path, "risk_at_hour", hour), on="segment_id", how="left")
    segments = snapshot.filter_stretches(segments, list(provinces), list(roads))
    stretches = snapshot.filter_stretches(query(path, "stretches"), list(provinces), list(roads))
    active = stretches[(stretches["onset"] <= pd.Timestamp(hour)) & (stretches["end_time"] >= pd.Timestamp(hour))]
    return staticmap.render_png(segments, active, language, warnings)


def local(value: object, fmt: str = "%m-%d %H:%M") -> str:
    """A UTC timestamp shown in local time (`settings.timezone`); empty for missing values."""
    if value is None or pd.isna(value):
        return ""
    stamp = snapshot.to_local(pd.Timestamp(value).to_pydatetime(), settings().timezone)
    return stamp.strftime(fmt)


def window_text(onset: object, end: object) -> str:
    """A stretch's window from the start of its first risky hour (`levels.window_start`) to the end
    of its last: `02-11 20:00 – 16:00` within a local day, `02-11 20:00 – 02-12 16:00` across days."""
    start = window_start(onset)
    same_day = local(start, "%m-%d") == local(end, "%m-%d")
    return f"{local(start)} – {local(end, '%H:%M' if same_day else '%m-%d %H:%M')}"


def tier_text(tier: str, language: str) -> str:
    return tier_label(tier, language)


def tier_cell_style(label: str, language: str) -> str:
    """CSS for a table cell holding a tier label: the tier's colour, white bold text."""
    for tier, rgba in TIER_RGBA.items():
        if label == tier_label(tier, language) and tier != "none":
            text = "#111827" if tier == "yellow" else "white"
            return f"background-color: rgb({rgba[0]},{rgba[1]},{rgba[2]}); color: {text}; font-weight: 600"
    return ""


WARNING_TEXT_COLOURS = {"yellow": "#8a6d00", "orange": "#c05a00", "red": "#d7191c"}  # readable on white


def warning_cell_style(label: str, language: str) -> str:
    """CSS for a table cell holding a warning level: bold text in the warning's colour (a warning
    is not a tier, so its cell is never filled like a tier's)."""
    for level in WARNING_LEVELS[1:]:
        if label and label == warning_level_label(level, language):
            return f"color: {WARNING_TEXT_COLOURS[level]}; font-weight: 700"
    return ""


def styled(table: pd.DataFrame, tier_column: str, language: str, warning_columns: list[str] = ()) -> object:
    """The table with its tier column coloured and its warning columns outlined (a pandas Styler,
    which st.dataframe shows)."""
    styler = table.style.map(lambda v: tier_cell_style(v, language), subset=[tier_column])
    if warning_columns:
        styler = styler.map(lambda v: warning_cell_style(v, language), subset=list(warning_columns))
    return styler


def run_header(run: snapshot.RunInfo, language: str) -> None:
    """Run caption and the data warnings, on every page."""
    st.caption(t("run_caption", language, run_id=run.run_id, start=local(run.start_time, "%Y-%m-%d %H:%M"),
                 hours=run.hours, issued=local(run.weather_issued_at, "%Y-%m-%d %H:%M") or "—", model=run.model_version or "—"))
    for warning in data_warnings(run, now_utc(), language, settings().stale_forecast_hours):
        st.warning(warning, icon=":material/warning:")


def open_page(title_key: str) -> tuple[str, str, snapshot.RunInfo, str]:
    """A board page's start: title and run header; (language, board path, run, time zone).

    Stops the page (after the notice `board_path` shows) when no board is published.
    """
    language = lang()
    path = board_path()
    if path is None:
        st.stop()
    run = run_info(path)
    st.title(t(title_key, language))
    run_header(run, language)
    return language, path, run, settings().timezone


def synthetic_banner(path: str, language: str) -> None:
    """The red demo-data banner; a synthetic run is a replay of a past event, so its start is named."""
    run = run_info(path)
    if run.synthetic:
        st.error(f"**{t('synthetic_banner', language)}**  \n{replay_text(run, settings().timezone, language)}",
                 icon=":material/science:")


def password_hash(language: str) -> str | None:
    """The board's password hash (`WXRISK_BOARD_PASSWORD_SHA256`), None when the board is open; a
    malformed one locks the board with a message."""
    try:
        return access.expected_sha256(os.environ)
    except WxriskError:
        st.error(t("bad_password_hash", language), icon=":material/lock:")
        st.stop()


def unlocked(expected_sha256: str | None) -> bool:
    """Whether this session may see the board: no password set, or it was entered here."""
    return expected_sha256 is None or st.session_state.get("board_unlocked") == expected_sha256


def ask_password(expected_sha256: str, language: str) -> None:
    """Ask for the password and stop the page; on the right one, remember it in the session and rerun."""
    st.title(t("app_title", language))
    st.info(t("password_prompt", language), icon=":material/lock:")
    entered = st.text_input(t("password", language), type="password", key="board_password")
    if entered and access.password_matches(entered, expected_sha256):
        st.session_state["board_unlocked"] = expected_sha256
        st.rerun()
    if entered:
        st.error(t("wrong_password", language))
    st.stop()


def actions_db() -> Path:
    return settings().actions_db_path
