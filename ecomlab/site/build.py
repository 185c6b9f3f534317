"""Build the course site: executed notebooks -> self-contained static HTML.

nbconvert's HTMLExporter renders each notebook with the ``ecomlab_site`` template (the
JupyterLab look, no require.js, no CDN); this module prepares the notebook first and
finishes the HTML after, with BeautifulSoup (already an nbconvert dependency):

* cells tagged ``results`` and nbgrader's locked test cells (tag ``nbgrader-test``) are
  left out; ``# NBVAL_*`` comment lines and nbgrader's
  ``### BEGIN/END SOLUTION`` markers are removed; solution cells are folded in a
  ``<details>`` the reader opens with a click;
* every figure gets alt text: the title stored with the image by
  :func:`ecomlab.plots.set_theme` (``metadata["image/png"]["alt"]``), else the title
  read from the cell's code (f-string fields shown as "…"), else the section heading;
* relative links to ``.ipynb`` point at the ``.html`` pages; table captions sit above a
  horizontally scrolling table instead of being cut off;
* Chinese runs are marked ``lang="zh-Hans"`` and drawn with a web font cut from the
  bundled CJK font holding exactly the site's characters (:mod:`ecomlab.site.webfont`);
* navigation: header with a client-side search (titles, headings, glossary terms), a
  chapter sidebar, on-page contents, previous/next, and a download link to the lesson's
  student edition (:func:`ecomlab.trainer.build_student_edition`);
* formulas are typeset by MathJax 2.7 copied from the ``jupyter-server-mathjax`` package.

Nothing is fetched at build or read time. ``build_summary.json`` in the site counts
everything changed (cells hidden, markers removed, links rewritten, alt sources, glyphs).
"""

from __future__ import annotations

import ast
import copy
import html
import json
import os
import posixpath
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from ecomlab.site import webfont

#: Chapter key (folder prefix) -> title shown in the sidebar and on the index.
CHAPTER_TITLES: dict[str, str] = {
    "00": "00 Start here",
    "01": "01 Positioning 市场分析与定位",
    "02": "02 Product 商品运营",
    "03": "03 Traffic 流量",
    "04": "04 Private domain 用户运营/私域",
    "05": "05 Data iteration 数据迭代",
    "06": "06 Case study 实践案例",
    "appendix": "Appendix 附录",
    "templates": "Report templates 分析模板",
}

SITE_TITLE = "EcomLab — e-commerce operations 电商运营"
_CHAPTER_DIR_RE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+$")
_NBVAL_LINE = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*\n?", re.M)
_SOLUTION_MARKER = re.compile(r"^[ \t]*#{3}[ \t]*(BEGIN|END)[ \t]+SOLUTION[ \t]*\n?", re.M)
_MATH = re.compile(r"\$[^$\s]|\\\(|\\\[|\\begin\{")
_TEX_SPAN = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\]|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.S)
_MARKER_FILE = ".ecomlab-site"
_MATHJAX_PARTS = ("MathJax.js", "config", "jax/input", "jax/element", "jax/output/HTML-CSS",
                  "fonts/HTML-CSS", "extensions/MathMenu.js", "extensions/MathZoom.js",
                  "extensions/TeX", "extensions/tex2jax.js", "extensions/MathEvents.js")


@dataclass
class _Page:
    """One notebook's page while the site is built."""

    src: Path
    rel: PurePosixPath  # html path relative to the site root
    title: str
    chapter: str
    student: PurePosixPath | None = None
    toc: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def root(self) -> str:
        return "../" * (len(self.rel.parts) - 1)


