"""Every record of every real file loads with the fixture contract; ids are unique."""

from __future__ import annotations

import re

import pytest

from schemas import EntitySchema, SourceSchema

from .conftest import REAL, real

ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,127}$")


@pytest.mark.parametrize("name", list(REAL))
def test_records_load(name: str) -> None:
    parsed = real(name)
    schema = EntitySchema()
    ids: set[str] = set()
    source_ids = {s["id"] for s in parsed.sources}
    for doc in parsed.records:
        errors = schema.validate(doc)
        assert not errors, (doc["id"], errors)
        assert doc["id"].startswith(f"{parsed.dataset}:")
        assert ID.match(doc["id"])
        ids.add(doc["id"])
        designation_ids = [d["id"] for d in doc["designations"]]
        assert all(i.startswith(doc["id"] + ":") for i in designation_ids)
        for designation in doc["designations"]:
            for evidence in designation["evidence"]:
                assert evidence["source"] in source_ids
                assert ":" in evidence["locator"]
    assert len(ids) == len(parsed.records)


@pytest.mark.parametrize("name", list(REAL))
def test_sources(name: str) -> None:
    parsed = real(name)
    for source in parsed.sources:
        assert source["kind"] == "official_list"
        assert source["checksum"].startswith("sha256:") and source["size"] > 0
        loadable = {k: v for k, v in source.items() if k != "size"}
        assert not SourceSchema().validate(loadable), source
