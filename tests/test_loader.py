"""Bulk loading: idempotent, all or nothing, every problem named by file, record and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from registry.db import open_registry
from registry.loader import load_paths
from registry.problems import InputError

from .conftest import FIXTURES, SEEDS


def counts(db_path: Path) -> dict[str, int]:
    db = open_registry(db_path)
    try:
        return {
            t: db.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in (
                "sources",
                "actions",
                "records",
                "entities",
                "names",
                "designations",
                "history",
            )
        }
    finally:
        db.close()


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def entity(entity_id: str, **extra: object) -> dict[str, object]:
    return {
        "id": entity_id,
        "type": "company",
        "name": f"Test {entity_id}",
        "designations": [
            {
                "id": f"{entity_id}-gb",
                "jurisdiction": "GB",
                "authority": "FCDO",
                "list": "UK Sanctions List",
                "listed_date": "2024-02-22",
                "evidence": [{"source": "seed-000", "quote": "including three Chinese companies"}],
            }
        ],
        **extra,
    }


def test_first_load_adds_everything_second_changes_nothing(db_path: Path) -> None:
    db = open_registry(db_path)
    first = load_paths(db, [FIXTURES])
    assert first.totals.as_dict() == {"added": 26, "changed": 0, "removed": 0, "unchanged": 0}
    before = counts(db_path)
    second = load_paths(db, [FIXTURES])
    assert not second.changed
    assert second.totals.as_dict() == {"added": 0, "changed": 0, "removed": 0, "unchanged": 26}
    assert counts(db_path) == before  # not even a history row


def test_a_change_is_a_new_version_and_the_old_one_is_kept(db_path: Path, tmp_path: Path) -> None:
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    doc = json.loads((copy / "21-us-entity-list-89fr14388.json").read_text())
    doc["entities"][0]["names"].append({"name": "Bion Extra Alias", "kind": "aka"})
    write(copy / "21-us-entity-list-89fr14388.json", doc)
    report = load_paths(db, [copy])
    assert report.totals.as_dict() == {"added": 0, "changed": 1, "removed": 0, "unchanged": 25}
    entity_id = doc["entities"][0]["id"]
    versions = db.conn.execute(
        "SELECT version, change FROM history WHERE object_id = ? ORDER BY version", (entity_id,)
    ).fetchall()
    assert versions == [(1, "added"), (2, "changed")]
    current = [
        r[0]
        for r in db.conn.execute(
            "SELECT name FROM names WHERE entity_id = ? AND valid_to IS NULL", (entity_id,)
        )
    ]
    closed = [
        r[0]
        for r in db.conn.execute(
            "SELECT name FROM names WHERE entity_id = ? AND valid_to IS NOT NULL", (entity_id,)
        )
    ]
    assert "Bion Extra Alias" in current and "Bion Extra Alias" not in closed
    assert len(closed) == len(current) - 1  # the old version's rows are kept, closed


def test_one_bad_record_anywhere_writes_nothing(db_path: Path, tmp_path: Path) -> None:
    good = write(tmp_path / "a-good.json", {"entities": [entity("good-one")]})
    bad_entity = entity("bad-one")
    bad_entity["designations"][0]["listed_date"] = "2024-02-30"  # type: ignore[index]
    bad = write(tmp_path / "b-bad.json", {"entities": [entity("fine-two"), bad_entity]})
    before = counts(db_path)
    with pytest.raises(InputError) as info:
        load_paths(open_registry(db_path), [FIXTURES, good, bad])
    (problem,) = info.value.problems
    assert problem.file == str(bad)
    assert problem.record == "entities[1] (id=bad-one)"
    assert problem.field == "designations[0].listed_date"
    assert "day is out of range" in problem.message
    assert counts(db_path) == before


def test_reference_and_quote_problems_are_all_reported(db_path: Path, tmp_path: Path) -> None:
    doc = entity("x")
    doc["designations"][0]["action"] = "no-such-action"  # type: ignore[index]
    doc["designations"][0]["evidence"] = [  # type: ignore[index]
        {"source": "no-such-source", "quote": "anything"},
        {"source": "seed-000", "quote": "China sanctions everybody"},
    ]
    path = write(
        tmp_path / "refs.json", {"include": [str(FIXTURES / "00-sources.json")], "entities": [doc]}
    )
    with pytest.raises(InputError) as info:
        load_paths(open_registry(db_path), [path])
    found = {(p.field, p.message.split(" ")[0]) for p in info.value.problems}
    assert found == {
        ("designations[0].evidence[0].source", "Unknown"),
        ("designations[0].action", "Unknown"),
        ("designations[0].evidence[1].quote", "Quote"),
    }


def test_invalid_json_and_checksum_mismatch_are_named(db_path: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"entities": [', encoding="utf-8")
    (tmp_path / "doc.txt").write_text("some text", encoding="utf-8")
    wrong_sum = write(
        tmp_path / "sum.json",
        {
            "sources": [
                {
                    "id": "doc",
                    "kind": "other",
                    "title": "Doc",
                    "path": "doc.txt",
                    "checksum": "sha256:" + "0" * 64,
                }
            ]
        },
    )
    with pytest.raises(InputError) as info:
        load_paths(open_registry(db_path), [broken, wrong_sum])
    messages = {p.file: p.message for p in info.value.problems}
    assert messages[str(broken)].startswith("Invalid JSON at line 1")
    assert messages[str(wrong_sum)].startswith("Checksum mismatch")


def test_include_cycles_are_refused(db_path: Path, tmp_path: Path) -> None:
    write(tmp_path / "a.json", {"include": ["b.json"]})
    write(tmp_path / "b.json", {"include": ["a.json"]})
    with pytest.raises(InputError) as info:
        load_paths(open_registry(db_path), [tmp_path / "a.json"])
    assert "cycle" in info.value.problems[0].message


def test_dry_run_counts_but_writes_nothing(db_path: Path) -> None:
    before = counts(db_path)
    report = load_paths(open_registry(db_path), [FIXTURES], dry_run=True)
    assert report.totals.added == 26
    assert counts(db_path) == before


def test_a_dataset_cannot_take_over_another_datasets_record(db_path: Path, tmp_path: Path) -> None:
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    path = write(
        tmp_path / "other.json", {"dataset": "other", "entities": [entity("finder-technology-ltd")]}
    )
    with pytest.raises(InputError) as info:
        load_paths(db, [path])
    assert info.value.status == 409
    assert "dataset 'fixtures'" in info.value.problems[0].message


def test_records_of_two_datasets_merge_on_identifier_or_name_and_country(
    db_path: Path, tmp_path: Path
) -> None:
    db = open_registry(db_path)
    load_paths(db, [FIXTURES])
    other = write(
        tmp_path / "other.json",
        {
            "dataset": "other-list",
            "entities": [
                # Same UK reference: merged.
                entity(
                    "other-1",
                    name="Some Other Spelling",
                    identifiers=[{"scheme": "uk-sanctions-list-ref", "value": "RUS2110"}],
                ),
                # Same name once normalised, same country: merged.
                entity("other-2", name="Dennex Enterprises Ltd.", country="CN"),
                # Same name, other country: not merged.
                entity("other-3", name="Sigma Technology Ltd", country="DE"),
                # Similar but not identical name: never merged on a fuzzy score.
                entity("other-4", name="Finder Technologies Ltd", country="CN"),
            ],
        },
    )
    load_paths(db, [other])
    owner = dict(db.conn.execute("SELECT id, entity_id FROM records WHERE dataset = 'other-list'"))
    assert owner == {
        "other-1": "finder-technology-ltd",
        "other-2": "dennex-enterprises-limited",
        "other-3": "other-3",
        "other-4": "other-4",
    }
    merge = json.loads(
        db.conn.execute("SELECT merge FROM records WHERE id = 'other-2'").fetchone()[0]
    )
    assert merge["rule"] == "name_and_country" and "dennex enterprises ltd" in merge["detail"]
