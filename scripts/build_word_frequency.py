"""Build registry/data/name_word_frequency.json: how many listed entities use each word.

Run by hand when the lists change much (the table only needs to know which words
are common, and that changes slowly):

    .venv/bin/python scripts/build_word_frequency.py

Reads the OFAC SDN, UK and EU/UN lists from ../shared/data (see bench/paths.py),
analyses every name as the matcher does (`analysis.analyze`) and counts, for each
distinctive or generic word (its comparison form, Latin script), the entities
that have it in one of their names. Words used by fewer than MIN_ENTITIES
entities are left out: the scorer treats every word it does not find as rare.

The table is static on purpose: a score must not depend on which layer of the
live index an entity sits in, nor change when one entity is added.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.data import load_eu_un, load_ofac, load_uk
from registry.matching.analysis import Kind, analyze
from registry.matching.normalize import LATIN

MIN_ENTITIES = 20
OUT = Path(__file__).resolve().parents[1] / "registry" / "data" / "name_word_frequency.json"


def main() -> None:
    listed = load_ofac() + load_uk() + load_eu_un()
    users: dict[str, set[str]] = defaultdict(set)
    for item in listed:
        for tok in analyze(item.name, item.entity_type).tokens:
            if tok.kind in (Kind.NAME, Kind.GENERIC) and tok.script == LATIN:
                users[tok.text].add(item.entity_id)
    entities = len({x.entity_id for x in listed})
    words = {w: len(ids) for w, ids in users.items() if len(ids) >= MIN_ENTITIES}
    table = {
        "source": "OFAC SDN, UK sanctions list, EU/UN consolidated lists (../shared/data); "
        "built by scripts/build_word_frequency.py",
        "entities": entities,
        "min_entities": MIN_ENTITIES,
        "words": dict(sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    OUT.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(words)} words used by >= {MIN_ENTITIES} of {entities} entities -> {OUT}")


if __name__ == "__main__":
    main()
