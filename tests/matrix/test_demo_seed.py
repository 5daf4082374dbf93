"""`manage.py seed_demo` (run by `make run` on an empty database): the matrix, then a campaign and
posts in every status, made through the services so that reviews, steps and audit events exist."""

import time
from io import StringIO

import pytest
from django.core.management import call_command

from approvals.audit import audit_verify
from approvals.models import AuditEvent, ReviewStep
from approvals.workflow import step_reviewers
from content.models import Campaign, Notification, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    started = time.monotonic()
    call_command("seed_demo", stdout=out)
    return out.getvalue(), time.monotonic() - started


def waiting_for(username):
    return [step for step in ReviewStep.objects.filter(status="in_progress").select_related("post__account")
            if step_reviewers(step).filter(username=username).exists()]


def test_the_demo_has_posts_in_every_status_before_publishing(seeded):
    out, seconds = seeded
    statuses = set(Post.objects.values_list("status", flat=True))
    assert {"draft", "in_review", "changes_requested", "blocked", "scheduled", "cancelled"} <= statuses
    assert Post.objects.count() >= 20
    assert "Seeded brand Aurora Motors" in out and "Seeded campaign" in out
    print(f"seed_demo took {seconds:.1f} s")  # shown with -s; about 2 s of it is the content


def test_each_demo_reviewer_has_posts_waiting(seeded):
    assert waiting_for("marketer.demo")
    assert waiting_for("reviewer.demo")
    owner_steps = [step for step in waiting_for("executive.demo") if step.kind == "owner"]
    assert owner_steps and owner_steps[0].post.account.handle == "evan_chen_linkedin"
    for step in ReviewStep.objects.filter(status="in_progress"):
        assert step.due_at > step.started_at


def test_a_blocked_demo_post_shows_its_hit(seeded):
    blocked = Post.objects.filter(status="blocked")
    assert any("稳赚" in hit["term"] for post in blocked for hit in post.revision.screening["hits"])


def test_the_demo_campaign_was_pushed_and_partly_submitted(seeded):
    campaign = Campaign.objects.get()
    assert campaign.status == "pushed"
    by_status = {post.account.handle: post.status for post in campaign.posts.select_related("account")}
    assert by_status["aurora_e001_wb"] == "scheduled"  # the template as sent: no human step
    assert by_status["aurora_e001_dy"] == "in_review"  # adapted: the marketer looks
    assert {by_status["aurora_s001_dy"], by_status["aurora_s001_wb"]} == {"draft"}
    push = AuditEvent.objects.get(action="content.campaign.push")
    assert len(push.after["created"]) == 4 and push.after["skipped"]


def test_the_demo_is_audited_and_its_history_is_not_emailed(seeded):
    assert audit_verify() == []
    assert AuditEvent.objects.filter(action="content.post.submit").exists()
    assert Notification.objects.filter(user__username="marketer.demo", kind="submitted").exists()
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_seeding_again_adds_nothing(seeded):
    posts = Post.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "no demo seeded" in out.getvalue()
    assert Post.objects.count() == posts
