"""Name normalisation: any script and spelling to comparable Latin tokens.

The pipeline (order matters):

1. NFKC (full-width letters and punctuation, ligatures, Roman-numeral signs).
2. Drop invisible characters (zero-width space/joiners, word joiner, BOM, soft
   hyphen and every other Unicode *format* character); control characters
   become spaces.
3. Dotted initialisms are closed up ("A.B.C." -> "ABC", "U.S." -> "US") before
   punctuation is split, so they survive as one token.
4. Each word is processed by script:
   * a word mixing Latin with Cyrillic/Greek letters has its look-alike letters
     folded to Latin (a homoglyph attack must not hide "Finder Тechnology");
     a word made only of look-alikes inside an otherwise Latin name is folded
     too; a genuinely Cyrillic/Greek word is transliterated;
   * Han: common business words are translated (有限公司 -> limited company),
     the rest is written in pinyin, one token per run of characters;
   * Hangul: one token per syllable, romanised the way list names usually are
     (Kim Jong Un, not Gim Jeong-eun);
   * anything else goes through anyascii.
5. Casefold, "&" -> "and", apostrophes dropped inside words, leetspeak digits
   between letters read as letters ("Ig0r Sech1n"), number words to digits
   ("Forty-Four" -> "44", "First" -> "1").

`tokenize_name` keeps, for tokens from scripts whose Latin rendering is lossy
(Han, Hangul, Kana, abjads, Brahmic scripts), the original characters so two
names written in the same script can be compared in that script.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from anyascii import anyascii

from ..config import matcher_cache_entries

__all__ = ["NormToken", "normalize_name", "tokenize_name"]

# Scripts whose Latin rendering we keep beside the native form.
LATIN: Final = "latin"
HAN: Final = "han"
HANGUL: Final = "hangul"
KANA: Final = "kana"
ABJAD: Final = "abjad"  # Arabic, Hebrew, Syriac, Thaana: short vowels are not written
BRAHMIC: Final = "brahmic"  # Devanagari, Bengali, Thai, Khmer, ...: vowels are marks
OTHER: Final = "other"  # Cyrillic, Greek, Armenian, Georgian, Ethiopic: alphabetic enough

#: Scripts in which a transliteration loses or invents vowels; the scorer
#: compares such tokens with Latin ones on their consonant skeleton.
VOWEL_LOSSY: Final = frozenset({ABJAD, BRAHMIC, KANA})


@dataclass(slots=True)
class NormToken:
    """One normalised token: Latin text plus where it came from."""

    text: str
    script: str = LATIN
    native: str = ""  # original characters, for same-script comparison


# --- invisible characters -------------------------------------------------

_INVISIBLE: Final = dict.fromkeys(
    [
        173,
        847,
        1564,
        4447,
        4448,
        6068,
        6069,
        6158,
        12644,
        65440,
        *list(range(8203, 8208)),
        *list(range(8234, 8239)),
        *list(range(8288, 8304)),
        65279,
    ],
    None,
)


def _strip_invisible(text: str) -> str:
    if text.isascii():
        if text.isprintable():
            return text
        return "".join(c if c >= " " and c != "\x7f" else " " for c in text)
    text = text.translate(_INVISIBLE)
    if text.isprintable():
        return text  # no format (Cf) or control (Cc) character left
    out = []
    for c in text:
        cat = unicodedata.category(c)
        if cat == "Cf" or (cat == "Mn" and c in "\u034f"):
            continue
        out.append(" " if cat == "Cc" else c)
    return "".join(out)


# --- look-alike letters ----------------------------------------------------

# Cyrillic and Greek letters that render like a Latin letter (after casefold we
# only need lower case, but map both so the folded word keeps its shape).
_CONFUSABLES: Final = {
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ո": "n",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v",
    "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "α": "a",
}  # fmt: skip
_CONFUSABLE_TABLE: Final = str.maketrans(_CONFUSABLES)


@lru_cache(maxsize=4096)
def _script_of(char: str) -> str:
    """Coarse script of one non-ASCII letter, from its Unicode name."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return OTHER
    first = name.split(" ", 1)[0]
    if first == "LATIN":
        return LATIN
    if first == "CJK" or name.startswith("IDEOGRAPHIC"):
        return HAN
    if first == "HANGUL":
        return HANGUL
    if first in ("HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"):  # (with the long-vowel mark)
        return KANA
    if first in ("ARABIC", "HEBREW", "SYRIAC", "THAANA"):
        return ABJAD
    if first in (
        "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU",
        "KANNADA", "MALAYALAM", "SINHALA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN",
    ):  # fmt: skip
        return BRAHMIC
    if first in ("CYRILLIC", "GREEK"):
        return first.lower()
    return OTHER


