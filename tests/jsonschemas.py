"""Validating answers against the JSON schemas other projects publish (committed in
schemas/external/, each folder's README says where they come from)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

EXTERNAL = Path(__file__).resolve().parents[1] / "schemas" / "external"


@cache
def _reconciliation_registry() -> Registry:
    resources = []
    for path in sorted((EXTERNAL / "reconciliation-0.2").glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT7)))
    return Registry().with_resources(resources)


def yente_errors(name: str, document: Any) -> list[str]:
    """What in the document breaks yente's model (schemas/external/yente/NAME.json)."""
    schema = json.loads((EXTERNAL / "yente" / f"{name}.json").read_text())
    validator = Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def reconciliation_errors(name: str, document: Any) -> list[str]:
    """What in the document breaks the reconciliation API 0.2 schema NAME.json."""
    schema = json.loads((EXTERNAL / "reconciliation-0.2" / f"{name}.json").read_text())
    validator = Draft7Validator(schema, registry=_reconciliation_registry())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
