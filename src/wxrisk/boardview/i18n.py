"""Words on the board, Chinese first, English on request, and K-stake text. Tier and warning
words and colours come from `wxrisk.levels` (one place for the whole product)."""

from __future__ import annotations

from wxrisk.levels import CONDITION_WORDS, TIER_RGBA, WARNING_SHORT_WORDS, tier_word, warning_word, words
from wxrisk.vocab import k_stake as k_stake  # the pages import it from here

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "冰雪道路风险研判", "en": "Ice and snow road risk board"},
    "language": {"zh": "语言 / Language", "en": "语言 / Language"},
    "page_board": {"zh": "风险一张图", "en": "Board"},
    "page_stretch": {"zh": "路段详情", "en": "Stretch"},
    "page_dispatch": {"zh": "勤务调度", "en": "Dispatch"},
    "page_verify": {"zh": "预报检验", "en": "Verification"},
    "page_model": {"zh": "模型与数据", "en": "Model and data"},
    "synthetic_banner": {
        "zh": "演示数据：本看板使用合成（模拟）数据，不代表真实路况，不可用于实际勤务部署。",
        "en": "DEMO DATA: this board runs on synthetic data. It does not describe real roads; do not deploy on it.",
    },
    "replay": {
        "zh": "回放：{when} 的看板（按当时的起报时刻判断数据时效）",
        "en": "Replay of the board of {when} (data freshness judged at that time)",
    },
    "password": {"zh": "看板访问密码", "en": "Board password"},
    "password_prompt": {"zh": "请输入访问密码后查看看板。", "en": "Enter the password to open the board."},
    "wrong_password": {"zh": "密码错误，请重新输入。", "en": "Wrong password; try again."},
    "bad_password_hash": {
        "zh": "访问密码配置有误（WXRISK_BOARD_PASSWORD_SHA256 应为 64 位十六进制 SHA-256），看板已锁定。",
        "en": "The board password is misconfigured (WXRISK_BOARD_PASSWORD_SHA256 must be 64 hex digits); the board is locked.",
    },
    "no_board": {"zh": "尚无已发布的研判结果", "en": "No published board yet"},
    "no_board_hint": {
        "zh": "请先运行 `wxrisk demo` 或 `wxrisk score` 生成并发布研判结果。",
        "en": "Run `wxrisk demo` or `wxrisk score` to produce and publish a board.",
    },
    "run_caption": {
        "zh": "研判批次 {run_id} · 起报 {start} · 共 {hours} 小时 · 气象起报 {issued} · 模型 {model}",
        "en": "Run {run_id} · from {start} · {hours} h · weather issued {issued} · model {model}",
    },
    "run": {"zh": "研判批次", "en": "Run"},
    "hour": {"zh": "时刻（{tz}）", "en": "Hour ({tz})"},
    "province": {"zh": "省份", "en": "Province"},
    "road": {"zh": "道路", "en": "Road"},
    "all": {"zh": "全部", "en": "All"},
    "online_tiles": {"zh": "在线底图（需联网）", "en": "Online base map (needs internet)"},
    "interactive_map": {"zh": "交互地图（悬停查看、点选路段）", "en": "Interactive map (hover, click a stretch)"},
    "interactive_help": {
        "zh": "默认地图为服务器绘制的图片，约一秒显示；交互地图在浏览器中绘制，首次加载需数秒。",
        "en": "The default map is an image drawn on the server, on screen in about a second; the interactive map "
              "is drawn in the browser and takes a few seconds to start.",
    },
    "stretches": {"zh": "高风险路段", "en": "Risk stretches"},
    "stretches_hint": {"zh": "点选一行查看路段详情", "en": "Select a row to open the stretch"},
    "no_stretches": {"zh": "当前筛选条件下没有风险路段", "en": "No risk stretch for this filter"},
    "col_road": {"zh": "道路", "en": "Road"},
    "col_name": {"zh": "路名", "en": "Name"},
    "col_stakes": {"zh": "桩号", "en": "K-stakes"},
    "col_window": {"zh": "风险时段", "en": "Window"},
    "col_tier": {"zh": "等级", "en": "Tier"},
    "col_measure": {"zh": "建议措施", "en": "Measure"},
    "col_start": {"zh": "措施启动", "en": "Start by"},
    "col_team": {"zh": "勤务力量", "en": "Team"},
    "col_taken": {"zh": "已落实", "en": "Done"},
    "col_peak": {"zh": "峰值风险", "en": "Peak risk"},
    "col_expected": {"zh": "预计事故数", "en": "Expected incidents"},
    "col_province": {"zh": "省份", "en": "Province"},
    "metric_segments": {"zh": "当前时刻风险路段(公里)", "en": "Risky km at this hour"},
    "metric_warned": {"zh": "当前时刻道路结冰预警(公里)", "en": "Km under road-icing warning now"},
    "show_warnings": {"zh": "显示官方预警（道路结冰、能见度管控）", "en": "Show official warnings (road icing, visibility)"},
    "legend_warning": {"zh": "路段外侧光晕：道路结冰预警 / 能见度管控（黄、橙、红）",
                       "en": "Halo around a road: road-icing warning / visibility control (yellow, orange, red)"},
    "legend_tier": {"zh": "路段颜色：风险等级（红色 = 优先处置）", "en": "Road colour: risk tier (red = go here first)"},
    "priority_list": {"zh": "优先处置清单", "en": "Priority list"},
    "priority_hint": {
        "zh": "按此顺序派警：等级（红色优先）、是否需立即启动措施、预计天气事故数、预警等级。点选一行查看路段详情。",
        "en": "Teams are sent in this order: tier (red first), measures due now, expected weather incidents, "
              "warning level. Select a row to open the stretch.",
    },
    "col_priority": {"zh": "优先序", "en": "#"},
    "col_icing": {"zh": "结冰预警", "en": "Icing warning"},
    "col_visibility": {"zh": "能见度管控", "en": "Visibility"},
    "col_expected_weather": {"zh": "预计天气事故", "en": "Weather incidents"},
    "col_stretch": {"zh": "路段", "en": "Stretch"},
    "col_first_measure": {"zh": "首项措施（启动时间）", "en": "First measure (start)"},
    "metric_red": {"zh": "红色（优先）路段", "en": "Red stretches (first)"},
    "metric_stretches": {"zh": "风险路段总数", "en": "Stretches"},
    "metric_uncovered": {"zh": "未落实警力", "en": "Without a team"},
    "legend": {"zh": "图例", "en": "Legend"},
    "choose_stretch": {"zh": "选择路段", "en": "Choose a stretch"},
    "heat_title": {"zh": "沿线风险（公里 × 小时）", "en": "Risk along the road (km × hour)"},
    "run_start": {"zh": "起报", "en": "run start"},
    "km": {"zh": "桩号", "en": "K-stake"},
    "risk": {"zh": "事故概率/小时", "en": "P(incident) per hour"},
    "ice_risk": {"zh": "冰雪事故概率/小时", "en": "P(ice/snow incident) per hour"},
    "heat_caption": {
        "zh": "颜色为{what}（风险等级据此排序）；竖虚线为本条目的风险时段。",
        "en": "Colour: {what} (what the tiers rank); dashed lines: this entry's window.",
    },
    "heat_caption_total": {
        "zh": "颜色为{what}；风险等级按高于该路段常态的部分排序；竖虚线为本条目的风险时段。",
        "en": "Colour: {what}; the tiers rank the part above the segment's normal risk; dashed lines: this entry's window.",
    },
    "weather_title": {"zh": "气象时间线", "en": "Weather timeline"},
    "no_weather": {"zh": "该路段无气象数据", "en": "No weather for this stretch"},
    "t2m_c": {"zh": "气温 °C", "en": "Air temp °C"},
    "d2m_c": {"zh": "露点 °C", "en": "Dew point °C"},
    "skt_c": {"zh": "地表温度 °C", "en": "Surface temp °C"},
    "precip_mm": {"zh": "降水 mm/h", "en": "Precip mm/h"},
    "snowfall_mm": {"zh": "降雪 mm/h", "en": "Snowfall mm/h"},
    "ptype": {"zh": "降水相态", "en": "Precip type"},
    "drivers_title": {"zh": "主要致险因素", "en": "Main drivers"},
    "conditions": {"zh": "路况", "en": "Conditions"},
    "measures_title": {"zh": "建议措施及理由", "en": "Measures and reasons"},
    "reason": {"zh": "理由", "en": "Reason"},
    "lead_hours": {"zh": "提前量(小时)", "en": "Lead (h)"},
    "dispatch_title": {"zh": "勤务安排", "en": "Assignments"},
    "teams_title": {"zh": "勤务力量", "en": "Teams"},
    "team": {"zh": "中队", "en": "Team"},
    "cars": {"zh": "警车", "en": "Cars"},
    "cars_assigned": {"zh": "已派警车", "en": "Cars assigned"},
    "travel_min": {"zh": "路程(分钟)", "en": "Travel (min)"},
    "depart_by": {"zh": "最晚出发", "en": "Depart by"},
    "arrive_by": {"zh": "最晚到达", "en": "Arrive by"},
    "status": {"zh": "状态", "en": "Status"},
    "status_assigned": {"zh": "已安排", "en": "assigned"},
    "status_unreachable": {"zh": "无法按时到达", "en": "unreachable"},
    "status_uncovered": {"zh": "无可用警力", "en": "uncovered"},
    "record_title": {"zh": "登记已落实措施", "en": "Record a measure taken"},
    "officer": {"zh": "值班民警", "en": "Officer"},
    "taken_date": {"zh": "落实日期", "en": "Date"},
    "taken_time": {"zh": "落实时间", "en": "Time"},
    "measure": {"zh": "措施", "en": "Measure"},
    "note": {"zh": "备注", "en": "Note"},
    "save": {"zh": "保存登记", "en": "Save record"},
    "saved": {"zh": "已保存", "en": "Saved"},
    "records_title": {"zh": "已落实措施记录", "en": "Measures taken"},
    "no_records": {"zh": "暂无登记", "en": "Nothing recorded yet"},
    "recorded_at": {"zh": "登记时间", "en": "Recorded"},
    "verify_title": {"zh": "预报与实际事故对比", "en": "Forecasts against incidents"},
    "k_segments": {"zh": "K（每日重点关注路段数）", "en": "K (segments watched per day)"},
    "recall_title": {"zh": "每日命中率 Recall@K", "en": "Recall@K per day"},
    "recall_help": {
        "zh": "当天风险最高的 K 个路段上发生的事故占当天全部事故的比例。",
        "en": "Share of the day's incidents that happened on the day's K highest-risk segments.",
    },
    "day": {"zh": "日期", "en": "Day"},
    "incidents": {"zh": "事故数", "en": "Incidents"},
    "hits": {"zh": "命中", "en": "Hits"},
    "recall": {"zh": "命中率", "en": "Recall"},
    "reliability_title": {"zh": "可靠性（预报概率与实际频率）", "en": "Reliability (forecast vs observed)"},
    "forecast_p": {"zh": "预报概率", "en": "Forecast probability"},
    "observed_f": {"zh": "实际频率", "en": "Observed frequency"},
    "n_hours": {"zh": "路段小时数", "en": "Segment-hours"},
    "no_incidents": {
        "zh": "研判时段内尚无可对比的事故记录（事后导入事故数据后再检验）。",
        "en": "No incidents in the run window yet (import incidents after the event, then verify).",
    },
    "observed_until": {"zh": "事故数据截至 {t}", "en": "Incidents known until {t}"},
    "tiers_rank_title": {"zh": "风险等级是否排得准", "en": "Do the tiers rank?"},
    "tiers_rank_help": {
        "zh": "各等级路段小时中实际发生事故的比例；提升倍数 = 该比例 ÷ 全部路段小时的平均比例。红色应最高。",
        "en": "Share of segment-hours of each level with an incident; lift = that share over the average of all "
              "segment-hours. Red should rank highest.",
    },
    "warnings_rank_title": {"zh": "官方预警与实际事故", "en": "Official warnings against incidents"},
    "level": {"zh": "等级", "en": "Level"},
    "segment_hours": {"zh": "路段小时", "en": "Segment-hours"},
    "incident_hours": {"zh": "有事故的路段小时", "en": "With an incident"},
    "share_of_incidents": {"zh": "占全部事故", "en": "Share of incidents"},
    "rate": {"zh": "事故率", "en": "Incident rate"},
    "lift": {"zh": "提升倍数", "en": "Lift"},
    "ice_incident_hours": {"zh": "其中冰雪事故", "en": "With an ice/snow incident"},
    "ice_lift": {"zh": "冰雪事故提升倍数", "en": "Ice/snow lift"},
    "model_title": {"zh": "当前模型", "en": "Champion model"},
    "no_model": {"zh": "尚无模型（请先运行 `wxrisk train --promote`）", "en": "No model yet (run `wxrisk train --promote`)"},
    "metrics": {"zh": "评估指标", "en": "Metrics"},
    "metric_name": {"zh": "指标", "en": "Metric"},
    "metric_value": {"zh": "数值", "en": "Value"},
    "freshness_title": {"zh": "数据时效", "en": "Data freshness"},
    "weather_issued": {"zh": "气象起报时间", "en": "Weather issued"},
    "published_at": {"zh": "发布时间", "en": "Published"},
    "last_import": {"zh": "最近导入", "en": "Last import"},
    "kind": {"zh": "类别", "en": "Kind"},
    "path": {"zh": "文件", "en": "File"},
    "rows": {"zh": "行数", "en": "Rows"},
    "quarantine_title": {"zh": "隔离的问题数据", "en": "Quarantined rows"},
    "no_quarantine": {"zh": "无隔离数据", "en": "No quarantined rows"},
    "stale_weather": {
        "zh": "气象数据已过时：起报于 {age:.0f} 小时前（超过 {limit} 小时）。",
        "en": "Weather is stale: issued {age:.0f} h ago (more than {limit} h).",
    },
    "stale_weather_replay": {
        "zh": "气象数据已过时：本次研判起报时，气象预报已发布 {age:.0f} 小时（超过 {limit} 小时）。",
        "en": "Weather was stale at the run start: issued {age:.0f} h before it (more than {limit} h).",
    },
    "hindcast": {
        "zh": "回算：本看板使用气象分析（实况）资料，而非预报，仅用于检验与演练。",
        "en": "Hindcast: this board uses weather analyses (what happened), not a forecast; for verification and drills.",
    },
    "no_weather_issue": {
        "zh": "缺少气象预报起报时间，无法判断时效。",
        "en": "No weather issue time: freshness unknown.",
    },
    "missing_inputs": {
        "zh": "以下输入缺失，相关因素未计入：{items}",
        "en": "Inputs missing, their factors were left out: {items}",
    },
    "data_ok": {"zh": "数据时效正常", "en": "Data is fresh"},
    "run_message": {"zh": "运行说明：{message}", "en": "Run note: {message}"},
}