# --- Chinese -----------------------------------------------------------------

# Business words translated rather than romanised, so "科技" meets "Technology".
# Longest match wins; place names are given in their usual English spelling.
HAN_WORDS: Final[dict[str, str]] = {
    "股份有限公司": "joint stock limited company",
    "有限责任公司": "limited liability company",
    "有限責任公司": "limited liability company",
    "有限公司": "limited company",
    "分公司": "branch company",
    "总公司": "head company",
    "公司": "company",
    "集团": "group",
    "集團": "group",
    "控股": "holding",
    "科技": "technology",
    "技术": "technology",
    "技術": "technology",
    "航空": "aviation",
    "航天": "aerospace",
    "贸易": "trading",
    "貿易": "trading",
    "商贸": "trading",
    "商貿": "trading",
    "进出口": "import export",
    "進出口": "import export",
    "电子": "electronics",
    "電子": "electronics",
    "电子科技": "electronic technology",
    "国际": "international",
    "國際": "international",
    "实业": "industrial",
    "實業": "industrial",
    "工业": "industrial",
    "工業": "industrial",
    "投资": "investment",
    "投資": "investment",
    "发展": "development",
    "發展": "development",
    "银行": "bank",
    "銀行": "bank",
    "能源": "energy",
    "石油": "petroleum",
    "化工": "chemical",
    "机械": "machinery",
    "機械": "machinery",
    "设备": "equipment",
    "設備": "equipment",
    "制造": "manufacturing",
    "製造": "manufacturing",
    "光电": "optoelectronics",
    "半导体": "semiconductor",
    "通信": "communication",
    "通讯": "communication",
    "信息": "information",
    "网络": "network",
    "软件": "software",
    "系统": "systems",
    "系統": "systems",
    "工程": "engineering",
    "物流": "logistics",
    "航运": "shipping",
    "海运": "shipping",
    "船务": "shipping",
    "运输": "transport",
    "研究所": "research institute",
    "研究院": "research institute",
    "大学": "university",
    "精密": "precision",
    "材料": "materials",
    "仪器": "instruments",
    "电气": "electric",
    "电力": "electric power",
    "智能": "intelligent",
    "自动化": "automation",
    "飞行": "flight",
    "控制": "control",
    "无人机": "uav",
    "导航": "navigation",
    "船舶": "shipbuilding",
    "重工": "heavy industries",
    "医药": "pharmaceutical",
    "供应链": "supply chain",
    "中国": "china",
    "中國": "china",
    "香港": "hong kong",
    "深圳": "shenzhen",
    "北京": "beijing",
    "上海": "shanghai",
    "广州": "guangzhou",
    "廣州": "guangzhou",
    "天津": "tianjin",
    "重庆": "chongqing",
    "武汉": "wuhan",
    "杭州": "hangzhou",
    "南京": "nanjing",
    "成都": "chengdu",
    "西安": "xian",
    "大连": "dalian",
    "青岛": "qingdao",
    "厦门": "xiamen",
    "苏州": "suzhou",
    "珠海": "zhuhai",
    "东莞": "dongguan",
    "澳门": "macau",
    "台湾": "taiwan",
}
_HAN_MAX: Final = max(len(w) for w in HAN_WORDS)


def _pinyin(chars: str) -> str:
    from pypinyin import lazy_pinyin  # imported lazily: ~0.3 s of dictionaries

    return "".join(lazy_pinyin(chars))


