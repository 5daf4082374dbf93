"""How long a post is in the eyes of each platform.

Most Chinese platforms count characters. X weighs each CJK character (and emoji) as two and every
link as 23, whatever its length; its limit of 280 is in those weights.
"""

import re

_URL = re.compile(r"https?://\S+")


# X's weights (twitter-text, config v3): code points in these ranges weigh 1 (Latin, Greek, Cyrillic,
# Hebrew, Arabic, Indic… and the common spaces, dashes, quotes and primes); every other one weighs 2:
# CJK, kana, hangul, full-width forms, but also "…", "€" and emoji such as "☕" or "😀". X counts an
# emoji sequence (with a skin tone or joiner) as 2 in all; here each of its code points counts, so a
# text near the limit is refused a little early, never accepted for X to refuse.
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def _is_wide(char):
    code = ord(char)
    return not any(start <= code <= end for start, end in _X_LIGHT)


def weighted_length(platform_slug, text):
    text = text or ""
    if platform_slug != "x":
        return len(text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += sum(2 if _is_wide(c) else 1 for c in text[position:match.start()]) + 23
        position = match.end()
    total += sum(2 if _is_wide(c) else 1 for c in text[position:])
    return total
