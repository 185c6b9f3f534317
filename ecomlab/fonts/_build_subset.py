"""Rebuild ``EcomLabSansSC-Regular.otf`` — a subset of Noto Sans CJK SC Regular.

Not imported at run time; kept so the bundled font can be reproduced and audited.

Source: ``NotoSansCJKsc-Regular.otf`` (Noto Sans CJK SC Regular, version 1.004,
© 2014, 2015 Adobe Systems Incorporated, SIL Open Font License 1.1), as shipped in the
PyPI wheel ``mplfonts==0.0.11`` (``mplfonts/fonts/NotoSansCJKsc-Regular.otf``).

Kept: printable ASCII, Latin-1 and Latin Extended-A, general punctuation, a few symbols
(€ ℃ № ™ arrows ≤ ≥ ≈ × ÷ −), CJK symbols and punctuation, full-width forms and the
whole CJK Unified Ideographs block U+4E00–U+9FFF (every GBK hanzi and more).
Dropped: hinting (matplotlib auto-hints), OpenType layout features, vertical metrics.
The family is renamed "EcomLab Sans SC" (a Modified Version under the OFL), so it never
collides with a full Noto Sans CJK SC installed on the machine.

Usage::

    python -m ecomlab.fonts._build_subset path/to/NotoSansCJKsc-Regular.otf
"""

from __future__ import annotations

import sys
from pathlib import Path

FAMILY = "EcomLab Sans SC"
POSTSCRIPT = "EcomLabSansSC-Regular"
OUT = Path(__file__).with_name("EcomLabSansSC-Regular.otf")

_RANGES = [
    (0x20, 0x7F),
    (0xA0, 0x180),
    (0x2000, 0x2070),
    (0x3000, 0x3040),
    (0x4E00, 0xA000),
    (0xFF00, 0xFFF0),
]
_EXTRA = [0x20AC, 0x2103, 0x2116, 0x2122, 0x2190, 0x2191, 0x2192, 0x2193,
          0x2212, 0x2248, 0x2264, 0x2265]


def codepoints() -> set[int]:
    """The code points kept in the subset."""
    cps = set(_EXTRA)
    for lo, hi in _RANGES:
        cps.update(range(lo, hi))
    return cps


def build(source: str | Path, out: str | Path = OUT) -> Path:
    """Subset and rename ``source``; write the result to ``out`` and return its path."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.hinting = False
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.drop_tables += ["VORG", "vhea", "vmtx", "DSIG", "BASE"]
    font = TTFont(str(source))
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=codepoints())
    sub.subset(font)

    name = font["name"]
    # drop localised family names (e.g. 思源黑体 / Noto Sans CJK in other languages)
    name.names = [r for r in name.names if r.nameID not in (1, 3, 4, 6, 16, 17)]
    for plat, enc, lang in ((3, 1, 0x409), (1, 0, 0)):
        name.setName(FAMILY, 1, plat, enc, lang)
        name.setName("Regular", 2, plat, enc, lang)
        name.setName(f"{POSTSCRIPT};subset-of-NotoSansCJKsc-1.004", 3, plat, enc, lang)
        name.setName(f"{FAMILY} Regular", 4, plat, enc, lang)
        name.setName(POSTSCRIPT, 6, plat, enc, lang)
        name.setName(
            "Subset of Noto Sans CJK SC Regular 1.004 (Adobe / Google) for the EcomLab "
            "course: Latin, CJK punctuation and U+4E00-U+9FFF; hinting dropped.",
            10, plat, enc, lang,
        )
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT]
    top = cff.topDictIndex[0]
    top.FamilyName = FAMILY
    top.FullName = f"{FAMILY} Regular"
    font.save(str(out))
    return Path(out)


if __name__ == "__main__":  # pragma: no cover - maintenance tool
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(build(sys.argv[1]))
