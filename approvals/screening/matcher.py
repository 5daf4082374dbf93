"""Lexicon matching: one Aho-Corasick automaton per policy over the compact view.

Every term (risky or allowed) - and, in a policy with detectors, the words
that announce a contact ID - is normalized exactly like a post and goes into
one automaton, which scans the compact view encoded as UTF-16 (an all-ASCII
post goes to a small twin holding only the ASCII patterns).  It is searched
with ``MatchKind.Standard`` and ``overlapping=True`` rather than
leftmost-longest, on purpose:

* an allow-list term cancels a risky hit only when it *covers* it
  (``第一次`` covers ``第一``; ``无风险利率`` covers ``无风险``), which needs every
  occurrence of both, not one winner per position;
* in the compact view Latin words are glued together ("asshit" for "as shit"),
  so a false candidate that is later rejected for lack of a word boundary
  must not swallow the true one that overlaps it.

Scanning costs about the same as leftmost-longest; the extra candidates are
filtered here in Python, and only for posts that have any.

Word boundaries are restored on the base view: a term that starts (ends) with
a Latin letter or digit only matches when the character before (after) it in
the post is not one, so ``assessment``, ``Scunthorpe``, ``Hancock``,
``cocktail`` and ``class`` stay clean.  Inside a match, a gap between two Latin
letters/digits (a removed separator) is accepted only where the term itself has
a space ("guaranteed returns") or where one side is a single letter standing
alone - the ``f.u.c.k`` / ``s h i t`` evasion - so that words that really are
apart ("this hit") are never read as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick_rs

from .normalize import APOSTROPHE, SEPARATOR, FoldedText, fold, is_wordish, may_have_astral

__all__ = ["Entry", "Candidate", "Matcher", "Scan", "make_entry", "prepare_term"]

TERM, ALLOW, CONTACT_TRIGGER = "term", "allow", "contact_trigger"


@dataclass(frozen=True, slots=True)
class Entry:
    """One compiled automaton pattern: a lexicon term, an allow phrase or a detector trigger."""

    term: str
    category: str
    severity: str
    message: str
    kind: str = TERM
    pattern: str = field(default="", compare=False)
    gaps: frozenset[int] = field(default=frozenset(), compare=False)
    word_start: bool = field(default=False, compare=False)
    word_end: bool = field(default=False, compare=False)
    # Starts or ends with a digit, Chinese numerals included: must not run on into
    # more digits of either kind (第一 is not in 第10名, 996 is not in 一九九六年).
    digit_start: bool = field(default=False, compare=False)
    digit_end: bool = field(default=False, compare=False)
    checked: bool = field(default=False, compare=False)


class Candidate(NamedTuple):
    """A validated lexicon match, in base-view coordinates."""

    entry: Entry
    base_start: int
    base_end: int


# Word joints inside a Latin term where a post may put a separator:
# "ProjectNova" also matches "Project Nova", "iPhone15" also "iPhone 15".
_JOINT_RX = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def _is_latin_origin(ch: str) -> bool:
    """Does this character of a term or post fold to a Latin letter/digit that
    takes part in word boundaries?  Chinese numerals fold to digits (一 -> 1)
    but stay CJK for boundaries: "唯一a" still contains 唯一."""
    return not ("\u3007" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


class PreparedTerm(NamedTuple):
    pattern: str
    gaps: frozenset[int]
    word_start: bool
    word_end: bool
    digit_start: bool
    digit_end: bool
    checked: bool


def prepare_term(term: str) -> PreparedTerm | None:
    """Normalize a term into its compact pattern and the boundary rules it needs.

    ``None`` when nothing matchable is left (a term made only of separators).
    Terms are folded character by character (no lone-run softening: a term
    is literal).
    """
    chars: list[str] = []
    origins: list[str] = []
    gaps: set[int] = set()
    pending_gap = False
    for original in _JOINT_RX.sub(" ", term):
        for ch in fold(original):
            if ch == SEPARATOR or ch == APOSTROPHE:
                pending_gap = bool(chars)
                continue
            if pending_gap:
                gaps.add(len(chars))
                pending_gap = False
            chars.append(ch)
            origins.append(original)
    if not chars:
        return None
    pattern = "".join(chars)
    word_start = is_wordish(pattern[0]) and _is_latin_origin(origins[0])
    word_end = is_wordish(pattern[-1]) and _is_latin_origin(origins[-1])
    digit_start = pattern[0].isdigit()
    digit_end = pattern[-1].isdigit()
    checked = any(is_wordish(ch) for ch in pattern)
    return PreparedTerm(pattern, frozenset(gaps), word_start, word_end, digit_start, digit_end, checked)


def make_entry(term: str, category: str, severity: str, message: str, kind: str = TERM) -> Entry | None:
    if kind == CONTACT_TRIGGER:  # already in compact form; no validation needed
        return Entry(term, category, severity, message, kind, pattern=term)
    prepared = prepare_term(term)
    if prepared is None:
        return None
    return Entry(
        term=term,
        category=category,
        severity=severity,
        message=message,
        kind=kind,
        pattern=prepared.pattern,
        gaps=prepared.gaps,
        word_start=prepared.word_start,
        word_end=prepared.word_end,
        digit_start=prepared.digit_start,
        digit_end=prepared.digit_end,
        checked=prepared.checked,
    )


def _wordish_at(folded: FoldedText, index: int) -> bool:
    """Is base[index] a Latin letter or digit (not a folded Chinese numeral)?"""
    ch = folded.base[index]
    if not is_wordish(ch):
        return False
    if ch.isdigit():
        return _is_latin_origin(folded.text[folded.text_index(index)])
    return True


def _word_before(folded: FoldedText, index: int) -> bool:
    """Is base[index] preceded by a letter/digit of the same word?"""
    if index <= 0:
        return False
    if folded.base[index - 1] == APOSTROPHE:  # "player's" - the s belongs to the word before
        return index >= 2 and _wordish_at(folded, index - 2)
    return _wordish_at(folded, index - 1)


def _word_after(folded: FoldedText, index: int) -> bool:
    """Is base[index - 1] followed by a letter/digit of the same word?"""
    base = folded.base
    if index >= len(base):
        return False
    if base[index] == APOSTROPHE:
        return index + 1 < len(base) and _wordish_at(folded, index + 1)
    return _wordish_at(folded, index)


def _utf16_char_offsets(data: bytes, offsets: set[int]) -> dict[int, int]:
    """UTF-16-LE byte offsets -> str indices, for text with surrogate pairs."""
    result: dict[int, int] = {}
    position = 0
    previous = 0
    for offset in sorted(offsets):
        position += len(data[previous:offset].decode("utf-16-le", "surrogatepass"))
        result[offset] = position
        previous = offset
    return result


class Resolved:
    """The validated outcome of a scan, in base-view coordinates."""

    __slots__ = ("risky", "allowed", "contact_trigger")

    def __init__(self) -> None:
        self.risky: list[Candidate] = []
        self.allowed: list[tuple[int, int]] = []
        self.contact_trigger = False


_ASTRAL_RX = re.compile("[\U00010000-\U0010ffff]")
# Digit masks: ASCII digits -> 1.  In UTF-16-LE a digit is the unit (0x3X, 0x00),
# so high bytes 0x00 -> 2 and a run of digits reads 01 02 01 02...
_DIGIT_MASK_ASCII = bytes(1 if 0x30 <= b <= 0x39 else 0 for b in range(256))
_DIGIT_MASK_UTF16 = bytes(1 if 0x30 <= b <= 0x39 else 2 if b == 0 else 0 for b in range(256))
_ELEVEN_ASCII = b"\x01" * 11
_ELEVEN_UTF16 = b"\x01\x02" * 11


class Scan(NamedTuple):
    """Raw automaton matches over a compact view, in str indices."""

    matches: list[tuple[int, int, int]]  # (pattern index, start, end)
    data: bytes  # the encoded compact view
    utf16: bool

    def has_long_digit_run(self) -> bool:
        """May the post hold a phone, ID or card number (11+ digits once separators are gone)?"""
        if self.utf16:
            return _ELEVEN_UTF16 in self.data.translate(_DIGIT_MASK_UTF16)
        return _ELEVEN_ASCII in self.data.translate(_DIGIT_MASK_ASCII)


# A DFA scans about a third faster than the contiguous NFA the library picks
# by itself, but costs roughly 5-8 KB of memory per pattern (a 10,000-term
# policy: ~80 MB against ~20 MB).  The default policy has ~1,600 patterns, so
# brands with up to ~2,400 company terms get the DFA, larger lexicons the NFA.
DFA_MAX_PATTERNS = 4_000


def _automaton(patterns: list[bytes]) -> ahocorasick_rs.BytesAhoCorasick | None:
    if not patterns:
        return None
    return ahocorasick_rs.BytesAhoCorasick(
        patterns,
        matchkind=ahocorasick_rs.MatchKind.Standard,
        implementation=ahocorasick_rs.Implementation.DFA if len(patterns) <= DFA_MAX_PATTERNS else None,
    )


class Matcher:
    """The compiled automata of one policy (immutable; safe to share between threads).

    Chinese text is scanned as UTF-16-LE, two bytes a character instead of
    UTF-8's three, which makes the scan a third cheaper; an all-ASCII post is
    scanned as ASCII by a second, small automaton holding only the ASCII
    patterns.  Matches at odd byte offsets (straddling two UTF-16 units) are
    dropped.
    """

    def __init__(self, entries: list[Entry]) -> None:
        by_pattern: dict[str, list[Entry]] = {}
        for entry in entries:
            by_pattern.setdefault(entry.pattern, []).append(entry)
        self.patterns: list[str] = list(by_pattern)
        self.entries: list[tuple[Entry, ...]] = [tuple(by_pattern[p]) for p in self.patterns]
        # Patterns that can lead to a hit (an allow phrase alone never does).
        self._consequential = [any(e.kind != ALLOW for e in group) for group in self.entries]
        self._utf16 = _automaton([p.encode("utf-16-le", "surrogatepass") for p in self.patterns])
        self._ascii_index = [i for i, p in enumerate(self.patterns) if p.isascii()]
        self._ascii = _automaton([self.patterns[i].encode("ascii") for i in self._ascii_index])

    def scan(self, compact: str) -> Scan:
        """All matches (overlapping) of every pattern in a compact view."""
        if compact.isascii():
            data = compact.encode("ascii")
            if self._ascii is None or not data:
                return Scan([], data, False)
            index = self._ascii_index
            found = self._ascii.find_matches_as_indexes(data, overlapping=True)
            return Scan([(index[p], start, end) for p, start, end in found], data, False)
        data = compact.encode("utf-16-le", "surrogatepass")
        if self._utf16 is None:
            return Scan([], data, True)
        found = self._utf16.find_matches_as_indexes(data, overlapping=True)
        if not found:
            return Scan(found, data, True)
        found = [match for match in found if not match[1] & 1]  # aligned on UTF-16 units
        if not may_have_astral(compact) or _ASTRAL_RX.search(compact) is None:
            return Scan([(p, start >> 1, end >> 1) for p, start, end in found], data, True)
        to_char = _utf16_char_offsets(data, {m[1] for m in found} | {m[2] for m in found})
        return Scan([(p, to_char[start], to_char[end]) for p, start, end in found], data, True)

    def consequential(self, raw: list[tuple[int, int, int]]) -> bool:
        """Could any of these raw matches become a hit?  (Allow phrases alone cannot.)"""
        flags = self._consequential
        return any(flags[pattern_index] for pattern_index, _, _ in raw)

    def resolve(self, folded: FoldedText, raw: list[tuple[int, int, int]]) -> Resolved:
        """Validate raw matches (str indices in ``folded.compact``) against the base view."""
        resolved = Resolved()
        base_index = folded.base_index
        for pattern_index, start, end in raw:
            base_start = base_index(start)
            base_end = base_index(end - 1) + 1
            for entry in self.entries[pattern_index]:
                if entry.kind == CONTACT_TRIGGER:
                    resolved.contact_trigger = True
                    continue
                if entry.checked and not self._valid(entry, folded, start, end, base_start, base_end):
                    continue
                if entry.kind == ALLOW:
                    resolved.allowed.append((base_start, base_end))
                else:
                    resolved.risky.append(Candidate(entry, base_start, base_end))
        return resolved

    @staticmethod
    def _valid(
        entry: Entry, folded: FoldedText, start: int, end: int, base_start: int, base_end: int
    ) -> bool:
        if entry.word_start and _word_before(folded, base_start):
            return False
        if entry.word_end and _word_after(folded, base_end):
            return False
        base = folded.base
        if entry.digit_start and base_start > 0 and base[base_start - 1].isdigit():
            return False
        if entry.digit_end and base_end < len(base) and base[base_end].isdigit():
            return False
        if base_end - base_start == end - start:
            return True  # no separator inside the match
        compact = folded.compact
        previous = base_start
        for index in range(start + 1, end):
            current = folded.base_index(index)
            if current != previous + 1:
                left, right = compact[index - 1], compact[index]
                if (
                    is_wordish(left)
                    and is_wordish(right)
                    and (index - start) not in entry.gaps
                    and _word_before(folded, previous)
                    and _word_after(folded, current + 1)
                ):
                    return False  # two real words that are apart
            previous = current
        return True
