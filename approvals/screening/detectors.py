"""Detectors for things no word list can hold: personal numbers and contact IDs.

All detectors read the base view (see ``normalize.py``): full-width digits and
Chinese numerals (一三九, 幺) are ASCII digits there, and every separator (``-``, ``.``, ``+``, spaces, emoji) is one
space, so ``139-8765-4321``, ``139 8765 4321`` and ``+86 139.8765.4321`` all
look alike.  Offsets returned are base-view offsets.

Numbers are read as runs of digit groups.  Only whole groups are ever
combined, so a phone or card number is never found *inside* a longer number
(``2024010113987654321`` is an order number, not a phone).  Each combination
of adjacent groups is classified:

* mobile: ``1[3-9]`` + 9 digits, optionally after ``86``/``0086`` (``+86``);
* ID card: 18 characters with a plausible province code and birth date;
  reported only with a valid ISO 7064 MOD 11-2 check character - an
  ID-shaped number with a wrong check digit is a typo, and it is *not* then
  re-read as a bank card;
* bank card: 16-19 digits, issuer digit 3-6, passing the Luhn check.

400/800 hotlines, landlines, order numbers, years and prices never qualify.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "DetectorHit",
    "find_numbers",
    "find_contact_ids",
    "id_check_character",
    "is_valid_id_number",
    "luhn_valid",
]

MOBILE = "mobile_number"
ID_CARD = "id_card_number"
BANK_CARD = "bank_card_number"
CONTACT_ID = "contact_id"
_ID_SHAPED_INVALID = "id_shaped_invalid"  # blocks other readings, never reported


@dataclass(frozen=True, slots=True)
class DetectorHit:
    kind: str
    base_start: int
    base_end: int


# --- numbers -----------------------------------------------------------------

# At least 11 digits, groups separated by up to 3 separators; an ID number may
# end in X (lower case in the base view).
_NUMBER_RUN_RX = re.compile(r"[0-9](?: {0,3}[0-9]){10,}(?: {0,3}x(?![a-z0-9]))?")
_GROUP_RX = re.compile(r"[0-9]+|x")
_MOBILE_RX = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")

_PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
    + [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _id_shaped(number: str) -> bool:
    """18 characters with a real province code and a plausible birth date."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789xX":
        return False
    if int(number[:2]) not in _PROVINCES:
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= datetime.date.today()


def is_valid_id_number(number: str) -> bool:
    """A mainland resident ID number with a plausible date and a valid check character."""
    return _id_shaped(number) and id_check_character(number[:17]) == number[17].upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for position, ch in enumerate(reversed(number)):
        digit = ord(ch) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _classify(number: str) -> str | None:
    length = len(number)
    if length == 18 and _id_shaped(number):
        return ID_CARD if id_check_character(number[:17]) == number[17].upper() else _ID_SHAPED_INVALID
    if not number.isdigit():
        return None
    if length in (11, 13, 15) and _MOBILE_RX.fullmatch(number):
        return MOBILE
    if 16 <= length <= 19 and number[0] in "3456" and luhn_valid(number):
        return BANK_CARD
    return None


_CLASSIFIED_LENGTHS = frozenset([11, 13, 15, 16, 17, 18, 19])


def _classify_groups(groups: list[tuple[str, int, int]]) -> list[DetectorHit]:
    """Find the best readings among combinations of adjacent whole groups.

    Longer readings win (+86 139 8765 4321 is one number, not 86 and a
    phone); a group belongs to at most one reading.
    """
    candidates = []
    seen: dict[str, str | None] = {}
    for first in range(len(groups)):
        if groups[first][0][0] == "9":
            continue  # no mobile, ID or card number starts with 9
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last][0]
            if len(digits) > 19:
                break
            if len(digits) in _CLASSIFIED_LENGTHS:
                kind = seen.get(digits, "")
                if kind == "":
                    kind = seen[digits] = _classify(digits)
                if kind is not None:
                    candidates.append((-len(digits), first, last, kind))
    candidates.sort()
    taken = [False] * len(groups)
    hits = []
    for _, first, last, kind in candidates:
        if any(taken[first : last + 1]):
            continue
        taken[first : last + 1] = [True] * (last + 1 - first)
        if kind != _ID_SHAPED_INVALID:
            hits.append(DetectorHit(kind, groups[first][1], groups[last][2]))
    hits.sort(key=lambda hit: hit.base_start)
    return hits


def find_numbers(base: str) -> list[DetectorHit]:
    """Mobile, ID card and bank card numbers in a base view."""
    hits: list[DetectorHit] = []
    for run in _NUMBER_RUN_RX.finditer(base):
        offset = run.start()
        groups = [
            (m.group().upper(), offset + m.start(), offset + m.end()) for m in _GROUP_RX.finditer(run.group())
        ]
        hits.extend(_classify_groups(groups))
    return hits


