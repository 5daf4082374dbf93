"""Review SLAs: an overdue step reminds its reviewers once; twice overdue, it escalates to the backup
group, who may then decide it. Time is frozen; the brand works in Shanghai, the tests run in São Paulo."""

import threading
import zoneinfo
from datetime import datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection

from approvals import sla
from approvals.audit import audit_verify
from approvals.models import AuditEvent, ReviewStep, Workflow
from config.errors import PermissionDeniedError
from content import services
from content.models import Notification, PostStatus
from tests.factories import SocialAccountFactory, UserFactory
from tests.transactional import migrated_data, reseeded_after_session  # noqa: F401 (fixtures)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FRIDAY_5PM = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)
MONDAY = datetime(2026, 3, 9, tzinfo=SHANGHAI)


def shanghai(day, hour, minute=0):
    return day.replace(hour=hour, minute=minute)


@pytest.fixture
def emails_sent_at_once(monkeypatch):
    """Notification emails go out in this process, as the worker would send them after commit."""
    from content import tasks

    real = tasks.notifications_email
    monkeypatch.setattr(tasks, "notifications_email", SimpleNamespace(delay=lambda ids: real(ids)))


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def backup_lead(brand):
    """A marketing lead in the workflows' backup group."""
    lead = UserFactory(username="lead", role="reviewer", brand=brand)
    group = Group.objects.create(name="Marketing leads")
    lead.groups.add(group)
    Workflow.objects.filter(tier="brand", brand__isnull=True).update(backup_group=group)
    return lead


def submitted_on_friday(author, account):
    with time_machine.travel(FRIDAY_5PM, tick=False):
        post = services.post_create(actor=author, account=account, body="新车今日上市，欢迎到店试驾。")
        return services.post_submit(actor=author, post=post)


def check_at(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return sla.review_sla_check()


@pytest.mark.django_db
def test_a_step_started_friday_at_five_with_four_working_hours_is_due_monday_at_noon(author, brand_account, marketer):
    post = submitted_on_friday(author, brand_account)
    step = ReviewStep.objects.get(post=post)
    assert step.started_at == FRIDAY_5PM
    assert step.due_at == shanghai(MONDAY, 12)
    assert sla.step_escalates_at(step) == shanghai(MONDAY, 16)


@pytest.mark.django_db
def test_an_overdue_step_reminds_its_reviewers_once_by_app_and_email(
        author, brand_account, marketer, emails_sent_at_once, django_capture_on_commit_callbacks):
    post = submitted_on_friday(author, brand_account)
    assert check_at(shanghai(MONDAY, 11, 59), django_capture_on_commit_callbacks).reminded == []
    assert not Notification.objects.filter(kind=Notification.Kind.REMINDER).exists()

    report = check_at(shanghai(MONDAY, 12), django_capture_on_commit_callbacks)
    step = ReviewStep.objects.get(post=post)
    assert report.reminded == [step.pk] and report.escalated == []
    assert step.reminded_at == shanghai(MONDAY, 12) and step.escalated_at is None
    reminders = Notification.objects.filter(kind=Notification.Kind.REMINDER)
    # The marketer who may decide is reminded; the author, who may not, is not.
    assert [(n.user, n.post) for n in reminders] == [(marketer, post)]
    assert [m.to for m in mail.outbox] == [[marketer.email]]
    assert "Review overdue" in mail.outbox[0].subject

    assert check_at(shanghai(MONDAY, 12, 1), django_capture_on_commit_callbacks).reminded == []
    assert reminders.count() == 1 and len(mail.outbox) == 1
    events = AuditEvent.objects.filter(action="approvals.step.remind")
    assert [(e.object_id, e.after["notified"]) for e in events] == [(str(step.pk), [marketer.pk])]
    assert audit_verify() == []


@pytest.mark.django_db
def test_twice_the_sla_escalates_to_the_backup_group_who_may_then_approve(
        author, brand_account, marketer, backup_lead, emails_sent_at_once, django_capture_on_commit_callbacks):
    post = submitted_on_friday(author, brand_account)
    check_at(shanghai(MONDAY, 12), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=backup_lead, post=post)  # not escalated yet: not theirs

    assert check_at(shanghai(MONDAY, 15, 59), django_capture_on_commit_callbacks).escalated == []
    report = check_at(shanghai(MONDAY, 16), django_capture_on_commit_callbacks)
    step = ReviewStep.objects.get(post=post)
    assert report.escalated == [step.pk] and report.reminded == []
    assert step.escalated_at == shanghai(MONDAY, 16)
    escalations = Notification.objects.filter(kind=Notification.Kind.ESCALATED)
    assert [n.user for n in escalations] == [backup_lead]
    assert sorted(m.to[0] for m in mail.outbox) == [backup_lead.email, marketer.email]
    assert check_at(shanghai(MONDAY, 17), django_capture_on_commit_callbacks).escalated == []
    assert escalations.count() == 1 and len(mail.outbox) == 2
    event = AuditEvent.objects.get(action="approvals.step.escalate")
    assert event.after["notified"] == [backup_lead.pk] and event.after["to_admins"] is False

    with time_machine.travel(shanghai(MONDAY, 17, 30), tick=False):
        post = services.post_approve(actor=backup_lead, post=post, comment="approving for the team")
    assert post.status == PostStatus.SCHEDULED
    assert ReviewStep.objects.get(post=post).decided_by == backup_lead
    assert audit_verify() == []


@pytest.mark.django_db
def test_without_a_backup_group_the_brand_admins_are_called_in_and_may_decide(
        author, brand_account, marketer, admin_user, other_brand, django_capture_on_commit_callbacks):
    other_admin = UserFactory(username="borealis.admin", role="admin", brand=other_brand)
    post = submitted_on_friday(author, brand_account)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=admin_user, post=post)
    report = check_at(shanghai(MONDAY, 16), django_capture_on_commit_callbacks)
    step = ReviewStep.objects.get(post=post)
    assert report.reminded == report.escalated == [step.pk]
    assert [n.user for n in Notification.objects.filter(kind=Notification.Kind.ESCALATED)] == [admin_user]
    assert other_admin not in {n.user for n in Notification.objects.all()}
    assert AuditEvent.objects.get(action="approvals.step.escalate").after["to_admins"] is True
    post = services.post_approve(actor=admin_user, post=post)
    assert post.status == PostStatus.SCHEDULED


