"""Text normalization for screening, with offset maps back to the text as sent.

Two views of a post are used:

``base``
    Every character of the post mapped through one per-character table:
    NFKC, case fold, traditional -> simplified (OpenCC's single-character
    table), Latin accents and common Cyrillic/Greek look-alikes folded to
    ASCII, Chinese numerals (一, 〇, 幺, 两...) to digits, invisible
    characters (zero-width, bidi marks, soft hyphen, variation selectors,
    combining marks, lone surrogates) deleted, "soft" separators (spaces,
    symbols, emoji, brackets, ``*-_./~|`` ...) turned into one ASCII space each,
    and "hard" punctuation (``，。！？；：、`` and line breaks) into one line
    break: a clause boundary.  Almost every character maps to exactly one
    character, so ``base`` is usually index-aligned with the text; only
    expansions (``㍿``) and deletions (zero-width) need an explicit map.

``compact``
    ``base`` with the spaces (and apostrophes) removed, which is what the
    automaton scans: ``稳*赚``, ``最 好 的``, ``国-家-级`` and ``f.u.c.k`` all
    become contiguous.  Latin words are glued together too
    ("thisisfuckingawesome"); the matcher restores word boundaries by looking
    at ``base`` (see ``matcher.py``), so ``assessment`` or ``Middlesex`` never
    match while ``s.h.i.t`` does.

Hard punctuation is a clause boundary, not a separator: "很稳。赚多少不重要"
must not read as 稳赚.  The exception is the evasive style where *every*
character stands alone ("保，本，高，收，益", or one character per line);
inside such a run the hard punctuation is treated like a space.

The tables are built once at import; screening a post costs one
``str.translate`` plus a few C-level passes, and offset maps are only built
for posts that have a candidate hit.
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

__all__ = [
    "APOSTROPHE",
    "BOUNDARY",
    "SEPARATOR",
    "FoldedText",
    "compact",
    "fold",
    "fold_char",
    "normalize",
    "is_wordish",
]

# Code points below this are looked up in a list (the fast path of
# str.translate); rarer ones above it (CJK extension B+, tag characters) get a
# second, dict-based pass only when a post contains any.
_TABLE_SIZE = 0x20000

SEPARATOR = " "
BOUNDARY = "\n"  # what hard punctuation becomes
# Apostrophes fold to "'" and are dropped from the compact view like a
# separator, but count as part of a word for boundaries ("player's hit" is not
# "s hit" spelled out).
APOSTROPHE = "'"

# Clause punctuation, after NFKC (full-width ，！？；： are ASCII by then).
_HARD_PUNCTUATION = ",!?;:。、"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_APOSTROPHES = "'\u2018\u2019\u02bc\u0060\u00b4\u2032\uff07"
_CHINESE_NUMERALS = {
    "〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip

# Look-alike letters used to dodge Latin word lists (after case folding).
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
    "һ": "h", "ӏ": "l", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ω": "w",
    # Latin oddities
    "ı": "i", "ſ": "s",
}  # fmt: skip


def _opencc_dictionary_dir() -> Path:
    import opencc  # opencc-python-reimplemented ships OpenCC's text dictionaries

    return Path(opencc.__file__).resolve().parent / "dictionary"


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    """OpenCC's TSCharacters.txt as a char -> char dict (first candidate wins)."""
    mapping: dict[str, str] = {}
    path = _opencc_dictionary_dir() / "TSCharacters.txt"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            source, _, targets = line.rstrip("\n").partition("\t")
            target = targets.split(" ")[0] if targets else ""
            if len(source) == 1 and len(target) == 1 and source != target:
                mapping[source] = target
    return mapping


