"""Which writing system a text is in, what language that suggests, and how many words it has. Pure.

The curators read English, Korean and Japanese; the script a text is written
in tells those apart better than any statistical model does on short texts:

    Hangul -> ko        kana -> ja        Han without kana -> zh (or ja/ko when declared so)
    Latin  -> the declared language when it is written in Latin letters, else en
    Cyrillic, Greek, Arabic, Hebrew, Thai, Devanagari -> the declared language when consistent,
                                                         else the script's most common language

A declared language (``<html lang>``, the feed's ``<language>``) is used when
it agrees with the script, and ignored when it does not: templates often say
``lang="en"`` over a Japanese article. Results are primary subtags ("en", "ko", "ja").
"""

from __future__ import annotations

import re

__all__ = ["detect_language", "primary_language", "word_count"]

# Character classes by script. Kana includes the half-width katakana block;
# Han includes the CJK compatibility ideographs and extension A.
_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"
_KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# Runs of a script's characters (counted by their lengths: a list of runs is much
# shorter than a list of characters).
_SCRIPTS: dict[str, re.Pattern[str]] = {
    "hangul": re.compile(f"[{_HANGUL}]+"),
    "kana": re.compile(f"[{_KANA}]+"),
    "han": re.compile(f"[{_HAN}]+"),
    "latin": re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]+"),
    "cyrillic": re.compile("[\u0400-\u04ff]+"),
    "greek": re.compile("[\u0370-\u03ff\u1f00-\u1fff]+"),
    "arabic": re.compile("[\u0600-\u06ff\u0750-\u077f]+"),
    "hebrew": re.compile("[\u0590-\u05ff]+"),
    "thai": re.compile("[\u0e00-\u0e7f]+"),
    "devanagari": re.compile("[\u0900-\u097f]+"),
}

# Scripts other than Latin and CJK: the language assumed without a declaration,
# and the languages a declaration may name and still be believed.
_OTHER_SCRIPTS: dict[str, tuple[str, frozenset[str]]] = {
    "cyrillic": ("ru", frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})),
    "greek": ("el", frozenset({"el"})),
    "arabic": ("ar", frozenset({"ar", "fa", "ur", "ps"})),
    "hebrew": ("he", frozenset({"he", "yi"})),
    "thai": ("th", frozenset({"th"})),
    "devanagari": ("hi", frozenset({"hi", "mr", "ne", "sa"})),
}

# Languages written in a script other than Latin: a declaration naming one of
# them over Latin text is a template's default, not the text's language.
_NON_LATIN = frozenset({"ko", "ja", "zh"}).union(*(langs for _, langs in _OTHER_SCRIPTS.values()))

#: Text beyond this many characters adds nothing to the script count.
SAMPLE_CHARS = 20_000

#: CJK text wins over Latin letters in the same text once its characters are at
#: least this share of the Latin letters. A CJK character carries about as much
#: as a Latin word of several letters, and Korean and Japanese technical writing
#: is full of English terms and code, so a tenth already means a CJK article.
CJK_SHARE = 0.1

#: In Han and kana text, this share of kana makes it Japanese (Japanese prose is
#: typically a third to a half kana; Chinese has none).
KANA_SHARE = 0.05


def primary_language(tag: str | None) -> str | None:
    """The primary subtag of a language tag, lowercased: "en-US" and "ko_KR" give "en" and "ko"."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isascii() and primary.isalpha() and 2 <= len(primary) <= 3 else None


def detect_language(text: str, *, declared: str | None = None) -> str | None:
    """The language of ``text`` from its script, using ``declared`` where the script agrees with it.

    None when the text has no letters and nothing (valid) is declared.
    """
    declared = primary_language(declared)
    counts = _script_counts(text[:SAMPLE_CHARS])
    hangul, kana, han, latin = counts["hangul"], counts["kana"], counts["han"], counts["latin"]
    cjk = hangul + kana + han
    if cjk and cjk >= CJK_SHARE * latin:
        if hangul >= kana + han:
            return "ko"
        if kana >= KANA_SHARE * (kana + han):
            return "ja"
        if declared in ("ja", "ko", "zh"):
            return declared
        return "ko" if hangul > kana else "zh"
    other = max(_OTHER_SCRIPTS, key=lambda script: counts[script])
    if counts[other] > latin:
        default, consistent = _OTHER_SCRIPTS[other]
        return declared if declared in consistent else default
    if latin:
        return declared if declared and declared not in _NON_LATIN else "en"
    return declared


def _script_counts(sample: str) -> dict[str, int]:
    """Characters of each script in ``sample``.

    Every script but Latin's ASCII letters lies outside ASCII, so the scripts are
    counted on the non-ASCII characters alone: for English text, a few curly
    quotes instead of the whole sample, ten times over.
    """
    ascii_letters = sum(map(len, _ASCII_LETTERS.findall(sample)))
    rest = "".join(_NON_ASCII.findall(sample))
    counts = {
        script: sum(map(len, pattern.findall(rest))) if rest else 0 for script, pattern in _SCRIPTS.items()
    }
    counts["latin"] += ascii_letters
    return counts


_ASCII_LETTERS = re.compile("[A-Za-z]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


# -- word counts ----------------------------------------------------------------


#: Kanji and kana per word. Japanese words average two to three characters;
#: the low end keeps word-count thresholds lenient with CJK text (80 words is
#: about 160 characters, a short paragraph).
CJK_CHARS_PER_WORD = 2
_NOT_IDEOGRAPHIC = re.compile(f"[^{_KANA}{_HAN}]+")
_SPACED_WORD = re.compile(f"[{_HANGUL}]+|[^\\W{_KANA}{_HAN}{_HANGUL}]+")


def word_count(text: str) -> int:
    """Words in ``text``: space-separated words (Korean included), and one per two kanji or kana."""
    # findall/sub run in C; a Python loop over every word was a measurable
    # share of extraction time.
    ideographic = len(_NOT_IDEOGRAPHIC.sub("", text))
    words = len(_SPACED_WORD.findall(text))
    return words + -(-ideographic // CJK_CHARS_PER_WORD)
