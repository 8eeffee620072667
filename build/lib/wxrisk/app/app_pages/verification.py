"""Verification: forecasts against the incidents that happened (Recall@K per day, reliability)."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import verify
from wxrisk.boardview.i18n import t

language, path, run, tz = ui.open_page("verify_title")

incidents = ui.query(path, "incidents_in_window", run.start_time, run.valid_hours()[-1] + timedelta(hours=1))
if incidents.empty:
    st.info(t("no_incidents", language))
    st.stop()
risk = ui.query(path, "risk_table")
st.caption(t("observed_until", language, t=ui.local(incidents["occurred_at"].max())))

k = st.select_slider(t("k_segments", language), options=[5, 10, 20, 50, 100], value=10, key="verify_k")
st.subheader(t("recall_title", language), help=t("recall_help", language))
recall = verify.recall_at_k_by_day(risk, incidents, k, tz)
recall["day"] = recall["day"].astype(str)
left, right = st.columns([2, 1])
left.altair_chart(alt.Chart(recall).mark_bar(color="#2563eb").encode(
    x=alt.X("day:N", title=t("day", language), axis=alt.Axis(labelAngle=0)),
    y=alt.Y("recall:Q", title=t("recall", language), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    tooltip=["day", "incidents", "hits", alt.Tooltip("recall:Q", format=".0%")],
).properties(height=260), width="stretch")
right.dataframe(pd.DataFrame({
    t("day", language): recall["day"], t("incidents", language): recall["incidents"], t("hits", language): recall["hits"],
    t("recall", language): recall["recall"].map(lambda r: "—" if pd.isna(r) else f"{r:.0%}"),  # no incident: no recall
}), hide_index=True)

st.subheader(t("reliability_title", language))
table = verify.reliability(risk, incidents)
top = float(max(table["forecast_p"].max(), table["observed_f"].max(), 0.01))
diagonal = alt.Chart(pd.DataFrame({"p": [0.0, top]})).mark_line(strokeDash=[5, 5], color="#94a3b8").encode(
    x="p:Q", y="p:Q")
points = alt.Chart(table).mark_line(point=alt.OverlayMarkDef(size=80, color="#dc2626"), color="#dc2626").encode(
    x=alt.X("forecast_p:Q", title=t("forecast_p", language), axis=alt.Axis(format="%")),
    y=alt.Y("observed_f:Q", title=t("observed_f", language), axis=alt.Axis(format="%")),
    tooltip=[alt.Tooltip("forecast_p:Q", format=".2%"), alt.Tooltip("observed_f:Q", format=".2%"),
             alt.Tooltip("n:Q", title=t("n_hours", language))])
st.altair_chart((diagonal + points).properties(height=320), width="stretch")
