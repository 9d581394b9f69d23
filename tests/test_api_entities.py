"""Reading entities: filters, search, pages, detail."""

from __future__ import annotations

from flask.testing import FlaskClient


def ids(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def test_filters_combine_on_the_same_listing(client: FlaskClient) -> None:
    assert len(ids(client, "/entities?jurisdiction=US")) == 8
    assert len(ids(client, "/entities?authority=bis")) == 8  # case-insensitive
    assert ids(client, "/entities?jurisdiction=EU") == [
        "juhang-aviation-technology-shenzhen-co-limited"
    ]
    # GB listings exist, but none on 2024-02-23.
    assert ids(client, "/entities?jurisdiction=GB&listed_from=2024-02-23") == []
    assert len(ids(client, "/entities?listed_from=2024-02-23&listed_to=2024-02-23")) == 8
    assert len(ids(client, "/entities?program=russia")) == 3
    assert ids(client, "/entities?type=person") == []
    assert len(ids(client, "/entities?type=company&status=active")) == 11


def test_country_matches_the_entity_or_an_address(client: FlaskClient) -> None:
    hong_kong = ids(client, "/entities?country=HK")
    assert "dennex-enterprises-limited" in hong_kong
    assert "finder-technology-ltd" not in hong_kong  # no address held
    assert "bion-group-ic-ve-dis-ticaret-limited-sirketi" in ids(client, "/entities?country=TR")
    assert len(ids(client, "/entities?country=CN")) == 11


def test_source_filter_follows_the_evidence(client: FlaskClient) -> None:
    assert len(ids(client, "/entities?source=seed-000")) == 11
    assert ids(client, "/entities?source=eu-fsf") == [
        "juhang-aviation-technology-shenzhen-co-limited"
    ]
    assert ids(client, "/entities?source=seed-003") == []


def test_name_search_is_case_and_accent_insensitive_and_reads_identifiers(
    client: FlaskClient,
) -> None:
    assert ids(client, "/entities?q=dennex") == ["dennex-enterprises-limited"]
    assert ids(client, "/entities?q=DENNÉX") == ["dennex-enterprises-limited"]
    assert ids(client, "/entities?q=micropil") == [
        "beijing-micropilot-flight-control-systems-co-ltd"
    ]  # word prefix
    assert ids(client, "/entities?q=maike pute") == [
        "beijing-micropilot-flight-control-systems-co-ltd"
    ]  # a name variation
    assert ids(client, "/entities?q=RUS2110") == ["finder-technology-ltd"]
    assert ids(client, "/entities?q=hk0017526777") == ["finder-technology-ltd"]
    assert ids(client, '/entities?q="speed*" (') == [
        "shenzhen-speed-industrial-materials-co-ltd"
    ]  # FTS syntax is just words


def test_cursor_pages_cover_every_match_once(client: FlaskClient) -> None:
    seen: list[str] = []
    url = "/entities?limit=3"
    totals = set()
    while url:
        page = client.get(url).get_json()
        totals.add(page["total"])
        seen += [item["id"] for item in page["items"]]
        url = f"/entities?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert totals == {11}
    assert len(seen) == 11 and len(set(seen)) == 11 and seen == sorted(seen)


def test_detail_holds_records_and_sources(client: FlaskClient) -> None:
    detail = client.get("/entities/sigma-technology-limited").get_json()
    assert [r["id"] for r in detail["records"]] == ["sigma-technology-limited"]
    assert detail["records"][0]["merge"]["rule"] == "new"
    assert {a["country"] for a in detail["addresses"]} == {"HK"}
    assert len(detail["addresses"]) == 4
    assert {n["name"] for n in detail["names"]} >= {"Sigma Technology", "Sigma Technology Ltd."}
    assert {s["id"] for s in detail["sources"]} == {
        "seed-000",
        "us-ecfr-entity-list",
        "us-fr-89-fr-14388",
    }


def test_designations_actions_and_sources_lists(client: FlaskClient) -> None:
    designations = client.get("/designations?jurisdiction=GB").get_json()
    assert designations["total"] == 3
    assert {d["entity"]["id"] for d in designations["items"]} >= {"finder-technology-ltd"}
    assert all(d["evidence"] for d in designations["items"])
    assert client.get("/designations?action=gb-2024-02-22-russia").get_json()["total"] == 3
    assert client.get("/designations?entity=exeya-co-limited").get_json()["total"] == 1
    actions = client.get("/actions?date_from=2024-04-01&date_to=2024-06-30").get_json()
    assert {a["id"] for a in actions["items"]} == {
        "us-2024-04-12-russian-metals",
        "gb-2024-04-12-russian-metals",
        "us-2024-06-seven-china-based-companies",
    }
    news = client.get("/sources?kind=news_article").get_json()
    assert news["total"] == 5 and all("text" not in s for s in news["items"])
    seed = client.get("/sources/seed-002").get_json()
    assert seed["language"] == "de" and seed["published"] == "2024-05-03"
    assert "Metallhandelsbörsen" in seed["text"]
    assert seed["cited_by"] == {"designations": 0, "actions": 2}


def test_stats_and_health(client: FlaskClient) -> None:
    stats = client.get("/stats").get_json()
    assert stats["entities"] == 11
    assert stats["by_jurisdiction"] == {"EU": 1, "GB": 3, "US": 8}
    assert stats["by_authority"]["BIS"] == 8
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["generation"] >= 1


def test_openapi_document_covers_every_endpoint(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/entities",
        "/entities/{entity_id}",
        "/designations",
        "/actions",
        "/actions/{action_id}",
        "/sources",
        "/sources/{source_id}",
        "/healthz",
        "/stats",
        "/bulk",
    }
    assert set(spec["paths"]["/entities/{entity_id}"]) >= {"get", "put", "patch", "delete"}
    params = {p["name"] for p in spec["paths"]["/entities"]["get"]["parameters"]}
    assert params >= {
        "q",
        "jurisdiction",
        "authority",
        "program",
        "type",
        "country",
        "listed_from",
        "listed_to",
        "source",
        "limit",
        "cursor",
    }
