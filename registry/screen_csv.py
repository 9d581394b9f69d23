"""The CSV answer of a screening (one row per name and match): the columns and
rows that POST /screen's CSV, `registry screen` and `registry screen-book` write.

In a module of its own, without Flask: `registry screen` writes these rows, and
importing the web API for them was a third of its start-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .exports import neutralise
from .screening import QUERY_FIELDS

CSV_COLUMNS = (
    "query_index",
    "query_id",
    "query_name",
    "query_type",
    "query_country",
    "query_dob",
    "query_nationality",
    "query_id_number",
    "error",
    "rank",
    "entity_id",
    "entity_name",
    "matched_name",
    "name_kind",
    "score",
    "match",
    "explanation",
    "decision",
    "decision_note",
    "jurisdictions",
    "lists",
    "hidden_false_positives",
)


def csv_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The CSV answer's rows without its header (`registry screen` writes them)."""
    return [[neutralise(cell) for cell in row] for _, row in answer_rows(results)]


def answer_rows(results: list[dict[str, Any]]) -> Iterator[tuple[int, list[str]]]:
    """(query position, cells): one row per name and match (a name without matches
    gets one row without a match)."""
    for result in results:
        query = result["query"] if isinstance(result["query"], dict) else {}
        head = {
            "query_index": result["index"],
            "query_id": result["id"],
            **{
                f"query_{field}": _cell(query.get(field)) for field in QUERY_FIELDS if field != "id"
            },
            "hidden_false_positives": None
            if result["error"]
            else result.get("hidden_false_positives", 0),
        }
        position = int(result["index"])
        if result["error"]:
            errors = "; ".join(
                f"{e['field']}: {e['message']}" if e.get("field") else e["message"]
                for e in result["error"]["errors"]
            )
            yield position, _cells({**head, "error": errors})
            continue
        if not result["matches"]:
            yield position, _cells(head)
        for rank, match in enumerate(result["matches"], 1):
            entity = match.get("entity") or {}
            designations = entity.get("designations", [])
            decision = match.get("decision") or {}
            yield (
                position,
                _cells(
                    {
                        **head,
                        "rank": rank,
                        "entity_id": match["entity_id"],
                        "entity_name": match.get("name"),
                        "matched_name": match["matched_name"],
                        "name_kind": match["name_kind"],
                        "score": f"{match['score']:.4f}",
                        "match": str(match["match"]).lower(),
                        "explanation": match.get("summary"),
                        "decision": decision.get("verdict"),
                        "decision_note": decision.get("note"),
                        "jurisdictions": "; ".join(
                            sorted({d["jurisdiction"] for d in designations})
                        ),
                        "lists": "; ".join(sorted({d["list"] for d in designations})),
                    }
                ),
            )


def _cell(value: Any) -> Any:
    """A query field as a cell: several values joined by '; '."""
    return "; ".join(str(v) for v in value) if isinstance(value, list) else value


def _cells(values: dict[str, Any]) -> list[str]:
    return ["" if values.get(column) is None else str(values[column]) for column in CSV_COLUMNS]
