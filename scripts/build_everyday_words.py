"""Build registry/data/everyday_words.json: words of listed names that are also
common words of everyday language (wordfreq's Zipf scale, MIN_ZIPF or more).

Run by hand when the lists change much (needs `pip install wordfreq`, a build-time
tool only; the service reads the JSON):

    .venv/bin/python scripts/build_everyday_words.py

A listed company named by an everyday word ("ROSE SHIPPING", "BLANC BANK") shares
that word with countless innocent businesses: a match on it is believable only
when the rest of the names agrees too (scorer.everyday and the everyday_words
rule). The table holds every distinctive or generic word of a listed name (OFAC
SDN, UK, EU/UN lists in ../shared/data), in the matcher's folded Latin form
(normalize_name: lower case, accents stripped, Cyrillic transliterated), whose Zipf
frequency is at least MIN_ZIPF in one of LANGUAGES.

Words not in the table count as not everyday (Zipf 0). The table is static, like
name_word_frequency.json: a score must not depend on the index's state.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wordfreq import top_n_list, zipf_frequency

from bench.data import load_eu_un, load_ofac, load_uk
from registry.matching.analysis import Kind, analyze
from registry.matching.normalize import LATIN, normalize_name

#: Languages written in Latin script (and Russian and Ukrainian, transliterated).
LANGUAGES = (
    "en", "fr", "de", "es", "it", "pt", "nl", "pl", "tr", "sv", "da", "nb", "fi", "ro",
    "cs", "sk", "sl", "hu", "ca", "lt", "lv", "id", "ms", "ru", "uk",
)  # fmt: skip
MIN_ZIPF = 4.0  # about 10 uses in a million words
TOP_N = 60_000
OUT = Path(__file__).resolve().parents[1] / "registry" / "data" / "everyday_words.json"


def fold(word: str) -> str:
    return normalize_name(word)


def main() -> None:
    zipf: dict[str, float] = {}
    for lang in LANGUAGES:
        for w in top_n_list(lang, TOP_N):
            z = zipf_frequency(w, lang)
            if z < MIN_ZIPF:
                break
            f = fold(w)
            if len(f) < 2 or not f.isascii() or not f.isalpha():
                continue
            if z > zipf.get(f, 0.0):
                zipf[f] = z
    listed_words: set[str] = set()
    for item in load_ofac() + load_uk() + load_eu_un():
        for tok in analyze(item.name, item.entity_type).tokens:
            if tok.kind in (Kind.NAME, Kind.GENERIC) and tok.script == LATIN:
                listed_words.add(tok.raw)
                listed_words.add(tok.text)
    table = sorted(w for w in listed_words if w in zipf)
    out = {
        "source": "words of the OFAC SDN, UK and EU/UN lists (../shared/data) with a wordfreq "
        "Zipf frequency of at least min_zipf in one of the languages; built by "
        "scripts/build_everyday_words.py",
        "languages": list(LANGUAGES),
        "min_zipf": MIN_ZIPF,
        "words": table,
    }
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(table)} everyday words -> {OUT}")


if __name__ == "__main__":
    main()
