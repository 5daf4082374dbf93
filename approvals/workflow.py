"""Review workflows: which steps a revision goes through, who may decide a step, and SLA times.

These functions run inside the post transitions of `content.services` (which hold the post's row
lock); they never commit on their own.
"""

import re
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_noop

from accounts.models import Role

from .models import Review, ReviewStatus, ReviewStep, StepCondition, StepKind, StepStatus, Workflow

# Working hours for SLAs, in the brand's time zone.
WORK_START = time(9, 0)
WORK_END = time(18, 0)
WORK_DAYS = {0, 1, 2, 3, 4}  # Monday to Friday


def workflow_for(account):
    """The brand's own active workflow for the account's tier, else the default one, else None."""
    candidates = Workflow.objects.filter(
        Q(brand_id=account.brand_id) | Q(brand__isnull=True), tier=account.tier, is_active=True
    ).prefetch_related("steps")
    chosen = None
    for workflow in candidates:
        if workflow.brand_id is not None:
            return workflow
        chosen = workflow
    return chosen


def step_applies(step, *, decision, categories):
    if step.condition == StepCondition.REVIEW and decision != "review":
        return False
    if step.categories and not set(step.categories) & set(categories):
        return False
    return True


# --- campaign templates --------------------------------------------------------------------

_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def template_fields(template):
    """The field names of a campaign template, in order of first appearance."""
    seen = []
    for name in _FIELD.findall(template or ""):
        if name not in seen:
            seen.append(name)
    return seen


def template_fill(template, values):
    """Fill the template's `{field}`s; unknown fields stay as typed so the author sees them."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), template or "")


def template_matches(template, body):
    """Whether `body` is the template with its claims untouched: everything outside the `{field}`s
    is identical and each field holds a short single-line value."""
    if not template:
        return False
    pattern = []
    position = 0
    for match in _FIELD.finditer(template):
        pattern.append(re.escape(template[position:match.start()]))
        pattern.append(r"[^\n{}]{1,120}?")
        position = match.end()
    pattern.append(re.escape(template[position:]))
    return re.fullmatch("".join(pattern), body or "", flags=re.DOTALL) is not None


# --- SLA -----------------------------------------------------------------------------------


def add_working_hours(start, hours, tz_name):
    """`start` plus `hours` of working time (Monday–Friday, 9:00–18:00 in `tz_name`)."""
    tz = zoneinfo.ZoneInfo(tz_name)
    remaining = timedelta(hours=float(Decimal(hours)))
    local = start.astimezone(tz)
    for _day in range(3660):  # bounded: ten years of days
        day_start = datetime.combine(local.date(), WORK_START, tzinfo=tz)
        day_end = datetime.combine(local.date(), WORK_END, tzinfo=tz)
        if local.weekday() in WORK_DAYS and local < day_end:
            begin = max(local, day_start)
            available = day_end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        local = datetime.combine(local.date() + timedelta(days=1), WORK_START, tzinfo=tz)
    raise ValueError("SLA too long")


# --- who decides ---------------------------------------------------------------------------


def step_candidates_filter(step):
    """A Q over users who may decide `step` (before excluding the author)."""
    if step.kind == StepKind.OWNER:
        return Q(pk=step.post.account.owner_id)
    if step.kind == StepKind.GROUP:
        who = Q(groups=step.group_id)
    else:
        who = Q(role=step.role, brand_id=step.brand_id)
    if step.escalated_at and step.backup_group_id:
        who |= Q(groups=step.backup_group_id)
    return who


def user_may_decide(user, step, post):
    """Whether `user` may approve or request changes on `step` of `post`'s active review."""
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return False
    if step.status != StepStatus.IN_PROGRESS:
        return False
    if step.kind == StepKind.OWNER:
        # The owner decides for their own personal account, even when a colleague wrote it.
        return post.account.owner_id == user.pk and post.author_id != user.pk
    if user.pk == post.author_id:
        return False  # four eyes: nobody approves their own post
    group_ids = None
    if step.escalated_at and step.backup_group_id:
        group_ids = set(user.groups.values_list("id", flat=True))
        if step.backup_group_id in group_ids:
            return True
    if step.kind == StepKind.GROUP:
        if group_ids is None:
            group_ids = set(user.groups.values_list("id", flat=True))
        return step.group_id in group_ids
    return user.role == step.role and user.brand_id == step.brand_id


def user_decided_earlier_step(user, step):
    """Whether `user` already approved another step of the same review (one person, one step)."""
    return ReviewStep.objects.filter(
        review_id=step.review_id, decided_by=user, status=StepStatus.APPROVED
    ).exclude(pk=step.pk).exists()


# --- running a review ----------------------------------------------------------------------