# --- contact IDs (traffic diversion) -----------------------------------------------

# Words that announce a contact handle.  A plain alternation of literals, so
# sre scans for its first characters at C speed; Latin triggers need word
# boundaries ("v8", "vxworks" are not triggers), checked in Python.
# The lookahead asks for something handle-like within a few characters, so
# that ordinary mentions ("找我聊聊", "love") never leave the fast path.
_CONTACT_TRIGGER_RX = re.compile(
    "(?:v信|微信|薇信|徽信|威信|维信|扣扣|企鹅|私聊|私信|私我|加我|联系我|找我|滴滴我|戳我"
    "|wechat|weixin|vx|wx|qq|v)"
    "(?=(?:[ \n'号是为的]|id){0,8}[a-z0-9])"
)
_PERSONAL_TRIGGERS = frozenset(["私聊", "私信", "私我", "加我", "联系我", "找我", "滴滴我", "戳我"])
# What may sit between the trigger and the handle: "号", "是", "：", "❤", emoji...
_HANDLE_RX = re.compile(
    r"(?:[^\w]|[号是为的]|id|_){0,8}?"
    r"([a-z][a-z0-9_-]{5,19}|[0-9]{5,12})(?![a-z0-9_-])"
)
_LATIN_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cs"})


_TRIGGER_WORDS = (
    "v信", "微信", "薇信", "徽信", "威信", "维信", "扣扣", "企鹅", "私聊", "私信", "私我",
    "加我", "联系我", "找我", "滴滴我", "戳我", "wechat", "weixin", "vx", "wx", "qq",
)  # fmt: skip
_HANDLE_STARTS = "abcdefghijklmnopqrstuvwxyz0123456789"
# What may follow a trigger in the compact view before the handle starts
# (separators are gone there; "：" is a boundary).
_COMPACT_FOLLOWERS = ("\n", "号", "是", "为", "id")


def contact_trigger_patterns() -> list[str]:
    """Compact-view patterns that must occur before a contact ID can be found.

    They go into the policy's automaton, so the common post without any costs
    nothing here; the regex-based detector runs only after one of them.  A
    bare "v" only counts before a boundary or a digit ("v：car888",
    "v13987654321"), since "v" + letter is every English word with a v.
    """
    patterns = [word + start for word in _TRIGGER_WORDS for start in _HANDLE_STARTS]
    patterns += [word + follower for word in _TRIGGER_WORDS for follower in _COMPACT_FOLLOWERS]
    patterns += ["v\n", "v号", "v是"] + ["v" + digit for digit in "0123456789"]
    return patterns


def _is_trigger(base: str, trigger: re.Match) -> bool:
    if not trigger.group().isascii():
        return True
    start, end = trigger.span()
    return not (
        (start > 0 and base[start - 1] in _LATIN_WORD) or (end < len(base) and base[end] in _LATIN_WORD)
    )


def _clean_handle_window(window: str) -> tuple[str, list[int]]:
    """NFKC + case fold of a short piece of the original text, keeping _ and -
    (the base view turned them into separators), with a map back to it."""
    out: list[str] = []
    index_map: list[int] = []
    for index, ch in enumerate(window):
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        out.append(folded)
        index_map.extend([index] * len(folded))
    return "".join(out), index_map


def find_contact_ids(base: str, text: str, text_index) -> list[tuple[int, int, int, int]]:
    """Contact handles announced by a trigger word.

    Returns (base_start, base_end_of_trigger, text_start, text_end) tuples; the
    handle itself is located in the original text (``text_index`` maps a base
    index to a text index), because IDs such as ``hello_2024`` keep their
    underscores there.
    """
    found = []
    for trigger in _CONTACT_TRIGGER_RX.finditer(base):
        if not _is_trigger(base, trigger):
            continue
        word = trigger.group()
        latin_trigger = word.isascii()
        text_start = text_index(trigger.start())
        text_after = text_index(trigger.end() - 1) + 1
        window, window_map = _clean_handle_window(text[text_after : text_after + 48])
        match = _HANDLE_RX.match(window)
        if match is None:
            continue
        handle = match.group(1)
        looks_generated = not handle.isalpha()  # has digits, _ or -
        if latin_trigger or word in _PERSONAL_TRIGGERS:
            if not looks_generated:
                continue
        elif not looks_generated and len(handle) < 6:
            continue
        text_end = text_after + window_map[match.end(1) - 1] + 1
        found.append((trigger.start(), trigger.end(), text_start, text_end))
    return found
