"""Bulk loading of fixture documents: read, validate everything, then write all or nothing.

Used by `registry load`, `POST /bulk` and the entity write endpoints, so every
write goes through the same checks:
- the schema (`schemas.FixtureSchema`), with each error named by file, record,
  field and reason;
- references: every cited source, action and name source must exist in the
  batch or the registry;
- quotes: an evidence quote must appear verbatim in its source's text;
- ownership: a record loaded under one dataset cannot be taken over by another.
Nothing is written unless all of it passes; the write is one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from marshmallow import ValidationError

from schemas import FixtureSchema

from .db import immediate, utcnow
from .problems import InputError, Problem, flatten_messages
from .store import Counts, WriteConflict, Writer

# Source files up to this size are stored with their text, so quotes can be
# checked and read back; larger files (whole official lists) keep a checksum.
MAX_STORED_TEXT = 2 * 1024 * 1024
_SPACE = re.compile(r"\s+")


@dataclass
class FixtureDoc:
    """One validated fixture document and where it came from."""

    name: str  # file path as given, or "request body"
    data: dict[str, Any]


@dataclass
class FileReport:
    file: str
    dataset: str
    sources: Counts = field(default_factory=Counts)
    actions: Counts = field(default_factory=Counts)
    entities: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dataset": self.dataset,
            "sources": self.sources.as_dict(),
            "actions": self.actions.as_dict(),
            "entities": self.entities.as_dict(),
        }


@dataclass
class LoadReport:
    dry_run: bool
    files: list[FileReport]

    @property
    def totals(self) -> Counts:
        total = Counts()
        for report in self.files:
            for counts in (report.sources, report.actions, report.entities):
                total.merge(counts)
        return total

    @property
    def changed(self) -> bool:
        return self.totals.touched > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "changed": self.changed,
            "totals": self.totals.as_dict(),
            "files": [f.as_dict() for f in self.files],
        }


# -- reading ---------------------------------------------------------------------


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders as their *.json files, recursively, in name order."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        else:
            out.append(path)
    return out


def read_fixture_files(paths: Iterable[str | Path]) -> list[FixtureDoc]:
    """Read and validate fixture files and what they include, each file once,
    includes first. Raises InputError naming every problem in every file."""
    problems: list[Problem] = []
    docs: list[FixtureDoc] = []
    seen: set[Path] = set()

    def visit(path: Path, chain: tuple[Path, ...]) -> None:
        path = Path(os.path.normpath(path))
        resolved = path.resolve()
        if resolved in chain:
            problems.append(Problem("Includes form a cycle.", field="include", file=str(path)))
            return
        if resolved in seen:
            return
        seen.add(resolved)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem("No such file.", file=str(path)))
            return
        except UnicodeDecodeError as exc:
            problems.append(Problem(f"Not UTF-8 text: {exc}.", file=str(path)))
            return
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(
                    f"Invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.",
                    file=str(path),
                )
            )
            return
        for include in raw.get("include", []) if isinstance(raw, dict) else []:
            if isinstance(include, str):
                visit(path.parent / include, (*chain, resolved))
        try:
            doc = parse_fixture(raw, name=str(path), base_dir=path.parent)
        except InputError as exc:
            problems.extend(exc.problems)
            return
        docs.append(doc)

    for path in expand_paths(paths):
        visit(path, ())
    if problems:
        raise InputError(problems)
    return docs


def parse_fixture(raw: Any, *, name: str, base_dir: Path | None) -> FixtureDoc:
    """Validate one fixture document. File loads (`base_dir` set) may point
    sources at text files next to them; request bodies may not read files."""
    try:
        data = FixtureSchema().load(raw)
    except ValidationError as exc:
        raise InputError(problems_from_messages(exc.messages, raw, file=name)) from None
    return prepare_fixture(data, name=name, base_dir=base_dir)


def prepare_fixture(data: dict[str, Any], *, name: str, base_dir: Path | None) -> FixtureDoc:
    """Read or check the texts of a validated document's sources."""
    problems: list[Problem] = []
    for index, source in enumerate(data["sources"]):
        where = _record("sources", index, source)
        if source.get("path"):
            if base_dir is None:
                problems.append(
                    Problem(
                        "Give the text inline; a request cannot read files.",
                        field="path",
                        file=name,
                        record=where,
                    )
                )
                continue
            problems.extend(_read_source_file(source, base_dir, name, where))
        elif source.get("text") is not None:
            encoded = source["text"].encode("utf-8")
            _check_checksum(
                source, hashlib.sha256(encoded).hexdigest(), len(encoded), name, where, problems
            )
    if problems:
        raise InputError(problems)
    return FixtureDoc(name=name, data=data)


def _read_source_file(
    source: dict[str, Any], base_dir: Path, name: str, where: str
) -> list[Problem]:
    problems: list[Problem] = []
    file = base_dir / source["path"]
    try:
        content = file.read_bytes()
    except OSError as exc:
        return [
            Problem(f"Cannot read {file}: {exc.strerror}.", field="path", file=name, record=where)
        ]
    _check_checksum(
        source, hashlib.sha256(content).hexdigest(), len(content), name, where, problems
    )
    if len(content) <= MAX_STORED_TEXT:
        with contextlib.suppress(UnicodeDecodeError):  # a binary file keeps its checksum only
            source["text"] = content.decode("utf-8")
    return problems