def _han_tokens(run: str, standalone: bool) -> list[NormToken]:
    """Han run -> translated business words plus one pinyin token per remainder.

    A short run that is the whole name and holds no business word is read as a
    personal name: surname syllable, then the given name ("习近平" -> xi jinping).
    """
    out: list[NormToken] = []
    pending = ""

    def flush() -> None:
        nonlocal pending
        if pending:
            out.append(NormToken(_pinyin(pending), HAN, pending))
            pending = ""

    i = 0
    while i < len(run):
        for size in range(min(_HAN_MAX, len(run) - i), 1, -1):
            word = run[i : i + size]
            if word in HAN_WORDS:
                flush()
                out.extend(NormToken(t, HAN, word) for t in HAN_WORDS[word].split())
                i += size
                break
        else:
            pending += run[i]
            i += 1
    if standalone and not out and 2 <= len(pending) <= 4:
        # Surname (one character) + given name; two-character surnames are rare.
        head, tail = pending[0], pending[1:]
        return [NormToken(_pinyin(head), HAN, head), NormToken(_pinyin(tail), HAN, tail)]
    flush()
    return out


# --- Korean -------------------------------------------------------------------

# Romanisation close to how Korean names appear on lists (McCune-Reischauer
# without diacritics for the vowels, "j" for ㅈ): 김정은 -> kim jong un.
_KO_INITIAL: Final = [
    "k", "kk", "n", "d", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
]  # fmt: skip
_KO_MEDIAL: Final = [
    "a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "u", "ui", "i",
]  # fmt: skip
_KO_FINAL: Final = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
]  # fmt: skip
# Surnames whose usual spelling is far from the syllable romanisation.
_KO_SURNAMES: Final = {"이": "lee", "리": "ri", "박": "park", "최": "choe", "노": "roh", "오": "oh"}


def _hangul_tokens(word: str) -> list[NormToken]:
    if len(word) >= 4:
        # Korean personal names have two to four syllables, one token each
        # (Kim Jong Un); longer words are foreign names or common nouns written
        # in Hangul (블라디미르 = Vladimir): keep them whole.
        text = "".join(t.text for t in _hangul_syllables(word))
        return [NormToken(text, HANGUL, word)]
    return _hangul_syllables(word)


def _hangul_syllables(word: str) -> list[NormToken]:
    out: list[NormToken] = []
    for pos, ch in enumerate(word):
        code = ord(ch) - 0xAC00
        if not 0 <= code < 11172:
            text = anyascii(ch).lower()
            if text:
                out.append(NormToken(text, HANGUL, ch))
            continue
        if pos == 0 and ch in _KO_SURNAMES:
            out.append(NormToken(_KO_SURNAMES[ch], HANGUL, ch))
            continue
        ini, rest = divmod(code, 588)
        med, fin = divmod(rest, 28)
        out.append(NormToken(_KO_INITIAL[ini] + _KO_MEDIAL[med] + _KO_FINAL[fin], HANGUL, ch))
    return out


# --- Japanese kana ------------------------------------------------------------

# Katakana in Hepburn (hiragana are read through their katakana twins).
_KANA: Final[dict[str, str]] = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o",
    "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke", "コ": "ko",
    "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go",
    "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so",
    "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "タ": "ta", "チ": "chi", "ツ": "tsu", "テ": "te", "ト": "to",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do",
    "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no",
    "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho",
    "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be", "ボ": "bo",
    "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po",
    "マ": "ma", "ミ": "mi", "ム": "mu", "メ": "me", "モ": "mo",
    "ヤ": "ya", "ユ": "yu", "ヨ": "yo",
    "ラ": "ra", "リ": "ri", "ル": "ru", "レ": "re", "ロ": "ro",
    "ワ": "wa", "ヰ": "i", "ヱ": "e", "ヲ": "o", "ン": "n",
    "ヴ": "vu", "ヷ": "va", "ヸ": "vi", "ヹ": "ve", "ヺ": "vo", "ヵ": "ka", "ヶ": "ke",
}  # fmt: skip
_KANA_SMALL_VOWEL: Final = {"ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o", "ヮ": "a"}
_KANA_SMALL_Y: Final = {"ャ": "a", "ュ": "u", "ョ": "o"}
# The prolonged-sound mark, the small tsu (a doubled consonant) and iteration
# marks add nothing a Latin spelling of a foreign name shows.
_KANA_SILENT: Final = frozenset("ーッゝゞヽヾ")
_KANA_VOWELS: Final = "aeiou"