def _fold_one(ch: str, ts: dict[str, str]) -> str:
    """Fold one character that is already NFKC-normalized and case-folded."""
    ch = ts.get(ch, ch)
    ch = _HOMOGLYPHS.get(ch, ch)
    ch = _CHINESE_NUMERALS.get(ch, ch)
    if ch in _APOSTROPHES:
        return APOSTROPHE
    if ch in _HARD_PUNCTUATION or ch in _LINE_BREAKS:
        return BOUNDARY
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):
        return ""
    if category == "Nd" and not ch.isascii():
        return str(unicodedata.digit(ch))  # Arabic-Indic, Devanagari... digits
    if category[0] in "LN":
        if not ch.isascii() and category[0] == "L":
            # é -> e, ǎ -> a: pinyin with tone marks and accented evasions.
            stripped = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if len(stripped) == 1 and stripped.isascii() and stripped.isalpha():
                return stripped
        return ch
    if category == "Cn":  # unassigned: keep as a word character, never invent a separator
        return ch
    return SEPARATOR


def fold_char(ch: str) -> str:
    """The normalized form of one character ('' when it is deleted)."""
    cp = ord(ch)
    if 0xD800 <= cp <= 0xDFFF:  # lone surrogate: cannot be encoded, treat as invisible
        return ""
    if ch in _LINE_BREAKS:
        return BOUNDARY
    if ch in _APOSTROPHES:
        return APOSTROPHE
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):
        return ""
    if category == "Cc":
        return SEPARATOR
    ts = _traditional_to_simplified()
    out = "".join(_fold_one(c, ts) for c in unicodedata.normalize("NFKC", ch).casefold())
    if out and not out.strip(SEPARATOR):
        return SEPARATOR  # "…" -> one separator, keeps the text index-aligned
    return out


def _build_tables() -> tuple[list, dict[int, str], list[str]]:
    table: list = list(range(_TABLE_SIZE))
    high: dict[int, str] = {}
    ts = _traditional_to_simplified()
    for cp in range(_TABLE_SIZE):
        if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xAC00 <= cp <= 0xD7A3:
            # CJK unified ideographs and Hangul syllables map to themselves,
            # except traditional characters and numerals.
            ch = chr(cp)
            target = _CHINESE_NUMERALS.get(ts.get(ch, ch), ts.get(ch))
            if target is not None:
                table[cp] = ord(target)
            continue
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category == "Cn" or (
            category == "Lo" and ch not in ts and unicodedata.normalize("NFKC", ch) == ch
        ):
            continue  # unassigned, or a caseless letter of some script: maps to itself
        out = fold_char(ch)
        if out == ch:
            continue
        table[cp] = ord(out) if len(out) == 1 else out
    # Fold the folds (OpenCC has chains such as 薴 -> 苧 -> 苎), so that
    # folding twice changes nothing and terms and posts always meet.
    for cp, mapped in enumerate(table):
        if mapped == cp:
            continue
        out = chr(mapped) if type(mapped) is int else mapped
        for _ in range(4):
            again = out.translate(table)
            if again == out:
                break
            out = again
        table[cp] = ord(out) if len(out) == 1 else out
    for source, target in ts.items():
        if ord(source) >= _TABLE_SIZE:
            high[ord(source)] = target
    for cp in range(0xE0000, 0xE1000):  # tag characters, variation selectors supplement
        high[cp] = ""
    # Characters that do not fold to exactly one character shift offsets.
    unaligned = [chr(cp) for cp, mapped in enumerate(table) if type(mapped) is not int]
    unaligned.extend(chr(cp) for cp in range(0xD800, 0xE000))
    return table, high, unaligned


def _char_class(chars: list[str]) -> str:
    """A compact regex character class for a set of characters."""
    cps = sorted({ord(c) for c in chars})
    parts = []
    for _, group in itertools.groupby(enumerate(cps), key=lambda item: item[1] - item[0]):
        run = [cp for _, cp in group]
        first, last = run[0], run[-1]
        parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
    return "[" + "".join(parts) + "]"


_TABLE, _HIGH, _unaligned = _build_tables()
# Characters whose folded form is not exactly one character.  The BMP part
# and the astral part are separate classes: sre keeps a BMP-only class as a
# bitmap (a few ns per character), and astral text is rare enough to afford
# the slower one.
_UNALIGNED_BMP_RX = re.compile(_char_class([c for c in _unaligned if ord(c) < 0x10000]))
del _unaligned


