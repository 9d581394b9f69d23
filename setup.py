"""Compiles the name matcher (registry/matching) with mypyc when it can.

Everything else about the package is in pyproject.toml. The compiled modules
are an optional accelerator: when mypyc or a C compiler fails, the package
installs anyway and runs the same modules as pure Python. Environment:

* REGISTRY_PURE_PYTHON=1 (at install time): do not compile (and remove the
  compiled modules an earlier editable install left in the source tree);
* REGISTRY_REQUIRE_COMPILED=1: fail the install instead of falling back.

The build writes registry/matching/_native.json beside the compiled modules:
the SHA-256 of each source they were compiled from. At import time
`registry.matching` uses the compiled modules only while the sources still
match (an edited source in an editable install makes it fall back to pure
Python until the next install); see registry/matching/__init__.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = Path("registry", "matching")
# The compiled modules (registry/matching/__init__.py lists them too).
MODULES = (
    "normalize", "legal_forms", "similarity", "analysis", "scorer", "packed", "index", "evidence",
)  # fmt: skip
# One shared library holds the compiled code (each module is a small shim that
# loads it): registry/matching/_native__mypyc.<suffix>.
GROUP = "registry.matching._native"
RECORD = "_native.json"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _say(message: str) -> None:
    print(f"registry.matching build: {message}", file=sys.stderr, flush=True)


def _fingerprint() -> dict[str, object]:
    import mypy.version

    sources = {m: _sha256(HERE / PACKAGE_DIR / f"{m}.py") for m in MODULES}
    return {"mypy": mypy.version.__version__, "python": sys.version.split()[0], "sources": sources}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _remove_inplace_artefacts() -> None:
    """Compiled modules left in the source tree by an earlier editable install."""
    folder = HERE / PACKAGE_DIR
    names = [*MODULES, GROUP.rsplit(".", 1)[1] + "__mypyc"]
    for name in names:
        for suffix in EXTENSION_SUFFIXES:
            (folder / f"{name}{suffix}").unlink(missing_ok=True)
    (folder / RECORD).unlink(missing_ok=True)


def _mypycify() -> list[Extension]:
    """The extension modules, or [] when they cannot be generated."""
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        if _flag("REGISTRY_REQUIRE_COMPILED"):
            raise
        _say(f"mypyc is not available ({exc}); installing pure Python")
        return []
    paths = [str(PACKAGE_DIR / f"{m}.py") for m in MODULES]
    options = [
        # Independent of the project's [tool.mypy] (which type-checks the whole
        # service, with warnings that are errors) and of what the build
        # environment happens to hold: imports outside these files are Any.
        "--config-file=",
        "--follow-imports=skip",
        "--ignore-missing-imports",
    ]
    try:
        extensions = mypycify([*options, *paths], opt_level="3", group_name=GROUP)
    except (Exception, SystemExit) as exc:  # mypyc reports errors by exiting
        if _flag("REGISTRY_REQUIRE_COMPILED"):
            raise
        _say(f"mypyc failed ({exc!r}); installing pure Python")
        return []
    for ext in extensions:
        ext.optional = True  # a failed C compile leaves the pure-Python modules
    return extensions


class BuildMatcher(build_ext):
    """build_ext that generates the mypyc extensions when it runs (not each time
    setup.py is read), builds all of them or none, and records their sources."""

    def finalize_options(self) -> None:
        self.distribution.ext_modules = _mypycify()
        super().finalize_options()  # (prepares self.extensions from them)

    def build_extensions(self) -> None:
        super().build_extensions()
        built = [e for e in self.extensions if Path(self.get_ext_fullpath(e.name)).exists()]
        if len(built) == len(self.extensions):
            if self.extensions:
                folder = Path(self.get_ext_fullpath(GROUP)).parent
                (folder / RECORD).write_text(json.dumps(_fingerprint(), indent=1) + "\n")
            return
        if _flag("REGISTRY_REQUIRE_COMPILED"):
            raise RuntimeError("the compiled matcher did not build (REGISTRY_REQUIRE_COMPILED)")
        # The shims without their shared library (or the reverse) cannot be
        # imported: keep none of them.
        _say("the C compile failed; installing pure Python")
        for ext in built:
            Path(self.get_ext_fullpath(ext.name)).unlink()
        _remove_inplace_artefacts()

    def copy_extensions_to_source(self) -> None:
        super().copy_extensions_to_source()
        # (editable installs) the record goes where the compiled modules went
        if self.extensions:
            build_py = self.get_finalized_command("build_py")
            inplace, regular = self._get_inplace_equivalent(build_py, self.extensions[0])
            record = Path(regular).parent / RECORD
            if record.exists() and Path(inplace).exists():
                (Path(inplace).parent / RECORD).write_bytes(record.read_bytes())


if _flag("REGISTRY_PURE_PYTHON"):
    _say("REGISTRY_PURE_PYTHON is set; installing pure Python")
    _remove_inplace_artefacts()
    setup()
else:
    # A placeholder until build_ext runs (see BuildMatcher.finalize_options): it
    # marks the distribution as one with extension modules.
    setup(
        ext_modules=[Extension(f"{GROUP}__mypyc", sources=[])],
        cmdclass={"build_ext": BuildMatcher},
    )