# The registry's metric keys (`meta.json: metrics`) and scorers, as the model card reads them.
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "pr_auc": ("PR-AUC（查准率-查全率曲线下面积，越大越好）", "PR-AUC (precision-recall area, higher is better)"),
    "roc_auc": ("ROC-AUC（区分能力，越大越好）", "ROC-AUC (discrimination, higher is better)"),
    "brier": ("Brier 分数（概率误差，越小越好）", "Brier score (probability error, lower is better)"),
    "ece": ("校准误差 ECE（越小越好）", "Calibration error ECE (lower is better)"),
    "recall_at_k": ("Recall@K（重点路段命中率）", "Recall@K (share of incidents on the watched segments)"),
    "lift_top1pct": ("前1%路段小时提升倍数", "Lift of the top 1 % of segment-hours"),
    "rows": ("检验路段小时数", "Segment-hours verified"),
    "positives": ("其中有事故的路段小时", "of which with an incident"),
}
SCORER_WORDS: dict[str, tuple[str, str]] = {
    "model": ("本模型", "this model"),
    "yardstick": ("朴素 LightGBM（基准）", "plain LightGBM (yardstick)"),
    "historical_average": ("历史平均（基准）", "historical average (yardstick)"),
    "physical_rule": ("物理规则（基准）", "physical rule (yardstick)"),
}
ICE_SCORER_PREFIX = "ice_"  # `ice_model`, `ice_yardstick`...: the same scorers on ice/snow incidents
# What the model page's metric tables are about: any incident, or ice/snow incidents (`ice_risk`).
METRIC_VIEW_WORDS: dict[str, tuple[str, str]] = {
    "any": ("任何事故（risk）", "Any incident (risk)"),
    "ice": ("冰雪事故（ice_risk，排序所用）", "Ice/snow incidents (ice_risk, what the tiers rank)"),
}
# Kinds of imported data (`import_ledger.kind`).
IMPORT_KIND_WORDS: dict[str, tuple[str, str]] = {
    "incidents": ("事故记录", "incidents"),
    "roads": ("路网", "roads"),
    "teams": ("勤务力量", "teams"),
    "weather": ("气象数据", "weather"),
}

