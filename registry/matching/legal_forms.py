"""Legal forms, generic organisation words, person titles and particles.

Legal forms come from opensanctions/rigour's ``org_types.yml`` (MIT), converted
once by ``scripts/convert_org_types.py`` into ``registry/data/org_types.json``
(attribution inside the file). Everything else here is a small hand-kept
vocabulary. All entries are matched on *normalised* tokens, so "Co., Ltd.",
"CO LTD" and "co.ltd" are the same thing.

These words are weighed low by the scorer: they never make a match on their
own and their absence never breaks one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from .normalize import normalize_name

__all__ = [
    "GENERIC_ORG_WORDS",
    "HONORIFICS",
    "ORG_STOPWORDS",
    "PERSON_PARTICLES",
    "LegalForm",
    "canonical_org_word",
    "find_legal_forms",
    "legal_forms_conflict",
]


@dataclass(frozen=True, slots=True)
class LegalForm:
    """A legal form found at tokens[start:end]."""

    start: int
    end: int
    key: str  # rigour's "compare" spelling, e.g. "LLC", "OOO", "AG"
    generic: str  # rigour's class: LLC, JSC, LP, NGO, SOE, ... ("" if unknown)

    def __reduce__(self) -> tuple[Any, ...]:
        # A constructor call: the same pickle whether or not the class is compiled.
        return LegalForm, (self.start, self.end, self.key, self.generic)


# Short aliases that are also ordinary words or name parts: never legal forms.
_NEVER: Final = frozenset(
    """
    in is of no go up at as ii na da ad et ed od ju yu do so an or on to it ok pe pr ps rs
    sb pc ep ei ek ev og ou sc sd sf kb kd ks ky hf gk gp ga gu jp kv lc ll lt ro vo zs uu
    tu ss bo bt ca ae mm pa pp up ip is im ik sem sad pat bat mau too tov ogu moo ry rf of
    df bf go sp dp
    """.split()  # noqa: SIM905
)
# Legal-form designators that English names use loosely; no conflict is read into
# "Inc" against "Corp" or "Ltd" against "LLC".
_LOOSE: Final = frozenset(
    {"Inc", "Ltd", "Co", "Corp", "Company", "Corporation", "PLC", "LLC", "Co Ltd"}
)

# English designators rigour treats as generic words, added as legal forms here.
_EXTRA_FORMS: Final[dict[str, tuple[str, str]]] = {
    "co": ("Co", ""),
    "company": ("Co", ""),
    "companies": ("Co", ""),
    "corp": ("Corp", ""),
    "corporation": ("Corp", ""),
    "incorporated": ("Inc", "LLC"),
    "inc": ("Inc", "LLC"),
    "co ltd": ("Co Ltd", "LLC"),
    "co limited": ("Co Ltd", "LLC"),
    "company limited": ("Co Ltd", "LLC"),
    "limited company": ("Co Ltd", "LLC"),
    "limited liability company": ("LLC", "LLC"),
    "joint stock company": ("JSC", "JSC"),
    "pte ltd": ("Pte Ltd", "LLC"),
    "pty ltd": ("Pty Ltd", "LLC"),
    "sdn bhd": ("Sdn Bhd", "LLC"),
    "fzco": ("FZCO", "LLC"),
    "fz llc": ("FZ-LLC", "LLC"),
    "joint stock limited company": ("JSC", "JSC"),
}


_Phrases = tuple[dict[tuple[str, ...], tuple[str, str]], int]
# The table as a saved index handed it over (`use_phrase_table`), if it came first.
_GIVEN: list[_Phrases] = []


@lru_cache(maxsize=1)
def _phrases() -> _Phrases:
    """Normalised alias token tuples -> (key, generic); built once, lazily."""
    if _GIVEN:
        return _GIVEN[0]
    raw = resources.files("registry.data").joinpath("org_types.json").read_text("utf-8")
    data = json.loads(raw)
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for key, generic, aliases in data["types"]:
        for alias in aliases:
            toks = tuple(normalize_name(alias).split())
            if not toks or (len(toks) == 1 and toks[0] in _NEVER):
                continue
            table.setdefault(toks, (key, generic))
    for alias, value in _EXTRA_FORMS.items():
        table[tuple(alias.split())] = value
    longest = max(len(k) for k in table)
    return table, longest


def phrase_table() -> _Phrases:
    """The legal-form table, for a saved index to carry (`registry.index_snapshot`):
    building it normalises the Chinese and Japanese aliases, which imports
    pypinyin's dictionaries, 0.35 s of CPU that a process starting from a saved
    index would otherwise spend on its first screening."""
    return _phrases()


def use_phrase_table(table: _Phrases) -> None:
    """Use `table` (`phrase_table()` of a process running the same code and data)
    instead of building it, unless it was built already."""
    if not _GIVEN:
        _GIVEN.append(table)


@lru_cache(maxsize=1)
def _ends() -> tuple[frozenset[str], frozenset[str]]:
    """Tokens that begin some legal form, and tokens that end one."""
    table = _phrases()[0]
    return frozenset(k[0] for k in table), frozenset(k[-1] for k in table)


# Short forms that are never name parts: they count anywhere in a name.
_UNAMBIGUOUS_SHORT: Final = frozenset(
    """
    llc ltd inc jsc ooo oao zao pao pjsc ojsc cjsc plc llp gmbh fze fzco bhd pte pty corp co
    lp bv nv ag srl sarl spa
    """.split()  # noqa: SIM905
)


def _short(phrase: tuple[str, ...]) -> bool:
    # A one-token alias of three letters or fewer ("ao", "sa", "as") could be a
    # name part; such forms only count at the start or end of a name.
    return len(phrase) == 1 and len(phrase[0]) <= 3 and phrase[0] not in _UNAMBIGUOUS_SHORT


def find_legal_forms(tokens: list[str], *, person: bool = False) -> list[LegalForm]:
    """Legal forms in a normalised token list, longest match first.

    Short forms only count at either end of the name (chained: "co ltd",
    "gmbh co kg"); long or multi-word forms count anywhere. For a person name
    only forms at the end count (a company name typed into a person field),
    and never when that would leave fewer than two other tokens.
    """
    table, longest = _phrases()
    first, last = _ends()
    n = len(tokens)
    if not n or (tokens[-1] not in last and first.isdisjoint(tokens)):
        return []  # most names: no token can begin or end a form
    found: list[LegalForm] = []
    taken = [False] * n

    def match_at(i: int, edge: bool) -> LegalForm | None:
        if tokens[i] not in first:
            return None
        for size in range(min(longest, n - i), 0, -1):
            phrase = tuple(tokens[i : i + size])
            hit = table.get(phrase)
            if hit is None or any(taken[i : i + size]):
                continue
            if _short(phrase) and not edge:
                continue
            return LegalForm(i, i + size, hit[0], hit[1])
        return None

    # Trailing chain: scan back from the end.
    end = n
    while end > 0 and tokens[end - 1] in last:
        hit = None
        for start in range(max(0, end - longest), end):
            phrase = tuple(tokens[start:end])
            if phrase in table:
                key, generic = table[phrase]
                hit = LegalForm(start, end, key, generic)
                break
        if hit is None or (person and hit.start < 2):
            break
        found.append(hit)
        for k in range(hit.start, hit.end):
            taken[k] = True
        end = hit.start
    if person:
        return sorted(found, key=lambda f: f.start)
    # Leading chain: a short form only right at the start ("OOO STG Logistik":
    # STG is the company's name, not a second legal form).
    i = 0
    while i < n and not taken[i]:
        hit = match_at(i, edge=i == 0)
        if hit is None or hit.end >= n:
            break
        found.append(hit)
        for k in range(hit.start, hit.end):
            taken[k] = True
        i = hit.end
    # Anywhere else: long forms only.
    i = 0
    while i < n:
        if taken[i]:
            i += 1
            continue
        hit = match_at(i, edge=False)
        if hit is None:
            i += 1
            continue
        found.append(hit)
        for k in range(hit.start, hit.end):
            taken[k] = True
        i = hit.end
    # A name made only of legal forms keeps its words as words ("Co., Ltd." alone
    # is then still just a legal form, which the scorer treats as generic).
    return sorted(found, key=lambda f: f.start)


def legal_forms_conflict(a: LegalForm, b: LegalForm) -> bool:
    """True when two legal forms cannot describe the same entity (AG vs GmbH)."""
    if a.key == b.key or a.key in _LOOSE or b.key in _LOOSE:
        return False
    return bool(a.generic and b.generic and a.generic != b.generic)


# --- organisation words -----------------------------------------------------

# Generic words of organisation names -> canonical spelling (abbreviations and
# inflections folded). They carry some meaning ("Trading" vs "Technology" is a
# difference) but far less than the distinctive words.
_GENERIC_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "technology": ("tech", "techn", "technologies", "technological", "technic", "technik"),
    "international": ("intl", "internat", "internacional", "international"),
    "industrial": ("ind", "inds", "indus", "industry", "industries", "industrie", "industria"),
    "manufacturing": ("mfg", "manufacture", "manufacturer", "manufacturers", "mfr"),
    "holding": ("holdings", "hldg", "hldgs"),
    "group": ("grp", "groupe", "gruppe", "grupo", "gruppa", "grupp"),
    "trading": ("trade", "traders", "trader", "tradings"),
    "service": ("services", "svc", "svcs", "servicios", "servicos"),
    "system": ("systems", "sys"),
    "solution": ("solutions",),
    "enterprise": ("enterprises", "ent"),
    "electronic": ("electronics", "elec", "electronica"),
    "electric": ("electrical",),
    "investment": ("investments", "invest", "inv", "investing"),
    "development": ("dev", "developments"),
    "engineering": ("eng", "engg", "engineers"),
    "management": ("mgmt", "mgt"),
    "logistics": ("logistic",),
    "shipping": ("shipping",),
    "national": ("natl", "nat"),
    "association": ("assn", "assoc", "associations"),
    "organization": ("organisation", "org", "organizations", "organisations"),
    "department": ("dept",),
    "university": ("univ",),
    "institute": ("inst", "institution", "instituto", "institut"),
    "center": ("centre", "ctr", "centro", "tsentr"),
    "bank": ("banco", "banque", "bankasi", "banking", "banks"),
    "brothers": ("bros",),
    "general": ("gen",),
    "commercial": ("comm", "commerce"),
    "resources": ("resource",),
    "chemical": ("chemicals", "chem"),
    "pharmaceutical": ("pharmaceuticals", "pharma"),
    "petroleum": ("petrol",),
    "construction": ("constructions",),
    "equipment": ("equipments",),
    "product": ("products",),
    "material": ("materials",),
    "partner": ("partners",),
    "associate": ("associates",),
    "import": ("imports",),
    "export": ("exports",),
    "machinery": ("machine", "machines"),
    "communication": ("communications",),
    "network": ("networks",),
    "fund": ("funds",),
    "capital": (),
    "finance": ("financial", "financing"),
    "insurance": (),
    "securities": ("security",),
    "trust": (),
    "global": (),
    "energy": (),
    "oil": (),
    "gas": (),
    "marine": ("maritime",),
    "aviation": ("avia",),
    "airline": ("airlines", "airways", "air"),
    "transport": ("transportation",),
    "research": (),
    "science": ("sciences", "scientific"),
    "agency": (),
    "ministry": (),
    "committee": (),
    "council": (),
    "foundation": (),
    "society": (),
    "union": (),
    "federation": (),
    "factory": ("plant", "zavod", "works"),
    "consulting": ("consultants", "consultancy"),
    "media": (),
    "motor": ("motors",),
    "precision": (),
    "instrument": ("instruments",),
    "supply": ("supplies",),
    "exchange": (),
    "office": (),
    "store": ("stores", "shop"),
    "business": (),
    "import export": (),
}
GENERIC_ORG_WORDS: Final[dict[str, str]] = {}
for _canon, _variants in _GENERIC_GROUPS.items():
    if " " in _canon:
        continue
    GENERIC_ORG_WORDS[_canon] = _canon
    for _v in _variants:
        GENERIC_ORG_WORDS.setdefault(_v, _canon)


def canonical_org_word(token: str) -> str:
    """Canonical spelling of a generic organisation word (or the token itself)."""
    return GENERIC_ORG_WORDS.get(token, token)


# Function words in organisation names (several languages).
ORG_STOPWORDS: Final = frozenset(
    """
    the of and for in at on by to de du des la le les el los las del della dei di da do dos
    das der die und et y e i en van voor fur al wa lil li
    """.split()  # noqa: SIM905
)

# --- person words -----------------------------------------------------------

# Titles and honorifics (normalised). Weighed very low: "Dr. Rami Makhlouf" is
# "Rami Makhlouf".
HONORIFICS: Final = frozenset(
    """
    mr mrs ms miss mister dr prof professor sir dame lord lady sheikh shaikh sheik shaykh
    haji hajji hadji alhaj alhajj mullah mulla maulvi mawlawi maulana mawlana molvi imam
    general gen colonel col major maj captain capt lieutenant lt admiral adm brigadier brig
    commander marshal sergeant sgt president presidente prasident praesident prezident
    predsjednik presedintele presiden prezidan elnok king queen prince princess emir
    monsieur madame mme mlle herr frau senor senora sr sra don dona dom doctor engineer eng
    hon honourable honorable rev reverend father fr saint judge minister senator sen deputy
    ayatollah hojatoleslam sayyed sayed sayyid
    doktor gospodin gospozha sheykh shejkh khadzhi polkovnik kapitan leytenant akademik
    mayor sayin
    """.split()  # noqa: SIM905
)
# Titles that are also common given names are only titles before another name.
AMBIGUOUS_TITLES: Final = frozenset(
    {"sayyed", "sayed", "sayyid", "haji", "imam", "amir", "don", "sayin"}
)

# Connecting particles of personal names: weighed low, folded to one spelling.
PERSON_PARTICLES: Final[dict[str, str]] = {
    "bin": "bin", "ibn": "bin", "ben": "bin", "bint": "bin", "binti": "bin",
    "al": "al", "el": "al", "ul": "al", "ud": "al", "ur": "al",
    "de": "de", "del": "de", "della": "de", "der": "de", "di": "de", "da": "de", "do": "de",
    "dos": "de", "das": "de", "du": "de", "la": "de", "le": "de", "van": "de", "von": "de",
    "y": "y", "und": "y", "and": "y", "na": "na", "ter": "de", "ten": "de",
}  # fmt: skip


@lru_cache(maxsize=1)
def legal_form_words() -> frozenset[str]:
    """Every word of the legal forms of two words or more ("limited", "liability",
    "stock"): a name that keeps one of them as a word of its own ("LIMITED COMPANY
    LIABILITY", a form broken by a typo) is still not naming anything with it."""
    return frozenset(w for phrase in _phrases()[0] if len(phrase) > 1 for w in phrase)
