"""Every page of the app runs on a published board (Streamlit's AppTest, in process)."""

from __future__ import annotations

import hashlib

import pytest
from streamlit.testing.v1 import AppTest

from wxrisk.boardview import actions
from wxrisk.boardview.access import PASSWORD_ENV
from wxrisk.boardview.bench import APP_PATH

APP = str(APP_PATH)
PAGES = ["app_pages/board.py", "app_pages/stretch.py", "app_pages/dispatch.py",
         "app_pages/verification.py", "app_pages/model_data.py"]


def run_page(page: str, english: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if english:
        at.session_state["lang"] = "English"
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(board_env, page):
    at = run_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "each page has a title"
    assert any("演示数据" in e.value for e in at.error), "synthetic banner on demo data"


def frame_of(element):
    """The DataFrame behind a st.dataframe element (a pandas Styler shows its `data`)."""
    value = element.value
    return value.data if hasattr(value, "data") else value


def test_board_opens_with_the_priority_list_and_switches_language(board_env):
    at = run_page(PAGES[0])
    table = frame_of(at.dataframe[0])
    assert table["优先序"].tolist() == [1, 2]
    first = table.iloc[0]
    assert first["路段"] == "G4 K1493+000–K1507+000" and first["等级"] == "红色" and first["结冰预警"] == "红色"
    assert table.iloc[1]["等级"] == "黄色" and table.iloc[1]["能见度管控"] == "橙色"  # a warning, shown apart
    english = run_page(PAGES[0], english=True)
    assert english.title[0].value == "Ice and snow road risk board"
    assert list(frame_of(english.dataframe[0]).columns[:2]) == ["#", "Stretch"]
    assert any(toggle.label.startswith("Show official warnings") for toggle in english.toggle)


def test_a_replay_board_judges_freshness_at_its_own_start(board_env):
    # the synthetic fixture run starts 2026-02-10 16:00 UTC (02-11 00:00 Beijing), weather issued 4 h before
    at = run_page(PAGES[0])
    warnings = [w.value for w in at.warning]
    assert any("vis_m" in w for w in warnings) and not any("过时" in w for w in warnings)
    assert any("回放：2026年2月11日00:00 的看板" in e.value for e in at.error)
    english = run_page(PAGES[0], english=True)
    assert any("Replay of the board of 2026-02-11 00:00" in e.value for e in english.error)


def test_a_replay_board_opens_at_its_own_first_hour(board_env):
    at = run_page(PAGES[0])
    assert at.select_slider(key="board_hour").value == 0


def test_a_real_board_judges_freshness_by_the_wall_clock(real_board_env):
    at = run_page(PAGES[0])
    assert not at.exception and not at.error, "no demo banner on a real run"
    assert any("过时" in w.value and "小时前" in w.value for w in at.warning), "issued 2026-02-10: stale now"


def locked_app(monkeypatch, password: str) -> AppTest:
    monkeypatch.setenv(PASSWORD_ENV, hashlib.sha256(password.encode("utf-8")).hexdigest())
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def test_without_a_password_hash_the_board_is_open(board_env):
    at = run_page(PAGES[0])
    assert not at.text_input and at.dataframe, "no password asked, stretches listed"


def test_with_a_password_hash_the_board_waits_for_the_right_password(board_env, monkeypatch):
    at = locked_app(monkeypatch, "冰雪-2026")
    assert not at.exception and not at.dataframe and not at.metric, "nothing of the board before the password"
    assert not any("演示数据" in e.value for e in at.error)
    at.text_input(key="board_password").input("冰雪-2025").run()
    assert any("密码错误" in e.value for e in at.error) and not at.dataframe
    at.text_input(key="board_password").input("冰雪-2026").run()
    assert not at.exception and not at.text_input and at.dataframe, "board shown after the right password"
    at.switch_page("app_pages/dispatch.py").run()
    assert at.title[0].value == "勤务调度", "the session stays unlocked on other pages"


def test_a_malformed_password_hash_locks_the_board(board_env, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-a-hash")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception and not at.dataframe and not at.text_input
    assert any("WXRISK_BOARD_PASSWORD_SHA256" in e.value for e in at.error)


def test_dispatch_form_stores_a_record_that_a_new_session_sees(board_env):
    at = run_page("app_pages/dispatch.py")
    at.text_input(key="record_officer").input("王警官")
    at.text_area(key="record_note").input("两车带道")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert any(s.value == "已保存" for s in at.success)
    stored = actions.list_actions(board_env / "data" / "actions.duckdb")
    assert list(stored["officer"]) == ["王警官"] and list(stored["measure"]) == ["警车带道"]
    again = run_page("app_pages/dispatch.py")
    assert "王警官" in again.dataframe[-1].value.to_string()
    board = run_page(PAGES[0])
    frame = board.dataframe[0].value
    assert "警车带道 · 王警官" in (frame.data if hasattr(frame, "data") else frame).to_string()


def test_dispatch_form_refuses_a_record_without_officer(board_env):
    at = run_page("app_pages/dispatch.py")
    at.button[0].click().run()
    assert any("officer is empty" in e.value for e in at.error)
    assert actions.list_actions(board_env / "data" / "actions.duckdb").empty


def test_no_board_and_no_model_are_said_plainly(tmp_path, monkeypatch):
    for name in ("WXRISK_DATA", "WXRISK_BOARDS", "WXRISK_MODELS"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    at = run_page(PAGES[0])
    assert not at.exception and any("尚无已发布" in w.value for w in at.warning)
    model = run_page("app_pages/model_data.py")
    assert not model.exception and any("尚无模型" in i.value for i in model.info)


def test_model_page_shows_the_champion_card_in_words(board_env):
    at = run_page("app_pages/model_data.py")
    assert any("v20260209-1" in m.value for m in at.markdown)
    shown = at.dataframe[0].value.to_string()
    assert "PR-AUC" in shown and "Brier" in shown and "Recall@K（重点路段命中率） (k10)" in shown
    assert "朴素 LightGBM（基准）" in shown and "0.0031" in shown and "4,583" in shown
    assert "pr_auc" not in shown and "recall_at_k" not in shown and "yardstick" not in shown
    ice = at.dataframe[1].value  # the ice/snow scorers (`ice_model.*`) in a table of their own
    assert list(ice.columns) == ["指标", "本模型", "朴素 LightGBM（基准）"] and "0.012" in ice.to_string()
    assert any("冰雪事故" in m.value for m in at.markdown)
    kinds = at.dataframe[2].value.iloc[:, 0].tolist()
    assert "事故记录" in kinds and "incidents" not in kinds


def test_verification_shows_that_the_tiers_rank(board_env):
    at = run_page("app_pages/verification.py")
    assert not at.exception
    tiers = frame_of(next(d for d in at.dataframe if "提升倍数" in frame_of(d).columns
                          and "红色" in frame_of(d)["等级"].tolist()))
    lift = dict(zip(tiers["等级"], tiers["提升倍数"], strict=True))
    # the three storm incidents on the red stretch; the background has none
    assert lift["红色"] != "—" and float(lift["红色"].rstrip("×")) > 10 and lift["无"] == "0.0×"
    ice = dict(zip(tiers["等级"], tiers["冰雪事故提升倍数"], strict=True))  # I1, I2 on ice; I3, I4 wet
    assert float(ice["红色"].rstrip("×")) > 10
    assert any(m.value == "**道路结冰预警**" for m in at.markdown)  # the official name