def _kana_morae(text: str) -> list[str]:
    """Kana -> romanised morae (Hepburn; syllabic n as m before b, p, m)."""
    out: list[str] = []
    for ch in text:
        if "\u3041" <= ch <= "\u3096":
            ch = chr(ord(ch) + 0x60)  # hiragana -> katakana
        syllable = _KANA.get(ch)
        if syllable is not None:
            out.append(syllable)
        elif ch in _KANA_SILENT:
            continue
        elif ch in _KANA_SMALL_Y and out and len(out[-1]) > 1 and out[-1].endswith("i"):
            head = out[-1][:-1]  # キャ kya, シャ sha, ジョ jo
            out[-1] = head + ("" if head in ("sh", "ch", "j") else "y") + _KANA_SMALL_Y[ch]
        elif ch in _KANA_SMALL_VOWEL and out:
            prev, vowel = out[-1], _KANA_SMALL_VOWEL[ch]
            if prev == "u":
                out[-1] = "w" + vowel  # ウィ wi, ウォ wo
            elif prev == "i":
                out[-1] = "y" + vowel  # イェ ye
            elif len(prev) > 1 and prev[-1] in _KANA_VOWELS:
                out[-1] = prev[:-1] + vowel  # ティ ti, ファ fa, ヴァ va, シェ she
            else:
                out.append(vowel)
        elif ch in _KANA_SMALL_VOWEL:
            out.append(_KANA_SMALL_VOWEL[ch])
        elif ch in _KANA_SMALL_Y:
            out.append("y" + _KANA_SMALL_Y[ch])
    for k in range(len(out) - 1):
        if out[k] == "n" and out[k + 1][:1] in ("b", "p", "m"):
            out[k] = "m"
    return out


# Foreign names written in katakana transcribe sounds: one kana spelling stands
# for several Latin ones. What each consonant may stand for:
_KANA_CONSONANTS: Final[dict[str, tuple[str, ...]]] = {
    "k": ("k", "c"), "s": ("s", "z"), "sh": ("sh", "s"), "z": ("z", "s"),
    "j": ("j", "d", "g", "z", "dj", "zh"), "t": ("t", "th"), "ch": ("ch", "t", "tch"),
    "ts": ("ts", "z", "t"), "h": ("h", "kh"), "f": ("f", "h", "v"), "b": ("b", "v"),
    "r": ("r", "l"), "w": ("w", "v"), "v": ("v", "b"),
}  # fmt: skip
_KANA_MAX_MORAE: Final = 12
# Readings tried per kana word at most (the names tested need at most 22; a
# hostile word of ambiguous kana could need thousands).
_KANA_BUDGET: Final = 60
_KANA_SPLIT_MAX: Final = 6  # morae of a katakana word read as two (a given name's syllables)
# Particles of names, read as such (アル・ザワヒリ: al-Zawahiri, not "all").
_KANA_PARTICLES: Final = ("al", "bin", "ibn", "bint", "abd", "van", "von", "der", "dos", "del")
_FOLD_YO: Final = str.maketrans("yo", "iu")
_DOUBLED: Final = re.compile(r"(.)\1+")


def _spelling_key(text: str) -> str:
    """Latin spellings that a katakana reading cannot tell apart (y/i, o/u, doubled
    letters) fall together."""
    s = text.translate(_FOLD_YO)
    return _DOUBLED.sub(_first_of_run, s) if _DOUBLED.search(s) else s


def _first_of_run(m: re.Match[str]) -> str:
    return m.group(1)


