"""A command line that cannot screen against nothing: commands need an existing registry and
say so, `registry init` (and `serve --load`) create one, no folder appears by accident, and a
CSV in another encoding gets the same clear error as over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main

from .conftest import FIXTURES, ROOT, make_app, served

NAMES = "name\nFinder Technology Ltd\nJosé Müller\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`registry ...` as a person runs it, in a folder of their choosing."""
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_DB"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "registry", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_screen_from_another_folder_says_there_is_no_registry(tmp_path: Path) -> None:
    (tmp_path / "names.csv").write_text(NAMES, encoding="utf-8")
    result = run("screen", "names.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "No registry at data/registry.db" in result.stderr
    assert "registry init" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.csv"]  # nothing created


@pytest.mark.parametrize(
    "command",
    [
        ["screen", "NAMES"],
        ["keys", "list"],
        ["keys", "create", "--name", "x", "--scope", "read"],
        ["load", str(FIXTURES)],
        ["import", "--format", "un-xml", "NAMES"],
        ["refresh"],
    ],
)
def test_a_path_in_a_missing_folder_creates_no_folder(tmp_path: Path, command: list[str]) -> None:
    names = tmp_path / "names.csv"
    names.write_text(NAMES, encoding="utf-8")
    missing = tmp_path / "nonexistent" / "x.db"
    args = [str(names) if a == "NAMES" else a for a in command]
    result = CliRunner().invoke(main, [*args, "--db", str(missing)])
    assert result.exit_code == 1, result.output
    assert str(missing.parent) in result.stderr or str(missing) in result.stderr
    assert "Traceback" not in result.output
    assert not missing.parent.exists()


def test_init_creates_the_registry_and_screen_says_when_it_is_empty(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "deep" / "er" / "r.db"
    made = runner.invoke(main, ["init", "--db", str(db)])
    assert made.exit_code == 0 and db.is_file()
    assert runner.invoke(main, ["init", "--db", str(db)]).stdout.startswith(f"{db} is a registry")
    names = tmp_path / "names.csv"
    names.write_text(NAMES, encoding="utf-8")
    empty = runner.invoke(main, ["screen", str(names), "--db", str(db)])
    assert empty.exit_code == 1
    assert "holds no entities" in empty.stderr and empty.stdout == ""
    assert runner.invoke(main, ["load", str(FIXTURES), "--db", str(db)]).exit_code == 0
    screened = runner.invoke(main, ["screen", str(names), "--db", str(db)])
    assert screened.exit_code == 0, screened.output
    assert "finder-technology-ltd" in screened.stdout


def test_a_file_that_is_not_a_registry_is_named(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text(NAMES, encoding="utf-8")
    result = CliRunner().invoke(main, ["keys", "list", "--db", str(names)])
    assert result.exit_code == 1
    assert "is not a registry" in result.stderr


def test_a_latin1_csv_gets_the_same_error_as_over_http(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--db", str(db)]).exit_code == 0
    assert runner.invoke(main, ["load", str(FIXTURES), "--db", str(db)]).exit_code == 0
    latin1 = NAMES.encode("latin-1")
    names = tmp_path / "names.csv"
    names.write_bytes(latin1)
    cli = runner.invoke(main, ["screen", str(names), "--db", str(db)])
    assert cli.exit_code == 1
    assert "Traceback" not in cli.output and cli.stdout == ""
    assert "Send CSV as UTF-8" in cli.stderr and "byte 30" in cli.stderr
    http = (
        make_app(db)
        .test_client()
        .post("/screen", data=latin1, headers={"Content-Type": "text/csv"})
    )
    assert http.status_code == 400
    assert "Send CSV as UTF-8" in http.get_json()["errors"][0]["message"]


def test_serve_needs_a_registry_unless_it_loads_one(tmp_path: Path) -> None:
    result = run("serve", "--port", "1", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 1
    assert "No registry at" in result.stderr
    assert not (tmp_path / "none.db").exists()
    # serve --load creates the registry and its folder: `./dev serve` on a fresh clone
    db = tmp_path / "data" / "registry.db"
    with served(db, "--load", "fixtures") as server:
        import requests

        assert requests.get(f"{server.base}/stats", timeout=10).json()["entities"] > 0
    assert db.is_file()
