"""The seed fixtures: what the seeds and official rows say, and nothing else."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from .conftest import FIXTURES, SEEDS, SHARED_DATA

SHARED_SEEDS = SHARED_DATA.parent / "seeds"


def seed_text(source_id: str) -> str:
    manifest = json.loads((SEEDS / "manifest.json").read_text())
    entry = next(s for s in manifest["sources"] if s["id"] == source_id)
    return (SEEDS / entry["path"]).read_text(encoding="utf-8")


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_seed_documents_are_verbatim_copies_with_checksums() -> None:
    manifest = json.loads((SEEDS / "manifest.json").read_text())
    files = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert sorted(s["path"] for s in manifest["sources"]) == files
    for source in manifest["sources"]:
        content = (SEEDS / source["path"]).read_bytes()
        assert source["checksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
        if SHARED_SEEDS.exists():
            assert content == (SHARED_SEEDS / source["path"]).read_bytes()
        assert source["title"] and source["language"] in {"en", "de"}


def test_uk_entities_of_2024_02_22_with_conduct_and_quote(client: FlaskClient) -> None:
    page = client.get(
        "/entities?jurisdiction=GB&listed_from=2024-02-22&listed_to=2024-02-22"
    ).get_json()
    assert page["total"] == 3
    names = {item["name"] for item in page["items"]}
    assert names == {
        "FINDER TECHNOLOGY LTD",
        "JUHANG AVIATION TECHNOLOGY (SHENZHEN) CO., LIMITED",
        "BEIJING MICROPILOT FLIGHT CONTROL SYSTEMS CO., LTD.",
    }
    seed = squash(seed_text("seed-000"))
    for item in page["items"]:
        detail = client.get(f"/entities/{item['id']}").get_json()
        uk = [d for d in detail["designations"] if d["jurisdiction"] == "GB"]
        assert len(uk) == 1
        designation = uk[0]
        assert designation["listed_date"] == "2024-02-22"
        assert designation["listed_date_precision"] == "day"
        assert designation["authority"] == "FCDO"
        assert designation["conduct"]
        quotes = [e["quote"] for e in designation["evidence"] if e.get("quote")]
        assert quotes and all(squash(q) in seed for q in quotes)
        assert any("February 22, 2024" in q for q in quotes)
        rows = [e["row"] for e in designation["evidence"] if e.get("row")]
        assert rows and rows[0]["date_designated"] == "22/02/2024"
        assert designation["action"]["id"] == "gb-2024-02-22-russia"
        assert any(s["id"] == "seed-000" for s in detail["sources"])


def test_uk_identifiers_and_name_variations(client: FlaskClient) -> None:
    finder = client.get("/entities/finder-technology-ltd").get_json()
    values = {(i["scheme"], i["value"]) for i in finder["identifiers"]}
    assert ("uk-sanctions-list-ref", "RUS2110") in values
    assert ("business_registration_number", "HK0017526777") in values
    micropilot = client.get("/entities/beijing-micropilot-flight-control-systems-co-ltd")
    variations = [n["name"] for n in micropilot.get_json()["names"] if n["kind"] == "variation"]
    assert variations == ["BEIJING MAIKE PUTE AVIATION ELECTRONIC CO., LTD"]


def test_juhang_chinese_name_and_eu_listing(client: FlaskClient) -> None:
    juhang = client.get("/entities/juhang-aviation-technology-shenzhen-co-limited").get_json()
    chinese = [n for n in juhang["names"] if n["kind"] == "other_script"]
    assert chinese == [
        {
            "name": "巨航航空科技（深圳）有限公司",
            "kind": "other_script",
            "script": "Hani",
            "lang": "zh",
            "source": "eu-fsf",
            "record": juhang["id"],
        }
    ]
    eu = [d for d in juhang["designations"] if d["jurisdiction"] == "EU"]
    assert len(eu) == 1 and eu[0].get("listed_date") is None  # the EU data gives no date
    assert {"scheme": "cn-uscc", "value": "91440300MA5GN73B4F"}.items() <= next(
        i for i in juhang["identifiers"] if i["scheme"] == "cn-uscc"
    ).items()


def test_entity_list_entry_found_by_name_with_rule_and_date(client: FlaskClient) -> None:
    page = client.get("/entities?q=Dennex&jurisdiction=US").get_json()
    assert [i["id"] for i in page["items"]] == ["dennex-enterprises-limited"]
    detail = client.get("/entities/dennex-enterprises-limited").get_json()
    (designation,) = detail["designations"]
    assert designation["listed_date"] == "2024-02-23"
    assert designation["reference"] == "89 FR 14388"
    assert designation["authority"] == "BIS" and designation["list"] == "Entity List"
    assert detail["addresses"][0]["full"].startswith("2 Ice House Street")
    assert "us-fr-89-fr-14388" in {s["id"] for s in detail["sources"]}


def test_entity_list_action_has_eight_targets_and_no_assigned_conduct_split(
    client: FlaskClient,
) -> None:
    action = client.get("/actions/us-bis-2024-02-23-entity-list-china").get_json()
    assert action["target_count"] == 8
    assert len(action["designations"]) == 8
    # The seed's five/two split is recorded on the action, never on an entity.
    for link in action["designations"]:
        detail = client.get(f"/entities/{link['entity']['id']}").get_json()
        for designation in detail["designations"]:
            assert "microelectronics" not in (designation.get("conduct") or "")
            assert "machine tools" not in (designation.get("conduct") or "")


def test_unnamed_actions_are_recorded_with_quotes(client: FlaskClient) -> None:
    actions = {a["id"]: a for a in client.get("/actions?limit=50").get_json()["items"]}
    assert set(actions) == {
        "gb-2024-02-22-russia",
        "us-bis-2024-02-23-entity-list-china",
        "eu-2024-02-23-13th-package",
        "us-2024-04-12-russian-metals",
        "gb-2024-04-12-russian-metals",
        "us-2024-06-seven-china-based-companies",
    }
    assert actions["eu-2024-02-23-13th-package"]["target_count"] == 4
    assert actions["eu-2024-02-23-13th-package"]["designations"] == []
    assert actions["us-2024-06-seven-china-based-companies"]["date"] == "2024-06"
    assert actions["us-2024-06-seven-china-based-companies"]["authority"] is None
    for action in actions.values():
        for evidence in action["evidence"]:
            if evidence.get("quote"):
                assert squash(evidence["quote"]) in squash(seed_text(evidence["source"]))


def test_every_fixture_quote_is_verbatim_in_its_seed() -> None:
    for path in FIXTURES.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for quote_source in re.finditer(
            r'"source": "(seed-\d+)",\s*"quote": "((?:[^"\\]|\\.)*)"', text
        ):
            quote = json.loads(f'"{quote_source.group(2)}"')
            assert squash(quote) in squash(seed_text(quote_source.group(1))), (path, quote)


def test_fixture_files_validate_against_the_schema() -> None:
    from schemas import FixtureSchema

    for path in [*FIXTURES.glob("*.json"), SEEDS / "manifest.json"]:
        FixtureSchema().load(json.loads(Path(path).read_text(encoding="utf-8")))
