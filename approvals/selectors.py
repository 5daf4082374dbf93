"""Reads about screening: lexicon lists and pages, histories, and what a term would have caught."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import Count, Q

from .models import AuditEvent, Screening
from .policies import lexicons_visible_to, screenings_visible_to
from .screening import Policy

TERMS_PER_PAGE = 50
HISTORY_LENGTH = 50
# "Would have caught" looks at this many of the latest screenings.
RECENT_SCREENINGS = 2000
CAUGHT_SHOWN = 50


def lexicon_list(*, user):
    """The lexicons `user` can see, with their term counts, in a constant number of queries."""
    return (
        lexicons_visible_to(user)
        .select_related("brand")
        .annotate(
            term_count=Count("terms", filter=Q(terms__allow=False)),
            allow_count=Count("terms", filter=Q(terms__allow=True)),
        )
        .order_by("brand__name", "name", "pk")
    )


def lexicon_terms_page(*, lexicon, number=1, query="", per_page=TERMS_PER_PAGE):
    terms = lexicon.terms.select_related("created_by").order_by("allow", "term", "pk")
    if query:
        terms = terms.filter(term__icontains=query)
    return Paginator(terms, per_page).get_page(number)


def lexicon_history(*, lexicon, limit=HISTORY_LENGTH):
    """The latest audit events of a lexicon and its terms (term events name their lexicon)."""
    return list(
        AuditEvent.objects.filter(object_type="approvals.lexicon", object_id=str(lexicon.pk)).order_by("-id")[:limit]
    )


@dataclass
class CaughtText:
    screening: Screening
    hits: list


@dataclass
class WouldHaveCaught:
    term: str
    scanned: int = 0  # screenings looked at
    texts: int = 0  # of which the term matches
    occurrences: int = 0
    by_decision: dict = field(default_factory=dict)  # the decision each caught text had then
    examples: list = field(default_factory=list)  # up to CAUGHT_SHOWN, latest first


def would_have_caught(*, user, term, category="confidential", severity="block", limit=RECENT_SCREENINGS):
    """Which of the latest screenings `user` may read contain `term`, folded exactly as screening
    folds it (spaced, full-width or traditional spellings count)."""
    policy = Policy.from_terms([(term, category, severity)])
    report = WouldHaveCaught(term=term)
    recent = (
        screenings_visible_to(user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    # Texts are read in chunks, latest first; the caught ones are loaded again as objects.
    caught = {}
    ids = list(recent)
    report.scanned = len(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = Screening.objects.filter(pk__in=chunk).values_list("pk", "text", "decision")
        for pk, text, decision in rows:
            hits = policy.screen(text).hits
            if hits:
                caught[pk] = ([hit.to_dict() for hit in hits], decision)
    report.texts = len(caught)
    for hits, decision in caught.values():
        report.occurrences += len(hits)
        report.by_decision[decision] = report.by_decision.get(decision, 0) + 1
    shown = [pk for pk in ids if pk in caught][:CAUGHT_SHOWN]
    objects = Screening.objects.select_related("actor", "account__platform").in_bulk(shown)
    report.examples = [CaughtText(screening=objects[pk], hits=caught[pk][0]) for pk in shown if pk in objects]
    return report

