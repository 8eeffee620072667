"""Stretch: km × hour heat strip, weather timeline, drivers in words, measures and their reasons."""

import json

import altair as alt
import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import actions, snapshot
from wxrisk.boardview.i18n import condition_label, k_stake, ptype_label, t, warning_label
from wxrisk.levels import window_start

language, path, run, tz = ui.open_page("page_stretch")
stretches = ui.query(path, "stretches")
if stretches.empty:
    st.info(t("no_stretches", language))
    st.stop()

ids = list(stretches["stretch_id"])
by_id = stretches.set_index("stretch_id")
wanted = st.session_state.get("stretch_id") or st.query_params.get("stretch")
stretch_id = st.selectbox(
    t("choose_stretch", language), ids, index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda s: (f"{by_id.at[s, 'road_ref']} {k_stake(by_id.at[s, 'km_from'])}–"
                           f"{k_stake(by_id.at[s, 'km_to'])} · {ui.tier_text(by_id.at[s, 'tier'], language)}"),
)
st.session_state["stretch_id"] = stretch_id
row = by_id.loc[stretch_id]

c1, c2, c3, c4 = st.columns(4)
c1.metric(t("col_priority", language), f"{row['priority']:.0f}" if pd.notna(row.get("priority")) else "—")
c2.metric(t("col_tier", language), ui.tier_text(row["tier"], language))
c3.metric(t("col_expected_weather", language), f"{row.get('expected_weather_incidents', row['expected_incidents']):.2f}")
c4.metric(t("col_expected", language), f"{row['expected_incidents']:.2f}")
conditions = json.loads(row["conditions"]) if isinstance(row["conditions"], str) and row["conditions"] else []
warned = " · ".join(w for w in (warning_label("icing", row.get("icing_warning"), language),
                                warning_label("visibility", row.get("visibility_warning"), language)) if w)
st.markdown(f"**{t('col_window', language)}**: {ui.window_text(row['onset'], row['end_time'])}  \n"
            f"**{t('conditions', language)}**: " + " · ".join(condition_label(c, language) for c in conditions)
            + (f"  \n**{t('col_icing', language)} / {t('col_visibility', language)}**: {warned}" if warned else ""))
st.markdown(row["reasons_en" if language == "en" else "reasons_zh"] or "")

around = ui.query(path, "stretch_segments", stretch_id)
strip = ui.query(path, "risk_strip", list(around["segment_id"]))
# Each cell spans its hour: labelled by its end (valid_time), it began an hour earlier.
strip = strip.assign(local_end=snapshot.to_local(strip["valid_time"], tz))
strip = strip.assign(local_time=strip["local_end"] - pd.Timedelta(hours=1), stake=strip["km_from"].map(k_stake))
# Colour by what the tiers rank: ice_risk where the model gives it, else the risk of any incident.
shown = "ice_risk" if strip["ice_risk"].notna().any() else "risk"
st.subheader(t("heat_title", language))
st.caption(t("heat_caption" if shown == "ice_risk" else "heat_caption_total", language, what=t(shown, language)))
window = pd.DataFrame({"t": [snapshot.to_local(window_start(row["onset"]), tz), snapshot.to_local(row["end_time"], tz)]})
window_rules = alt.Chart(window).mark_rule(color="#111827", strokeDash=[6, 3], strokeWidth=2).encode(x="t:T")
heat = alt.Chart(strip).mark_rect().encode(
    x=alt.X("local_time:T", title=t("hour", language, tz=tz), axis=alt.Axis(format="%m-%d %H时" if language == "zh" else "%m-%d %H:00")),
    x2="local_end:T",
    y=alt.Y("stake:N", title=t("km", language), sort=alt.EncodingSortField("km_from", order="descending")),
    color=alt.Color(f"{shown}:Q", title=t(shown, language), scale=alt.Scale(scheme="yelloworangered"),
                    legend=alt.Legend(format="%")),
    tooltip=[alt.Tooltip("stake:N", title=t("col_stakes", language)), alt.Tooltip("local_time:T", format="%m-%d %H:%M"),
             alt.Tooltip("risk:Q", title=t("risk", language), format=".2%"),
             alt.Tooltip("ice_risk:Q", title=t("ice_risk", language), format=".2%"), "tier:N"],
).properties(height=min(22 * around.shape[0] + 40, 520))
st.altair_chart(heat + window_rules, width="stretch")

