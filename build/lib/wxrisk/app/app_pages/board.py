"""Board: the map at the chosen hour, filters, and the stretches table (select one to open it)."""

import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import actions, snapshot, status
from wxrisk.boardview.i18n import TIER_RGBA, k_stake, t
from wxrisk.boardview.layers import STRETCH_LAYER_ID, board_deck

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
    online_tiles = st.toggle(t("online_tiles", language), value=False, key="online_tiles")

segments = ui.query(path, "segment_paths").merge(
    ui.query(path, "risk_at_hour", hours[hour_index]), on="segment_id", how="left")
segments = snapshot.filter_stretches(segments, chosen_provinces, chosen_roads)
all_stretches = snapshot.filter_stretches(ui.query(path, "stretches"), chosen_provinces, chosen_roads)
valid_time = pd.Timestamp(hours[hour_index])
active = all_stretches[(all_stretches["onset"] <= valid_time) & (all_stretches["end_time"] >= valid_time)]

risky = segments[segments["tier"].fillna("none") != "none"]
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("metric_segments", language), f"{risky['km_to'].sub(risky['km_from']).sum():.0f}")
m2.metric(t("metric_red", language), int((all_stretches["tier"] == "red").sum()))
m3.metric(t("metric_stretches", language), len(all_stretches))
m4.metric(t("metric_uncovered", language), int((all_stretches["dispatch_status"].fillna("uncovered") != "assigned").sum()))

deck = board_deck(segments, active, language, online_tiles=online_tiles)
picked = st.pydeck_chart(deck, height=560, on_select="rerun", selection_mode="single-object", key="board_map")
legend = " ".join(
    f"<span style='display:inline-block;width:22px;height:6px;margin:0 4px 2px 10px;"
    f"background:rgb({c[0]},{c[1]},{c[2]})'></span>{ui.tier_text(tier, language)}"
    for tier, c in TIER_RGBA.items()
)
st.markdown(f"<div style='font-size:0.9rem'>{t('legend', language)}: {legend}</div>", unsafe_allow_html=True)


def open_stretch(stretch_id: str) -> None:
    st.session_state["stretch_id"] = stretch_id
    st.switch_page("app_pages/stretch.py")


clicked = (picked.selection.objects or {}).get(STRETCH_LAYER_ID, []) if picked else []
if clicked:
    open_stretch(clicked[0]["stretch_id"])

st.subheader(t("stretches", language))
if all_stretches.empty:
    st.info(t("no_stretches", language))
    st.stop()
taken = actions.list_actions(ui.actions_db(), list(all_stretches["stretch_id"]))
last_taken = taken.drop_duplicates("stretch_id").set_index("stretch_id")
measure_col = "measure_en" if language == "en" else "measure_zh"
table = pd.DataFrame({
    t("col_road", language): all_stretches["road_ref"].fillna("") + " " + all_stretches["name"].fillna(""),
    t("col_stakes", language): all_stretches["km_from"].map(k_stake) + " – " + all_stretches["km_to"].map(k_stake),
    t("col_window", language): [ui.window_text(a, b) for a, b in
                                zip(all_stretches["onset"], all_stretches["end_time"], strict=True)],
    t("col_tier", language): [ui.tier_text(tier, language) for tier in all_stretches["tier"]],
    t("col_peak", language): all_stretches["peak_risk"],
    t("col_measure", language): all_stretches[measure_col].fillna(""),
    t("col_start", language): all_stretches["measure_start_at"].map(ui.local),
    t("col_team", language): [
        f"{team} ({cars})" if status == "assigned" else t(f"status_{status or 'uncovered'}", language)
        for team, cars, status in zip(all_stretches["team_name"], all_stretches["cars"],
                                      all_stretches["dispatch_status"], strict=True)
    ],
    t("col_taken", language): [
        f"✅ {last_taken.at[s, 'measure']} · {last_taken.at[s, 'officer']}" if s in last_taken.index else ""
        for s in all_stretches["stretch_id"]
    ],
})
st.caption(t("stretches_hint", language))
chosen = st.dataframe(
    ui.styled(table, t("col_tier", language), language), hide_index=True, on_select="rerun", selection_mode="single-row", key="stretch_table",
    column_config={
        **{t(key, language): st.column_config.TextColumn(width="small")
           for key in ("col_tier", "col_start", "col_taken")},
        t("col_peak", language): st.column_config.ProgressColumn(
            t("col_peak", language), format="percent", min_value=0.0, width="small",
            max_value=float(max(all_stretches["peak_risk"].max(), 0.01)))},
)
if chosen.selection.rows:
    open_stretch(all_stretches.iloc[chosen.selection.rows[0]]["stretch_id"])
