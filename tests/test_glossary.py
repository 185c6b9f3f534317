"""The zh–en glossary: well-formed data, lookups, and every term taught in its lesson."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from ecomlab.glossary import LESSONS, TERMS, Term, lookup, terms
from ecomlab.notebooks import notebooks_dir

REQUIRED = {
    "GMV": "成交总额", "UV": "访客数", "PV": "浏览量", "CR": "转化率", "spend per buyer": "客单价", "order value": "笔单价",
    "repurchase rate": "复购率", "return-purchase rate": "回购率",
    "private-domain traffic": "私域流量", "people–goods–place": "人货场", "RFM": None,
    "LTV": "用户生命周期价值", "CAC": "获客成本", "ROAS": "广告支出回报率",
    "ROI": "投资回报率", "input-output ratio": "投产比", "cohort": "同期群",
    "retention": "留存率", "churn": "流失", "BG/NBD": None, "P(alive)": None,
    "Gamma-Gamma": None, "uplift": None, "Qini curve": None,
    "difference-in-differences": "双重差分", "KPI tree": "指标树", "anomaly alert": "异常告警",
    "A/B test": None, "MDE": "最小可检测效应", "SRM": "样本比例失衡", "CUPED": None,
    "peeking": None, "funnel": "漏斗", "strict funnel": None, "loose funnel": None,
    "cart abandonment": "弃购", "session": "会话", "heatmap": "热力图", "membership": "会员",
    "fan group": "粉丝群/社群", "coupon": "优惠券", "gross margin": "毛利率",
    # issue 10: every term the lessons teach
    "LMDI": None, "k-means": None, "Kaplan–Meier": None, "parallel trends": None,
    "bounce rate": None, "T-learner": None, "placebo test": None, "event study": None,
}

#: Chinese-only terms the lessons teach (period-over-period comparisons).
REQUIRED_ZH = ("环比", "同比")


def test_required_chinese_terms_present():
    zh = " / ".join(t.term_zh for t in TERMS)
    missing = [z for z in REQUIRED_ZH if z not in zh]
    assert not missing, f"glossary lacks {missing}"


def test_required_terms_present_with_their_chinese_names():
    by_en = {t.term_en: t for t in TERMS}
    missing = sorted(set(REQUIRED) - set(by_en))
    assert not missing, f"glossary lacks {missing}"
    for en, zh in REQUIRED.items():
        if zh is not None:
            assert by_en[en].term_zh == zh, en


def test_terms_unique_and_fields_filled():
    frame = terms()
    assert frame["term_en"].is_unique
    assert frame["term_zh"].is_unique
    assert frame["term_en"].str.casefold().is_unique
    for col in ("term_en", "term_zh", "definition", "lesson"):
        assert frame[col].notna().all(), col
        assert (frame[col].astype(str).str.strip() != "").all(), col
    assert frame["formula"].dropna().str.strip().ne("").all()
    assert frame["lesson"].isin(LESSONS).all()


def test_terms_frame_dtypes_have_no_object():
    frame = terms()
    assert not any(pd.api.types.is_object_dtype(d) for d in frame.dtypes)
    assert str(frame["term_en"].dtype) == "string"
    assert isinstance(frame["lesson"].dtype, pd.CategoricalDtype)
    assert list(frame["lesson"].cat.categories) == list(LESSONS)
    assert len(frame) == len(TERMS)


@pytest.mark.parametrize("en", ["CR", "spend per buyer", "order value", "repurchase rate", "return-purchase rate", "ROAS",
                                "ROI", "GMV", "CAC", "gross margin", "retention"])
def test_kpis_have_formulas(en):
    assert lookup(en).formula


def test_key_definitions_match_the_course_conventions():
    assert lookup("CR").formula == "CR = buyers / UV"
    assert lookup("spend per buyer").formula == "spend per buyer = GMV / buyers"
    assert lookup("order value").formula == "order value = GMV / placed orders"
    assert "ROAS" in lookup("投产比").definition
    assert "≥ 2 orders" in lookup("复购率").formula
    assert "period 2" in lookup("回购率").formula


def test_lookup_by_english_or_chinese_ignoring_case_and_spacing():
    assert lookup("客单价").term_en == "spend per buyer"
    assert lookup("Spend  Per buyer").term_zh == "客单价"
    assert lookup("  Repurchase   Rate ").term_zh == "复购率"
    assert lookup("社群").term_en == "fan group"
    assert lookup("people-goods-place").term_zh == "人货场"


def test_lookup_unknown_lists_close_matches():
    with pytest.raises(ValueError, match="retention"):
        lookup("retension")
    with pytest.raises(ValueError, match="not in the glossary"):
        lookup("zzzz")
    with pytest.raises(ValueError, match="term"):
        lookup("")


def test_term_validates_fields():
    with pytest.raises(ValueError, match="term_zh"):
        Term("X", " ", "def", lesson="00_start_here")
    with pytest.raises(ValueError, match="lesson"):
        Term("X", "某", "def", lesson="99_nowhere")
    with pytest.raises(ValueError, match="formula"):
        Term("X", "某", "def", formula="", lesson="00_start_here")


# --- every term is taught in its lesson -----------------------------------------------
def _norm(text: str) -> str:
    return re.sub(r"[\u2010-\u2015-]", "-", " ".join(text.split())).casefold()


def _markdown(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            parts.append("".join(src) if isinstance(src, list) else src)
    return _norm("\n".join(parts))


def _names(term: Term) -> list[str]:
    return [term.term_en, term.term_zh, *term.term_zh.split("/")]


def test_terms_taught_in_their_lesson():
    """Each term's English or Chinese name appears in its lesson notebook's markdown.

    Lessons whose notebook does not exist yet are reported with a warning; any existing
    notebook that does not mention one of its terms fails the test.
    """
    root = notebooks_dir()
    not_yet: dict[str, list[str]] = {}
    missing: list[str] = []
    cache: dict[str, str] = {}
    for term in TERMS:
        path = root / f"{term.lesson}.ipynb"
        if not path.is_file():
            not_yet.setdefault(term.lesson, []).append(term.term_en)
            continue
        text = cache.setdefault(term.lesson, _markdown(path))
        if not any(_norm(name) in text for name in _names(term)):
            missing.append(f"{term.lesson}: {term.term_en} / {term.term_zh}")
    if not_yet:
        listing = "; ".join(f"{lesson} ({', '.join(ts)})" for lesson, ts in sorted(not_yet.items()))
        warnings.warn(f"glossary terms not checked, lesson notebook missing: {listing}",
                      UserWarning, stacklevel=1)
    assert not missing, "terms not mentioned in their lesson's markdown:\n" + "\n".join(missing)


def test_taught_check_fails_for_a_notebook_missing_its_term(tmp_path, monkeypatch):
    lesson = tmp_path / "00_start_here.ipynb"
    lesson.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["# Start here\n", "GMV 成交总额 and UV"]},
        {"cell_type": "code", "source": "AOV = 1"},
    ]}), encoding="utf-8")
    monkeypatch.setitem(globals(), "notebooks_dir", lambda: tmp_path)
    with pytest.warns(UserWarning, match="lesson notebook missing"):
        with pytest.raises(AssertionError, match="spend per buyer"):
            test_terms_taught_in_their_lesson()