st.subheader(t("weather_title", language))
members = list(around.loc[around["in_stretch"], "segment_id"]) or list(around["segment_id"])
weather = ui.query(path, "weather_timeline", members)
if weather.empty:
    st.info(t("no_weather", language))
else:
    weather = weather.assign(local_time=snapshot.to_local(weather["valid_time"], tz),
                             ptype_text=[ptype_label(p, language) for p in weather["ptype"]])
    temps = weather.melt("local_time", ["t2m_c", "skt_c", "d2m_c"], var_name="var", value_name="c")
    temps["var"] = temps["var"].map(lambda v: t(v, language))
    time_axis = alt.X("local_time:T", title=None, axis=alt.Axis(format="%m-%d %H:00"))
    lines = alt.Chart(temps).mark_line(strokeWidth=2).encode(
        x=time_axis, y=alt.Y("c:Q", title="°C"), color=alt.Color("var:N", title=None,
                                                                  legend=alt.Legend(orient="top")))
    zero = alt.Chart(pd.DataFrame({"c": [0]})).mark_rule(strokeDash=[4, 4], color="#64748b").encode(y="c:Q")
    bars = alt.Chart(weather).mark_bar(opacity=0.75).encode(
        x=time_axis, y=alt.Y("precip_mm:Q", title=t("precip_mm", language)),
        color=alt.Color("ptype_text:N", title=t("ptype", language), legend=alt.Legend(orient="top"),
                        scale=alt.Scale(scheme="set2")),
        tooltip=[alt.Tooltip("local_time:T", format="%m-%d %H:%M"), "ptype_text:N",
                 alt.Tooltip("precip_mm:Q", format=".1f"), alt.Tooltip("t2m_c:Q", format=".1f")])
    start = pd.DataFrame({"t": [snapshot.to_local(run.start_time, tz)], "label": [t("run_start", language)]})
    now_rule = alt.Chart(start).mark_rule(color="#111827", strokeDash=[6, 3]).encode(x="t:T") + alt.Chart(
        start).mark_text(align="left", baseline="top", dx=4, dy=2, color="#111827").encode(
        x="t:T", y=alt.value(0), text="label:N")
    st.altair_chart(lines + zero + now_rule, width="stretch", height=220)
    st.altair_chart(bars + now_rule, width="stretch", height=160)

left, right = st.columns(2)
with left:
    st.subheader(t("drivers_title", language))
    found = ui.query(path, "drivers", members, 3)
    col = "top_drivers_en" if language == "en" else "top_drivers"
    for _, d in found.iterrows():
        st.markdown(f"- {d[col]}  \n  <small>{t('col_peak', language)} {d['peak_risk']:.1%} · {d['hours']} h</small>",
                    unsafe_allow_html=True)
with right:
    st.subheader(t("measures_title", language))
    suffix = "en" if language == "en" else "zh"
    for _, m in ui.query(path, "measures", stretch_id).iterrows():
        st.markdown(f"**{m['priority']}. {m['label_' + suffix]}** · {t('col_start', language)} "
                    f"{ui.local(m['start_at'])}  \n{t('reason', language)}: {m['reason_' + suffix]}")

st.subheader(t("records_title", language))
records = actions.list_actions(ui.actions_db(), [stretch_id])
if records.empty:
    st.caption(t("no_records", language))
else:
    st.dataframe(pd.DataFrame({
        t("taken_time", language): records["taken_at"].map(ui.local),
        t("officer", language): records["officer"], t("measure", language): records["measure"],
        t("note", language): records["note"]}), hide_index=True)
