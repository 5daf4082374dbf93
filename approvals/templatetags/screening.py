"""Showing screening results: the text with its hits highlighted in place, and hit explanations.

`highlight(text, hits)` is the one place that turns a text and its hits into HTML; every page that
shows hits (Try it, lexicon pages, the compose and review pages) goes through it, or through the
include `approvals/includes/highlighted_text.html` that calls it. The text is escaped piece by
piece, so nothing the author typed is ever rendered as markup.
"""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

SEVERITY_RANK = {"warn": 1, "review": 2, "block": 3}
SEVERITY_LABEL = {"warn": "warn", "review": "review", "block": "block"}


def _get(hit, name, default=None):
    if isinstance(hit, dict):
        return hit.get(name, default)
    return getattr(hit, name, default)


def _span(hit, length):
    try:
        start, end = int(_get(hit, "start")), int(_get(hit, "end"))
    except (TypeError, ValueError):
        return None
    start, end = max(0, min(start, length)), max(0, min(end, length))
    return (start, end) if start < end else None


def _severity(hit):
    severity = _get(hit, "severity")
    return severity if severity in SEVERITY_RANK else "review"


def message_parts(message):
    """(explanation, suggestion) of a hit message in the current language.

    The engine writes each message in Chinese and English, `"<zh> / <en>"`, the suggestion after
    "建议：" or "Suggestion:"; a message without those parts is shown whole."""
    message = message or ""
    zh, separator, en = message.partition(" / ")
    chinese = (get_language() or "").lower().startswith("zh")
    part = (zh if chinese else en) if separator else message
    for marker in ("建议：", " Suggestion: "):
        if marker in part:
            explanation, _, suggestion = part.partition(marker)
            return explanation.strip(), suggestion.strip().rstrip("。.").strip()
    return part.strip(), ""


def highlight(text, hits):
    """The text, HTML-escaped, with every hit wrapped in place in
    `<mark class="hit hit-<severity>" title="<explanation>">`. Overlapping hits split the text at
    every boundary; a piece covered by several hits shows the worst severity and all explanations."""
    text = "" if text is None else str(text)
    spans = []
    for index, hit in enumerate(hits or ()):
        span = _span(hit, len(text))
        if span is not None:
            spans.append((span[0], span[1], index, hit))
    if not spans:
        return escape(text)
    points = sorted({0, len(text)} | {s for s, _, _, _ in spans} | {e for _, e, _, _ in spans})
    pieces = []
    for left, right in zip(points, points[1:], strict=False):
        covering = [(index, hit) for start, end, index, hit in spans if start <= left and right <= end]
        piece = text[left:right]
        if not covering:
            pieces.append(escape(piece))
            continue
        worst = max((_severity(hit) for _, hit in covering), key=SEVERITY_RANK.__getitem__)
        explanations = []
        for _, hit in covering:
            explanation, suggestion = message_parts(_get(hit, "message"))
            line = f"{explanation} → {suggestion}" if suggestion else explanation
            if line and line not in explanations:
                explanations.append(line)
        categories = sorted({str(_get(hit, "category", "")) for _, hit in covering})
        pieces.append(format_html(
            '<mark class="hit hit-{}" title="{}" data-hits="{}" data-category="{}">{}</mark>',
            worst, "\n".join(explanations), " ".join(str(index) for index, _ in covering), " ".join(categories),
            piece,
        ))
    return mark_safe("".join(str(piece) for piece in pieces))


def hit_rows(text, hits):
    """One row per hit for a list under the text: what the author typed, category, severity,
    explanation and suggested rewrite."""
    text = "" if text is None else str(text)
    rows = []
    for index, hit in enumerate(hits or ()):
        span = _span(hit, len(text))
        explanation, suggestion = message_parts(_get(hit, "message"))
        rows.append({
            "index": index,
            "typed": text[span[0]:span[1]] if span else "",
            "term": _get(hit, "term", ""),
            "category": _get(hit, "category", ""),
            "severity": _severity(hit),
            "explanation": explanation,
            "suggestion": suggestion,
            "start": span[0] if span else None,
            "end": span[1] if span else None,
        })
    return rows


def excerpt(text, hits, radius=60):
    """A window of `text` around its first hit, with the hits shifted into it:
    `{"text", "hits", "cut_before", "cut_after"}`."""
    text = "" if text is None else str(text)
    spans = [span for span in (_span(hit, len(text)) for hit in hits or ()) if span]
    if not spans:
        window = (0, min(len(text), 2 * radius))
    else:
        first = min(spans)
        window = (max(0, first[0] - radius), min(len(text), first[1] + radius))
    shifted = []
    for hit in hits or ():
        span = _span(hit, len(text))
        if span and span[0] >= window[0] and span[1] <= window[1]:
            shifted.append({**_as_dict(hit), "start": span[0] - window[0], "end": span[1] - window[0]})
    return {
        "text": text[window[0]:window[1]], "hits": shifted,
        "cut_before": window[0] > 0, "cut_after": window[1] < len(text),
    }


def _as_dict(hit):
    if isinstance(hit, dict):
        return dict(hit)
    return {name: _get(hit, name) for name in ("category", "severity", "term", "start", "end", "message")}


register.simple_tag(name="highlight")(highlight)
register.simple_tag(name="hit_rows")(hit_rows)
register.simple_tag(name="excerpt")(excerpt)