@lru_cache(maxsize=1)
def _listed_spellings() -> tuple[dict[str, tuple[int, str]], frozenset[str]]:
    """The words many listed entities use (registry/data/name_word_frequency.json),
    by spelling key: (entities, word), and every prefix of those keys."""
    from importlib import resources

    raw = resources.files("registry.data").joinpath("name_word_frequency.json")
    words: dict[str, int] = json.loads(raw.read_text("utf-8"))["words"]
    best: dict[str, tuple[int, str]] = {}
    for word, count in words.items():
        if len(word) >= 2 and word.isalpha() and word.isascii():
            key = _spelling_key(word)
            if key not in best or best[key][0] < count:
                best[key] = (count, word)
    for word in _KANA_PARTICLES:  # (not in the table: it counts distinctive words)
        best[_spelling_key(word)] = (1_000_000, word)
    prefixes = frozenset(key[:n] for key in best for n in range(len(key) + 1))
    return best, prefixes


def _kana_options(morae: list[str], k: int) -> list[str]:
    """The Latin spellings mora `k` may stand for in a foreign name."""
    mora = morae[k]
    if mora == "n":
        return ["n", "ng", "m"]
    if mora == "m":
        return ["m", "n"]
    if mora[-1] not in _KANA_VOWELS:
        return [mora]
    cons, vowel = mora[:-1], mora[-1]
    if not cons:
        if vowel == "u" and k == 0 and len(morae) > 1 and morae[1][0] not in _KANA_VOWELS:
            return ["u", "v", "w"]  # ウラジーミル: Vladimir
        if k > 0 and vowel in ("u", "i") and morae[k - 1][-1] in ("o", "e"):
            return [vowel, ""]  # a long vowel written out (ou, ei)
        return [vowel]
    vowels = [vowel]
    if (
        (vowel == "u" and cons not in ("y", "w"))
        or (vowel == "o" and cons in ("t", "d"))
        or (vowel == "i" and cons in ("ch", "j", "sh"))
    ):
        vowels.append("")  # a vowel Japanese adds after a consonant: ル l, ド d
    return [c + v for c in _KANA_CONSONANTS.get(cons, (cons,)) for v in vowels]


def _listed_reading(morae: list[str], budget: list[int]) -> str:
    """The most used listed word that `morae` may spell, or "" (also once the
    readings tried exhaust `budget`, shared by the calls for one kana word)."""
    best, prefixes = _listed_spellings()
    found: tuple[int, str] = (0, "")
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            return ""
        k, acc = stack.pop()
        if k == len(morae):
            hit = best.get(acc)
            if hit is not None and hit > found:
                found = hit
            continue
        for option in _kana_options(morae, k):
            # (acc is a spelling key already: fold the option and the seam only)
            tail = option.translate(_FOLD_YO)
            if acc and tail and acc[-1] == tail[0]:
                tail = tail[1:]
            nxt = acc + tail
            if nxt in prefixes:
                stack.append((k + 1, nxt))
    return found[1]


@lru_cache(maxsize=4096)
def kana_reading(run: str) -> str:
    """A run of kana in Latin letters.

    Hiragana write Japanese words: Hepburn, long vowels as written. Katakana
    write foreign names by their sound, so one spelling stands for several
    (ウラジーミル: u-ra-ji-mi-ru for Vladimir; ラ行 is r or l, ジ ji or di, a
    final u or o is often only Japanese phonology): when the readings these
    conventions allow include a word many listed entities use, that word is the
    reading (ウラジーミル -> vladimir, ムハンマド -> mohammad), or two such words
    (ジョンウン -> jong un); otherwise Hepburn
    without long vowels (プーチン -> puchin), which `similarity` compares with
    Latin words through the same conventions.
    """
    morae = _kana_morae(run)
    if not morae:
        return ""
    katakana = any("\u30a1" <= c <= "\u30ff" for c in run)
    if katakana and 2 <= len(morae) <= _KANA_MAX_MORAE:
        budget = [_KANA_BUDGET]
        listed = _listed_reading(morae, budget)
        if listed:
            return listed
        # Korean and Chinese given names come as one katakana word (キム・ジョンウン,
        # Kim Jong Un): two listed words of two morae or more each.
        for cut in range(2, len(morae) - 1 if len(morae) <= _KANA_SPLIT_MAX else 2):
            head = _listed_reading(morae[:cut], budget)
            if head:
                tail = _listed_reading(morae[cut:], budget)
                if tail:
                    return f"{head} {tail}"
    return "".join(morae)


# --- Latin clean-up ---------------------------------------------------------

