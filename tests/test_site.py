"""ecomlab.site without a browser: what the builder hides, rewrites, names and ships.

A tiny two-notebook course is written here with stored outputs (no kernel is started),
built, and the HTML, assets, font subset and build summary are read back. The real
notebooks in a real browser are tested in tests/test_site_browser.py.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup, NavigableString
from fontTools.ttLib import TTFont
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ecomlab.site import build as site_build
from ecomlab.site import build_site, chromium, notebook_title, summary, webfont

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def _figure(source: str, alt: str | None = None):
    cell = new_code_cell(source)
    md = {"image/png": {"alt": alt}} if alt else {}
    cell.outputs = [new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"},
                               metadata=md)]
    return cell


def _course(root: Path) -> Path:
    """``root/notebooks``: a start page (every case the builder handles) and one lesson."""
    solution = new_code_cell("### BEGIN SOLUTION\nanswer_secret_line = 42\n### END SOLUTION\nex.q1.check(answer_secret_line)")
    solution.metadata["tags"] = ["solution"]
    untagged = new_code_cell("### BEGIN SOLUTION\nsecond_hidden_answer = 7\n### END SOLUTION")
    results = new_code_cell("record('00', results_only_line=1)")
    results.metadata["tags"] = ["results"]
    checked = new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('kept 保留')")
    autograde = new_code_cell("# Autograder test (nbgrader; locked)\nassert autograder_only_line")
    autograde.metadata["tags"] = ["nbgrader-test"]
    table = new_code_cell("styled")
    table.outputs = [new_output("execute_result", execution_count=3, data={
        "text/html": "<table><caption>orders: 3 rows × 9 columns 订单</caption>"
                     "<tr><td>1</td></tr></table><a href='04_private_domain/01_lesson.ipynb'>next</a>",
        "text/plain": "styled"})]
    start = new_notebook(cells=[
        new_markdown_cell("# Start here 从这里开始\n\nSee [the lesson](04_private_domain/01_lesson.ipynb#Sec), "
                          "[a missing one](04_private_domain/09_gone.ipynb) and "
                          "[outside](https://example.org/x.ipynb). Revenue $R = \\sum_i p_i q_i$ 收入."),
        new_markdown_cell("## Figures 图表"),
        _figure("fig, ax = plt.subplots()", alt="18% bought once 复购"),
        _figure("n = 3\nax.set(xlabel='x', title=f'{n:.0%} of customers bought only once')"),
        _figure("plt.plot([1, 2])"),
        solution, autograde, untagged, checked, table, results,
    ], metadata=KERNEL)
    lesson = new_notebook(cells=[new_markdown_cell("# Lesson one 第一课"), new_markdown_cell("## Sec\n\nNo math here.")],
                          metadata=KERNEL)
    nb_dir = root / "notebooks"
    (nb_dir / "04_private_domain").mkdir(parents=True)
    nbformat.write(start, str(nb_dir / "00_start_here.ipynb"))
    nbformat.write(lesson, str(nb_dir / "04_private_domain" / "01_lesson.ipynb"))
    return nb_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("course")
    nb_dir = _course(root)
    reports = root / "reports"
    reports.mkdir()
    (reports / "rfm_report.html").write_text(  # as nbconvert's defaults write it: two CDN scripts
        '<html><head><script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js">'
        '</script><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX">'
        '</script></head><body><p>报告 report, $x^2$</p><a href="../00_start_here.ipynb">start</a></body></html>')
    out = root / "site"
    index = build_site(nb_dir, out, reports=reports)
    pages = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    return {"root": root, "out": out, "index": index, "pages": pages, "summary": summary(out)}


def test_pages_index_and_summary_counts(built) -> None:
    assert built["index"] == built["out"] / "index.html"
    assert {"index.html", "00_start_here.html", "04_private_domain/01_lesson.html",
            "reports/rfm_report.html"} <= set(built["pages"])
    s = built["summary"]
    assert s["pages"] == 2 and s["report_pages"] == 1 and s["report_cdn_scripts_replaced"] == 2
    assert s["report_external_loads"] == []
    assert s["results_cells_hidden"] == 1 and s["test_markers_removed"] == 1
    assert s["nbgrader_test_cells_hidden"] == 1
    assert s["solution_cells_folded"] == 2 and s["solution_markers_removed"] == 4
    assert s["ipynb_links_rewritten"] == 4 and s["table_captions_moved"] == 1
    assert (s["alt_from_figure"], s["alt_from_code"], s["alt_from_heading"]) == (1, 1, 1)
    assert s["links_to_missing_pages"] == ["00_start_here.html -> 04_private_domain/09_gone.html"]
    assert s["characters_missing_from_font"] == ""


def test_solutions_folded_results_and_markers_hidden(built) -> None:
    page = built["pages"]["00_start_here.html"]
    soup = BeautifulSoup(page, "html.parser")
    folded = soup.select("details.solution")
    assert len(folded) == 2 and not any(d.has_attr("open") for d in folded)
    assert "answer_secret_line" in folded[0].get_text() and "second_hidden_answer" in folded[1].get_text()
    outside = soup.get_text().replace(folded[0].get_text(), "").replace(folded[1].get_text(), "")
    assert "answer_secret_line" not in outside and "second_hidden_answer" not in outside
    for gone in ("BEGIN SOLUTION", "END SOLUTION", "NBVAL_", "results_only_line", "autograder_only_line"):
        assert gone not in page
    assert "kept" in soup.get_text()  # the checked cell itself stays


def test_links_rewritten_and_nothing_loaded_from_outside(built) -> None:
    soup = BeautifulSoup(built["pages"]["00_start_here.html"], "html.parser")
    hrefs = [a["href"] for a in soup.select("a[href]")]
    assert "04_private_domain/01_lesson.html#Sec" in hrefs
    assert "https://example.org/x.ipynb" in hrefs  # links out are left alone
    assert not [h for h in hrefs if ".ipynb" in h and not h.startswith(("http", "student/"))
                and "download" not in h]
    download = soup.select_one("a.download")
    assert download["href"] == "student/00_start_here.ipynb" and download.has_attr("download")
    for rel, page in built["pages"].items():
        s = BeautifulSoup(page, "html.parser")
        loads = [t.get("src") for t in s.select("script[src], img[src]")] + [t["href"] for t in s.select("link[href]")]
        assert loads and all(not re.match(r"^(https?:)?//", u) for u in loads), (rel, loads)
        for u in loads:
            if not u.startswith("data:"):
                assert (built["out"] / Path(rel).parent / u.split("?")[0]).resolve().is_file(), u
    index = BeautifulSoup(built["pages"]["index.html"], "html.parser")
    assert "reports/rfm_report.html" in [a["href"] for a in index.select("a[href]")]
    report = BeautifulSoup(built["pages"]["reports/rfm_report.html"], "html.parser")
    assert [a["href"] for a in report.select("a[href]")] == ["../00_start_here.html"]
    assert '<link href="../assets/fonts.css" rel="stylesheet"/>' in str(report.head)


def test_student_edition_is_published_without_solutions(built) -> None:
    nb = nbformat.read(str(built["out"] / "student" / "00_start_here.ipynb"), as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "answer_secret_line = 42" not in text and "____" in text


def test_alt_text_from_the_figure_the_code_or_the_heading(built) -> None:
    soup = BeautifulSoup(built["pages"]["00_start_here.html"], "html.parser")
    alts = [img["alt"] for img in soup.select(".jp-RenderedImage img")]
    assert alts == ["18% bought once 复购", "… of customers bought only once", "Figure: Figures 图表"]


def test_caption_moved_above_a_scrolling_table(built) -> None:
    soup = BeautifulSoup(built["pages"]["00_start_here.html"], "html.parser")
    fig = soup.select_one("figure.table-figure")
    assert fig.figcaption.get_text() == "orders: 3 rows × 9 columns 订单"
    assert fig.select_one("div.table-scroll > table") is not None and not soup.select("caption")


def test_math_only_where_needed(built) -> None:
    start, lesson = built["pages"]["00_start_here.html"], built["pages"]["04_private_domain/01_lesson.html"]
    assert 'src="assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"' in start
    assert "MathJax" not in lesson and "require" not in start
    assert (built["out"] / "assets/mathjax/config/TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert "$R = \\sum_i p_i q_i$" in html.unescape(start)  # TeX source left whole for MathJax


def test_every_chinese_run_marked_and_in_the_font_subset(built) -> None:
    text = []
    for rel, page in built["pages"].items():
        soup = BeautifulSoup(page, "html.parser")
        assert soup.html["lang"] == "en"
        for node in soup.body.find_all(string=True):
            if type(node) is not NavigableString or node.find_parent(["script", "style"]):
                continue
            text.append(str(node))
            if webfont.CJK_RUN.search(node) and "$" not in node:
                assert node.parent.get("lang") == "zh-Hans" and webfont.CJK_RUN.fullmatch(node), (rel, node)
    font = TTFont(str(built["out"] / "assets/fonts/ecomlab-sans-sc.woff"))
    cmap = {chr(c) for c in font.getBestCmap()}
    wanted = webfont.cjk_chars(text)
    assert wanted and wanted <= cmap
    assert "鑫" not in cmap  # only the site's characters, not the whole font
    css = (built["out"] / "assets/site.css").read_text(encoding="utf-8")
    assert css.startswith("@font-face") and "unicode-range: U+2E80-2FDF" in css
    assert re.search(r'--site-sans: "EcomLab Sans SC",', css)


def test_search_index_has_titles_headings_and_glossary_terms(built) -> None:
    js = (built["out"] / "assets/search-index.js").read_text(encoding="utf-8")
    entries = json.loads(js.removeprefix("window.ECOMLAB_SEARCH = ").rstrip(";\n"))
    kinds = {e["k"] for e in entries}
    assert kinds == {"lesson", "heading", "term"}
    assert {"t": "Sec", "u": "04_private_domain/01_lesson.html#Sec", "k": "heading", "s": "Lesson one 第一课"} in entries
    assert any(e["k"] == "term" and "客单价" in e["t"] for e in entries)


def test_rebuild_replaces_a_site_but_never_another_folder(built, tmp_path) -> None:
    nb_dir = built["root"] / "notebooks"
    stale = built["out"] / "old.html"
    stale.write_text("x")
    build_site(nb_dir, built["out"])
    assert not stale.exists() and not (built["out"] / "reports").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not an EcomLab site"):
        build_site(nb_dir, other)
    with pytest.raises(ValueError, match="holds no notebooks"):
        build_site(tmp_path / "nothing", tmp_path / "s")
    # restore for other tests of the module
    build_site(nb_dir, built["out"], reports=built["root"] / "reports")


def test_notebook_title(tmp_path) -> None:
    nb = new_notebook(cells=[new_code_cell("x"), new_markdown_cell("text\n\n## **RFM** `模型` ##")])
    nbformat.write(nb, str(tmp_path / "a.ipynb"))
    assert notebook_title(tmp_path / "a.ipynb") == "RFM 模型"
    nbformat.write(new_notebook(), str(tmp_path / "b.ipynb"))
    assert notebook_title(tmp_path / "b.ipynb") == "b"


@pytest.mark.parametrize(("href", "expected"), [
    ("a.ipynb", "a.html"), ("../x/b.ipynb#h", "../x/b.html#h"), ("c.ipynb?x=1", "c.html?x=1"),
    ("https://x.org/y.ipynb", None), ("//x.org/y.ipynb", None), ("#frag", None),
    ("a.ipynbx", None), ("data.csv", None), ("mailto:a@b.ipynb", None),
])
def test_rewrite_ipynb(href, expected) -> None:
    assert site_build._rewrite_ipynb(href) == expected


def test_figure_titles_from_code() -> None:
    sup, titles = site_build._figure_titles(
        "ax.set_title('A ' + 'B')\nfig.suptitle(f'{x:.0%} up')\nplots.funnel(s, title=T)\nax.set(title='C')")
    assert sup == ["… up"] and titles == ["A B", "C"]
    assert site_build._figure_titles("def broken(:") == ([], [])


@given(st.text(alphabet=st.sampled_from(list("ab 1<>&,.中文，。（）客单价\n")), max_size=60))
def test_marking_chinese_keeps_the_text(text) -> None:
    counts = dict.fromkeys(("ipynb_links_rewritten", "table_captions_moved"), 0)
    # in <pre>, where BeautifulSoup keeps whitespace-only strings as they are
    out, _ = site_build._finish(f"<html><body><pre>{html.escape(text)}</pre></body></html>",
                                "x.html", None, None, counts, set(), [])
    p = BeautifulSoup(out, "html.parser").pre
    assert p.get_text() == text
    for node in p.find_all(string=True):
        if webfont.CJK_RUN.search(node):
            assert node.parent.name == "span" and node.parent["lang"] == "zh-Hans"
            assert webfont.CJK_RUN.fullmatch(node)


def test_subset_font_validates_and_reports_missing_glyphs(tmp_path) -> None:
    with pytest.raises(ValueError, match="chars"):
        webfont.subset_font("", tmp_path / "f.woff")
    size, missing = webfont.subset_font("电商\u3400", tmp_path / "f.woff")  # U+3400: Extension A
    assert size > 0 and missing == ["\u3400"]
    assert {chr(c) for c in TTFont(str(tmp_path / "f.woff")).getBestCmap()} >= {"电", "商"}


def test_chromium_driver_needs_a_browser_and_a_timeout(monkeypatch) -> None:
    monkeypatch.setattr(chromium.shutil, "which", lambda name: None)
    assert chromium.find_chromium() is None
    with pytest.raises(ValueError, match="executable: no chromium"):
        chromium.Chromium()
    with pytest.raises(ValueError, match="timeout"):
        chromium.Chromium("/bin/true", timeout=0)


def test_standalone_report_is_one_self_contained_file(tmp_path) -> None:
    nb = nbformat.read(str(_course(tmp_path) / "00_start_here.ipynb"), as_version=4)
    page = site_build.standalone_html(nb, "Report 报告")
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.select("script[src], link[href]")  # CSS inlined, no scripts fetched
    assert [img["alt"] for img in soup.select("img")][0] == "18% bought once 复购"
    assert "answer_secret_line" not in soup.get_text().replace(soup.select_one("details").get_text(), "")
    assert "results_only_line" not in page and "record(" not in page  # no code at all
    font = re.search(r'url\("data:font/woff;base64,([^"]+)"\)', page).group(1)
    (tmp_path / "f.woff").write_bytes(base64.b64decode(font))
    cmap = {chr(c) for c in TTFont(str(tmp_path / "f.woff")).getBestCmap()}
    assert webfont.cjk_chars(soup.get_text()) <= cmap
    with pytest.raises(ValueError, match="title"):
        site_build.standalone_html(nb, " ")
    with pytest.raises(ValueError, match="nb must be a notebook"):
        site_build.standalone_html({"cells": []}, "x")


@pytest.mark.notebooks
def test_executed_figures_carry_their_title_as_alt_text(tmp_path) -> None:
    """plots.set_theme() makes the kernel store each figure's title with its PNG output."""
    from ecomlab.notebooks import execute

    nb = new_notebook(cells=[new_code_cell(
        "import matplotlib.pyplot as plt\nfrom ecomlab import plots\nplots.set_theme()\nshare = 0.58\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_title(f'{share:.0%} of customers bought once 复购')\n"
        "plt.show()\nfig, axes = plt.subplots(1, 2)\nfig.suptitle('Two panels')"), new_code_cell("plt.plot([1])")],
        metadata=KERNEL)
    nbformat.write(nb, str(tmp_path / "a.ipynb"))
    execute(tmp_path / "a.ipynb", tmp_path / "out.ipynb")
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    alts = [o.get("metadata", {}).get("image/png", {}).get("alt") for c in out.cells for o in c.outputs
            if "image/png" in o.get("data", {})]
    assert alts == ["58% of customers bought once 复购", "Two panels", None]  # untitled: no alt stored
    page = site_build.standalone_html(out, "alt")
    assert [img["alt"] for img in BeautifulSoup(page, "html.parser").select("img")][:2] == alts[:2]
