"""The kana and title cases of issue 9 (point 5) through GET /screen, against real
OFAC SDN rows (SDN.CSV of 23 February 2024, primary names):

  35096 PUTIN, Vladimir Vladimirovich     2676  AL ZAWAHIRI, Dr. Ayman
  20157 KIM, Jong Un                      16416 MASAKI, Toshio
  7710  KOVACEVIC, Vladimir               16648 KONSTANTINOV, Vladimir Andreyevich
  10140 RUSAKEVICH, Vladimir Vasilyevich
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.db import open_registry
from registry.imports import run_import
from registry.matching import DEFAULT_THRESHOLD

from .conftest import make_app, sdn_sample

UIDS = ("35096", "2676", "20157", "16416", "7710", "16648", "10140")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    folder = tmp_path_factory.mktemp("kana")
    sample = sdn_sample(folder, UIDS)
    db_path = folder / "registry.db"
    db = open_registry(db_path)
    try:
        run_import(db, "ofac-csv", [sample])
    finally:
        db.close()
    yield make_app(db_path).test_client()


def matches(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/screen", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    found: list[dict[str, Any]] = response.get_json()["matches"]
    return found


def uid(match: dict[str, Any]) -> str:
    return str(match["entity_id"]).rsplit(":", 1)[-1]


@pytest.mark.parametrize("etype", [None, "person"])
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ウラジーミル・プーチン", "35096"),
        ("ウラジミール・プーチン", "35096"),
        ("キム・ジョンウン", "20157"),
        ("アイマン・ザワヒリ", "2676"),
    ],
)
def test_katakana_finds_the_listed_name_first(
    client: FlaskClient, name: str, expected: str, etype: str | None
) -> None:
    found = matches(client, name=name, **({"type": etype} if etype else {}))
    assert found, name
    assert uid(found[0]) == expected
    assert found[0]["match"] is True and found[0]["score"] >= DEFAULT_THRESHOLD


def test_a_japanese_name_in_katakana_is_not_flagged(client: FlaskClient) -> None:
    # Flagged against MASAKI, Toshio at 0.89 when kana were compared on consonants.
    assert matches(client, name="タイチ・ヤマザキ") == []


@pytest.mark.parametrize("etype", [None, "person"])
def test_a_title_scores_like_the_name_without_it(client: FlaskClient, etype: str | None) -> None:
    typed = {"type": etype} if etype else {}
    with_title = matches(client, name="Dr AL ZAWAHIRI", min_score=0.5, **typed)
    without = matches(client, name="AL ZAWAHIRI", min_score=0.5, **typed)
    assert [(uid(m), m["score"]) for m in with_title] == [(uid(m), m["score"]) for m in without]
    assert uid(with_title[0]) == "2676"
    # The full name with a title the listed name holds too: a match, the title aligned.
    full = matches(client, name="Dr Ayman al-Zawahiri", **typed)
    assert uid(full[0]) == "2676" and full[0]["score"] == 1.0