PTYPE_WORDS: dict[int, tuple[str, str]] = {
    0: ("无", "none"),
    1: ("雨", "rain"),
    3: ("冻雨", "freezing rain"),
    5: ("雪", "snow"),
    6: ("湿雪", "wet snow"),
    7: ("雨夹雪", "rain/snow mix"),
    8: ("冰粒", "ice pellets"),
    12: ("冻毛毛雨", "freezing drizzle"),
}

def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text for `key` in `lang`, with `{placeholders}` filled from `values`."""
    text = STRINGS[key]["en" if lang == "en" else "zh"]
    return text.format(**values) if values else text


def tier_label(tier: str, lang: str = "zh") -> str:
    """A tier as a table shows it: `红色` / `Red` (`wxrisk.levels` words); unknown tiers read as none."""
    word = tier_word(tier if tier in TIER_RGBA else "none", lang)
    return word.capitalize() if lang == "en" else word


def warning_label(kind: str, level: str | None, lang: str = "zh") -> str:
    """A warning as the officials name it (`道路结冰橙色预警`); empty for none or unknown."""
    if not isinstance(level, str) or level in ("none", ""):
        return ""
    return warning_word(kind, level, lang)


def warning_level_label(level: str | None, lang: str = "zh") -> str:
    """A warning level alone, as a table shows it (`橙色` / `Orange`, like a tier); empty for none."""
    return tier_label(level, lang) if isinstance(level, str) and level not in ("none", "") else ""


def warning_kind_label(kind: str, lang: str = "zh") -> str:
    return words(WARNING_SHORT_WORDS, kind, lang)


def ptype_label(code: int | None, lang: str = "zh") -> str:
    """ECMWF precipitation type code in words (`3` -> `冻雨`)."""
    if code is None or code != code:
        return ""
    zh, en = PTYPE_WORDS.get(int(code), (str(int(code)), str(int(code))))
    return en if lang == "en" else zh


def metric_label(key: str, lang: str = "zh") -> str:
    """A registry metric key in words: `recall_at_k` -> `Recall@K（重点路段命中率）`; `recall_at_k.k10`
    names its part; unknown keys are shown with spaces."""
    name, _, part = key.partition(".")
    text = words(METRIC_WORDS, name, lang) if name in METRIC_WORDS else name.replace("_", " ")
    return f"{text} ({part})" if part else text


def scorer_label(key: str, lang: str = "zh") -> str:
    return words(SCORER_WORDS, key, lang) if key in SCORER_WORDS else key.replace("_", " ")


def import_kind_label(kind: str, lang: str = "zh") -> str:
    return words(IMPORT_KIND_WORDS, kind, lang) if kind in IMPORT_KIND_WORDS else kind


def condition_label(condition: str, lang: str = "zh") -> str:
    return words(CONDITION_WORDS, condition, lang)


