"""Normalisation behaviours (table-driven)."""

import pytest

from registry.matching import normalize_name

CASES = [
    ("Finder Тechnology Ltd", "finder technology ltd"),  # Cyrillic Т inside a Latin word
    ("ΟΑΟ Gazprom", "oao gazprom"),  # Greek look-alikes in a Latin name
    ("Vla\u200bdimir Pu\u00adtin\ufeff", "vladimir putin"),  # zero-width, soft hyphen, BOM
    ("Влади\u200dмир", "vladimir"),
    ("Владимир Путин", "vladimir putin"),  # fully Cyrillic: transliterated
    ("ＦＩＮＤＥＲ　ＬＴＤ", "finder ltd"),  # full-width letters and space
    ("（深圳）", "shenzhen"),  # full-width brackets
    ("巨航航空科技（深圳）有限公司", "juhang aviation technology shenzhen limited company"),
    ("习近平", "xi jinping"),
    ("김정은", "kim jong un"),
    ("Micro-Pilot", "micro pilot"),
    ("A.B.C. Company", "abc company"),
    ("U.S. Department of State", "us department of state"),
    ("Al-Qa'ida", "al qaida"),
    ("AT&T Inc.", "at and t inc"),
    ("Ig0r Sech1n", "igor sechin"),
    ("Brigade Forty-Four", "brigade 44"),
    ("1st International Bank", "1 international bank"),
    ("First International Bank", "1 international bank"),
    ("Erdoğan", "erdogan"),
    ("  ", ""),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_micropilot_spellings_share_letters() -> None:
    forms = {
        normalize_name(x).replace(" ", "") for x in ["Micropilot", "Micro-Pilot", "Micro Pilot"]
    }
    assert forms == {"micropilot"}
