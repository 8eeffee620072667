"""Board: the map at the chosen hour (risk tiers, the official warnings as a halo), filters, and the
priority list (select a stretch to open it). The map is first drawn on the server as an image (on
screen in about a second); the interactive deck.gl map loads when asked for."""

import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import actions, snapshot, status
from wxrisk.boardview.i18n import k_stake, t, warning_level_label
from wxrisk.boardview.layers import STRETCH_LAYER_ID, board_deck
from wxrisk.levels import TIER_RGBA, WARNING_RGBA

language, path, run, tz = ui.open_page("app_title")

hours = run.valid_hours()
provinces, roads = ui.query(path, "filter_options")
with ui.cursor(path) as cur:
    busiest = snapshot.busiest_hour_index(cur, run.start_time)
col_hour, col_province, col_road = st.columns([3, 1, 1])
with col_hour:
    hour_index = st.select_slider(
        t("hour", language, tz=tz), options=list(range(len(hours))),
        value=snapshot.default_hour_index(run.start_time, run.hours,
                                          status.freshness_reference(run, ui.now_utc()), busiest),
        format_func=lambda i: f"{ui.local(hours[i], '%m-%d %H:00')} (+{i}h)", key="board_hour",
    )
with col_province:
    chosen_provinces = st.multiselect(t("province", language), provinces, placeholder=t("all", language),
                                      key="board_provinces")
with col_road:
    chosen_roads = st.multiselect(t("road", language), roads, placeholder=t("all", language), key="board_roads")
with st.sidebar:
    show_warnings = st.toggle(t("show_warnings", language), value=True, key="show_warnings")
    interactive = st.toggle(t("interactive_map", language), value=False, key="interactive_map",
                            help=t("interactive_help", language))
    online_tiles = interactive and st.toggle(t("online_tiles", language), value=False, key="online_tiles")

segments = ui.query(path, "segment_paths").merge(
    ui.query(path, "risk_at_hour", hours[hour_index]), on="segment_id", how="left")
segments = snapshot.filter_stretches(segments, chosen_provinces, chosen_roads)
all_stretches = snapshot.filter_stretches(ui.query(path, "stretches"), chosen_provinces, chosen_roads)
valid_time = pd.Timestamp(hours[hour_index])
active = all_stretches[(all_stretches["onset"] <= valid_time) & (all_stretches["end_time"] >= valid_time)]

risky = segments[segments["tier"].fillna("none") != "none"]
warned = segments[segments["icing_warning"].fillna("none") != "none"]
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(t("metric_segments", language), f"{risky['km_to'].sub(risky['km_from']).sum():.0f}")
m2.metric(t("metric_warned", language), f"{warned['km_to'].sub(warned['km_from']).sum():.0f}")
m3.metric(t("metric_red", language), int((all_stretches["tier"] == "red").sum()))
m4.metric(t("metric_stretches", language), len(all_stretches))
m5.metric(t("metric_uncovered", language), int((all_stretches["dispatch_status"].fillna("uncovered") != "assigned").sum()))

if interactive:
    deck = board_deck(segments, active, language, online_tiles=online_tiles, warnings=show_warnings)
    picked = st.pydeck_chart(deck, height=560, on_select="rerun", selection_mode="single-object", key="board_map")
else:
    picked = None
    st.image(ui.map_image(path, hour_index, tuple(chosen_provinces), tuple(chosen_roads), language, show_warnings),
             width="stretch")


def swatch(rgba: list[int], height_px: int) -> str:
    return (f"<span style='display:inline-block;width:22px;height:{height_px}px;margin:0 4px 2px 10px;"
            f"background:rgba({rgba[0]},{rgba[1]},{rgba[2]},{rgba[3] / 255:.2f})'></span>")


tiers_legend = " ".join(swatch(c, 6) + ui.tier_text(tier, language) for tier, c in TIER_RGBA.items())
warnings_legend = " ".join(swatch(WARNING_RGBA[level], 12) + warning_level_label(level, language)
                           for level in ("yellow", "orange", "red"))
st.markdown(f"<div style='font-size:0.9rem'>{t('legend_tier', language)}: {tiers_legend}<br/>"
            f"{t('legend_warning', language)}: {warnings_legend}</div>", unsafe_allow_html=True)


def attribution() -> None:
    """The licence line of map data the board shows (last on the page: it never delays the map or the list)."""
    if ui.query(path, "shows_osm_bridges"):
        st.caption(status.osm_attribution())


def open_stretch(stretch_id: str) -> None:
    st.session_state["stretch_id"] = stretch_id
    st.switch_page("app_pages/stretch.py")


clicked = (picked.selection.objects or {}).get(STRETCH_LAYER_ID, []) if picked else []
if clicked:
    open_stretch(clicked[0]["stretch_id"])

st.subheader(t("priority_list", language))
if all_stretches.empty:
    st.info(t("no_stretches", language))
    attribution()
    st.stop()
taken = actions.list_actions(ui.actions_db(), list(all_stretches["stretch_id"]))
last_taken = taken.drop_duplicates("stretch_id").set_index("stretch_id")
measure_col = "measure_en" if language == "en" else "measure_zh"
table = pd.DataFrame({
    t("col_priority", language): all_stretches["priority"] if "priority" in all_stretches else range(1, len(all_stretches) + 1),
    t("col_stretch", language): all_stretches["road_ref"].fillna("") + " " + all_stretches["km_from"].map(k_stake)
    + "–" + all_stretches["km_to"].map(k_stake),
    t("col_window", language): [ui.window_text(a, b) for a, b in
                                zip(all_stretches["onset"], all_stretches["end_time"], strict=True)],
    t("col_tier", language): [ui.tier_text(tier, language) for tier in all_stretches["tier"]],
    t("col_icing", language): [warning_level_label(w, language) for w in all_stretches.get("icing_warning", [None] * len(all_stretches))],
    t("col_visibility", language): [warning_level_label(w, language)
                                    for w in all_stretches.get("visibility_warning", [None] * len(all_stretches))],
    t("col_expected_weather", language): all_stretches.get("expected_weather_incidents",
                                                          all_stretches["expected_incidents"]).round(2),
    t("col_first_measure", language): all_stretches["measure_start_at"].map(ui.local) + " "
    + all_stretches[measure_col].fillna(""),
    t("col_taken", language): [
        f"✅ {last_taken.at[s, 'measure']} · {last_taken.at[s, 'officer']}" if s in last_taken.index else ""
        for s in all_stretches["stretch_id"]
    ],
    t("col_team", language): [
        f"{team} ({cars})" if status == "assigned" else t(f"status_{status or 'uncovered'}", language)
        for team, cars, status in zip(all_stretches["team_name"], all_stretches["cars"],
                                      all_stretches["dispatch_status"], strict=True)
    ],
})
st.caption(t("priority_hint", language))
chosen = st.dataframe(
    ui.styled(table, t("col_tier", language), language, warning_columns=[t("col_icing", language), t("col_visibility", language)]),
    hide_index=True, on_select="rerun", selection_mode="single-row", key="stretch_table",
    column_config={
        t("col_priority", language): st.column_config.NumberColumn(width=40),
        t("col_expected_weather", language): st.column_config.NumberColumn(format="%.2f", width=80),
        **{t(key, language): st.column_config.TextColumn(width=width) for key, width in (
            ("col_tier", 56), ("col_icing", 72), ("col_visibility", 72), ("col_taken", "small"),
            ("col_window", 160), ("col_stretch", 190))}},
)
if chosen.selection.rows:
    open_stretch(all_stretches.iloc[chosen.selection.rows[0]]["stretch_id"])
attribution()
