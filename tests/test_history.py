"""History and as-of reads: every change kept, any past answer reproducible."""

from __future__ import annotations

from flask.testing import FlaskClient

from .test_api_errors import NEW_ENTITY


def test_history_keeps_every_version_with_who_and_what(client: FlaskClient) -> None:
    entity_id = client.post("/entities", json=NEW_ENTITY).get_json()["id"]
    client.patch(f"/entities/{entity_id}", json={"name": "Renamed Test Ltd", "country": "HK"})
    client.delete(f"/entities/{entity_id}")
    page = client.get(f"/entities/{entity_id}/history").get_json()
    assert [e["change"] for e in page["items"]] == ["added", "changed", "deleted"]
    added, changed, deleted = page["items"]
    assert added["before"] is None and added["after"]["name"] == "Envelope Test Ltd"
    assert changed["before"]["name"] == "Envelope Test Ltd"
    assert changed["after"]["name"] == "Renamed Test Ltd"
    assert changed["diff"]["name"] == {"before": "Envelope Test Ltd", "after": "Renamed Test Ltd"}
    assert changed["diff"]["country"] == {"before": None, "after": "HK"}
    assert deleted["after"] is None and deleted["before"]["name"] == "Renamed Test Ltd"
    assert all(e["actor"].startswith("key:") for e in page["items"])
    assert client.get("/entities/never-existed/history").status_code == 404


def test_as_of_answers_as_the_registry_stood(client: FlaskClient) -> None:
    entity_id = client.post("/entities", json=NEW_ENTITY).get_json()["id"]
    client.patch(f"/entities/{entity_id}", json={"name": "Renamed Test Ltd"})
    client.delete(f"/entities/{entity_id}")
    at = [e["at"] for e in client.get(f"/entities/{entity_id}/history").get_json()["items"]]

    first = client.get(f"/entities/{entity_id}", query_string={"as_of": at[0]}).get_json()
    assert first["name"] == "Envelope Test Ltd" and first["as_of"] == at[0]
    assert [n["name"] for n in first["names"]] == ["Envelope Test Ltd"]
    assert first["designations"][0]["id"] == "envelope-test-gb"
    second = client.get(f"/entities/{entity_id}", query_string={"as_of": at[1]}).get_json()
    assert second["name"] == "Renamed Test Ltd"
    gone = client.get(f"/entities/{entity_id}", query_string={"as_of": at[2]})
    assert gone.status_code == 404 and gone.get_json()["errors"][0]["field"] == "as_of"
    assert client.get(f"/entities/{entity_id}").status_code == 410

    def search(name: str, as_of: str | None = None) -> list[str]:
        params = {"q": name, **({"as_of": as_of} if as_of else {})}
        return [i["id"] for i in client.get("/entities", query_string=params).get_json()["items"]]

    assert search("Envelope", at[0]) == [entity_id]
    assert search("Envelope", at[1]) == []  # renamed by then
    assert search("Renamed", at[1]) == [entity_id]
    assert search("Renamed") == []  # deleted now


def test_as_of_before_a_load_shows_nothing_and_dates_are_checked(client: FlaskClient) -> None:
    assert client.get("/entities?as_of=2020-01-01").get_json()["total"] == 0
    assert client.get("/entities?as_of=2999-01-01").get_json()["total"] == 11
    old = client.get("/entities/finder-technology-ltd?as_of=2020-01-01")
    assert old.status_code == 404
    today = client.get("/entities?jurisdiction=GB&as_of=2999-12-31T23:59:59Z").get_json()
    assert today["total"] == 3
    bad = client.get("/entities?as_of=last-march")
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "as_of"
