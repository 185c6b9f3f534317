"""The course as a self-contained static site (``ecomlab site``, ``make course``).

:func:`build_site` turns executed notebooks into HTML pages that load nothing from
outside the site — CJK web font, MathJax, scripts and styles all ship with it — with a
chapter sidebar, search, on-page contents, previous/next, folded solutions and a download
of each lesson's student notebook; :func:`standalone_html` writes one self-contained
report file the same way. See :mod:`ecomlab.site.build` for what it changes and
:mod:`ecomlab.site.chromium` for the headless-browser driver the tests use.

>>> sorted(CHAPTER_TITLES)[:2]
['00', '01']
"""

from ecomlab.site.build import CHAPTER_TITLES, build_site, notebook_title, standalone_html, summary

__all__ = ["CHAPTER_TITLES", "build_site", "notebook_title", "standalone_html", "summary"]
