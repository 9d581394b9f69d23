"""yente's matching API, spoken to by a real yente client: nomenklatura's
YenteEnricher against a real `registry serve` holding the OFAC SDN list, and
every answer validated against the JSON schemas of yente's own pydantic models
(schemas/external/yente/, written by scripts/yente_schemas.py).

The SDN entries used, as the list of 23 February 2024 gives them:
  12211 KIM, Yong Chol   DOB circa 1947; alt. DOB circa 1946
  17614 KIM, Yong Chol   DOB 18 Feb 1962; nationality Korea, North
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from registry.compat import ftm
from registry.matching import DEFAULT_THRESHOLD

from .conftest import ServedRegistry
from .jsonschemas import yente_errors

KIM = {"schema": "Person", "properties": {"name": ["Kim Yong Chol"]}}
KIM_1962 = {
    "schema": "Person",
    "properties": {"name": ["Kim Yong Chol"], "birthDate": ["1962-02-18"], "nationality": ["kp"]},
}


def post_match(
    server: ServedRegistry, queries: dict[str, Any], dataset: str = "default", **params: Any
) -> requests.Response:
    return requests.post(
        f"{server.base}/match/{dataset}", params=params, json={"queries": queries}, timeout=60
    )


def ids(answer: dict[str, Any], key: str) -> list[str]:
    return [r["id"] for r in answer["responses"][key]["results"]]


def test_followthemoney_has_every_property_this_service_reads() -> None:
    """The vocabulary of registry.compat.ftm is FollowTheMoney's: each schema exists
    and is matchable, each property exists on its schema."""
    followthemoney = pytest.importorskip("followthemoney")
    model = followthemoney.model
    for schema_name, properties in ftm.SCHEMA_PROPERTIES.items():
        schema = model.get(schema_name)
        assert schema is not None, schema_name
        assert schema.matchable or schema_name in ("Thing", "LegalEntity"), schema_name
        for prop in properties:
            assert schema.get(prop) is not None, (schema_name, prop)
    assert set(ftm.SCHEMA_LABELS) == set(ftm.SCHEMA_TYPES)


def test_yente_enricher_finds_the_sdn_entry(sdn_server: ServedRegistry, tmp_path: Path) -> None:
    """nomenklatura's YenteEnricher, configured as for yente (algorithm=best, fuzzy),
    pointed at this service: a Person with name, birthDate and nationality
    finds SDN 17614, not his namesake 12211 (born circa 1947); expanding the match
    reads GET /entities/{id}?nested=true and yields the entity and its sanction."""
    pytest.importorskip("nomenklatura")
    from nomenklatura.cache import Cache
    from nomenklatura.dataset import Dataset
    from nomenklatura.db import get_engine, get_metadata
    from nomenklatura.enrich import make_enricher
    from nomenklatura.entity import CompositeEntity

    engine = get_engine(f"sqlite:///{tmp_path / 'nomenklatura.db'}")
    dataset = Dataset.make({"name": "customers", "title": "Customers"})
    enricher = make_enricher(
        dataset,
        Cache(engine, get_metadata(), dataset, create=True),
        {
            "type": "nomenklatura.enrich.yente:YenteEnricher",
            "api": f"{sdn_server.base}/",
            "dataset": "default",
            "fuzzy": True,
            "cache_days": 0,
        },
    )
    try:
        person = CompositeEntity.from_data(dataset, {"id": "customer-1", **KIM_1962})
        found = list(enricher.match(person))
        assert [f.id for f in found][:1] == ["us-ofac-sdn:17614"], [f.id for f in found]
        top = found[0]
        assert top.schema.name == "Person"
        assert top.caption == "KIM, Yong Chol"
        assert "1962-02-18" in top.get("birthDate")
        assert "kp" in top.get("nationality")
        expanded = list(enricher.expand(person, top))
        assert [e.schema.name for e in expanded][:1] == ["Person"]
        sanctions = [e for e in expanded if e.schema.name == "Sanction"]
        assert sanctions and all(s.get("authority") == ["OFAC"] for s in sanctions)
    finally:
        enricher.close()
        engine.dispose()


def test_the_date_of_birth_clears_the_namesake(sdn_server: ServedRegistry) -> None:
    """Without a date of birth both KIM, Yong Chol entries match; with 1962-02-18
    only 17614 does (12211 falls below the threshold), exactly as /screen says."""
    answer = post_match(sdn_server, {"name": KIM, "dob": KIM_1962}, limit=10).json()
    by_name = {r["id"]: r for r in answer["responses"]["name"]["results"]}
    assert by_name["us-ofac-sdn:12211"]["match"] and by_name["us-ofac-sdn:17614"]["match"]
    with_dob = answer["responses"]["dob"]["results"]
    assert with_dob[0]["id"] == "us-ofac-sdn:17614" and with_dob[0]["score"] == 1.0
    assert with_dob[0]["features"]["date_of_birth"] > 0
    assert with_dob[0]["explanations"]["date_of_birth"]["detail"].startswith(
        "the date of birth 1962-02-18 matches"
    )
    assert "us-ofac-sdn:12211" not in [r["id"] for r in with_dob if r["match"]]
    assert answer["responses"]["dob"]["query"] == {
        "id": None,
        "schema": "Person",
        "properties": {
            "name": ["Kim Yong Chol"],
            "birthDate": ["1962-02-18"],
            "nationality": ["kp"],
        },
    }
    params: dict[str, str | int] = {
        "name": "Kim Yong Chol",
        "type": "person",
        "dob": "1962-02-18",
        "nationality": "KP",
        "limit": 5,
    }
    screened = requests.get(f"{sdn_server.base}/screen", params=params, timeout=30).json()
    assert [(m["entity_id"], m["score"]) for m in screened["matches"]] == [
        (r["id"], r["score"]) for r in with_dob
    ]


def test_answers_have_yentes_shapes(sdn_server: ServedRegistry) -> None:
    """/match, /entities/{id}?nested, /catalog, /algorithms and the error answers
    validate against the JSON schemas of yente's pydantic models."""
    response = post_match(
        sdn_server,
        {
            "kim": KIM_1962,
            "company": {
                "schema": "Company",
                "properties": {"name": "Finder Technology", "jurisdiction": ["cn"]},
            },
            "nobody": {"schema": "Person", "properties": {"name": ["Zzyzx Qwertyuiop"]}},
            "vessel": {"schema": "Vessel", "properties": {"name": ["Sea Star"]}},
        },
        algorithm="best",
        fuzzy="false",
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-batch-size"] == "4"
    answer = response.json()
    assert yente_errors("entity-match-response", answer) == []
    assert answer["limit"] == 5
    assert answer["responses"]["nobody"]["results"] == []
    assert answer["responses"]["company"]["results"][0]["id"] == "finder-technology-ltd"
    for result in answer["responses"]["kim"]["results"]:
        assert result["schema"] == "Person" and result["datasets"] == ["us-ofac-sdn"]
        assert result["match"] == (result["score"] >= DEFAULT_THRESHOLD)
        assert result["summary"] and result["matched_name"] and result["features"]

    entity = requests.get(
        f"{sdn_server.base}/entities/us-ofac-sdn:17614", params={"nested": "true"}, timeout=30
    )
    assert entity.status_code == 200
    assert yente_errors("entity-response", entity.json()) == []
    assert entity.json()["properties"]["sanctions"][0]["schema"] == "Sanction"
    plain = requests.get(f"{sdn_server.base}/entities/us-ofac-sdn:17614", timeout=30).json()
    assert plain["name"] == "KIM, Yong Chol" and "designations" in plain  # the registry's own

    catalog = requests.get(f"{sdn_server.base}/catalog", timeout=30).json()
    assert yente_errors("data-catalog", catalog) == []
    assert {"default", "fixtures", "us-ofac-sdn"} <= set(catalog["current"])
    algorithms = requests.get(f"{sdn_server.base}/algorithms", timeout=30).json()
    assert yente_errors("algorithm-response", algorithms) == []

    refusals = [
        post_match(sdn_server, {"x": KIM}, dataset="no-such-list"),
        post_match(sdn_server, {"x": KIM}, algorithm="no-such-algorithm"),
        post_match(sdn_server, {"x": {"schema": "Address", "properties": {"full": "x"}}}),
        post_match(sdn_server, {"x": {"schema": "Person", "properties": {"birthDate": "1962"}}}),
        post_match(sdn_server, {}),
        requests.get(f"{sdn_server.base}/entities/nobody", params={"nested": "true"}, timeout=30),
    ]
    assert [r.status_code for r in refusals] == [404, 400, 400, 400, 400, 404]
    for refused in refusals:
        assert yente_errors("error-response", refused.json()) == [], refused.text
    assert refusals[0].json()["detail"] == "No such dataset."
    assert "Address" in refusals[2].json()["detail"]


@pytest.mark.parametrize(
    "name",
    ["Kim Yong Chol", "Bazghandi", "Islamic Revolutionary Guard Corps", "Sigma Technology"],
)
def test_match_gives_the_matches_screen_gives(sdn_server: ServedRegistry, name: str) -> None:
    """The same names through /match (a LegalEntity: any type) and GET /screen: the
    same entities with the same scores, match flags and sentences."""
    answer = post_match(
        sdn_server,
        {"q": {"schema": "LegalEntity", "properties": {"name": [name]}}},
        limit=10,
        cutoff=0.6,
    ).json()
    params: dict[str, str | float] = {"name": name, "limit": 10, "min_score": 0.6}
    screened = requests.get(f"{sdn_server.base}/screen", params=params, timeout=30).json()
    assert screened["matches"], name
    assert [
        (r["id"], r["score"], r["match"], r["summary"]) for r in answer["responses"]["q"]["results"]
    ] == [(m["entity_id"], m["score"], m["match"], m["summary"]) for m in screened["matches"]]


def test_query_parameters(sdn_server: ServedRegistry) -> None:
    finder = {"f": {"schema": "Company", "properties": {"name": ["Finder Technology"]}}}

    def found(**params: Any) -> list[str]:
        dataset = params.pop("dataset", "default")
        response = post_match(sdn_server, finder, dataset=dataset, **params)
        assert response.status_code == 200, response.text
        return ids(response.json(), "f")

    assert found()[:1] == ["finder-technology-ltd"]
    assert found(dataset="fixtures")[:1] == ["finder-technology-ltd"]
    assert "finder-technology-ltd" not in found(dataset="us-ofac-sdn")
    assert "finder-technology-ltd" not in found(include_dataset="us-ofac-sdn")
    assert "finder-technology-ltd" not in found(exclude_dataset="fixtures")
    assert "finder-technology-ltd" not in found(exclude_schema="Company")
    assert "finder-technology-ltd" not in found(exclude_entity_ids="finder-technology-ltd")
    assert found(topics="sanction")[:1] == ["finder-technology-ltd"]
    assert found(topics="role.pep") == []
    assert found(changed_since="2999-01-01") == []
    # Unknown parameters are ignored, as yente ignores them.
    assert found(fuzzy="true", nonsense="1")[:1] == ["finder-technology-ltd"]
    # exclude_entity_ids takes a record id too (yente's referents).
    kim = post_match(sdn_server, {"k": KIM}, exclude_entity_ids="us-ofac-sdn:17614").json()
    assert "us-ofac-sdn:17614" not in ids(kim, "k") and "us-ofac-sdn:12211" in ids(kim, "k")
    # cutoff lists candidates below the threshold, marked match=false; limit caps them.
    low = post_match(sdn_server, {"k": KIM}, cutoff=0.5, threshold=0.95, limit=20).json()
    results = low["responses"]["k"]["results"]
    assert any(not r["match"] for r in results) and all(r["score"] >= 0.5 for r in results)
    assert low["responses"]["k"]["total"]["value"] == sum(r["match"] for r in results)
    assert len(post_match(sdn_server, {"k": KIM}, limit=1).json()["responses"]["k"]["results"]) == 1
    bad = post_match(sdn_server, {"k": KIM}, threshold="high")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "threshold"
    assert post_match(sdn_server, {"k": KIM}, limit=501).status_code == 400
    # weights are accepted (and ignored); config keys are refused: this matcher has none.
    body: dict[str, Any] = {"queries": {"k": KIM}, "weights": {"name_literal": 0.8}}
    assert requests.post(f"{sdn_server.base}/match/default", json=body, timeout=30).ok
    body = {"queries": {"k": KIM}, "config": {"nm_number_mismatch": 0.4}}
    refused = requests.post(f"{sdn_server.base}/match/default", json=body, timeout=30)
    assert refused.status_code == 400 and "nm_number_mismatch" in refused.json()["detail"]


def test_examples_are_read_as_yente_reads_them() -> None:
    """Name parts make a name, values may be one string, countries may be names,
    dates may be date-times; what cannot be used is left out of the echo."""
    example = ftm.parse_example(
        "Person",
        {
            "firstName": "Yong Chol",
            "lastName": ["Kim"],
            "birthDate": ["1962-02-18T00:00:00", "sometime", "1962-13"],
            "nationality": ["Korea, North", "Atlantis"],
            "passportNumber": ["12", "PD 123456"],
            "imoNumber": ["9187629"],  # not a Person's property
            "weight": ["80"],
        },
    )
    assert example.names == ["Yong Chol Kim"]
    assert example.dobs == ["1962-02-18"]
    assert example.nationalities == ["KP"]
    assert example.id_numbers == ["PD 123456"]
    assert example.used == {
        "firstName": ["Yong Chol"],
        "lastName": ["Kim"],
        "nationality": ["kp"],
        "birthDate": ["1962-02-18"],
        "passportNumber": ["PD 123456"],
    }
    assert example.queries() == [
        {
            "type": "person",
            "dob": ["1962-02-18"],
            "nationality": ["KP"],
            "id_number": ["PD 123456"],
            "name": "Yong Chol Kim",
            "country": None,
        }
    ]
    many = ftm.parse_example("Company", {"name": ["A Ltd", "B Ltd"], "country": ["gb", "fr"]})
    assert [(q["name"], q["country"]) for q in many.queries()] == [
        ("A Ltd", "GB"),
        ("A Ltd", "FR"),
        ("B Ltd", "GB"),
        ("B Ltd", "FR"),
    ]
    with pytest.raises(ftm.ExampleError):
        ftm.parse_example("Person", {"birthDate": ["1962"]})
    with pytest.raises(ftm.ExampleError):
        ftm.parse_example("Sanction", {"name": ["x"]})


def test_screen_takes_lists_of_values(sdn_server: ServedRegistry) -> None:
    """POST /screen queries may give several dates of birth (or nationalities,
    identifiers): the best agreement of any counts, as /match does with a list."""
    answer = requests.post(
        f"{sdn_server.base}/screen",
        json={
            "queries": [
                {"name": "Kim Yong Chol", "dob": ["1930", "1962-02-18"], "nationality": ["KP"]},
                {"name": "Kim Yong Chol", "dob": ["1962-02-18", "1962-13"]},
            ]
        },
        timeout=30,
    ).json()
    first, second = answer["results"]
    assert first["query"]["dob"] == ["1930", "1962-02-18"]
    top = first["matches"][0]
    assert top["entity_id"] == "us-ofac-sdn:17614" and top["score"] == 1.0
    assert [e["query"] for e in top["explanation"]["evidence"]][:1] == ["1962-02-18"]
    assert second["error"]["errors"][0]["field"] == "dob[1]"


def test_a_key_sent_as_yente_clients_send_it(app: Any, keys: dict[str, str]) -> None:
    """`Authorization: ApiKey <key>` (OpenSanctions' scheme) is read like Bearer."""
    client = app.test_client()
    assert (
        client.get("/keys", headers={"Authorization": f"ApiKey {keys['admin']}"}).status_code == 200
    )
    assert (
        client.get("/keys", headers={"Authorization": f"Basic {keys['admin']}"}).status_code == 401
    )
    assert client.get("/keys", headers={"Authorization": "ApiKey nonsense"}).status_code == 401
