"""Lexicon matching: one Aho-Corasick automaton per policy over the compact view.

Every term (risky or allowed) is normalized exactly like a post and goes into
one automaton, which scans the UTF-8 bytes of the compact view.  The automaton
is searched with ``MatchKind.Standard`` and ``overlapping=True`` rather than
leftmost-longest, on purpose:

* an allow-list term cancels a risky hit only when it *covers* it
  (``第一次`` covers ``第一``; ``无风险利率`` covers ``无风险``), which needs every
  occurrence of both, not one winner per position;
* in the compact view Latin words are glued together ("asshit" for "as shit"),
  so a false candidate that is later rejected for lack of a word boundary
  must not swallow the true one that overlaps it.

Scanning costs the same as leftmost-longest; the extra candidates are
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

import ahocorasick_rs

from .normalize import APOSTROPHE, SEPARATOR, FoldedText, fold, is_wordish

__all__ = ["Entry", "Candidate", "Matcher", "make_entry", "prepare_term"]

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
    checked: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Candidate:
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


def prepare_term(term: str) -> tuple[str, frozenset[int], bool, bool, bool] | None:
    """Normalize a term: (pattern, allowed gaps, word_start, word_end, checked).

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
    checked = any(is_wordish(ch) for ch in pattern)
    return pattern, frozenset(gaps), word_start, word_end, checked


def make_entry(
    term: str, category: str, severity: str, message: str, kind: str = TERM
) -> Entry | None:
    if kind == CONTACT_TRIGGER:  # already in compact form; no validation needed
        return Entry(term, category, severity, message, kind, pattern=term)
    prepared = prepare_term(term)
    if prepared is None:
        return None
    pattern, gaps, word_start, word_end, checked = prepared
    return Entry(
        term=term,
        category=category,
        severity=severity,
        message=message,
        kind=kind,
        pattern=pattern,
        gaps=gaps,
        word_start=word_start,
        word_end=word_end,
        checked=checked,
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


def _char_offsets(data: bytes, offsets: set[int]) -> dict[int, int]:
    """UTF-8 byte offsets (all on character boundaries) -> str indices."""
    result: dict[int, int] = {}
    position = 0
    previous = 0
    for offset in sorted(offsets):
        position += len(data[previous:offset].decode("utf-8", "surrogatepass"))
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


class Matcher:
    """The compiled automaton of one policy (immutable; safe to share between threads)."""

    def __init__(self, entries: list[Entry]) -> None:
        by_pattern: dict[str, list[Entry]] = {}
        for entry in entries:
            by_pattern.setdefault(entry.pattern, []).append(entry)
        self.patterns: list[str] = list(by_pattern)
        self.entries: list[tuple[Entry, ...]] = [tuple(by_pattern[p]) for p in self.patterns]
        if self.patterns:
            self._automaton = ahocorasick_rs.BytesAhoCorasick(
                [p.encode("utf-8", "surrogatepass") for p in self.patterns],
                matchkind=ahocorasick_rs.MatchKind.Standard,
                implementation=ahocorasick_rs.Implementation.DFA,
            )
        else:
            self._automaton = None

    def scan(self, compact_bytes: bytes) -> list[tuple[int, int, int]]:
        """Raw matches (pattern index, byte start, byte end) in a compact view's UTF-8."""
        if self._automaton is None or not compact_bytes:
            return []
        return self._automaton.find_matches_as_indexes(compact_bytes, overlapping=True)

    def resolve(
        self, folded: FoldedText, raw: list[tuple[int, int, int]], compact_bytes: bytes
    ) -> Resolved:
        """Validate raw matches against the post's base view."""
        resolved = Resolved()
        if not raw:
            return resolved
        if len(compact_bytes) == len(folded.compact):  # ASCII: bytes are characters
            to_char = None
        else:
            to_char = _char_offsets(
                compact_bytes, {s for _, s, _ in raw} | {e for _, _, e in raw}
            )
        base_index = folded.base_index
        for pattern_index, byte_start, byte_end in raw:
            if to_char is None:
                start, end = byte_start, byte_end
            else:
                start, end = to_char[byte_start], to_char[byte_end]
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
