"""The public API: the format table and errors that do not depend on a format."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers import FORMATS, ImportFormatError, parse


def test_formats() -> None:
    from schemas.api import IMPORT_FORMATS

    assert set(IMPORT_FORMATS) == set(FORMATS)
    assert set(FORMATS) == {
        "ofac-csv",
        "ofac-json",
        "csl-csv",
        "bis-json",
        "uk-fcdo-csv",
        "uk-csv",
        "eu-fsf-xml",
        "eu-json",
        "un-xml",
    }
    with pytest.raises(ImportFormatError, match="Unknown format"):
        parse("nope", [])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such file"):
        parse("un-xml", [tmp_path / "absent.xml"])
