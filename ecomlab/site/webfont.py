"""The site's CJK web font: a subset of the bundled font holding only the site's characters.

Browsers without a CJK system font draw 汉字 as empty boxes, and with one they pick
glyph shapes by ``lang`` (often Japanese). The site therefore ships its own face: the
characters it actually uses, cut from ``ecomlab/fonts/EcomLabSansSC-Regular.otf`` with
fontTools' subsetter (https://fonttools.readthedocs.io/en/latest/subset/), stored as WOFF
(zlib; WOFF2 would need the ``brotli`` package), and declared FIRST in every font stack
with a CJK ``unicode-range`` so Latin text keeps the Latin fonts and every CJK character
comes from this face.

>>> sorted(cjk_chars("栖居良品 Nestwell，双11"))
['双', '品', '居', '栖', '良', '，']
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

from ecomlab.fonts import CJK_FAMILY, cjk_font_path

#: CJK blocks the web font serves (code point ranges, inclusive): radicals, CJK symbols and
#: punctuation, bopomofo, strokes, Extension A, Unified Ideographs, compatibility
#: ideographs, vertical/compatibility forms, half- and full-width forms.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3100, 0x312F),
    (0x31C0, 0x31EF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)

#: One or more consecutive CJK characters (the runs the site marks ``lang="zh-Hans"``).
CJK_RUN = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in CJK_RANGES) + "]+")

#: The same ranges as a CSS ``unicode-range`` descriptor.
UNICODE_RANGE = ", ".join(f"U+{a:04X}-{b:04X}" for a, b in CJK_RANGES)


def cjk_chars(texts: str | Iterable[str]) -> set[str]:
    """The distinct characters of ``texts`` that fall in :data:`CJK_RANGES`."""
    if isinstance(texts, str):
        texts = [texts]
    found: set[str] = set()
    for text in texts:
        for run in CJK_RUN.findall(text):
            found.update(run)
    return found


def subset_font(chars: Iterable[str], out: str | Path,
                font: str | Path | None = None) -> tuple[int, list[str]]:
    """Write a WOFF subset of ``font`` (default: the bundled CJK font) holding ``chars``.

    Returns ``(size in bytes, characters the font lacks)``; a lacking character would
    render as a box, so callers must report it. Raises ValueError when ``chars`` is empty.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     size, missing = subset_font("电商运营", pathlib.Path(d) / "f.woff")
    >>> size > 0, missing
    (True, [])
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    wanted = sorted(set(chars))
    if not wanted:
        raise ValueError("chars: expected at least one character to keep, got none")
    src = Path(font) if font is not None else cjk_font_path()
    tt = TTFont(str(src), lazy=True)
    cmap = tt.getBestCmap()
    missing = [c for c in wanted if ord(c) not in cmap]
    tt.close()
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    font_obj = subset.load_font(str(src), options)
    subsetter.populate(unicodes=[ord(c) for c in wanted])
    subsetter.subset(font_obj)
    buf = io.BytesIO()
    subset.save_font(font_obj, buf, options)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(buf.getvalue())
    return len(buf.getvalue()), missing


def font_face_css(url: str, family: str = CJK_FAMILY) -> str:
    """The ``@font-face`` rule for the subset at ``url`` (relative to the stylesheet)."""
    return (
        "@font-face {\n"
        f'  font-family: "{family}";\n'
        f'  src: url("{url}") format("woff");\n'
        "  font-weight: 100 900;\n"
        "  font-display: block;\n"
        f"  unicode-range: {UNICODE_RANGE};\n"
        "}\n"
    )
