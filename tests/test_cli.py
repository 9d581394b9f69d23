"""The `registry load` command as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from registry.cli import main

from .conftest import FIXTURES


def test_load_twice_says_nothing_changed(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    first = runner.invoke(main, ["load", str(FIXTURES), "--db", db])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().splitlines()[-1].startswith("added=26 changed=0 removed=0")
    second = runner.invoke(main, ["load", str(FIXTURES), "--db", db])
    assert second.exit_code == 0
    assert second.stdout.strip().splitlines()[-1] == (
        "added=0 changed=0 removed=0 unchanged=26 (nothing changed)"
    )


def test_dry_run_counts_without_creating_a_registry(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["load", str(FIXTURES), "--dry-run", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "added=26 changed=0 removed=0 unchanged=0 (dry run, nothing written)"
    )
    assert list(tmp_path.iterdir()) == []


def test_bad_file_exits_non_zero_naming_file_record_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"entities": [{"id": "Bad Id", "type": "company", "name": "X"}]}))
    result = CliRunner().invoke(
        main, ["load", str(FIXTURES), str(bad), "--db", str(tmp_path / "cli.db")]
    )
    assert result.exit_code == 1
    assert "Nothing was written" in result.stderr
    assert f"{bad}: entities[0] (id=Bad Id): id: Use 1-128 lower-case" in result.stderr
