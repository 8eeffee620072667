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



def reliability_chart(table: pd.DataFrame) -> alt.Chart:
    """Forecast probability against observed frequency, the diagonal dashed."""
    top = float(max(table["forecast_p"].max(), table["observed_f"].max(), 0.01))
    diagonal = alt.Chart(pd.DataFrame({"p": [0.0, top]})).mark_line(strokeDash=[5, 5], color="#94a3b8").encode(
        x="p:Q", y="p:Q")
    points = alt.Chart(table).mark_line(point=alt.OverlayMarkDef(size=80, color="#dc2626"), color="#dc2626").encode(
        x=alt.X("forecast_p:Q", title=t("forecast_p", language), axis=alt.Axis(format="%")),
        y=alt.Y("observed_f:Q", title=t("observed_f", language), axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("forecast_p:Q", format=".2%"), alt.Tooltip("observed_f:Q", format=".2%"),
                 alt.Tooltip("n:Q", title=t("n_hours", language))])
    return (diagonal + points).properties(height=320)


ice_table = verify.reliability(risk, incidents, ice=True)
st.subheader(t("reliability_title", language))
if ice_table.empty:
    st.altair_chart(reliability_chart(verify.reliability(risk, incidents)), width="stretch")
else:  # the ice/snow probability the tiers rank, beside the risk of any incident
    left, right = st.columns(2)
    left.markdown(f"**{t('ice_risk', language)}**")
    left.altair_chart(reliability_chart(ice_table), width="stretch")
    right.markdown(f"**{t('risk', language)}**")
    right.altair_chart(reliability_chart(verify.reliability(risk, incidents)), width="stretch")


def times(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1f}×"


def rates_frame(levels: pd.Series, order: tuple[str, ...], level_words) -> pd.DataFrame:
    """Per level, for the officer: segment-hours, incident hours, share, rate and lift, for all
    incidents, then the lift for ice/snow incidents alone (what the tiers rank)."""
    every = verify.rates_by_level(levels, observed["hit"], order)
    ice = verify.rates_by_level(levels, observed["ice_hit"], order)
    return pd.DataFrame({
        t("level", language): [level_words(level) for level in every["level"]],
        t("segment_hours", language): every["segment_hours"],
        t("incident_hours", language): every["incident_hours"],
        t("share_of_incidents", language): every["share_of_incidents"].map(lambda v: f"{v:.0%}"),
        t("rate", language): every["rate"].map(lambda v: "—" if pd.isna(v) else f"{v:.3%}"),
        t("lift", language): every["lift"].map(times),
        t("ice_incident_hours", language): ice["incident_hours"],
        t("ice_lift", language): ice["lift"].map(times),
    })


observed = verify.observed_rows(risk, incidents)
st.subheader(t("tiers_rank_title", language), help=t("tiers_rank_help", language))
st.dataframe(ui.styled(rates_frame(observed["tier"], TIERS, lambda level: ui.tier_text(level, language)),
                       t("level", language), language), hide_index=True)
st.subheader(t("warnings_rank_title", language))
for kind in ("icing", "visibility"):
    st.markdown(f"**{warning_kind_label(kind, language)}**")
    st.dataframe(rates_frame(observed[f"{kind}_warning"].fillna("none"), WARNING_LEVELS,
                             lambda level: warning_level_label(level, language) or ui.tier_text("none", language)),
                 hide_index=True)