def _probe_ucs4_size() -> tuple[int, int] | None:
    """CPython stores a str with 1, 2 or 4 bytes per character; sys.getsizeof
    tells which in O(1).  Returns (size of a 1-char UCS-4 str, bytes per char)
    or None on interpreters where the layout does not hold."""
    one, two = sys.getsizeof("\U00010000"), sys.getsizeof("\U00010000" * 2)
    if two - one != 4 or sys.getsizeof("\u4e00" * 2) - sys.getsizeof("\u4e00") != 2:
        return None
    return one, 4


_UCS4 = _probe_ucs4_size()
_ASTRAL_RX = re.compile("[\U00010000-\U0010ffff]")


def may_have_astral(text: str) -> bool:
    """False only when ``text`` certainly has no character outside the BMP.

    O(1) on CPython: a str of 1 or 2 bytes per character is smaller than a
    4-byte one of the same length unless it carries a cached UTF-8 copy, and
    then this just answers "maybe".
    """
    if _UCS4 is None:
        return True
    one, width = _UCS4
    return sys.getsizeof(text) >= one + width * (len(text) - 1)


def has_astral(text: str) -> bool:
    """Does ``text`` contain a character outside the BMP (emoji, CJK ext. B...)?

    O(1) on CPython for strings this module just created.  (A str that has
    been UTF-8 encoded before carries a cached copy that changes its size, so
    this is not used on text received from outside.)
    """
    if _UCS4 is not None:
        one, width = _UCS4
        return bool(text) and sys.getsizeof(text) == one + width * (len(text) - 1)
    return _ASTRAL_RX.search(text) is not None


_HIGH_RX = re.compile("[\U00020000-\U0010ffff]")

# Softening of evasive runs of lone characters ("保，本，高，收，益").
_SEP = " '\n"
# Cheap pre-checks: a lone character between two boundaries, or two lone
# characters at the very start or end of the text ("保，本").
_LONE_BETWEEN_RX = re.compile("\n *[^ '\n] *\n")
_LONE_PAIR = f"[{_SEP}]*[^{_SEP}][{_SEP}]*\n[{_SEP}]*[^{_SEP}][{_SEP}]*"
_LONE_AT_START_RX = re.compile(f"{_LONE_PAIR}(?:[{_SEP}]|$)")
_LONE_AT_END_RX = re.compile(f"(?:^|[{_SEP}]){_LONE_PAIR}$")
# A run of two or more characters that each stand alone between separators.
_LONE_RUN_RX = re.compile(f"(?<![^{_SEP}])[^{_SEP}](?:[{_SEP}]+[^{_SEP}](?![^{_SEP}]))+")


def _soften_lone_runs(base: str) -> str:
    """Treat boundaries as separators inside runs like 保，本，高，收，益."""
    if not (
        _LONE_BETWEEN_RX.search(base)
        or _LONE_AT_START_RX.match(base)
        or _LONE_AT_END_RX.search(base, max(0, len(base) - 16))
    ):
        return base
    pieces = []
    last = 0
    for match in _LONE_RUN_RX.finditer(base):
        pieces.append(base[last : match.start()])
        pieces.append(match.group().replace(BOUNDARY, SEPARATOR))
        last = match.end()
    if not pieces:
        return base
    pieces.append(base[last:])
    return "".join(pieces)


def fold_unsoftened(text: str) -> str:
    """The base view before lone-run softening: one translate (two for astral text)."""
    base = text.translate(_TABLE)
    if (base is text or has_astral(base)) and _HIGH_RX.search(base):
        base = base.translate(_HIGH)
    return base


def soften_lone_runs(base: str) -> str:
    """Treat boundaries as separators inside runs like 保，本，高，收，益."""
    return _soften_lone_runs(base)


def fold(text: str) -> str:
    """The base view of ``text`` (see module docstring); len-preserving in the usual case."""
    return _soften_lone_runs(fold_unsoftened(text))


_LONE_BETWEEN_COMPACT_RX = re.compile("\n[^\n]\n")  # literal prefix: sre scans at C speed
_LONE_EDGE_START_RX = re.compile("\n*[^\n]\n+[^\n](?:\n|$)")
_LONE_EDGE_END_RX = re.compile("(?:^|\n)[^\n]\n+[^\n]\n*$")


