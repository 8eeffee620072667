"""Dispatch: teams and assignments; the form where officers record a measure taken."""

from datetime import datetime

import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import actions
from wxrisk.boardview.i18n import k_stake, t
from wxrisk.config import WxriskError
from wxrisk.vocab import utc_naive_stamp

language, path, run, tz = ui.open_page("page_dispatch")

plan = ui.query(path, "dispatch_plan")
st.subheader(t("dispatch_title", language))
st.dataframe(ui.styled(pd.DataFrame({
    t("col_priority", language): plan["priority"] if "priority" in plan else range(1, len(plan) + 1),
    t("col_road", language): plan["road_ref"].fillna("") + " " + plan["road_name"].fillna(""),
    t("col_stakes", language): [f"{k_stake(a)} – {k_stake(b)}" for a, b in zip(plan["km_from"], plan["km_to"], strict=True)],
    t("col_tier", language): [ui.tier_text(tier, language) for tier in plan["tier"]],
    t("team", language): plan["team_name"].fillna("—"),
    t("cars", language): plan["cars"].map(lambda n: "" if pd.isna(n) else f"{n:.0f}"),
    t("travel_min", language): plan["travel_min"].map(lambda m: "" if pd.isna(m) else f"{m:.0f}"),
    t("depart_by", language): plan["depart_by"].map(ui.local),
    t("arrive_by", language): plan["arrive_by"].map(ui.local),
    t("status", language): [t(f"status_{s}", language) for s in plan["status"]],
}), t("col_tier", language), language), hide_index=True)

st.subheader(t("teams_title", language))
teams = ui.query(path, "teams")
st.dataframe(pd.DataFrame({
    t("team", language): teams["name"], t("province", language): teams["province"],
    t("cars", language): teams["cars"], t("cars_assigned", language): teams["cars_assigned"],
    t("stretches", language): teams["stretches"],
}), hide_index=True)

stretches = ui.query(path, "stretches")
measures = ui.query(path, "measures")
st.subheader(t("record_title", language))
if stretches.empty:
    st.info(t("no_stretches", language))
else:
    by_id = stretches.set_index("stretch_id")
    ids = list(stretches["stretch_id"])
    current = st.session_state.get("stretch_id")
    stretch_id = st.selectbox(
        t("choose_stretch", language), ids, index=ids.index(current) if current in ids else 0, key="record_stretch",
        format_func=lambda s: f"{by_id.at[s, 'road_ref']} {k_stake(by_id.at[s, 'km_from'])}–{k_stake(by_id.at[s, 'km_to'])}",
    )
    label_col = "label_en" if language == "en" else "label_zh"
    offered = measures[measures["stretch_id"] == stretch_id]
    with st.form("record_action", clear_on_submit=True):
        now_local = ui.local(ui.now_utc(), "%Y-%m-%d %H:%M")
        officer = st.text_input(t("officer", language), key="record_officer")
        c1, c2 = st.columns(2)
        taken_date = c1.date_input(t("taken_date", language), value=datetime.strptime(now_local[:10], "%Y-%m-%d"))
        taken_time = c2.time_input(t("taken_time", language), value=datetime.strptime(now_local[11:], "%H:%M").time(),
                                   step=300)
        measure = st.selectbox(t("measure", language), list(offered[label_col]) or ["—"], key="record_measure",
                               accept_new_options=True)
        note = st.text_area(t("note", language), key="record_note", height=80)
        if st.form_submit_button(t("save", language), type="primary"):
            taken_local = pd.Timestamp(datetime.combine(taken_date, taken_time)).tz_localize(tz)
            chosen = offered[offered[label_col] == measure]
            row = by_id.loc[stretch_id]
            try:
                actions.record_action(ui.actions_db(), actions.ActionRecord(
                    stretch_id=stretch_id, measure=measure or "", officer=officer,
                    taken_at=utc_naive_stamp(taken_local).to_pydatetime(),
                    run_id=run.run_id, road_ref=row["road_ref"], km_from=float(row["km_from"]),
                    km_to=float(row["km_to"]), measure_id=None if chosen.empty else chosen.iloc[0]["measure_id"],
                    note=note))
                st.success(t("saved", language))
            except WxriskError as exc:
                st.error(str(exc))

st.subheader(t("records_title", language))
records = actions.list_actions(ui.actions_db())
if records.empty:
    st.caption(t("no_records", language))
else:
    st.dataframe(pd.DataFrame({
        t("taken_time", language): records["taken_at"].map(ui.local),
        t("col_road", language): records["road_ref"].fillna(""),
        t("col_stakes", language): [f"{k_stake(a)} – {k_stake(b)}" if pd.notna(a) else ""
                                    for a, b in zip(records["km_from"], records["km_to"], strict=True)],
        t("measure", language): records["measure"], t("officer", language): records["officer"],
        t("note", language): records["note"], t("recorded_at", language): records["recorded_at"].map(ui.local),
    }), hide_index=True)
