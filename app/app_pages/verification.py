"""Verification: forecasts against the incidents that happened (Recall@K per day, reliability, and
the observed incident rate per tier and per warning level with lift over the average)."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview import verify
from wxrisk.boardview.i18n import t, warning_kind_label, warning_level_label
from wxrisk.levels import TIERS, WARNING_LEVELS

language, path, run, tz = ui.open_page("verify_title")

# The first row's hour ends at the run's start (hours are labelled by their end).
incidents = ui.query(path, "incidents_in_window", run.start_time - timedelta(hours=1), run.valid_hours()[-1])
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


def rates_frame(table: pd.DataFrame, level_words) -> pd.DataFrame:
    """A `verify.rates_by_level` table with words for the officer."""
    return pd.DataFrame({
        t("level", language): [level_words(level) for level in table["level"]],
        t("segment_hours", language): table["segment_hours"],
        t("incident_hours", language): table["incident_hours"],
        t("share_of_incidents", language): table["share_of_incidents"].map(lambda v: f"{v:.0%}"),
        t("rate", language): table["rate"].map(lambda v: "—" if pd.isna(v) else f"{v:.3%}"),
        t("lift", language): table["lift"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}×"),
    })


observed = verify.observed_rows(risk, incidents)
st.subheader(t("tiers_rank_title", language), help=t("tiers_rank_help", language))
tiers = verify.rates_by_level(observed["tier"], observed["hit"], TIERS)
st.dataframe(ui.styled(rates_frame(tiers, lambda level: ui.tier_text(level, language)), t("level", language), language),
             hide_index=True)
st.subheader(t("warnings_rank_title", language))
columns = st.columns(2)
for column, kind in zip(columns, ("icing", "visibility"), strict=True):
    table = verify.rates_by_level(observed[f"{kind}_warning"].fillna("none"), observed["hit"], WARNING_LEVELS)
    column.markdown(f"**{warning_kind_label(kind, language)}**")
    column.dataframe(rates_frame(table, lambda level: warning_level_label(level, language) or t("tier_none", language)),
                     hide_index=True)