def _check_checksum(
    source: dict[str, Any], digest: str, size: int, name: str, where: str, problems: list[Problem]
) -> None:
    expected = source.get("checksum")
    if expected and expected != f"sha256:{digest}":
        problems.append(
            Problem(
                f"Checksum mismatch: the content has sha256:{digest}.",
                field="checksum",
                file=name,
                record=where,
            )
        )
    source["checksum"] = f"sha256:{digest}"
    source["size"] = size


def problems_from_messages(
    messages: Any, raw: Any, *, file: str | None = None, location: str | None = None
) -> list[Problem]:
    """marshmallow messages of a fixture document as problems naming the record."""
    problems = []
    for path, message in flatten_messages(messages):
        match = re.match(r"^(sources|entities|actions)\[(\d+)\]\.?(.*)$", path)
        if match:
            section, index, rest = match.group(1), int(match.group(2)), match.group(3)
            items = raw.get(section) if isinstance(raw, dict) else None
            item = items[index] if isinstance(items, list) and index < len(items) else None
            problems.append(
                Problem(
                    message,
                    field=rest or None,
                    location=location,
                    file=file,
                    record=_record(section, index, item),
                )
            )
        else:
            problems.append(Problem(message, field=path or None, location=location, file=file))
    return problems


def _record(section: str, index: int, item: Any) -> str:
    item_id = item.get("id") if isinstance(item, dict) else None
    return (
        f"{section}[{index}] (id={item_id})" if isinstance(item_id, str) else f"{section}[{index}]"
    )


# -- checking across documents and the registry ------------------------------------


def check_batch(db: sqlite_utils.Database, docs: Sequence[FixtureDoc]) -> None:
    """Cross-document checks; raises InputError (409 for ownership conflicts)."""
    problems: list[Problem] = []
    texts: dict[str, str | None] = {}
    actions: set[str] = set()
    entity_seen: dict[str, str] = {}
    designation_seen: dict[str, str] = {}
    for doc in docs:
        for index, source in enumerate(doc.data["sources"]):
            if source["id"] in texts:
                problems.append(
                    Problem(
                        "Source id is defined twice in this load.",
                        field="id",
                        file=doc.name,
                        record=_record("sources", index, source),
                    )
                )
            texts[source["id"]] = source.get("text")
        actions.update(a["id"] for a in doc.data["actions"])
        for index, entity in enumerate(doc.data["entities"]):
            where = _record("entities", index, entity)
            if entity["id"] in entity_seen:
                problems.append(
                    Problem(
                        f"Entity id also appears in {entity_seen[entity['id']]}.",
                        field="id",
                        file=doc.name,
                        record=where,
                    )
                )
            entity_seen[entity["id"]] = doc.name
            for d_index, designation in enumerate(entity["designations"]):
                owner = f"{entity['id']} in {doc.name}"
                if (
                    designation["id"] in designation_seen
                    and designation_seen[designation["id"]] != owner
                ):
                    problems.append(
                        Problem(
                            f"Designation id also used by {designation_seen[designation['id']]}.",
                            field=f"designations[{d_index}].id",
                            file=doc.name,
                            record=where,
                        )
                    )
                designation_seen[designation["id"]] = owner

    known_sources = _known(
        db, "sources", {s for d in docs for s in _cited_sources(d.data)} - set(texts)
    )
    known_actions = _known(
        db, "actions", {a for d in docs for a in _cited_actions(d.data)} - actions
    )
    db_texts = _source_texts(db, {s for d in docs for s, _ in _quotes(d.data)} - set(texts))

    for doc in docs:
        for where, field_path, source_id in _source_refs(doc.data):
            if source_id not in texts and source_id not in known_sources:
                problems.append(
                    Problem(
                        f"Unknown source {source_id!r}: define it under "
                        "'sources' or load it first.",
                        field=field_path,
                        file=doc.name,
                        record=where,
                    )
                )
        for where, field_path, action_id in _action_refs(doc.data):
            if action_id not in actions and action_id not in known_actions:
                problems.append(
                    Problem(
                        f"Unknown action {action_id!r}.",
                        field=field_path,
                        file=doc.name,
                        record=where,
                    )
                )
        for (source_id, quote), (where, field_path) in _quotes_with_place(doc.data):
            text = texts[source_id] if source_id in texts else db_texts.get(source_id)
            if text is not None and _squash(quote) not in _squash(text):
                problems.append(
                    Problem(
                        f"Quote not found verbatim in source {source_id!r}.",
                        field=field_path,
                        file=doc.name,
                        record=where,
                    )
                )
    if problems:
        raise InputError(problems)

    conflicts = _ownership_conflicts(db, docs)
    if conflicts:
        raise InputError(conflicts, status=409, title="Conflict")


