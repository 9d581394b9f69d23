"""Writes schemas/external/yente/*.json: JSON schemas of yente's own pydantic models.

The tests validate /match, /entities/{id}?nested, /catalog and /algorithms against
them, so the answers keep the shape yente clients read. Run it with yente
installed (in a scratch virtualenv: it pins its own nomenklatura and
followthemoney, which the registry does not need):

    python -m venv /tmp/yente && /tmp/yente/bin/pip install yente==5.5.0
    /tmp/yente/bin/python scripts/yente_schemas.py

Requests are validated against the "validation" form of a model, answers against
its "serialization" form (what yente sends: computed fields included).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from yente.data.common import (
    AlgorithmResponse,
    DataCatalogModel,
    EntityMatchQuery,
    EntityMatchResponse,
    EntityResponse,
    ErrorResponse,
)

OUT = Path(__file__).resolve().parents[1] / "schemas" / "external" / "yente"
MODELS = {
    "entity-match-query.json": (EntityMatchQuery, "validation"),
    "entity-match-response.json": (EntityMatchResponse, "serialization"),
    "entity-response.json": (EntityResponse, "serialization"),
    "data-catalog.json": (DataCatalogModel, "serialization"),
    "algorithm-response.json": (AlgorithmResponse, "serialization"),
    "error-response.json": (ErrorResponse, "serialization"),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    source = f"yente {version('yente')} yente/data/common.py {{model}} ({{mode}})"
    for filename, (model, mode) in MODELS.items():
        schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
        schema["$comment"] = source.format(model=model.__name__, mode=mode)
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (OUT / filename).write_text(text)
        print(OUT / filename)


if __name__ == "__main__":
    main()
