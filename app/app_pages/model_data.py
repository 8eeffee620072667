"""Model and data: the champion's card and metrics, data freshness, quarantined rows."""

import pandas as pd
import streamlit as st
import ui

from wxrisk.boardview.i18n import METRIC_VIEW_WORDS, import_kind_label, t, words
from wxrisk.boardview.status import data_warnings, metric_tables, read_champion

language = ui.lang()
path = ui.board_path()
st.title(t("page_model", language))

st.subheader(t("model_title", language))
card = read_champion(ui.settings().models_dir)
if card is None:
    st.info(t("no_model", language))
else:
    st.markdown(f"**{card.version}**")
    for view, table in metric_tables(card.metrics, language).items():
        st.markdown(f"**{t('metrics', language)} · {words(METRIC_VIEW_WORDS, view, language)}**")
        st.dataframe(table, hide_index=True)
    with st.expander("card.md", expanded=False):
        st.markdown(card.card_md)

if path is None:
    st.stop()
run = ui.run_info(path)
st.subheader(t("freshness_title", language))
warnings = data_warnings(run, ui.now_utc(), language, ui.settings().stale_forecast_hours)
for warning in warnings:
    st.warning(warning, icon=":material/warning:")
if not warnings:
    st.success(t("data_ok", language))
if run.message:
    st.caption(t("run_message", language, message=run.message))
c1, c2, c3 = st.columns(3)
c1.metric(t("weather_issued", language), ui.local(run.weather_issued_at, "%Y-%m-%d %H:%M") or "—")
c2.metric(t("published_at", language), ui.local(run.published_at, "%Y-%m-%d %H:%M") or "—")
c3.metric(t("run", language), run.run_id)

st.markdown(f"**{t('last_import', language)}**")
imports = ui.query(path, "import_freshness")
st.dataframe(pd.DataFrame({
    t("kind", language): [import_kind_label(k, language) for k in imports["kind"]], t("path", language): imports["path"],
    t("last_import", language): imports["finished_at"].map(lambda v: ui.local(v, "%Y-%m-%d %H:%M")),
    t("rows", language): imports["rows_kept"], t("quarantine_title", language): imports["rows_quarantined"],
}), hide_index=True)

st.markdown(f"**{t('quarantine_title', language)}**")
quarantined = ui.query(path, "quarantine_counts")
if quarantined.empty:
    st.caption(t("no_quarantine", language))
else:
    st.dataframe(quarantined.assign(kind=[import_kind_label(k, language) for k in quarantined["kind"]]).rename(
        columns={"kind": t("kind", language), "path": t("path", language), "rows": t("rows", language)}),
        hide_index=True)