def _ownership_conflicts(db: sqlite_utils.Database, docs: Sequence[FixtureDoc]) -> list[Problem]:
    problems = []
    wanted = {
        e["id"]: (doc, i, e, doc.data["dataset"])
        for doc in docs
        for i, e in enumerate(doc.data["entities"])
    }
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for record_id, dataset in db.conn.execute(
            f"SELECT id, dataset FROM records WHERE id IN ({marks})", chunk
        ):
            doc, index, entity, target = wanted[record_id]
            if dataset != target:
                problems.append(
                    Problem(
                        f"Entity {record_id!r} is recorded under dataset {dataset!r}; "
                        f"this load writes dataset {target!r}.",
                        field="id",
                        file=doc.name,
                        record=_record("entities", index, entity),
                    )
                )
    return problems


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _known(db: sqlite_utils.Database, table: str, ids: set[str]) -> set[str]:
    found: set[str] = set()
    items = sorted(ids)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0] for r in db.conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
        )
    return found


def _source_texts(db: sqlite_utils.Database, ids: set[str]) -> dict[str, str | None]:
    items = sorted(ids)
    out: dict[str, str | None] = {}
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(
            db.conn.execute(f"SELECT id, text FROM sources WHERE id IN ({marks})", chunk).fetchall()
        )
    return out


def _evidence_places(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for index, action in enumerate(data["actions"]):
        for e_index, evidence in enumerate(action["evidence"]):
            yield _record("actions", index, action), f"evidence[{e_index}]", evidence
    for index, entity in enumerate(data["entities"]):
        for d_index, designation in enumerate(entity["designations"]):
            for e_index, evidence in enumerate(designation["evidence"]):
                yield (
                    _record("entities", index, entity),
                    f"designations[{d_index}].evidence[{e_index}]",
                    evidence,
                )


def _source_refs(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for where, path, evidence in _evidence_places(data):
        yield where, f"{path}.source", evidence["source"]
    for index, entity in enumerate(data["entities"]):
        for part in ("names", "identifiers", "addresses"):
            for p_index, item in enumerate(entity[part]):
                if item.get("source"):
                    yield (
                        _record("entities", index, entity),
                        f"{part}[{p_index}].source",
                        item["source"],
                    )


def _action_refs(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for index, entity in enumerate(data["entities"]):
        for d_index, designation in enumerate(entity["designations"]):
            if designation.get("action"):
                yield (
                    _record("entities", index, entity),
                    f"designations[{d_index}].action",
                    designation["action"],
                )


def _cited_sources(data: Mapping[str, Any]) -> set[str]:
    return {source_id for _, _, source_id in _source_refs(data)}


def _cited_actions(data: Mapping[str, Any]) -> set[str]:
    return {action_id for _, _, action_id in _action_refs(data)}


def _quotes(data: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {key for key, _ in _quotes_with_place(data)}


def _quotes_with_place(data: Mapping[str, Any]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    return [
        ((e["source"], e["quote"]), (where, f"{path}.quote"))
        for where, path, e in _evidence_places(data)
        if e.get("quote")
    ]


# -- writing -------------------------------------------------------------------------


def apply_fixtures(
    db: sqlite_utils.Database,
    docs: Sequence[FixtureDoc],
    *,
    actor: str,
    dry_run: bool = False,
    create_only: bool = False,
    merge: bool = True,
) -> LoadReport:
    """Check, then write every document in one transaction (rolled back on a dry run).
    With `create_only`, an entity id that exists already is a conflict; with
    `merge=False`, new records are not merged into other lists' entities."""
    report = LoadReport(dry_run=dry_run, files=[])
    try:
        with immediate(db):
            check_batch(db, docs)
            if create_only:
                _refuse_existing(db, docs)
            writer = Writer(db, now=utcnow(), actor=actor)
            try:
                # Sources and actions first: records cite them.
                for doc in docs:
                    file_report = FileReport(doc.name, doc.data["dataset"])
                    file_report.sources = writer.write_sources(doc.data["sources"])
                    file_report.actions = writer.write_actions(doc.data["actions"])
                    report.files.append(file_report)
                for doc, file_report in zip(docs, report.files, strict=True):
                    file_report.entities = writer.write_records(
                        doc.data["dataset"], doc.data["entities"], merge=merge
                    )
            except WriteConflict as exc:
                raise InputError(
                    [Problem(str(exc), field=exc.field, record=exc.record_id)],
                    status=409,
                    title="Conflict",
                ) from None
            writer.finish()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass  # everything was written and checked, then rolled back
    return report


def _refuse_existing(db: sqlite_utils.Database, docs: Sequence[FixtureDoc]) -> None:
    ids = {e["id"] for doc in docs for e in doc.data["entities"]}
    existing = _known(db, "records", ids) | _known(db, "entities", ids)
    if existing:
        raise InputError(
            [
                Problem(
                    f"Entity {i!r} already exists; use PUT or PATCH.", field="id", location="json"
                )
                for i in sorted(existing)
            ],
            status=409,
            title="Conflict",
        )


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def load_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str | Path],
    *,
    actor: str = "load",
    dry_run: bool = False,
) -> LoadReport:
    return apply_fixtures(db, read_fixture_files(paths), actor=actor, dry_run=dry_run)
