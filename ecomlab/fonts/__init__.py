"""Fonts bundled with EcomLab.

``EcomLabSansSC-Regular.otf`` is a subset of Noto Sans CJK SC Regular (SIL Open Font
License 1.1, see ``LICENSE-OFL.txt``), renamed "EcomLab Sans SC". It covers Latin,
CJK punctuation and every CJK Unified Ideograph U+4E00–U+9FFF, so chart titles and
labels in Simplified Chinese render without network or system fonts.
:func:`ecomlab.plots.set_theme` registers it with matplotlib.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CJK_FONT_FILE = "EcomLabSansSC-Regular.otf"
CJK_FAMILY = "EcomLab Sans SC"


def cjk_font_path() -> Path:
    """Path of the bundled CJK font file (inside the installed package)."""
    return Path(str(files(__name__).joinpath(CJK_FONT_FILE)))