def may_need_softening(compact_text: str) -> bool:
    """Could lone-run softening change this post?  (Cheap; false positives are fine.)"""
    if BOUNDARY not in compact_text:
        return False
    return (
        _LONE_BETWEEN_COMPACT_RX.search(compact_text) is not None
        or _LONE_EDGE_START_RX.match(compact_text) is not None
        or _LONE_EDGE_END_RX.search(compact_text[-8:]) is not None
    )


def compact(base: str) -> str:
    """The compact view of a base view: separators and apostrophes removed."""
    out = base.replace(SEPARATOR, "")
    if APOSTROPHE in out:
        out = out.replace(APOSTROPHE, "")
    return out


def normalize(text: str) -> str:
    """The compact normalized form used for matching (``normalize("最 好") == "最好"``)."""
    return compact(fold(text))


def is_wordish(ch: str) -> bool:
    """Letters and digits of alphabetic scripts (not CJK): word-boundary characters."""
    return ch.isalnum() and ord(ch) < 0x2E80


_SPLIT_RX = re.compile("[ ']")


class FoldedText:
    """A post with its views and the offset maps between them.

    Built only for posts with a candidate hit.  Indices go
    ``compact`` -> ``base`` -> the text as sent.
    """

    __slots__ = ("text", "base", "compact", "_base_to_text", "_part_ends")

    def __init__(self, text: str, base: str | None = None) -> None:
        self.text = text
        self.base = fold(text) if base is None else base
        if APOSTROPHE in self.base:
            parts = _SPLIT_RX.split(self.base)
        else:
            parts = self.base.split(SEPARATOR)
        self.compact = "".join(parts)
        # _part_ends[i] = compact index where part i ends; part i starts at
        # base index (compact index + i) because i one-character separators
        # precede it.
        self._part_ends = list(itertools.accumulate(map(len, parts)))
        self._base_to_text: list[int] | None | bool = False  # computed on first use

    def _offsets(self) -> list[int] | None:
        if self._base_to_text is False:
            self._base_to_text = _offset_map(self.text)  # None when index-aligned
        return self._base_to_text  # type: ignore[return-value]

    def base_index(self, compact_index: int) -> int:
        return compact_index + bisect.bisect_right(self._part_ends, compact_index)

    def text_index(self, base_index: int) -> int:
        offsets = self._offsets()
        if offsets is None:
            return base_index
        if base_index >= len(offsets):
            return len(self.text)
        return offsets[base_index]

    def text_span(self, base_start: int, base_end: int) -> tuple[int, int]:
        """Span in the text as sent covering base[base_start:base_end]."""
        offsets = self._offsets()
        if offsets is None:
            return base_start, base_end
        return offsets[base_start], offsets[base_end - 1] + 1


def _folded_length(ch: str) -> int:
    cp = ord(ch)
    mapped = _TABLE[cp] if cp < _TABLE_SIZE else _HIGH.get(cp, cp)
    return 1 if type(mapped) is int else len(mapped)


def _offset_map(text: str) -> list[int] | None:
    """base index -> text index, or None when folding kept every index.

    Only characters that fold to zero or several characters shift indices;
    they are found with a regex and the aligned stretches between them are
    copied as ranges, so no Python loop runs per character.
    """
    positions = [m.start() for m in _UNALIGNED_BMP_RX.finditer(text)]
    astral = (
        [m.start() for m in _ASTRAL_RX.finditer(text)] if may_have_astral(text) else []
    )  # emoji: few, checked one by one
    if astral:
        positions = sorted(positions + astral)
    out: list[int] | None = None
    last = 0
    for index in positions:
        length = _folded_length(text[index])
        if length == 1:
            continue
        if out is None:
            out = []
        out.extend(range(last, index))
        out.extend([index] * length)
        last = index + 1
    if out is None:
        return None
    out.extend(range(last, len(text)))
    # Lone-run softening and the high-plane pass keep lengths, so this is complete.
    return out