_APOSTROPHES: Final = str.maketrans("", "", "'’‘ʼʻ`´′ʹ\u02bf\u02be")
_INITIALISM: Final = re.compile(r"(?<![^\W\d_])((?:[^\W\d_]\.){2,})")
_SPLIT: Final = re.compile(r"[^\w]+|_+")
_LEET: Final = str.maketrans("01345789", "oieastbg")
_LEET_WORD: Final = re.compile(r"[a-z][0-9]+[a-z]")

_UNITS: Final = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS: Final = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_ORDINALS: Final = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_ORDINAL_SUFFIX: Final = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


def _numbers(tokens: list[NormToken]) -> list[NormToken]:
    """Number words and ordinals to digits: forty four -> 44, first / 1st -> 1."""
    out: list[NormToken] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        t = tok.text
        if t in _ORDINALS:
            out.append(NormToken(str(_ORDINALS[t]), tok.script, tok.native))
            i += 1
            continue
        m = _ORDINAL_SUFFIX.match(t)
        if m:
            out.append(NormToken(m.group(1), tok.script, tok.native))
            i += 1
            continue
        if t in _TENS:
            value = _TENS[t]
            i += 1
            if i < len(tokens):
                nxt = tokens[i].text
                if nxt in _UNITS and 0 < _UNITS[nxt] < 10:
                    value += _UNITS[nxt]
                    i += 1
                elif nxt.isdigit() and len(nxt) == 1 and nxt != "0":
                    value += int(nxt)
                    i += 1
            out.append(NormToken(str(value), tok.script, tok.native))
            continue
        if t in _UNITS:
            out.append(NormToken(str(_UNITS[t]), tok.script, tok.native))
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def _latin_pieces(text: str, script: str = LATIN, native: str = "") -> list[NormToken]:
    """Split already-Latin text into clean lower-case tokens."""
    return [NormToken(piece, script, native) for piece in _latin_words(text)]


def _latin_words(text: str) -> list[str]:
    """`_latin_pieces` as plain strings."""
    text = text.lower()
    if "&" in text:
        text = text.replace("&", " and ")
    text = text.translate(_APOSTROPHES)
    out = [piece for piece in _SPLIT.split(text) if piece]
    for k, piece in enumerate(out):
        # (a piece of letters only has no digit to read as a letter)
        if not piece.isalpha() and _LEET_WORD.search(piece) and not piece[0].isdigit():
            out[k] = piece.translate(_LEET)
    return out


def _word_tokens(word: str, latin_context: bool, standalone: bool) -> list[NormToken]:
    """Tokens of one whitespace-delimited word, handled by script."""
    if word.isascii():
        return _latin_pieces(word)
    scripts: dict[str, int] = {}
    for c in word:
        if c.isalpha():
            s = "latin" if c.isascii() else _script_of(c)
            scripts[s] = scripts.get(s, 0) + 1
    if not scripts:
        return _latin_pieces(anyascii(word))
    lookalike = scripts.keys() & {"cyrillic", "greek"}
    if lookalike:
        folded = word.translate(_CONFUSABLE_TABLE)
        all_lookalike = all(
            not c.isalpha() or c.isascii() or _script_of(c) == LATIN for c in folded
        )
        if LATIN in scripts or (latin_context and all_lookalike):
            # Look-alike letters planted in a Latin word: read them as Latin.
            word = folded
    if HAN in scripts or KANA in scripts or HANGUL in scripts:
        return _cjk_tokens(word, standalone)
    main = max(scripts, key=lambda s: scripts[s])
    if main in (ABJAD, BRAHMIC):
        # Keep the native word for same-script comparison.
        native = unicodedata.normalize("NFC", word.casefold())
        return _latin_pieces(anyascii(word), main, native)
    return _latin_pieces(anyascii(word))


