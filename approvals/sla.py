"""Review SLAs: a step waiting past its due time reminds its reviewers; waiting one more SLA (twice
the SLA in working hours) escalates it to the workflow's backup group.

Run every minute by Celery beat (`approvals.tasks.review_sla_check`). Several beats or a redelivered
task may run it at the same time: each reminder and each escalation is claimed with a conditional
`UPDATE … WHERE reminded_at IS NULL` (or `escalated_at IS NULL`) and only the run whose update changed
the row notifies, so nobody is reminded twice.
"""

import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User

from .audit import audit_record
from .models import ReviewStep, StepKind, StepStatus
from .workflow import add_working_hours, step_reviewers

DEFAULT_SLA_HOURS = Decimal(4)  # as in `workflow.review_advance` when a review lost its workflow


@dataclass
class SlaReport:
    reminded: list = field(default_factory=list)  # step ids
    escalated: list = field(default_factory=list)


def step_escalates_at(step):
    """When `step` escalates: its SLA again after its due time, counted in the brand's working hours."""
    workflow = step.review.workflow
    sla_hours = workflow.sla_hours if workflow is not None else DEFAULT_SLA_HOURS
    return add_working_hours(step.due_at, sla_hours, step.brand.timezone)


def review_sla_check(now=None):
    """Remind the reviewers of every overdue step once, and escalate every step overdue by twice its
    SLA once. Returns which steps were reminded and escalated by this run."""
    now = now or timezone.now()
    report = SlaReport()
    overdue = (
        ReviewStep.objects.filter(status=StepStatus.IN_PROGRESS, due_at__lte=now)
        .filter(Q(reminded_at__isnull=True) | Q(escalated_at__isnull=True))
        .select_related("review__workflow", "brand", "post__account", "post__author")
        .order_by("due_at", "pk")
    )
    for step in list(overdue):
        if step.reminded_at is None and _remind(step, now=now):
            report.reminded.append(step.pk)
        if step.escalated_at is None and now >= step_escalates_at(step) and _escalate(step, now=now):
            report.escalated.append(step.pk)
    return report


@transaction.atomic
def _remind(step, *, now):
    from content.models import Notification
    from content.services import notify

    # 0 rows: another run reminded first, or the step was decided meanwhile. Either way, not ours.
    claimed = ReviewStep.objects.filter(
        pk=step.pk, status=StepStatus.IN_PROGRESS, reminded_at__isnull=True
    ).update(reminded_at=now)
    if not claimed:
        return False
    step.reminded_at = now
    reviewers = list(step_reviewers(step))
    notify(reviewers, kind=Notification.Kind.REMINDER, post=step.post, message=_(
        "%(account)s: a post has waited for your review (%(step)s) since %(due)s; please decide."
    ) % {"account": step.post.account, "step": _(step.name), "due": _local(step.due_at, step.brand.timezone)})
    audit_record(actor=None, action="approvals.step.remind", obj=step, object_type="approvals.reviewstep",
                 after={"post_id": step.post_id, "review_id": step.review_id, "step": step.name,
                        "due_at": step.due_at, "notified": sorted(u.pk for u in reviewers)})
    return True


def _brand_admins(brand_id):
    """The admins of the brand, and the company-wide ones (no brand): whom an escalation reaches when
    the workflow names no backup group."""
    return User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True)).filter(
        Q(brand_id=brand_id) | Q(brand__isnull=True)
    )


@transaction.atomic
def _escalate(step, *, now):
    from content.models import Notification
    from content.services import notify

    backup_group_id = step.backup_group_id
    if backup_group_id is None:
        # No backup group in the workflow: the admins take over. Naming their role group as the
        # step's backup group is what lets them decide it (see `workflow.user_may_decide`).
        backup_group_id = Group.objects.get_or_create(name=Role.ADMIN.value)[0].pk
    claimed = ReviewStep.objects.filter(  # 0 rows: someone else escalated it, or it was decided
        pk=step.pk, status=StepStatus.IN_PROGRESS, escalated_at__isnull=True
    ).update(escalated_at=now, backup_group_id=backup_group_id)
    if not claimed:
        return False
    if step.backup_group_id is None:
        people = _brand_admins(step.brand_id)
    else:
        people = User.objects.filter(groups=step.backup_group_id)
    # The author never decides their own post, and one person approves one step of a review.
    already_approved = ReviewStep.objects.filter(
        review_id=step.review_id, status=StepStatus.APPROVED, decided_by__isnull=False
    ).values("decided_by")
    people = list(
        people.filter(is_active=True, offboarded_at__isnull=True)
        .exclude(pk=step.post.author_id)
        .exclude(pk__in=already_approved)
        .distinct()
    )
    fields = {"account": step.post.account, "step": _(step.name), "due": _local(step.due_at, step.brand.timezone)}
    if step.kind == StepKind.OWNER:
        # Only the owner approves posts on their personal account; the backup can chase them.
        message = _("%(account)s: the owner has not approved a post (%(step)s) due %(due)s; please follow up "
                    "with them.") % fields
    else:
        message = _("%(account)s: a review step (%(step)s) due %(due)s is overdue and escalated to you; you may "
                    "decide it.") % fields
    notify(people, kind=Notification.Kind.ESCALATED, post=step.post, message=message)
    audit_record(actor=None, action="approvals.step.escalate", obj=step, object_type="approvals.reviewstep",
                 after={"post_id": step.post_id, "review_id": step.review_id, "step": step.name,
                        "due_at": step.due_at, "backup_group_id": backup_group_id,
                        "to_admins": step.backup_group_id is None, "notified": sorted(u.pk for u in people)})
    step.escalated_at = now
    step.backup_group_id = backup_group_id
    return True


def _local(moment, tz_name):
    return moment.astimezone(zoneinfo.ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M %Z")
