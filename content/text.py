"""How long a post is in the eyes of each platform.

Most Chinese platforms count characters. X weighs each CJK character (and emoji) as two and every
link as 23, whatever its length; its limit of 280 is in those weights.
"""

import re

_URL = re.compile(r"https?://\S+")


def _is_wide(char):
    code = ord(char)
    return (
        0x1100 <= code <= 0x115F or 0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3
        or 0xF900 <= code <= 0xFAFF or 0xFE30 <= code <= 0xFE4F or 0xFF00 <= code <= 0xFF60
        or 0xFFE0 <= code <= 0xFFE6 or code >= 0x1F000
    )


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
