"""Sanctions registry and screening service."""

import sys
from typing import TYPE_CHECKING


def _import_sqlite_utils_without_pandas() -> None:
    """sqlite-utils imports pandas and numpy whenever they are installed (to store
    their types on insert, which the registry never asks of it). With the `book`
    extra installed (Dask brings both), that cost every process, the service and
    each CLI run, 0.7 s of CPU and 80 MB: import it with them hidden."""
    if "sqlite_utils" in sys.modules:
        return
    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # (import raises ImportError)
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]


_import_sqlite_utils_without_pandas()

if TYPE_CHECKING:
    from .app import create_app


def __getattr__(name: str) -> object:
    # `create_app` is imported when asked for, not with the package: the CLI's
    # commands that do not serve (`registry screen`, import, refresh) would
    # otherwise import Flask and every API and web module first (a third of
    # their start-up CPU).
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
