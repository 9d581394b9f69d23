"""Screening with more than a name: date of birth, nationality and identifier number,
over HTTP (GET, JSON, CSV) and the command line, against real OFAC SDN entries.

The entries, as the SDN list of 23 February 2024 gives them:
  12211 KIM, Yong Chol        DOB circa 1947; alt. DOB circa 1946
  17614 KIM, Yong Chol        DOB 18 Feb 1962; nationality Korea, North
  22702 KIM, Tong-chol        DOB 07 Aug 1968
  22996 KIM, Tong Chol        DOB 28 Jan 1966
  42599 BAZGHANDI, Rouhollah  DOB 07 Mar 1981; nationality Iran; Passport D10008106 (Iran)
  42741 BAZGHANDI, Rouhollah  DOB 20 Sep 1981; nationality Iran; National ID No. 0793640271
  8867  MOHAMMAD, Haji Baz    DOB 1958; nationality Afghanistan
  13127 MOHAMMAD, Haji Baz    DOB 12 Mar 1964; nationality Afghanistan
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from registry import imports
from registry.cli import main
from registry.db import open_registry
from registry.imports import run_import
from registry.keys import create_key
from registry.matching import DEFAULT_THRESHOLD

from .conftest import make_app, sdn_sample

UIDS = ("12211", "17614", "22702", "22996", "42599", "42741", "8867", "13127")


@pytest.fixture(scope="module")
def sdn_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding the real SDN.CSV rows of UIDS (imported as the list is)."""
    folder = tmp_path_factory.mktemp("attrs")
    sample = sdn_sample(folder, UIDS)
    db_path = folder / "registry.db"
    db = open_registry(db_path)
    try:
        run_import(db, "ofac-csv", [sample])
    finally:
        db.close()
    return db_path


@pytest.fixture(scope="module")
def client(sdn_db: Path) -> Iterator[FlaskClient]:
    yield make_app(sdn_db).test_client()