@pytest.mark.django_db
def test_a_step_decided_in_time_is_never_reminded(author, brand_account, marketer, django_capture_on_commit_callbacks):
    post = submitted_on_friday(author, brand_account)
    with time_machine.travel(shanghai(MONDAY, 9, 30), tick=False):
        services.post_approve(actor=marketer, post=post)
    report = check_at(shanghai(MONDAY, 18), django_capture_on_commit_callbacks)
    assert report.reminded == report.escalated == []
    assert not Notification.objects.filter(kind__in=["reminder", "escalated"]).exists()


@pytest.mark.django_db
def test_the_next_step_gets_its_own_sla_from_when_it_started(author, brand, brand_account, marketer, reviewer,
                                                            django_capture_on_commit_callbacks):
    with time_machine.travel(FRIDAY_5PM, tick=False):
        post = services.post_create(actor=author, account=brand_account, body="我们是行业第一的品牌")
        post = services.post_submit(actor=author, post=post)
    with time_machine.travel(shanghai(MONDAY, 14), tick=False):
        services.post_approve(actor=marketer, post=post)
    risk = ReviewStep.objects.get(post=post, name="Risk review")
    assert risk.started_at == shanghai(MONDAY, 14) and risk.due_at == shanghai(MONDAY, 18)
    assert sla.step_escalates_at(risk) == shanghai(MONDAY.replace(day=10), 13)  # Tuesday
    report = check_at(shanghai(MONDAY, 17), django_capture_on_commit_callbacks)
    assert report.reminded == []  # the first step's lateness is not the second's


@pytest.mark.django_db
def test_an_escalated_owner_step_is_chased_but_stays_the_owners(
        brand, platforms, executive, marketer, backup_lead, django_capture_on_commit_callbacks):
    Workflow.objects.filter(tier="executive", brand__isnull=True).update(backup_group=Group.objects.get(name="Marketing leads"))
    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=executive)
    with time_machine.travel(FRIDAY_5PM, tick=False):
        post = services.post_create(actor=marketer, account=account, body="Proud of our team this year.")
        post = services.post_submit(actor=marketer, post=post)
    report = check_at(shanghai(MONDAY, 16), django_capture_on_commit_callbacks)
    assert len(report.escalated) == 1
    assert [n.user for n in Notification.objects.filter(kind="reminder")] == [executive]
    escalation = Notification.objects.get(kind="escalated")
    assert escalation.user == backup_lead and "follow up" in escalation.message
    # Nobody approves a post under an executive's own name but the executive.
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=backup_lead, post=post)
    services.post_approve(actor=executive, post=post)


@pytest.mark.django_db
def test_the_task_runs_the_check_and_beat_runs_the_task_every_minute(author, brand_account, marketer):
    from approvals.tasks import review_sla_check
    from config.celery import app

    post = submitted_on_friday(author, brand_account)
    with time_machine.travel(shanghai(MONDAY, 12, 30), tick=False):
        assert review_sla_check() == {"reminded": 1, "escalated": 0}
    assert ReviewStep.objects.get(post=post).reminded_at is not None
    entry = app.conf.beat_schedule["review-sla-check"]
    assert entry["task"] == review_sla_check.name == "approvals.tasks.review_sla_check"
    assert entry["schedule"] == 60.0


@pytest.mark.usefixtures("migrated_data")
def test_two_checks_at_once_remind_and_escalate_once(author, brand_account, marketer, backup_lead, monkeypatch):
    """Both runs list the step as not yet reminded before either claims it; the conditional update
    lets exactly one of them notify."""
    from content import tasks

    monkeypatch.setattr(tasks, "notifications_email", SimpleNamespace(delay=lambda ids: None))
    post = submitted_on_friday(author, brand_account)
    barrier = threading.Barrier(2, timeout=10)
    for name in ("_remind", "_escalate"):
        real = getattr(sla, name)

        def lined_up(step, *, now, _real=real):
            barrier.wait()
            return _real(step, now=now)

        monkeypatch.setattr(sla, name, lined_up)
    reports, errors = [], []

    def run():
        try:
            reports.append(sla.review_sla_check(now=shanghai(MONDAY, 16)))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert sorted(len(r.reminded) for r in reports) == [0, 1]
    assert sorted(len(r.escalated) for r in reports) == [0, 1]
    assert Notification.objects.filter(post=post, kind="reminder").count() == 1
    assert Notification.objects.filter(post=post, kind="escalated").count() == 1
    assert AuditEvent.objects.filter(action__in=["approvals.step.remind", "approvals.step.escalate"]).count() == 2
    assert audit_verify() == []