def _cjk_tokens(word: str, standalone: bool) -> list[NormToken]:
    """Split a word into runs of Han / Hangul / Kana / other and tokenise each."""
    out: list[NormToken] = []
    run, run_script = "", ""
    runs: list[tuple[str, str]] = []
    for c in word:
        s = _script_of(c) if not c.isascii() else LATIN
        if s not in (HAN, HANGUL, KANA):
            s = LATIN
        if s != run_script and run:
            runs.append((run, run_script))
            run = ""
        run += c
        run_script = s
    if run:
        runs.append((run, run_script))
    for text, script in runs:
        if script == HAN:
            out.extend(_han_tokens(text, standalone and len(runs) == 1))
        elif script == HANGUL:
            out.extend(_hangul_tokens(text))
        elif script == KANA:
            out.extend(NormToken(piece, KANA, text) for piece in kana_reading(text).split())
        else:
            out.extend(_latin_pieces(anyascii(text)))
    return out


def name_words(name: str) -> tuple[list[str], list[NormToken] | None]:
    """The token texts of `name`, and its tokens unless the name is plain Latin
    after clean-up (most listed names are: their tokens are Latin, without native
    text): `tokenize_name` without making token objects where they say nothing."""
    text = _prepare(name)
    if text.isascii():
        return _ascii_words(text), None
    tokens = _tokenize_prepared(text)
    return [t.text for t in tokens], tokens


def ascii_words(name: str) -> list[str] | None:
    """The token texts of `name` if it is plain Latin after clean-up, else None."""
    text = _prepare(name)
    return _ascii_words(text) if text.isascii() else None


def _ascii_words(text: str) -> list[str]:
    words = _latin_words(text)
    if _NUMBER_WORDS.isdisjoint(words) and all(w.isalpha() for w in words):
        return words  # no number to read (_numbers would return them unchanged)
    return [t.text for t in _numbers([NormToken(w) for w in words])]


_NUMBER_WORDS: Final = frozenset([*_UNITS, *_TENS, *_ORDINALS])


def _prepare(name: str) -> str:
    """Steps 1-3 of the module docstring."""
    text = unicodedata.normalize("NFKC", name)
    text = _strip_invisible(text)
    if "." in text:
        text = _INITIALISM.sub(_close_initialism, text)
    return text


def _close_initialism(m: re.Match[str]) -> str:
    return m.group(1).replace(".", "")


def tokenize_name(name: str) -> list[NormToken]:
    """Normalise `name` and return its tokens (see module docstring)."""
    return _tokenize_prepared(_prepare(name))


# Russian abbreviated titles, written with a hyphen (which would split them).
_CYRILLIC_TITLES: Final = re.compile(r"(?<!\w)(д-р|г-н|г-жа)\.?(?!\w)", re.IGNORECASE)
_CYRILLIC_TITLE_WORDS: Final = {"д-р": "доктор", "г-н": "господин", "г-жа": "госпожа"}


def _cyrillic_title(m: re.Match[str]) -> str:
    return _CYRILLIC_TITLE_WORDS[m.group(1).lower()]


def _tokenize_prepared(text: str) -> list[NormToken]:
    if text.isascii():
        return _numbers(_latin_pieces(text))
    if "-" in text:
        text = _CYRILLIC_TITLES.sub(_cyrillic_title, text)
    # Punctuation (including CJK brackets and the katakana middle dot) separates words.
    words = [w for w in re.split(r"[\s\u30fb\u00b7\u3001\u3002\uff0c\u300c\u300d]+", text) if w]
    latin_context = any(any(c.isascii() and c.isalpha() for c in w) for w in words)
    standalone = len(words) == 1
    tokens: list[NormToken] = []
    for word in words:
        # Split at ASCII punctuation first so each piece keeps its own script.
        for piece in re.split(r"[()\[\]{},;:/\\|\"!?+*=<>#]+", word):
            if piece:
                tokens.extend(_word_tokens(piece, latin_context, standalone))
    return _numbers([t for t in tokens if t.text])


# Normalised names kept: a share of the matcher's cache budget (registry/config.py)
# over what one holds (a name of some 60 letters: about 200 bytes); 10,000 at the default.
_NORMALISED: Final = matcher_cache_entries(0.03, 200)


@lru_cache(maxsize=_NORMALISED)
def normalize_name(name: str) -> str:
    """The normalised, space-separated Latin form of a name ("" if nothing is left).

    Idempotent: ``normalize_name(normalize_name(x)) == normalize_name(x)``.
    """
    return " ".join(t.text for t in tokenize_name(name))
