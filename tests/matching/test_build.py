"""Which build of the matcher runs: compiled by mypyc at install time, or pure Python."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import registry.matching as matching
from bench import compare_builds
from bench.paths import SHARED_DATA
from registry.matching import NameIndex

COMPILED_ONLY = pytest.mark.skipif(not matching.COMPILED, reason=f"matcher: {matching.BUILD}")


def test_the_build_is_reported() -> None:
    assert isinstance(matching.COMPILED, bool)
    assert matching.BUILD.startswith("compiled" if matching.COMPILED else "pure Python")


@COMPILED_ONLY
def test_the_compiled_modules_are_the_ones_in_use() -> None:
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in matching._MODULES:
        module = sys.modules[f"registry.matching.{name}"]
        assert module.__file__ is not None and module.__file__.endswith(suffixes), module
    assert not hasattr(NameIndex(), "__dict__")  # a native class


@COMPILED_ONLY
def test_pure_python_on_request() -> None:
    code = (
        "import sys, registry.matching as m; "
        "print(m.COMPILED, m.BUILD, sys.modules['registry.matching.index'].__file__)"
    )
    env = {**os.environ, "REGISTRY_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("False pure Python (REGISTRY_PURE_PYTHON is set)"), out
    assert out.strip().endswith("index.py"), out


@COMPILED_ONLY
@pytest.mark.skipif(not SHARED_DATA.exists(), reason=f"the list files are not at {SHARED_DATA}")
def test_compiled_and_pure_python_give_the_same_answers(capsys: pytest.CaptureFixture[str]) -> None:
    """Screens varied names with both builds (and each with the other's pickled
    index) and compares every result and explanation; see bench/compare_builds.py."""
    assert compare_builds.main(["--queries", "700", "--listed", "6000"]) == 0
    assert "identical=True queries=700" in capsys.readouterr().out


@COMPILED_ONLY
def test_an_edited_source_runs_as_pure_python(tmp_path: Path) -> None:
    """A source changed since it was compiled (editable install) is not shadowed by
    its stale compiled module: the whole matcher then runs as pure Python."""
    package = Path(matching.__file__).resolve().parents[1]
    shutil.copytree(package, tmp_path / "registry", ignore=shutil.ignore_patterns("__pycache__"))
    scorer = tmp_path / "registry" / "matching" / "scorer.py"
    scorer.write_text(scorer.read_text("utf-8") + "\n# edited\n", "utf-8")
    code = "import sys, registry.matching as m; print(m.BUILD, m.index.__file__, m.scorer.__file__)"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("REGISTRY_PURE_PYTHON", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert out.startswith("pure Python (scorer.py changed since it was compiled: reinstall)"), out
    assert out.split()[-2].endswith("index.py") and out.split()[-1].endswith("scorer.py"), out
