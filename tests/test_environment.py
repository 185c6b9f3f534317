"""The three dependency files agree: pyproject ranges, the lock's pins, environment.yml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _pins(lines: list[str], source: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or line == "-e .":
            continue
        m = PIN.match(line)
        assert m, f"{source}: {line!r} is not an exact `name==version` pin"
        name = canonicalize_name(m.group(1))
        assert name not in pins, f"{source}: {name} is pinned twice"
        pins[name] = m.group(2)
    return pins


@pytest.fixture(scope="module")
def lock() -> dict[str, str]:
    return _pins((ROOT / "requirements.lock").read_text().splitlines(), "requirements.lock")


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _env_pip_lines() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one `pip:` section"
    return [str(x) for x in pip_sections[0]]


def test_environment_yml_agrees_with_lock(lock) -> None:
    env_pins = _pins(_env_pip_lines(), "environment.yml")
    missing = sorted(set(lock) - set(env_pins))
    extra = sorted(set(env_pins) - set(lock))
    differ = sorted(f"{n}: lock {lock[n]} vs env {env_pins[n]}"
                    for n in set(lock) & set(env_pins) if lock[n] != env_pins[n])
    assert not (missing or extra or differ), (
        f"environment.yml disagrees with requirements.lock (run `make lock`): "
        f"missing={missing} extra={extra} differ={differ}"
    )


def test_environment_yml_python_and_editable_install() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in _env_pip_lines()


def _declared(pyproject: dict) -> list[Requirement]:
    reqs = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    for extra in pyproject["project"].get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    reqs += [Requirement(r) for r in pyproject["build-system"]["requires"]]
    return reqs


def test_every_pyproject_dependency_is_pinned_within_its_range(pyproject, lock) -> None:
    problems = []
    for req in _declared(pyproject):
        name = canonicalize_name(req.name)
        if name not in lock:
            problems.append(f"{req.name} is not pinned in requirements.lock")
        elif not SpecifierSet(str(req.specifier)).contains(lock[name], prereleases=True):
            problems.append(f"{req.name}: lock pins {lock[name]}, outside {req.specifier}")
    assert not problems, "\n".join(problems)


def test_requirements_in_matches_pyproject(pyproject) -> None:
    names = {
        canonicalize_name(line.split("#")[0].strip())
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    declared = {canonicalize_name(r.name) for r in _declared(pyproject)}
    assert declared == names, (
        f"requirements.in and pyproject differ: only in pyproject {sorted(declared - names)}, "
        f"only in requirements.in {sorted(names - declared)}"
    )


def test_lock_does_not_pin_ecomlab_itself(lock) -> None:
    assert "ecomlab" not in lock
