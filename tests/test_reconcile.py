"""The W3C Entity Reconciliation API (0.2), as OpenRefine calls it, against a real
`registry serve` holding the OFAC SDN list: the manifest, queries and answers
validated against the JSON schemas the specification publishes
(schemas/external/reconciliation-0.2/), the same candidates as /screen."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from registry.compat.reconcile import RECONCILE_MIN_SCORE

from .conftest import ServedRegistry
from .jsonschemas import reconciliation_errors


def reconcile(server: ServedRegistry, queries: dict[str, Any], **kwargs: Any) -> Any:
    """POST the batch as OpenRefine does: the form field `queries`."""
    assert reconciliation_errors("reconciliation-query-batch", queries) == []
    response = requests.post(
        f"{server.base}/reconcile", data={"queries": json.dumps(queries)}, timeout=60, **kwargs
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert reconciliation_errors("reconciliation-result-batch", answer) == []
    return answer


def test_the_manifest(sdn_server: ServedRegistry) -> None:
    response = requests.get(f"{sdn_server.base}/reconcile", params={"callback": "x"}, timeout=30)
    assert response.status_code == 200
    manifest = response.json()
    assert reconciliation_errors("manifest", manifest) == []
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"Person", "Company", "Vessel"}
    # The templates lead somewhere real.
    view = manifest["view"]["url"].replace("{{id}}", "us-ofac-sdn:17614")
    assert requests.get(view, timeout=30).status_code == 200
    preview = requests.get(
        manifest["preview"]["url"].replace("{{id}}", "us-ofac-sdn:17614"), timeout=30
    )
    assert preview.status_code == 200 and "KIM, Yong Chol" in preview.text
    # OpenRefine frames the preview in its own page.
    assert "X-Frame-Options" not in preview.headers
    assert "frame-ancestors *" in preview.headers["Content-Security-Policy"]
    for kind in ("entity", "type", "property"):
        service = manifest["suggest"][kind]
        answer = requests.get(
            service["service_url"] + service["service_path"], params={"prefix": "kim"}, timeout=30
        )
        assert answer.status_code == 200
        schema = {"entity": "entities", "type": "types", "property": "properties"}[kind]
        assert reconciliation_errors(f"suggest-{schema}-response", answer.json()) == []


def test_type_and_properties_feed_the_matcher(sdn_server: ServedRegistry) -> None:
    """A date of birth and a nationality, by FollowTheMoney name (qualified or not)
    or by the registry's own, pick SDN 17614 out of the two KIM, Yong Chol."""
    answer = reconcile(
        sdn_server,
        {
            "plain": {"query": "Kim Yong Chol", "type": "Person"},
            "dob": {
                "query": "Kim Yong Chol",
                "type": "Person",
                "properties": [
                    {"pid": "Person:birthDate", "v": "1962-02-18"},
                    {"pid": "nationality", "v": ["Korea, North"]},
                ],
            },
            "alias": {
                "query": "Kim Yong Chol",
                "type": "person",
                "limit": 1,
                "properties": [
                    {"pid": "dob", "v": "1962"},
                    {"pid": "nationality", "v": {"id": "kp", "name": "KP"}},  # reconciled before
                ],
            },
            "passport": {
                "query": "Bazghandi",
                "properties": [{"pid": "passportNumber", "v": "D10008106"}],
            },
        },
    )
    plain = {c["id"]: c for c in answer["plain"]["result"]}
    assert plain["us-ofac-sdn:12211"]["match"] and plain["us-ofac-sdn:17614"]["match"]
    top = answer["dob"]["result"][0]
    assert top["id"] == "us-ofac-sdn:17614" and top["score"] == 1.0 and top["match"]
    assert top["type"] == [{"id": "Person", "name": "People"}]
    assert {f["id"] for f in top["features"]} == {"name_score", "date_of_birth", "nationality"}
    assert "the date of birth 1962-02-18 matches" in top["description"]
    others = [c for c in answer["dob"]["result"] if c["id"] == "us-ofac-sdn:12211"]
    assert not others or not others[0]["match"]
    assert [c["id"] for c in answer["alias"]["result"]] == ["us-ofac-sdn:17614"]
    assert answer["passport"]["result"][0]["id"] == "us-ofac-sdn:42599"


@pytest.mark.parametrize(
    "name", ["Kim Yong Chol", "Islamic Revolutionary Guard Corps", "Finder Technology"]
)
def test_the_same_candidates_as_screen(sdn_server: ServedRegistry, name: str) -> None:
    answer = reconcile(sdn_server, {"q": {"query": name, "limit": 10}})
    params: dict[str, str | float] = {"name": name, "limit": 10, "min_score": RECONCILE_MIN_SCORE}
    screened = requests.get(f"{sdn_server.base}/screen", params=params, timeout=30).json()
    assert screened["matches"]
    assert [(c["id"], c["score"], c["match"]) for c in answer["q"]["result"]] == [
        (m["entity_id"], m["score"], m["match"]) for m in screened["matches"]
    ]


def test_queries_as_json_and_as_get(sdn_server: ServedRegistry) -> None:
    batch = {"q": {"query": "Finder Technology", "type": "Company"}}
    as_form = reconcile(sdn_server, batch)
    as_json = requests.post(f"{sdn_server.base}/reconcile", json={"queries": batch}, timeout=30)
    as_get = requests.get(
        f"{sdn_server.base}/reconcile", params={"queries": json.dumps(batch)}, timeout=30
    )
    assert as_json.json() == as_form == as_get.json()
    assert as_form["q"]["result"][0]["id"] == "finder-technology-ltd"


def test_suggest_services(sdn_server: ServedRegistry) -> None:
    def suggest(kind: str, prefix: str) -> Any:
        response = requests.get(
            f"{sdn_server.base}/reconcile/suggest/{kind}",
            params={"prefix": prefix, "_": "1"},  # the suggest widget adds its own
            timeout=30,
        )
        assert response.status_code == 200
        answer = response.json()
        schema = {"entity": "entities", "type": "types", "property": "properties"}[kind]
        assert reconciliation_errors(f"suggest-{schema}-response", answer) == []
        return answer["result"]

    entities = suggest("entity", "kim yong")
    assert "us-ofac-sdn:17614" in [e["id"] for e in entities]
    assert all(e["notable"] for e in entities)
    assert suggest("entity", "") == []
    assert [t["id"] for t in suggest("type", "comp")] == ["Company"]
    assert [p["id"] for p in suggest("property", "birth")] == ["birthDate"]


def test_bad_queries_are_refused_with_the_field(sdn_server: ServedRegistry) -> None:
    cases = [
        ({"queries": "not json"}, "queries"),
        ({"queries": json.dumps({"q": {"query": "x", "type": "Spaceship"}})}, "queries.q.type"),
        (
            {"queries": json.dumps({"q": {"properties": [{"pid": "country", "v": "ru"}]}})},
            "queries.q",
        ),
        ({"queries": json.dumps({"q": {"query": "x", "limit": 0}})}, "queries.q.limit"),
        ({}, "queries"),
    ]
    for form, field in cases:
        response = requests.post(f"{sdn_server.base}/reconcile", data=form, timeout=30)
        assert response.status_code == 400, (form, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
    missing = requests.get(f"{sdn_server.base}/reconcile/preview", params={"id": "x"}, timeout=30)
    assert missing.status_code == 404
