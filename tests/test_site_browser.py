"""The course site in a real browser: headless Chromium on a machine without CJK fonts.

The site is built from the COMMITTED notebooks (they carry outputs), with the committed
report templates' stored outputs published as example reports
(:func:`ecomlab.site.standalone_html`), into a temporary folder, and every page is opened
from ``file://`` — the way a student reads it offline —
at 1280 px and 390 px (a phone), in one browser, over the Chrome DevTools Protocol
(:mod:`ecomlab.site.chromium`). The tests fail if:

* any request leaves the site (anything but ``file://`` and ``data:``) or fails;
* any Chinese character is drawn by a font other than the site's web font (Chromium
  reports the fonts that actually drew each ``lang="zh-Hans"`` run), or sits outside
  such a run, or ``document.fonts.check`` says the face is not loaded;
* any link, anchor or image is broken;
* a formula is left as raw ``$...$`` / ``\\(...\\)``;
* a solution, a test marker or the ``results`` cell is visible without a click;
* a page, or a table caption, overflows horizontally at 390 px.

Screenshots of the index and one lesson at both widths are written to
``build/test-artifacts/site/``. Chromium comes from Debian (``apt-get install chromium``,
done by ``.ci/run`` and ``make browser``); without it the module is skipped.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from ecomlab.site import build_site, standalone_html
from ecomlab.site.chromium import Chromium, find_chromium

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts" / "site"
SHOT_LESSON = "04_private_domain/01_rfm.html"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (apt-get install chromium)"),
]

#: Runs in the page once fonts and MathJax are done; returns everything the checks need.
COLLECT = r"""
(async () => {
  await document.fonts.ready;
  const t0 = Date.now();
  while (document.querySelector('script[src*="MathJax.js"]') &&
         document.documentElement.dataset.math !== 'done' && Date.now() - t0 < 30000) {
    await new Promise(r => setTimeout(r, 50));
  }
  const visible = document.body.innerText;
  const prose = [...document.querySelectorAll('.jp-RenderedMarkdown, .jp-RenderedHTMLCommon')]
    .map(e => e.innerText).join('\n');
  const cjkOutside = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const CJK = /[\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u31c0-\u31ef\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!CJK.test(n.data)) continue;
    const p = n.parentElement;
    if (p.closest('script, style, [lang="zh-Hans"]')) continue;
    cjkOutside.push(n.data.trim().slice(0, 40));
  }
  return {
    title: document.title,
    lang: document.documentElement.lang,
    math: document.documentElement.dataset.math || null,
    mathjaxNodes: document.querySelectorAll('.MathJax, .MathJax_Display').length,
    mathErrors: document.querySelectorAll('.MathJax_Error, [data-mjx-error]').length,
    visible, prose, cjkOutside,
    fontLoaded: document.fonts.check('16px "EcomLab Sans SC"', '电商运营'),
    webFontFaces: [...document.fonts].filter(f => f.family.includes('EcomLab')).map(f => f.status),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: [...document.images].map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt')})),
    ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
    solutions: [...document.querySelectorAll('details.solution')].map(d => ({open: d.open,
      shown: [...d.querySelectorAll('.jp-Cell')].some(c => c.checkVisibility())})),
    unknown: [...document.querySelectorAll('*')].filter(e => e instanceof HTMLUnknownElement)
      .map(e => e.tagName.toLowerCase()),
  };
})()
"""

#: Horizontal overflow: the document, and the widest element that sticks out.
OVERFLOW = r"""
(() => {
  const w = window.innerWidth, doc = document.documentElement.scrollWidth;
  const scrolls = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true; }
    return false; };
  const out = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > w + 1 && !scrolls(e);
  }).slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + Math.round(e.getBoundingClientRect().right));
  const captions = [...document.querySelectorAll('figcaption, caption')].filter(c => {
    const r = c.getBoundingClientRect();
    return r.width > 0 && (r.left < -1 || r.right > w + 1 || c.scrollWidth > c.clientWidth + 1);
  }).map(c => c.innerText.slice(0, 60));
  return {width: w, scrollWidth: doc, out, captions};
})()
"""


def _local(url: str) -> bool:
    return url.startswith(("file://", "data:", "about:"))


def _fingerprints(nb_path: Path) -> dict[str, list[str]]:
    """Lines that must not be visible: solution code, the results cell, test markers."""
    nb = nbformat.read(str(nb_path), as_version=4)
    found: dict[str, list[str]] = {"solution": [], "results": []}

    def kind(cell) -> str | None:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code":
            return None
        if "results" in tags:
            return "results"
        return "solution" if "solution" in tags or "BEGIN SOLUTION" in cell.source else None

    # text a reader may legitimately see: other cells and every output
    shown = "\n".join([c.source for c in nb.cells if kind(c) is None] + [
        str(o.get("text", "")) + str(o.get("data", {})) for c in nb.cells for o in c.get("outputs", [])])
    for cell in nb.cells:
        k = kind(cell)
        if k is None:
            continue
        lines = [ln.strip() for ln in cell.source.splitlines()
                 if len(ln.strip()) > 12 and not ln.strip().startswith("#") and ln.strip() not in shown]
        found[k].append(max(lines, key=len) if lines else "")
    return found


def _example_reports(folder: Path) -> Path:
    """Example reports from the stored outputs of the committed templates (no kernel runs),
    written by :func:`ecomlab.site.standalone_html`, the self-contained report file."""
    folder.mkdir()
    for nb_path in sorted((ROOT / "notebooks" / "templates").glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=4)
        if any(c.get("outputs") for c in nb.cells):
            (folder / f"{nb_path.stem}.html").write_text(standalone_html(nb, nb_path.stem), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """Build the site from the committed notebooks, then visit every page at both widths."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "site"
    start = time.perf_counter()
    notebooks = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    index = build_site(ROOT / "notebooks", out, reports=_example_reports(tmp / "reports"))
    built = time.perf_counter() - start
    pages = [index, *sorted(p for p in out.rglob("*.html") if p != index)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    visits: dict[str, dict] = {}
    requests: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    fonts: dict[str, list[str]] = {}
    checked_runs = 0
    narrow: dict[str, dict] = {}
    search_hits: list[str] = []
    start = time.perf_counter()
    with Chromium() as browser:
        page = browser.new_page(1280, 900)
        for p in pages:
            rel = p.relative_to(out).as_posix()
            page.goto(p.as_uri())
            visits[rel] = page.evaluate(COLLECT, timeout=40)
            if rel in ("index.html", SHOT_LESSON):
                page.screenshot(ARTIFACTS / f"{Path(rel).stem}-1280.png")
            if rel == "index.html":  # the offline search finds glossary terms
                search_hits = page.evaluate(
                    "(() => { const i = document.getElementById('site-search-input');"
                    " i.value = '客单价'; i.dispatchEvent(new Event('input'));"
                    " return [...document.querySelectorAll('#site-search-results a')]"
                    ".map(a => a.innerText + ' -> ' + a.getAttribute('href')); })()")
            # which fonts drew each Chinese run (solutions opened so theirs are drawn too)
            # (one run per distinct text and font style: the same inputs draw the same glyphs)
            page.evaluate("""(() => { document.querySelectorAll('details').forEach(d => d.open = true);
              const seen = new Set();
              for (const e of document.querySelectorAll('[lang="zh-Hans"]')) {
                const s = getComputedStyle(e);
                const key = [e.textContent, s.fontFamily, s.fontWeight, s.fontStyle].join('|');
                if (!seen.has(key)) { seen.add(key); e.dataset.fontcheck = ''; }
              } })()""")
            root = page.send("DOM.getDocument", depth=0)["root"]["nodeId"]
            nodes = page.send("DOM.querySelectorAll", nodeId=root, selector="[data-fontcheck]")["nodeIds"]
            bad = []
            for node in nodes:
                used = page.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
                if used:
                    checked_runs += 1
                wrong = [f"{f['familyName']} ({f['glyphCount']} glyphs)" for f in used
                         if not f["isCustomFont"] or f["familyName"] != "EcomLab Sans SC"]
                if wrong:
                    text = page.send("DOM.getOuterHTML", nodeId=node)["outerHTML"][:80]
                    bad.append(f"{text}: {', '.join(wrong)}")
            fonts[rel] = bad
            requests[rel] = [u for u in page.requests() if not _local(u)]
            failed[rel] = page.failed_requests()
        page.set_viewport(390, 844)
        for p in pages:
            rel = p.relative_to(out).as_posix()
            page.goto(p.as_uri())
            page.evaluate(COLLECT, timeout=40)  # fonts and formulas done
            closed = page.evaluate(OVERFLOW)
            if rel in ("index.html", SHOT_LESSON):
                page.screenshot(ARTIFACTS / f"{Path(rel).stem}-390.png")
            page.evaluate("document.querySelector('.menu-toggle')?.click()")
            narrow[rel] = {"closed": closed, "menu": page.evaluate(OVERFLOW)}
            requests[rel] += [u for u in page.requests() if not _local(u)]
            failed[rel] += page.failed_requests()
    return {"out": out, "notebooks": notebooks, "pages": pages, "visits": visits, "requests": requests, "failed": failed,
            "fonts": fonts, "checked_runs": checked_runs, "narrow": narrow, "search": search_hits,
            "build_s": built, "browse_s": time.perf_counter() - start}


def test_browser_run_is_fast_and_covers_every_notebook(site) -> None:
    notebooks = site["notebooks"]  # as they were when the site was built (others edit them)
    reports = list((site["out"] / "reports").glob("*.html"))
    assert len(site["visits"]) == len(notebooks) + 1 + len(reports)  # and the index
    assert site["browse_s"] < 90, f"browser pass took {site['browse_s']:.0f} s"
    for name in ("index-1280", "index-390", f"{Path(SHOT_LESSON).stem}-1280", f"{Path(SHOT_LESSON).stem}-390"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000


def test_no_request_leaves_the_site_and_none_fails(site) -> None:
    outside = {k: v for k, v in site["requests"].items() if v}
    assert not outside, f"requests to non-local URLs: {outside}"
    # MathJax's own font-loading probe: @font-face "MathJax_Blank" with src url(about:blank)
    failed = {k: [u for u in v if not u.startswith("about:blank:")] for k, v in site["failed"].items()}
    failed = {k: v for k, v in failed.items() if v}
    assert not failed, f"failed requests: {failed}"


def test_chinese_is_drawn_by_the_site_font_only(site) -> None:
    # Every CJK run must be drawn by the web font, whatever fonts the machine has.
    assert site["checked_runs"] > 200, f"only {site['checked_runs']} Chinese runs were rendered"
    wrong = {k: v[:5] for k, v in site["fonts"].items() if v}
    assert not wrong, f"Chinese drawn by another font (fallback / missing glyphs): {wrong}"
    for rel, v in site["visits"].items():
        assert v["fontLoaded"] and v["webFontFaces"] and all(s == "loaded" for s in v["webFontFaces"]), rel
        assert not v["cjkOutside"], f"{rel}: Chinese outside a lang=zh-Hans run: {v['cjkOutside'][:5]}"
        assert v["lang"] == "en", rel


def test_links_anchors_and_images_resolve(site) -> None:
    out = site["out"]
    ids = {rel: set(v["ids"]) for rel, v in site["visits"].items()}
    broken = []
    for rel, v in site["visits"].items():
        for href in v["links"]:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue  # a link out is not a request; it is followed only by the reader
            assert parts.scheme == "file", f"{rel}: unexpected link {href}"
            target = Path(unquote(parts.path))
            if not target.is_file():
                broken.append(f"{rel} -> {href}")
                continue
            if parts.fragment:
                target_rel = target.relative_to(out).as_posix()
                if not {parts.fragment, unquote(parts.fragment)} & ids.get(target_rel, set()):
                    broken.append(f"{rel} -> {href} (no such anchor)")
        for img in v["images"]:
            if not img["ok"]:
                broken.append(f"{rel}: image {img['src']} did not load")
            alt = (img["alt"] or "").strip()
            if not alt or alt.startswith("No description"):
                broken.append(f"{rel}: image {img['src']} has no alt text")
    assert not broken, "\n".join(broken[:20])
    lesson = site["visits"][SHOT_LESSON]
    assert any(h.endswith("/student/04_private_domain/01_rfm.ipynb") for h in lesson["links"])
    assert any(h.endswith(".html") and "02_" in h for h in lesson["links"])  # next lesson


def test_formulas_are_typeset(site) -> None:
    raw = re.compile(r"\$[^$\n]{0,200}[\\^_{}][^$\n]{0,200}\$|\\\(|\\\[|\\begin\{")
    typeset = 0
    for rel, v in site["visits"].items():
        left = raw.findall(v["prose"])
        assert not left, f"{rel}: raw TeX left: {left[:3]}"
        assert not v["mathErrors"], f"{rel}: {v['mathErrors']} MathJax errors"
        typeset += v["mathjaxNodes"]
        if v["mathjaxNodes"]:
            assert v["math"] == "done", rel
    assert typeset > 20


def test_solutions_markers_and_results_are_hidden(site) -> None:
    folded = 0
    for nb_path in site["notebooks"]:
        rel = nb_path.relative_to(ROOT / "notebooks").with_suffix(".html").as_posix()
        v = site["visits"][rel]
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "NBVAL_"):
            assert marker not in v["visible"], f"{rel}: {marker!r} is visible"
        assert all(not s["open"] and not s["shown"] for s in v["solutions"]), rel
        prints = _fingerprints(nb_path)
        assert len(v["solutions"]) == len(prints["solution"]), rel
        assert sum(map(bool, prints["solution"])) >= len(prints["solution"]) // 2, rel  # checkable
        for kind, lines in prints.items():
            seen = [ln for ln in lines if ln and ln in v["visible"]]
            assert not seen, f"{rel}: {kind} code visible unfolded: {seen[:2]}"
        folded += len(v["solutions"])
    assert folded > 10


def test_search_finds_glossary_terms_offline(site) -> None:
    assert site["search"], "search for 客单价 found nothing"
    assert any("AOV" in hit for hit in site["search"]), site["search"]


def test_no_page_overflows_at_390px(site) -> None:
    problems = []
    for rel, states in site["narrow"].items():
        for state, o in states.items():
            if o["scrollWidth"] > o["width"] or o["out"]:
                problems.append(f"{rel} ({state}): {o['scrollWidth']} px wide, {o['out']}")
            if o["captions"]:
                problems.append(f"{rel} ({state}): captions cut off: {o['captions']}")
    assert not problems, "\n".join(problems)


def test_no_raw_html_tags_from_outputs(site) -> None:
    """An unknown element is markup that was meant as text (``na_rep="<NA>"`` -> ``<na>``)."""
    problems = {rel: sorted(set(v["unknown"])) for rel, v in site["visits"].items() if v["unknown"]}
    assert not problems, f"unknown HTML elements (text written as raw tags): {problems}"