def screen(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/screen", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def scores(body: dict[str, Any]) -> dict[str, float]:
    return {m["entity_id"].rsplit(":", 1)[-1]: m["score"] for m in body["matches"]}


def test_reimporting_an_unchanged_list_adds_the_new_fields_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = sdn_sample(tmp_path, UIDS)
    db = open_registry(tmp_path / "upgrade.db")
    parse = imports.parse

    def without_new_fields(*args: Any, **kwargs: Any) -> Any:
        """The parse as it was before dates of birth and nationalities were read."""
        parsed = parse(*args, **kwargs)
        for doc in parsed.records:
            doc.pop("birth_dates", None)
            doc.pop("nationalities", None)
        return parsed

    try:
        with monkeypatch.context() as patched:
            patched.setattr(imports, "parse", without_new_fields)
            assert run_import(db, "ofac-csv", [sample]).counts.added == len(UIDS)
        # every entry has a date of birth: each changes once ...
        assert run_import(db, "ofac-csv", [sample]).counts.as_dict() == {
            "added": 0,
            "changed": len(UIDS),
            "removed": 0,
            "unchanged": 0,
        }
        # ... and then no more
        assert run_import(db, "ofac-csv", [sample]).counts.unchanged == len(UIDS)
    finally:
        db.close()


def test_the_entity_detail_and_export_give_them(client: FlaskClient) -> None:
    kim = client.get("/entities/us-ofac-sdn:17614").get_json()
    assert [(b["date"], b["precision"]) for b in kim["birth_dates"]] == [("1962-02-18", "day")]
    assert [n["country"] for n in kim["nationalities"]] == ["KP"]
    namesake = client.get("/entities/us-ofac-sdn:12211").get_json()
    assert [(b["date"], b["precision"]) for b in namesake["birth_dates"]] == [
        ("1945/1949", "range"),
        ("1944/1948", "range"),
    ]
    export = client.get("/entities.ftm.jsonl").get_data(as_text=True)
    person = next(line for line in export.splitlines() if '"us-ofac-sdn:17614"' in line)
    assert '"birthDate": ["1962-02-18"]' in person and '"nationality": ["kp"]' in person


def test_a_date_of_birth_separates_namesakes(client: FlaskClient) -> None:
    name_only = scores(screen(client, name="Kim Yong Chol"))
    assert name_only["17614"] == name_only["12211"] == 0.98  # namesakes: both match
    right = screen(client, name="Kim Yong Chol", dob="1962-02-18", min_score=0.5)
    found = {m["entity_id"].split(":")[1]: m for m in right["matches"]}
    # the right date of birth scores up (0.98 + 0.05, at most 1) ...
    assert found["17614"]["score"] == 1.0 and found["17614"]["match"] is True
    assert found["17614"]["explanation"]["name_score"] == 0.98
    # ... a conflicting one clears the namesake (0.98 - 0.3), and says why
    assert found["12211"]["score"] == 0.68 and found["12211"]["match"] is False
    evidence = found["12211"]["explanation"]["evidence"]
    assert [(e["attribute"], e["result"], e["effect"]) for e in evidence] == [
        ("date_of_birth", "conflict", -0.3)
    ]
    assert found["12211"]["summary"].endswith(
        "the date of birth 1962-02-18 conflicts with 1944/1948 and 1945/1949."
    )
    assert right["matches"][0]["entity_id"] == "us-ofac-sdn:17614"
    at_threshold = scores(screen(client, name="Kim Yong Chol", dob="1962-02-18"))
    assert "12211" not in at_threshold and "22702" not in at_threshold
    # a year is enough to clear him (circa 1946 and 1947 cannot be 1962)
    assert "12211" not in scores(screen(client, name="Kim Yong Chol", dob="1962"))


def test_a_date_of_birth_lifts_a_name_below_the_threshold(client: FlaskClient) -> None:
    # "Haji Baz" alone is below the threshold for both MOHAMMAD, Haji Baz ...
    near = scores(screen(client, name="Haji Baz", min_score=0.5))
    assert near["13127"] == near["8867"] == 0.7571 < DEFAULT_THRESHOLD
    assert screen(client, name="Haji Baz")["matches"] == []
    # ... his date of birth makes one of them a match (the index looked below the threshold)
    lifted = screen(client, name="Haji Baz", dob="1964-03-12")
    assert scores(lifted) == {"13127": 0.8071}
    assert lifted["matches"][0]["match"] is True
    assert scores(screen(client, name="Haji Baz", dob="1964-03-12", nationality="AF")) == {
        "13127": 0.8371
    }


def test_nationality(client: FlaskClient) -> None:
    assert scores(screen(client, name="Kim Yong Chol", nationality="Korea, North"))["17614"] == 1.0
    conflict = screen(client, name="Kim Yong Chol", nationality="us")
    assert conflict["query"]["nationality"] == "US"
    assert scores(conflict)["17614"] == 0.88  # like a country conflict: 0.98 - 0.1
    assert scores(conflict)["12211"] == 0.98  # no nationality listed: no evidence
    both = screen(client, name="Kim Yong Chol", nationality="US", country="US")
    assert scores(both)["17614"] == 0.88  # one conflict, counted once


def test_an_identifier_finds_and_raises(client: FlaskClient) -> None:
    # The passport written another way ranks its holder first among namesakes
    body = screen(client, name="Bazghandi Rouhollah", id_number="d-1000 8106")
    assert [m["entity_id"] for m in body["matches"]] == [
        "us-ofac-sdn:42599",
        "us-ofac-sdn:42741",
    ]
    top = body["matches"][0]
    assert top["explanation"]["evidence"][0]["listed"] == ["passport D10008106"]
    assert "the identifier d-1000 8106 matches passport D10008106" in top["summary"]
    # The surname alone is below the threshold; the passport makes it a match. The index
    # does not return it at the threshold: the identifier itself finds the entity.
    assert scores(screen(client, name="Bazghandi", min_score=0.5)) == {
        "42599": 0.75,
        "42741": 0.75,
    }
    alone = scores(screen(client, name="Bazghandi", id_number="D10008106"))
    assert alone == {"42599": 1.0}
    # another name with the same number stays below: half a name is not enough
    assert scores(screen(client, name="Mohammad Ahmadi", id_number="D10008106")) == {}
    # a list's own reference is not an identifier a customer carries
    assert scores(screen(client, name="Bazghandi", id_number="42599")) == {}


def test_bad_values_name_their_field(client: FlaskClient) -> None:
    for params, field in [
        ({"dob": "18/02/1962"}, "dob"),
        ({"dob": "1962-02-30"}, "dob"),
        ({"dob": "1962-2-18"}, "dob"),
        ({"dob": "0962"}, "dob"),
        ({"nationality": "XX"}, "nationality"),
        ({"nationality": "Atlantis"}, "nationality"),
        ({"id_number": "A-1"}, "id_number"),
        ({"id_number": "x" * 101}, "id_number"),
        ({"id_number": "D1000\x008106"}, "id_number"),  # a control character
    ]:
        response = client.get("/screen", query_string={"name": "Kim Yong Chol", **params})
        assert response.status_code == 400, params
        assert [e["field"] for e in response.get_json()["errors"]] == [field], params
    batch = client.post(
        "/screen",
        json={
            "queries": [
                {"id": "a", "name": "Kim Yong Chol", "dob": "1962-02-18"},
                {"id": "b", "name": "Kim Yong Chol", "dob": 1962},
                {"id": "c", "name": "Kim Yong Chol", "nationality": "North Korea"},
            ]
        },
    )
    assert batch.status_code == 200
    results = batch.get_json()["results"]
    assert results[0]["matches"][0]["entity_id"] == "us-ofac-sdn:17614"
    assert results[1]["error"]["errors"][0]["field"] == "dob"  # its own error, the others run
    assert results[2]["query"]["nationality"] == "KP"


CSV_IN = (
    "id,name,dob,nationality,id_number\n"
    "1,Kim Yong Chol,1962-02-18,KP,\n"
    "2,Bazghandi,,,D10008106\n"
    "3,Haji Baz,1964-03-12,,\n"
    "4,Kim Yong Chol,18 Feb 1962,,\n"
)


def test_csv_columns_in_and_explanations_out(client: FlaskClient) -> None:
    response = client.post(
        "/screen", data=CSV_IN, content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_query = [(r["query_id"], r["entity_id"], r["score"]) for r in rows]
    assert by_query == [
        ("1", "us-ofac-sdn:17614", "1.0000"),
        ("2", "us-ofac-sdn:42599", "1.0000"),
        ("3", "us-ofac-sdn:13127", "0.8071"),
        ("4", "", ""),
    ]
    assert rows[0]["query_dob"] == "1962-02-18" and rows[0]["query_nationality"] == "KP"
    assert rows[0]["explanation"] == (
        "All 3 words of the query match KIM, Yong Chol (the primary name); lowered by 0.02 "
        "(aligned words appear in a different order); the date of birth 1962-02-18 matches "
        "1962-02-18; the nationality KP matches."
    )
    assert rows[1]["query_id_number"] == "D10008106"
    assert "matches passport D10008106" in rows[1]["explanation"]
    assert rows[3]["error"].startswith("dob: Not a date of birth")


def test_the_command_line(sdn_db: Path, tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text(CSV_IN, encoding="utf-8")
    result = CliRunner().invoke(main, ["screen", str(names), "--db", str(sdn_db)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["query_id"], r["entity_id"]) for r in rows] == [
        ("1", "us-ofac-sdn:17614"),
        ("2", "us-ofac-sdn:42599"),
        ("3", "us-ofac-sdn:13127"),
        ("4", ""),
    ]
    assert rows[2]["explanation"].endswith("the date of birth 1964-03-12 matches 1964-03-12.")
    assert rows[3]["error"].startswith("dob:")


def test_hidden_false_positives_are_counted_and_replaced(sdn_db: Path) -> None:
    db = open_registry(sdn_db)
    try:
        key = create_key(db, "analyst", "write")[1]
    finally:
        db.close()
    client = make_app(sdn_db).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    name = "Yong Chol Kim"
    first = screen(client, name=name, limit=1)
    assert scores(first) == {"12211": 1.0} and first["hidden_false_positives"] == 0
    decided = client.post(
        "/decisions",
        json={"query": name, "entity_id": "us-ofac-sdn:12211", "verdict": "false_positive"},
    )
    assert decided.status_code == 201
    hidden = screen(client, name=name, limit=1, hide_false_positives="true")
    # the namesake is left out, counted, and the next match takes its place
    assert scores(hidden) == {"17614": 1.0} and hidden["hidden_false_positives"] == 1
    shown = screen(client, name=name, limit=1)
    assert shown["matches"][0]["decision"]["verdict"] == "false_positive"
    assert shown["hidden_false_positives"] == 0
    as_csv = client.post(
        "/screen?hide_false_positives=true&limit=1",
        data=f"name\n{name}\n",
        content_type="text/csv",
        headers={"Accept": "text/csv"},
    )
    (row,) = csv.DictReader(io.StringIO(as_csv.get_data(as_text=True)))
    assert (row["entity_id"], row["hidden_false_positives"]) == ("us-ofac-sdn:17614", "1")


def test_dates_of_birth_are_versioned_and_screened_as_of(sdn_db: Path) -> None:
    db = open_registry(sdn_db)
    try:
        key = create_key(db, "editor", "write")[1]
    finally:
        db.close()
    client = make_app(sdn_db).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    entity = {
        "id": "zebulon-quartermaine",
        "type": "person",
        "name": "Zebulon Quartermaine",
        "birth_dates": ["1970-05-04"],
        "nationalities": ["NZ"],
        "designations": [
            {
                "id": "zebulon-quartermaine-test",
                "jurisdiction": "GB",
                "authority": "FCDO",
                "list": "UK Sanctions List",
                "evidence": [{"source": "zebulon-note", "locator": "hand entry"}],
            }
        ],
    }
    bulk = {
        "dataset": "attrs-test",
        "sources": [
            {"id": "zebulon-note", "kind": "other", "title": "A test note", "text": "hand entry"}
        ],
        "entities": [entity],
    }
    assert client.post("/bulk", json=bulk).status_code == 200
    then = client.get("/entities/zebulon-quartermaine").get_json()["updated_at"]
    assert scores(screen(client, name="Zebulon Quartermaine", dob="1970"))
    bad = client.post("/bulk", json={**bulk, "entities": [{**entity, "birth_dates": ["1970-5"]}]})
    assert bad.status_code == 400
    assert bad.get_json()["errors"][0]["field"] == "entities[0].birth_dates[0]"
    changed = {**entity, "birth_dates": ["1980"]}
    assert client.post("/bulk", json={**bulk, "entities": [changed]}).status_code == 200
    now = screen(client, name="Zebulon Quartermaine", dob="1970")
    assert now["matches"] == []  # 1970 conflicts with 1980 now ...
    past = screen(client, name="Zebulon Quartermaine", dob="1970", as_of=then)
    assert scores(past) == {"zebulon-quartermaine": 1.0}  # ... not as the registry stood then
    detail = client.get("/entities/zebulon-quartermaine", query_string={"as_of": then})
    assert [b["date"] for b in detail.get_json()["birth_dates"]] == ["1970-05-04"]
