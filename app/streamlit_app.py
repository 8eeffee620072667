"""The wxrisk risk board: `streamlit run app/streamlit_app.py`. UI only; logic is in wxrisk.boardview."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).parent))

import ui  # noqa: E402

from wxrisk.boardview.i18n import t  # noqa: E402

st.set_page_config(page_title="冰雪道路风险研判 · wxrisk", layout="wide")

# The choice is kept under its own key: a widget's state does not survive st.switch_page.
st.session_state.setdefault("lang", ui.LANGUAGES[0])
with st.sidebar:
    st.radio(t("language"), ui.LANGUAGES, index=ui.LANGUAGES.index(st.session_state["lang"]), horizontal=True,
             key="lang_choice", on_change=lambda: st.session_state.update(lang=st.session_state["lang_choice"]))
language = ui.lang()
expected_sha256 = ui.password_hash(language)

# The default page answers at `/`; the hidden twin answers at `/board` (a bookmarked or typed
# address), which Streamlit would otherwise meet with "Page not found".
pages = [
    st.Page("app_pages/board.py", title=t("page_board", language), icon=":material/map:", default=True, url_path="home"),
    st.Page("app_pages/board.py", title=t("page_board", language), icon=":material/map:", url_path="board",
            visibility="hidden"),
    st.Page("app_pages/stretch.py", title=t("page_stretch", language), icon=":material/add_road:", url_path="stretch"),
    st.Page("app_pages/dispatch.py", title=t("page_dispatch", language), icon=":material/local_police:", url_path="dispatch"),
    st.Page("app_pages/verification.py", title=t("page_verify", language), icon=":material/fact_check:", url_path="verification"),
    st.Page("app_pages/model_data.py", title=t("page_model", language), icon=":material/model_training:", url_path="model"),
]
# Navigation is set up even while locked, so a deep link (e.g. /stretch) survives the password.
page = st.navigation(pages, position="sidebar" if ui.unlocked(expected_sha256) else "hidden")
if not ui.unlocked(expected_sha256):
    ui.ask_password(expected_sha256, language)
path = ui.board_path()
if path is not None:
    ui.synthetic_banner(path, language)
page.run()