def notebook_title(path: str | os.PathLike[str]) -> str:
    """Return the text of the first markdown heading in a notebook (else the file stem).

    Example
    -------
    >>> notebook_title("notebooks/00_start_here.ipynb")  # doctest: +SKIP
    'Start here 从这里开始'
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return _title_of(nb, Path(path).stem)


def _title_of(nb: Any, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return re.sub(r"[*_`]", "", m.group(1)).strip()
    return default


def _chapter_key(rel: PurePosixPath) -> str:
    if len(rel.parts) == 1:
        return rel.name[:2] if re.match(r"^\d\d_", rel.name) else ""
    m = _CHAPTER_DIR_RE.match(rel.parts[0])
    return m.group(1) if m else rel.parts[0]


def _chapter_order(key: str) -> tuple[int, str]:
    order = list(CHAPTER_TITLES)
    return (order.index(key) if key in order else len(order), key)


# ---------------------------------------------------------------------- notebook prep
def _is_solution(cell: Any) -> bool:
    return cell.cell_type == "code" and (
        "solution" in cell.metadata.get("tags", []) or "BEGIN SOLUTION" in cell.source)


def _figure_titles(source: str) -> tuple[list[str], list[str]]:
    """(suptitles, titles) a cell's code gives its figures, in order; f-string fields -> "…"."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], []

    def text(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            a, b = text(node.left), text(node.right)
            return a + b if a is not None and b is not None else None
        return None

    found: list[tuple[int, int, bool, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        candidates = [k.value for k in node.keywords if k.arg == "title"]
        if name in ("set_title", "suptitle", "title") and node.args:
            candidates.insert(0, node.args[0])
        for c in candidates:
            t = text(c)
            if t and t.strip("… "):
                found.append((node.lineno, node.col_offset, name == "suptitle", " ".join(t.split())))
    found.sort()
    return [t for *_, sup, t in found if sup], [t for *_, sup, t in found if not sup]


def _prepare(nb: Any, counts: dict[str, int]) -> list[str]:
    """Hide what a reader must not see; return the alt text of every image, in order."""
    alts: list[str] = []
    kept = []
    heading = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
                if m:
                    heading = re.sub(r"[*_`]", "", m.group(1)).strip()
        if "results" in cell.metadata.get("tags", []):
            counts["results_cells_hidden"] += 1
            continue
        if "nbgrader-test" in cell.metadata.get("tags", []):  # autograder cells: for nbgrader only
            counts["nbgrader_test_cells_hidden"] = counts.get("nbgrader_test_cells_hidden", 0) + 1
            continue
        if cell.cell_type == "code":
            src, n = _NBVAL_LINE.subn("", cell.source)
            counts["test_markers_removed"] += n
            if _is_solution(cell):
                src, n = _SOLUTION_MARKER.subn("", src)
                counts["solution_markers_removed"] += n
                counts["solution_cells_folded"] += 1
                tags = list(cell.metadata.get("tags", []))
                if "solution" not in tags:
                    cell.metadata["tags"] = [*tags, "solution"]
            cell.source = src.rstrip("\n")
            suptitles, titles = _figure_titles(cell.source)
            n_figures = sum(any(k in o.get("data", {}) for k in ("image/png", "image/jpeg"))
                            for o in cell.get("outputs", []))
            if n_figures == 1 and (suptitles or titles):  # one figure: all its titles
                titles = [suptitles[0] if suptitles else "; ".join(titles)]
            else:
                titles = suptitles or titles
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if not any(k in data for k in ("image/png", "image/jpeg")):
                    continue
                md = out.get("metadata", {})
                stored = next((md.get(k, {}).get("alt") for k in ("image/png", "image/jpeg")
                               if isinstance(md.get(k), Mapping) and md[k].get("alt")), None)
                if stored:
                    alts.append(str(stored))
                    counts["alt_from_figure"] += 1
                elif titles:
                    alts.append(titles.pop(0))
                    counts["alt_from_code"] += 1
                else:
                    alts.append(f"Figure: {heading}" if heading else "Figure")
                    counts["alt_from_heading"] += 1
        kept.append(cell)
    nb.cells = kept
    return alts


# ---------------------------------------------------------------------- HTML helpers
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _header(root: str) -> str:
    return (
        '<header class="site-header">'
        '<button class="menu-toggle" type="button" aria-controls="sidebar" aria-expanded="false">'
        '<span aria-hidden="true">☰</span><span class="sr-only">Chapters</span></button>'
        f'<a class="site-home" href="{root}index.html">EcomLab <span>电商运营</span></a>'
        '<div class="site-search" role="search">'
        '<label class="sr-only" for="site-search-input">Search the course</label>'
        '<input id="site-search-input" type="search" autocomplete="off" '
        'placeholder="Search lessons, headings, terms… 搜索">'
        '<ul id="site-search-results" class="search-results" hidden></ul>'
        "</div></header>"
    )


def _lesson_lists(pages: list[_Page], reports: list[tuple[str, str]], root: str,
                  current: _Page | None = None, *, anchors: bool = False) -> list[str]:
    """Chapter headings (with ids if ``anchors``) and their lessons, then the reports."""
    parts = []
    for key in sorted({p.chapter for p in pages}, key=_chapter_order):
        title = CHAPTER_TITLES.get(key, key or "Other")
        parts.append(f'<h2 id="ch-{_esc(key or "other")}">{_esc(title)}</h2><ul class="lesson-list">'
                     if anchors else f"<h2>{_esc(title)}</h2><ul>")
        for p in pages:
            if p.chapter == key:
                cur = ' aria-current="page"' if p is current else ""
                parts.append(f'<li><a href="{root}{p.rel}"{cur}>{_esc(p.title)}</a></li>')
        parts.append("</ul>")
    if reports:
        parts.append("<h2>Example reports on Nestwell 示例报告</h2><ul>")
        parts += [f'<li><a href="{root}reports/{_esc(r)}">{_esc(title)}</a></li>' for r, title in reports]
        parts.append("</ul>")
    return parts


def _sidebar(pages: list[_Page], current: _Page | None, root: str,
             reports: list[tuple[str, str]]) -> str:
    return "".join([
        '<nav id="sidebar" class="site-sidebar" aria-label="Chapters">',
        f'<a class="sidebar-home" href="{root}index.html">Course home 课程首页</a>',
        *_lesson_lists(pages, reports, root, current), "</nav>"])


def _prevnext(pages: list[_Page], i: int) -> str:
    p = pages[i]
    links = []
    if i > 0:
        q = pages[i - 1]
        links.append(f'<a class="prev" rel="prev" href="{p.root}{q.rel}"><small>Previous 上一课</small>'
                     f"{_esc(q.title)}</a>")
    if i + 1 < len(pages):
        q = pages[i + 1]
        links.append(f'<a class="next" rel="next" href="{p.root}{q.rel}"><small>Next 下一课</small>'
                     f"{_esc(q.title)}</a>")
    return f'<nav class="prev-next" aria-label="Previous and next lesson">{"".join(links)}</nav>'


def _tools(p: _Page) -> str:
    if p.student is None:
        return ""
    return ('<p class="page-tools"><a class="download" download '
            f'href="{p.root}{p.student}">Download the student notebook 下载练习版 (.ipynb)</a></p>')


def _mathjax(root: str) -> str:
    config = {
        "jax": ["input/TeX", "output/HTML-CSS"],  # not NativeMML: its @font-face wants TeX fonts
        "tex2jax": {"inlineMath": [["$", "$"], ["\\(", "\\)"]],
                    "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
                    "processEscapes": True, "processEnvironments": True},
        "TeX": {"extensions": ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"]},
        "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web",
                     "webFont": "STIX-Web", "imageFont": None,
                     "undefinedFamily": "'EcomLab Sans SC', 'DejaVu Sans', sans-serif",
                     "linebreaks": {"automatic": True}},
        "showMathMenu": False, "messageStyle": "none", "showProcessingMessages": False,
        "menuSettings": {"zoom": "None"},
    }
    return (
        '<script type="text/x-mathjax-config">\n'
        f"MathJax.Hub.Config({json.dumps(config)});\n"
        'MathJax.Hub.Queue(function () { document.documentElement.dataset.math = "done"; });\n'
        "</script>\n"
        f'<script src="{root}assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"></script>'
    )


def _rewrite_ipynb(href: str) -> str | None:
    """``lesson.ipynb#x`` -> ``lesson.html#x`` for relative links; None if not such a link."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#", href):
        return None
    m = re.match(r"^([^?#]*)\.ipynb((?:[?#].*)?)$", href)
    return f"{m.group(1)}.html{m.group(2)}" if m else None


def _finish(body: str, rel: str, page: _Page | None, alts: list[str] | None,
            counts: dict[str, int], known: set[str], missing: list[str]) -> tuple[str, str]:
    """Post-process the HTML of the page at ``rel``; return (html, text for the font subset).

    ``page`` (None for the index and reports) gets its contents filled in; ``alts`` are
    its images' alt texts (None: leave images alone). ``known`` holds the site's files
    (paths from the root); a relative link to anything else is appended to ``missing``.
    """
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(body, "html.parser")
    for a in soup.select("a[href]"):
        if "download" in a.attrs:
            continue
        new = _rewrite_ipynb(a["href"])
        if new is not None:
            a["href"] = new
            counts["ipynb_links_rewritten"] += 1
        href = a["href"].split("#")[0].split("?")[0]
        if href and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", href):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(href)))
            if target not in known:
                missing.append(f"{rel} -> {a['href']}")
    imgs = soup.select(".jp-RenderedImage img")
    if alts is not None and len(imgs) != len(alts):
        raise RuntimeError(f"{rel}: {len(imgs)} images rendered but {len(alts)} image outputs found")
    for img, alt in zip(imgs, alts or [], strict=False):
        img["alt"] = alt
    for cell in soup.select(".jp-Cell.celltag_solution"):
        details = soup.new_tag("details", attrs={"class": "solution"})
        summary = soup.new_tag("summary")
        summary.string = "Show the solution 显示答案"
        cell.wrap(details)
        details.insert(0, summary)
    for caption in soup.select("table > caption"):
        table = caption.find_parent("table")
        fig = soup.new_tag("figure", attrs={"class": "table-figure"})
        cap = soup.new_tag("figcaption")
        for child in list(caption.contents):
            cap.append(child.extract())
        caption.decompose()
        scroll = soup.new_tag("div", attrs={"class": "table-scroll", "tabindex": "0"})
        table.wrap(scroll)
        scroll.wrap(fig)
        fig.insert(0, cap)
        counts["table_captions_moved"] += 1
    # nbconvert writes heading ids percent-encoded ("%E4%B8%9A..."): keep them readable
    for el in soup.select("[id*='%']"):
        el["id"] = unquote(el["id"])
    for a in soup.select("a[href*='#']"):
        base, _, frag = a["href"].partition("#")
        if "%" in frag and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", base):
            a["href"] = f"{base}#{unquote(frag)}"
    for table in soup.select("table"):  # every other table scrolls sideways on its own
        if table.find_parent("div", class_="table-scroll") is None:
            table.wrap(soup.new_tag("div", attrs={"class": "table-scroll", "tabindex": "0"}))
    if page is not None:
        toc = []
        for h in soup.select(".jp-MarkdownCell h2[id], .jp-MarkdownCell h3[id]"):
            label = h.get_text(" ", strip=True).rstrip("¶").strip()
            toc.append((int(h.name[1]), h["id"], label))
        page.toc = toc
        nav = soup.select_one("nav.page-toc")
        if nav is not None:
            if toc:
                items = "".join(f'<li class="toc-h{lvl}"><a href="#{_esc(i)}">{_esc(t)}</a></li>'
                                for lvl, i, t in toc)
                nav.append(BeautifulSoup(
                    f"<details open><summary>On this page 本页内容</summary><ul>{items}</ul></details>",
                    "html.parser"))
            else:
                nav.decompose()
    # mark Chinese runs lang="zh-Hans" (not inside script/style/title/svg or TeX source)
    skip = {"script", "style", "title", "textarea", "svg", "head", "math"}
    for node in list(soup.find_all(string=True)):
        if not isinstance(node, NavigableString) or type(node) is not NavigableString:
            continue
        if any(p.name in skip for p in node.parents):
            continue
        text = str(node)
        if not webfont.CJK_RUN.search(text):
            continue
        if node.parent is not None and node.parent.get("lang") == "zh-Hans" and \
                webfont.CJK_RUN.fullmatch(text):
            continue
        pieces, last = [], 0
        tex = [m.span() for m in _TEX_SPAN.finditer(text)]  # leave TeX source to MathJax
        for m in webfont.CJK_RUN.finditer(text):
            if any(a <= m.start() < b for a, b in tex):
                continue
            if m.start() > last:
                pieces.append(NavigableString(text[last:m.start()]))
            span = soup.new_tag("span", attrs={"lang": "zh-Hans"})
            span.string = m.group(0)
            pieces.append(span)
            last = m.end()
        if last < len(text):
            pieces.append(NavigableString(text[last:]))
        node.replace_with(*pieces)
    text = soup.get_text()
    title = soup.title.get_text() if soup.title else ""
    return str(soup), text + title


def _index_body(pages: list[_Page], reports: list[tuple[str, str]]) -> str:
    return "\n".join([
        '<h1 id="top">EcomLab — e-commerce operations 电商运营</h1>',
        "<p>A course in running an online shop with data, on the synthetic home-goods "
        "brand Nestwell (栖居良品). Every lesson below was executed; each has a student "
        "notebook to download, with the solutions stripped.</p>",
        *_lesson_lists(pages, reports, "", anchors=True)])


def _index_html(pages: list[_Page], reports: list[tuple[str, str]]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>EcomLab course 电商运营课程</title>"
        '<link rel="stylesheet" href="assets/site.css">'
        '<script src="assets/search-index.js" defer></script>'
        '<script src="assets/site.js" defer></script></head>'
        '<body class="site-page site-index" data-root="">'
        f"{_header('')}<div class=\"site-body\">{_sidebar(pages, None, '', reports)}"
        f'<main id="content" class="site-main">{_index_body(pages, reports)}</main></div>'
        "</body></html>\n"
    )


def _search_entries(pages: list[_Page]) -> list[dict[str, str]]:
    from ecomlab import glossary

    entries: list[dict[str, str]] = []
    by_src = {p.rel.with_suffix("").as_posix(): p for p in pages}
    for p in pages:
        entries.append({"t": p.title, "u": p.rel.as_posix(), "k": "lesson",
                        "s": CHAPTER_TITLES.get(p.chapter, p.chapter)})
        for _, anchor, label in p.toc:
            entries.append({"t": label, "u": f"{p.rel}#{anchor}", "k": "heading", "s": p.title})
    glossary_page = next((p for p in pages if "glossary" in p.rel.name), None)
    for t in glossary.TERMS:
        home = by_src.get(t.lesson) or glossary_page
        if home is None:
            continue
        entries.append({"t": f"{t.term_en} {t.term_zh}", "u": home.rel.as_posix(), "k": "term",
                        "s": t.definition + (f" ({t.formula})" if t.formula else "")})
    return entries


def _copy_mathjax(dest: Path) -> None:
    import importlib.util

    # located, not imported: the package's __init__ loads jupyter_server (~1 s)
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("jupyter-server-mathjax is not installed (pip install jupyter-server-mathjax)")
    src = Path(list(spec.submodule_search_locations)[0]) / "static"
    if not (src / "MathJax.js").is_file():
        raise ValueError(f"jupyter-server-mathjax: MathJax.js not found under {src}")
    for part in _MATHJAX_PARTS:
        s, d = src / part, dest / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.is_file():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, d)
        else:
            raise ValueError(f"jupyter-server-mathjax: {part} not found under {src}")


def _offline_report(body: str, root: str, rel: str, counts: dict[str, int], external: list[str]) -> str:
    """A standalone report (nbconvert's defaults load require.js and MathJax from a CDN)
    made to load nothing from outside the site: require.js dropped (no output needs it),
    MathJax pointed at the site's copy, the site's fonts.css added for Chinese. Any other
    outside resource is left in place and appended to ``external`` for the build summary.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    outside = re.compile(r"^(https?:)?//", re.I)
    for script in soup.select("script[src]"):
        src = script["src"]
        if not outside.match(src):
            continue
        if "mathjax" in src.lower():
            script.replace_with(BeautifulSoup(_mathjax(root), "html.parser"))
        elif "require" in src.lower():
            script.decompose()
        else:
            external.append(f"{rel}: {src}")
            continue
        counts["report_cdn_scripts_replaced"] += 1
    external += [f"{rel}: {link['href']}" for link in soup.select("link[href]")
                 if outside.match(link["href"]) and "stylesheet" in link.get("rel", [])]
    if f'font-family: "{webfont.CJK_FAMILY}"' not in body:  # not already self-contained
        head = soup.head or soup
        head.append(soup.new_tag("link", attrs={"rel": "stylesheet", "href": f"{root}assets/fonts.css"}))
    if soup.html is not None and not soup.html.get("lang"):
        soup.html["lang"] = "en"
    return str(soup)


def _lab_css(exporter: Any) -> str:
    env = exporter.environment
    css = [env.loader.get_source(env, name)[0] for name in ("static/index.css", "static/theme-light.css")]
    return "\n".join(css)


def build_site(
    src: str | os.PathLike[str] = "build/notebooks",
    out: str | os.PathLike[str] = "build/site",
    *,
    reports: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert executed notebooks under ``src`` into a self-contained site in ``out``.

    One page per notebook (same layout, ``.html``), ``index.html`` grouping lessons by
    chapter (:data:`CHAPTER_TITLES`, titles from each notebook's first heading), the
    student edition under ``student/``, assets (CSS, JS, search index, CJK web-font
    subset, MathJax) under ``assets/``, and every ``*.html`` of ``reports`` (e.g. the
    templates' example reports in ``build/reports``) under ``reports/`` when given and
    present. A previous site in ``out`` (marked by ``.ecomlab-site``) is replaced.

    Raises
    ------
    ValueError
        If ``src`` holds no notebooks (run ``ecomlab run`` first, or pass the committed
        ``notebooks`` folder, which carries outputs), or ``out`` is a non-empty folder
        that is not a site built here.

    Example
    -------
    >>> build_site("build/notebooks", "build/site")  # doctest: +SKIP
    PosixPath('build/site/index.html')
    """
    import nbformat
    from nbconvert import HTMLExporter

    from ecomlab.trainer import build_student_edition

    src_dir, out_dir = Path(src), Path(out)
    nbs = sorted((p for p in src_dir.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts),
                 key=lambda p: p.relative_to(src_dir).as_posix()) if src_dir.is_dir() else []
    if not nbs:
        raise ValueError(f"src {str(src_dir)!r} holds no notebooks; run `ecomlab run` first "
                         "or use --src notebooks")
    if out_dir.exists():
        if (out_dir / _MARKER_FILE).is_file():
            shutil.rmtree(out_dir)
        elif any(out_dir.iterdir()):
            raise ValueError(f"out {str(out_dir)!r} is a non-empty folder that is not an "
                             "EcomLab site; choose an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / _MARKER_FILE).write_text("built by ecomlab.site.build_site\n")

    counts: dict[str, int] = dict.fromkeys(
        ("pages", "results_cells_hidden", "test_markers_removed", "solution_markers_removed",
         "solution_cells_folded", "ipynb_links_rewritten", "table_captions_moved",
         "alt_from_figure", "alt_from_code", "alt_from_heading", "report_cdn_scripts_replaced"), 0)

    build_student_edition(src_dir, out_dir / "student")
    report_files: list[tuple[str, str]] = []  # (path under reports/, title)
    if reports is not None and Path(reports).is_dir():
        for f in sorted(Path(reports).rglob("*.html")):
            rel = f.relative_to(reports).as_posix()
            (out_dir / "reports" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, out_dir / "reports" / rel)
            title = re.search(r"<title>(.*?)</title>", f.read_text(encoding="utf-8"), re.S | re.I)
            report_files.append((rel, html.unescape(title.group(1)).strip() if title and title.group(1).strip()
                                 else f.stem.replace("_", " ")))

    pages: list[_Page] = []
    notebooks: dict[int, Any] = {}
    for nb_path in nbs:
        rel = PurePosixPath(nb_path.relative_to(src_dir).as_posix())
        nb = nbformat.read(str(nb_path), as_version=4)
        page = _Page(nb_path, rel.with_suffix(".html"), _title_of(nb, nb_path.stem),
                     _chapter_key(rel), PurePosixPath("student") / rel)
        notebooks[id(page)] = nb
        pages.append(page)
    pages.sort(key=lambda p: (_chapter_order(p.chapter), p.rel.as_posix()))

    templates = Path(str(files("ecomlab.site").joinpath("templates")))
    exporter = HTMLExporter(template_name="ecomlab_site", extra_template_basedirs=[str(templates)])
    texts: list[str] = []
    missing: list[str] = []
    known = {p.rel.as_posix() for p in pages} | {p.student.as_posix() for p in pages if p.student} | {
        "index.html", *(f"reports/{r}" for r, _ in report_files)}
    for i, page in enumerate(pages):
        nb = copy.deepcopy(notebooks[id(page)])
        alts = _prepare(nb, counts)
        has_math = any(c.cell_type == "markdown" and _MATH.search(c.source) for c in nb.cells) or any(
            "text/latex" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        resources = {"metadata": {"name": page.title}, "ecomlab": {
            "root": page.root, "math": has_math, "mathjax": _mathjax(page.root),
            "header": _header(page.root), "sidebar": _sidebar(pages, page, page.root, report_files),
            "tools": _tools(page), "prevnext": _prevnext(pages, i)}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        body, text = _finish(body, page.rel.as_posix(), page, alts, counts, known, missing)
        target = out_dir / page.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        texts.append(text)
        counts["pages"] += 1

    index_html, text = _finish(_index_html(pages, report_files), "index.html", None, [], counts,
                               known, missing)
    (out_dir / "index.html").write_text(index_html, encoding="utf-8")
    texts.append(text)
    external: list[str] = []
    for rel, _ in report_files:
        target = out_dir / "reports" / rel
        body = _offline_report(target.read_text(encoding="utf-8"), "../" * (rel.count("/") + 1),
                               f"reports/{rel}", counts, external)
        body, text = _finish(body, f"reports/{rel}", None, None, counts, known, missing)
        target.write_text(body, encoding="utf-8")
        texts.append(text)

    assets = out_dir / "assets"
    assets.mkdir(exist_ok=True)
    entries = _search_entries(pages)
    (assets / "search-index.js").write_text(
        "window.ECOMLAB_SEARCH = " + json.dumps(entries, ensure_ascii=False) + ";\n", encoding="utf-8")
    texts += [e["t"] + " " + e["s"] for e in entries]
    static = Path(str(files("ecomlab.site").joinpath("static")))
    (assets / "site.js").write_text((static / "site.js").read_text(encoding="utf-8"), encoding="utf-8")
    (assets / "notebook.css").write_text(_lab_css(exporter), encoding="utf-8")
    chars = webfont.cjk_chars(texts) | webfont.cjk_chars("显示答案上一课下一课搜索本页内容课程首页示例报告下载练习版")
    size, no_glyph = webfont.subset_font(chars, assets / "fonts" / "ecomlab-sans-sc.woff")
    fonts = webfont.font_face_css("fonts/ecomlab-sans-sc.woff") + (static / "fonts.css").read_text(encoding="utf-8")
    (assets / "fonts.css").write_text(fonts, encoding="utf-8")
    (assets / "site.css").write_text(fonts + (static / "site.css").read_text(encoding="utf-8"), encoding="utf-8")
    written = [out_dir / p.rel for p in pages] + [out_dir / "reports" / r for r, _ in report_files]
    if any("assets/mathjax/MathJax.js" in f.read_text(encoding="utf-8") for f in written):
        _copy_mathjax(assets / "mathjax")
    summary = {**counts, "report_pages": len(report_files), "links_to_missing_pages": missing,
               "report_external_loads": external,
               "cjk_characters": len(chars),
               "font_bytes": size, "characters_missing_from_font": "".join(no_glyph)}
    (out_dir / "build_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                                encoding="utf-8")
    return out_dir / "index.html"


def standalone_html(nb: Any, title: str) -> str:
    """One self-contained HTML file for a notebook, e.g. a report to send to a manager.

    The outputs only (no code, no prompts), prepared as the site's pages are (results cell
    and test markers left out, solutions folded, figure alt text, captions above tables,
    Chinese runs marked ``lang="zh-Hans"``) and loading nothing from outside: the lab CSS
    is inlined, there is no require.js or MathJax (formulas stay as TeX), and the CJK font
    subset for the file's own characters is embedded as a ``data:`` URI.

    Raises ValueError if ``title`` is empty or ``nb`` is not a notebook.

    Example
    -------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 复购 report")])
    >>> page = standalone_html(nb, "Repurchase 复购")
    >>> re.search(r'(src|href)="(https?:)?//', page), 'lang="zh-Hans"' in page
    (None, True)
    >>> "data:font/woff;base64," in page
    True
    """
    import base64
    import tempfile

    from nbconvert import HTMLExporter

    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    if not hasattr(nb, "cells"):
        raise ValueError(f"nb must be a notebook (nbformat.NotebookNode), got {type(nb).__name__}")
    nb = copy.deepcopy(nb)
    counts: dict[str, int] = defaultdict(int)
    alts = _prepare(nb, counts)
    templates = Path(str(files("ecomlab.site").joinpath("templates")))
    exporter = HTMLExporter(template_name="ecomlab_report", extra_template_basedirs=[str(templates)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body, text = _finish(body, "report.html", None, alts, counts, set(), [])
    chars = webfont.cjk_chars(text)
    if not chars:
        return body
    with tempfile.TemporaryDirectory() as d:
        webfont.subset_font(chars, Path(d) / "f.woff")
        font = base64.b64encode((Path(d) / "f.woff").read_bytes()).decode()
    static = Path(str(files("ecomlab.site").joinpath("static")))
    style = (webfont.font_face_css(f"data:font/woff;base64,{font}")
             + (static / "fonts.css").read_text(encoding="utf-8"))
    return body.replace("</head>", f"<style>\n{style}</style>\n</head>", 1)


def summary(site: str | os.PathLike[str]) -> dict[str, Any]:
    """The counts :func:`build_site` wrote to ``build_summary.json`` in ``site``."""
    return json.loads((Path(site) / "build_summary.json").read_text(encoding="utf-8"))


__all__: Iterable[str] = ["CHAPTER_TITLES", "build_site", "notebook_title", "standalone_html", "summary"]
