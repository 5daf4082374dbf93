"""The compiled screening policy of this process, kept fresh without a restart.

`current_policy(brand)` is on the hot path of every screening. It makes no database call except
at most one cheap read of the policy version every `CHECK_INTERVAL` seconds: each lexicon or term
change bumps `PolicyVersion` in the same transaction (see `services`), and every web and worker
process notices the new number at its next check and rebuilds - so a change reaches all of them
within seconds, and a process that made the change itself sees it at once (`bump_version`).

The version is identified by (number, time of the change), not the number alone: a change that
rolls back returns the number, and the next change reuses it with other terms behind it. The one
window left: the process whose change rolled back may serve the rolled-back terms until its next
check (at most `CHECK_INTERVAL`).

The policy of one brand is the built-in packs and detectors (`Policy.default()`) plus the terms of
the active company-wide lexicons and of that brand's active lexicons. Without a brand only the
company-wide lexicons apply.
"""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from .screening import Policy

logger = logging.getLogger(__name__)

# Seconds between two reads of the policy version by one process.
CHECK_INTERVAL = 2.0
# Brands whose compiled policy a process keeps; a process rarely serves more than a few.
MAX_CACHED_BRANDS = 64

# The clock the check interval is measured on; tests replace it.
clock = time.monotonic


@dataclass(frozen=True)
class CompiledPolicy:
    policy: Policy
    version: int  # the `PolicyVersion` the lexicons were read at
    # (version, changed at): the number alone could repeat after a rolled-back change, the pair
    # does not.
    stamp: tuple
    brand_id: int | None
    term_count: int  # company terms (risky and allow-list) on top of the built-in packs


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.stamp = None
        self.checked_at = None
        self.policies = OrderedDict()  # brand id -> CompiledPolicy
        self.building = {}  # brand id -> lock held while that brand's policy is built


_state = _State()


def current_policy(brand=None):
    """The compiled Policy for `brand` (a Brand, a brand id or None)."""
    return current(brand).policy


def current(brand=None):
    """The compiled policy for `brand` with the version it was built at."""
    brand_id = _brand_id(brand)
    stamp = _known_stamp()
    compiled = _state.policies.get(brand_id)
    if compiled is not None and compiled.stamp == stamp:
        return compiled
    with _state.lock:
        build_lock = _state.building.setdefault(brand_id, threading.Lock())
    # One thread builds; the others wait for it rather than build the same policy again.
    with build_lock:
        compiled = _state.policies.get(brand_id)
        if compiled is None or compiled.stamp != stamp:
            compiled = build(brand_id, stamp)
            with _state.lock:
                _state.policies[brand_id] = compiled
                _state.policies.move_to_end(brand_id)
                while len(_state.policies) > MAX_CACHED_BRANDS:
                    _state.policies.popitem(last=False)
    return compiled


def builtin_policy():
    """The built-in packs and detectors only: no database involved."""
    return Policy.default()


def current_version():
    """The policy version this process works with (read from the database when due)."""
    return _known_stamp()[0]


def invalidate():
    """Read the version again at the next screening (called after a lexicon change commits)."""
    with _state.lock:
        _state.checked_at = None


def _known_stamp():
    now = clock()
    checked_at = _state.checked_at
    if checked_at is not None and now - checked_at < CHECK_INTERVAL and _state.stamp is not None:
        return _state.stamp
    stamp = read_stamp()
    with _state.lock:
        _state.stamp = stamp
        _state.checked_at = now
    return stamp


def read_stamp():
    """(version, changed at) of the lexicons, from the database."""
    from .models import PolicyVersion

    row = PolicyVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    return row or (0, None)


def bump_version():
    """Count one more change to the lexicons. Call inside the transaction that makes the change:
    the row lock also orders concurrent changes."""
    from django.db import transaction

    from .models import PolicyVersion

    updated = PolicyVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now())
    if not updated:
        # The row is created by the migration; a flushed test database has none.
        PolicyVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": timezone.now()})
    # Re-read at once (this connection sees its own change, so screenings later in the same
    # transaction use it) and again after commit (for the other threads of this process).
    invalidate()
    transaction.on_commit(invalidate)
    return read_stamp()[0]


def company_terms(brand_id):
    """(terms, allow phrases) of the active lexicons that apply to `brand_id`, in the form
    `Policy.extend` takes."""
    from .models import LexiconTerm

    scope = Q(lexicon__brand__isnull=True)
    if brand_id is not None:
        scope |= Q(lexicon__brand_id=brand_id)
    rows = (
        LexiconTerm.objects.filter(scope, lexicon__is_active=True)
        .order_by("pk")
        .values_list("term", "allow", "severity", "note", "lexicon__category", "lexicon__severity")
    )
    terms, allow = [], []
    for term, is_allow, severity, note, category, lexicon_severity in rows.iterator(chunk_size=5000):
        if is_allow:
            allow.append(term)
        else:
            # The note is the suggested rewrite; messages carry it in both languages' halves.
            terms.append((term, category, severity or lexicon_severity, note, note))
    return terms, allow


def build(brand_id, stamp):
    """Compile the policy of one brand. The version is read before the terms, so a change that
    commits in between can only make the policy newer than its label, never older (the next check
    then rebuilds it)."""
    started = time.perf_counter()
    terms, allow = company_terms(brand_id)
    policy = Policy.default().extend(terms=terms, allow=allow) if terms or allow else Policy.default()
    logger.info(
        "screening policy built: brand=%s version=%s company_terms=%d in %.0f ms",
        brand_id, stamp[0], len(terms) + len(allow), (time.perf_counter() - started) * 1000,
    )
    return CompiledPolicy(
        policy=policy, version=stamp[0], stamp=stamp, brand_id=brand_id, term_count=len(terms) + len(allow)
    )


def reset():
    """Forget everything this process compiled (tests)."""
    global _state
    _state = _State()


def _brand_id(brand):
    if brand is None or isinstance(brand, int):
        return brand
    return brand.pk
