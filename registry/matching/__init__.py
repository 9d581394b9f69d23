"""Name matching for sanctions screening: normalise, compare, index.

Public API: `normalize_name`, `compare_names` / `NameScore`, `DEFAULT_THRESHOLD`,
`NameIndex` / `Match`. Pure Python; no web framework, no database.

The modules may be compiled with mypyc when the package is installed (see
setup.py): the same code, about 1.4 times faster. `COMPILED` says whether the
compiled modules are in use and `BUILD` why (or why not). They are used unless
REGISTRY_PURE_PYTHON is set, or the sources changed since they were compiled
(an editable install: the record `_native.json` of the build no longer matches),
or they fail to import; otherwise the .py sources beside them are loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# In dependency order (each imports only those before it).
_MODULES = (
    "normalize", "legal_forms", "similarity", "analysis", "scorer", "packed", "index", "evidence",
)  # fmt: skip
_HERE = Path(__file__).resolve().parent
_NOT_COMPILED = "pure Python (not compiled)"


def _compiled_modules_usable() -> tuple[bool, str]:
    """Whether to import the compiled modules, and the reason."""
    if not any((_HERE / f"index{suffix}").exists() for suffix in EXTENSION_SUFFIXES):
        return False, _NOT_COMPILED
    if os.environ.get("REGISTRY_PURE_PYTHON", "").strip().lower() not in ("", "0", "false", "no"):
        return False, "pure Python (REGISTRY_PURE_PYTHON is set)"
    try:
        record = json.loads((_HERE / "_native.json").read_text("utf-8"))
        built = record["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return False, "pure Python (the compiled modules have no valid record of their sources)"
    for name in _MODULES:
        source = (_HERE / f"{name}.py").read_bytes()
        if built.get(name) != hashlib.sha256(source).hexdigest():
            return False, f"pure Python ({name}.py changed since it was compiled: reinstall)"
    return True, f"compiled (mypyc {record.get('mypy', '?')})"


def _import_compiled() -> None:
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")


def _import_sources() -> None:
    """Load the .py modules although compiled ones sit beside them (the import
    system would prefer those)."""
    for name in _MODULES:
        fullname = f"{__name__}.{name}"
        spec = importlib.util.spec_from_file_location(fullname, _HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[fullname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[fullname]
            raise
        globals()[name] = module


def _forget(prefix: str) -> None:
    for fullname in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[fullname]
    for name in _MODULES:
        globals().pop(name, None)


COMPILED, BUILD = _compiled_modules_usable()
if COMPILED:
    try:
        _import_compiled()
    except ImportError as exc:  # e.g. built for another runtime, or half removed
        _forget(f"{__name__}.")
        COMPILED, BUILD = False, f"pure Python (the compiled modules failed to import: {exc})"
if not COMPILED and BUILD != _NOT_COMPILED:
    _import_sources()

from .analysis import SHARED_INTERNER  # noqa: E402
from .index import Match, NameIndex  # noqa: E402
from .normalize import normalize_name  # noqa: E402
from .scorer import DEFAULT_THRESHOLD, NameScore, compare_names  # noqa: E402


def clear_caches() -> int:
    """Empty the matcher's module-level caches of query work (analysed names,
    word similarities, keys): what a service does once it has let an index go,
    so that nothing allocated while that index was in use keeps its memory
    pinned. Returns how many entries were dropped."""
    dropped = SHARED_INTERNER.clear()
    for name in _MODULES:
        module = sys.modules[f"{__name__}.{name}"]
        for value in list(vars(module).values()):
            info = getattr(value, "cache_info", None)
            if info is not None and (info().maxsize or 0) > 1:  # (not the static tables)
                dropped += info().currsize
                value.cache_clear()
    return dropped


__all__ = [
    "BUILD",
    "COMPILED",
    "DEFAULT_THRESHOLD",
    "Match",
    "NameIndex",
    "NameScore",
    "clear_caches",
    "compare_names",
    "normalize_name",
]
