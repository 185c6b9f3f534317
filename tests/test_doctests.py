"""Every docstring example in the package runs (STYLE: runnable examples on the bundled data)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ecomlab

MODULES = sorted(m.name for m in pkgutil.walk_packages(ecomlab.__path__, "ecomlab.")
                 if not m.name.startswith("ecomlab.fonts._"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name} (run: python -m doctest -v)"