def review_start(*, post, revision, now, template_unchanged):
    """Start a review of `revision`: copy the applicable steps of the account's workflow and start
    the first one that needs a human. Returns the review; its status is `approved` when no human
    step is left (an unchanged campaign template, or an owner who wrote their own post)."""
    account = post.account
    workflow = workflow_for(account)
    decision = revision.screening.get("decision", "pass")
    categories = {hit["category"] for hit in revision.screening.get("hits", [])}
    review = Review.objects.create(post=post, revision=revision, workflow=workflow, started_at=now)
    steps = []
    skip_all = bool(workflow and workflow.skip_unchanged_template and template_unchanged and not categories)
    for position, spec in enumerate(workflow.steps.all() if workflow else []):
        if not step_applies(spec, decision=decision, categories=categories):
            continue
        step = ReviewStep(
            review=review, post=post, brand_id=account.brand_id, position=position, name=spec.name, kind=spec.kind,
            role=spec.role, group_id=spec.group_id, backup_group_id=workflow.backup_group_id,
        )
        if skip_all:
            step.status = StepStatus.SKIPPED
            step.comment = "unchanged campaign template without hits"
        elif spec.kind == StepKind.OWNER and (account.owner_id is None or account.owner_id == post.author_id):
            # The owner wrote it (or the account has no owner): their step is already satisfied.
            step.status = StepStatus.SKIPPED
            step.comment = "written by the owner" if account.owner_id else "account has no owner"
        steps.append(step)
    ReviewStep.objects.bulk_create(steps)
    review_advance(review, now=now)
    return review


def review_current_step(review, *, lock=False):
    queryset = ReviewStep.objects.filter(review=review, status=StepStatus.IN_PROGRESS)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.first()


def review_advance(review, *, now):
    """Start the next waiting step, or finish the review as approved. Returns the started step."""
    next_step = ReviewStep.objects.filter(review=review, status=StepStatus.WAITING).order_by("position").first()
    if next_step is None:
        review.status = ReviewStatus.APPROVED
        review.finished_at = now
        review.save(update_fields=["status", "finished_at"])
        return None
    sla_hours = review.workflow.sla_hours if review.workflow else Decimal(4)
    next_step.status = StepStatus.IN_PROGRESS
    next_step.started_at = now
    next_step.due_at = add_working_hours(now, sla_hours, review.post.account.brand.timezone)
    next_step.save(update_fields=["status", "started_at", "due_at"])
    return next_step


def review_cancel(review, *, now):
    """End a review nobody will finish (the post was edited or cancelled)."""
    ReviewStep.objects.filter(review=review, status__in=[StepStatus.WAITING, StepStatus.IN_PROGRESS]).update(
        status=StepStatus.CANCELLED
    )
    review.status = ReviewStatus.CANCELLED
    review.finished_at = now
    review.save(update_fields=["status", "finished_at"])


def step_reviewers(step):
    """The people who may decide `step` now (for notifications)."""
    from accounts.models import User

    return (
        User.objects.filter(step_candidates_filter(step), is_active=True, offboarded_at__isnull=True)
        .exclude(pk=step.post.author_id if step.kind != StepKind.OWNER else None)
        .distinct()
    )


DEFAULT_WORKFLOWS = [
    # (tier, name, skip unchanged campaign template, [(step name, kind, role, condition)])
    ("brand", gettext_noop("Brand account"), False, [
        (gettext_noop("Marketing approval"), StepKind.ROLE, Role.MARKETER, StepCondition.ALWAYS),
        (gettext_noop("Risk review"), StepKind.ROLE, Role.REVIEWER, StepCondition.REVIEW),
    ]),
    ("self_operated", gettext_noop("Self-operated account"), False, [
        (gettext_noop("Marketing approval"), StepKind.ROLE, Role.MARKETER, StepCondition.ALWAYS),
        (gettext_noop("Risk review"), StepKind.ROLE, Role.REVIEWER, StepCondition.REVIEW),
    ]),
    ("dealer", gettext_noop("Dealer account"), True, [
        (gettext_noop("Marketing approval"), StepKind.ROLE, Role.MARKETER, StepCondition.ALWAYS),
        (gettext_noop("Risk review"), StepKind.ROLE, Role.REVIEWER, StepCondition.REVIEW),
    ]),
    ("executive", gettext_noop("Executive account"), False, [
        (gettext_noop("Owner approval"), StepKind.OWNER, "", StepCondition.ALWAYS),
        (gettext_noop("Risk review"), StepKind.ROLE, Role.REVIEWER, StepCondition.ALWAYS),
    ]),
    ("employee", gettext_noop("Employee account"), True, [
        (gettext_noop("Marketing approval"), StepKind.ROLE, Role.MARKETER, StepCondition.ALWAYS),
        (gettext_noop("Risk review"), StepKind.ROLE, Role.REVIEWER, StepCondition.REVIEW),
    ]),
]
