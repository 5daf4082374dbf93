"""The audit log page: who reads which events, filters, keyset pages, the CSV export (itself
audited) and the chain check."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import selectors
from approvals.audit import audit_record
from approvals.models import AuditEvent, ReviewStep
from content import services
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def our_post(brand, platforms, marketer):
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_official")
    return services.post_create(actor=marketer, account=account, body="新车上市", scheduled_at=later())


@pytest.fixture
def their_post(other_brand, platforms, outsider):
    account = SocialAccountFactory(brand=other_brand, platform=platforms["weibo"], tier="brand", handle="borealis")
    return services.post_create(actor=outsider, account=account, body="x", scheduled_at=later())


@pytest.fixture
def events(brand, marketer, our_post, their_post):
    """In this order: the creation of a post of our brand and of another brand's (by the service),
    a system event on our post, and a change of the brand itself by one of our people."""
    created = {e.object_id: e for e in AuditEvent.objects.filter(action="content.post.create")}
    return {
        "ours": created[str(our_post.pk)],
        "theirs": created[str(their_post.pk)],
        "system": audit_record(actor=None, action="content.post.approve", obj=our_post,
                               before={"status": "in_review"}, after={"status": "scheduled"}),
        "brand": audit_record(actor=marketer, action="matrix.brand.update", obj=brand,
                              after={"slogan": "新车上市，欢迎试驾"}),
    }


def later():
    return timezone.now() + timedelta(days=1)


def rows_on_page(client, query=""):
    response = client.get(f"/review/audit/{query}")
    assert response.status_code == 200
    return [event.pk for event in response.context["page"].events]


def export(client, **filters):
    response = client.post("/review/audit/export/", filters)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    return b"".join(response.streaming_content).decode("utf-8")


# --- who reads what ------------------------------------------------------------------------------


def test_admins_read_every_event_newest_first(client, admin_user, events):
    client.force_login(admin_user)
    assert rows_on_page(client) == [events[name].pk for name in ("brand", "system", "theirs", "ours")]


def test_a_reviewer_reads_the_trail_of_their_brands_posts_and_review_steps(client, reviewer, marketer, our_post,
                                                                          events):
    client.force_login(reviewer)
    # As the audit events API decides: the posts they can see, and those posts' review steps.
    assert rows_on_page(client) == [events["system"].pk, events["ours"].pk]
    post = services.post_submit(actor=marketer, post=our_post)
    step = ReviewStep.objects.get(post=post, status="in_progress")
    escalated = audit_record(actor=None, action="approvals.step.escalate", obj=step,
                             object_type="approvals.reviewstep")
    assert escalated.pk in rows_on_page(client)
    assert events["brand"].pk not in rows_on_page(client)
    assert rows_on_page(client, f"?object=content.post:{events['theirs'].object_id}") == []


@pytest.mark.parametrize("role", ["marketer", "executive", "employee", "dealer_operator"])
def test_other_roles_may_not_read_the_log(client, request, role, events):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/review/audit/").status_code == 403
    assert client.post("/review/audit/export/").status_code == 403
    assert client.post("/review/audit/verify/").status_code == 403


def test_filters_by_object_actor_action_and_day(client, admin_user, marketer, our_post, events):
    client.force_login(admin_user)
    ids = {name: event.pk for name, event in events.items()}
    assert rows_on_page(client, f"?object=content.post:{our_post.pk}") == [ids["system"], ids["ours"]]
    assert rows_on_page(client, "?object=content.post") == [ids["system"], ids["theirs"], ids["ours"]]
    assert rows_on_page(client, f"?actor={marketer.username}") == [ids["brand"], ids["ours"]]
    assert rows_on_page(client, "?actor=system") == [ids["system"]]
    assert rows_on_page(client, "?action=content.post.approve") == [ids["system"]]
    assert rows_on_page(client, "?action=content.post") == [ids["system"], ids["theirs"], ids["ours"]]
    AuditEvent.objects.filter(pk=ids["ours"]).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert ids["ours"] not in rows_on_page(client, "?since=2024-01-01")
    response = client.get("/review/audit/?object=not-an-object")
    assert "Write the object as type:id" in response.content.decode()


def test_the_log_is_cut_into_keyset_pages_by_id(admin_user, brand):
    ids = [audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, after={"n": n}).pk for n in range(5)]
    newest_first = ids[::-1]
    first = selectors.audit_page(user=admin_user, per_page=2)
    assert [e.pk for e in first.events] == newest_first[:2] and first.newer is None
    second = selectors.audit_page(user=admin_user, before=first.older, per_page=2)
    assert [e.pk for e in second.events] == newest_first[2:4]
    last = selectors.audit_page(user=admin_user, before=second.older, per_page=2)
    assert [e.pk for e in last.events] == newest_first[4:] and last.older is None
    back = selectors.audit_page(user=admin_user, after=last.newer, per_page=2)
    assert [e.pk for e in back.events] == newest_first[2:4]


def test_the_page_escapes_what_people_typed(client, admin_user, brand):
    audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, after={"name": "<script>x</script>"})
    client.force_login(admin_user)
    html = client.get("/review/audit/").content.decode()
    assert "<script>x</script>" not in html


def test_the_page_needs_the_same_number_of_queries_for_4_or_60_events(client, admin_user, reviewer, brand, our_post,
                                                                      events):
    for user in (admin_user, reviewer):
        client.force_login(user)
        with CaptureQueriesContext(connection) as few:
            client.get("/review/audit/")
        for n in range(28):
            audit_record(actor=UserFactory(brand=brand, username=f"person{user.pk}_{n}"), action="content.post.update",
                         obj=our_post, after={"n": n})
        with CaptureQueriesContext(connection) as many:
            client.get("/review/audit/")
        assert len(many.captured_queries) == len(few.captured_queries)
        print(f"audit page as {user.role}: {len(few.captured_queries)} queries")


# --- export --------------------------------------------------------------------------------------


def test_the_export_is_utf8_csv_with_a_bom_and_every_column(client, admin_user, marketer, brand, events):
    client.force_login(admin_user)
    text = export(client)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["id", "time_utc", "actor", "action", "object_type", "object_id", "object", "before", "after",
                       "hash", "prev_hash"]
    by_id = {row[0]: row for row in rows[1:]}
    event = events["brand"]
    row = by_id[str(event.pk)]
    assert row[1] == event.created_at.astimezone(UTC).isoformat() and row[1].endswith("+00:00")
    assert row[2:7] == [marketer.username, "matrix.brand.update", "matrix.brand", str(brand.pk), "Aurora Motors"]
    assert (row[7], row[8]) == ("", '{"slogan": "新车上市，欢迎试驾"}')
    assert (row[9], row[10]) == (event.hash, event.prev_hash)
    system = by_id[str(events["system"].pk)]
    assert system[2] == "system"
    assert (json.loads(system[7]), json.loads(system[8])) == ({"status": "in_review"}, {"status": "scheduled"})
    assert [int(r[0]) for r in rows[1:]] == [events[name].pk for name in ("brand", "system", "theirs", "ours")]


def test_each_export_is_itself_audited_and_not_part_of_the_file(client, admin_user, events):
    client.force_login(admin_user)
    text = export(client, action="content.post")
    recorded = AuditEvent.objects.get(action="approvals.audit.export")
    assert recorded.actor == admin_user
    assert recorded.object_type == "approvals.auditevent"
    assert recorded.after == {"filters": {"action": "content.post"}, "up_to_id": events["brand"].pk, "scope": "all"}
    assert str(recorded.pk) not in [row[0] for row in csv.reader(io.StringIO(text[1:]))]
    # The export event keeps the chain intact.
    assert client.post("/review/audit/verify/").context["problems"] == []


def test_a_reviewers_export_holds_only_what_the_page_shows_them(client, reviewer, events):
    client.force_login(reviewer)
    rows = list(csv.reader(io.StringIO(export(client)[1:])))
    assert [row[0] for row in rows[1:]] == [str(events["system"].pk), str(events["ours"].pk)]
    assert AuditEvent.objects.get(action="approvals.audit.export").after["scope"] == "brand"


def test_the_export_honours_the_filters(client, admin_user, events):
    client.force_login(admin_user)
    rows = list(csv.reader(io.StringIO(export(client, actor="system")[1:])))
    assert [row[0] for row in rows[1:]] == [str(events["system"].pk)]


def test_cells_that_excel_would_run_as_formulas_are_quoted(client, admin_user, brand):
    brand.name = "=HYPERLINK(\"http://evil\")"
    audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, after={"n": 1})
    client.force_login(admin_user)
    row = list(csv.reader(io.StringIO(export(client)[1:])))[1]
    assert row[6] == "'=HYPERLINK(\"http://evil\")"


def test_the_export_is_read_in_chunks(admin_user, brand):
    for n in range(7):
        audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, after={"n": n})
    with CaptureQueriesContext(connection) as ctx:
        rows = list(selectors.audit_export_rows(user=admin_user, chunk=3))
    assert len(rows) == 7 and len(ctx.captured_queries) == 3


def test_exporting_needs_a_post_with_a_csrf_token(admin_user, events):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get("/review/audit/export/").status_code == 405
    assert client.post("/review/audit/export/").status_code == 403
    assert not AuditEvent.objects.filter(action="approvals.audit.export").exists()


# --- the chain check -----------------------------------------------------------------------------


def test_an_admin_verifies_the_chain_from_the_page(client, admin_user, events):
    client.force_login(admin_user)
    response = client.post("/review/audit/verify/")
    assert response.status_code == 200
    assert "The chain is intact: 4 events" in response.content.decode()
    AuditEvent.objects.filter(pk=events["theirs"].pk).update(after={"body": "edited"})
    response = client.post("/review/audit/verify/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html  # the fragment htmx swaps in
    assert f"event {events['theirs'].pk}: content does not match its hash (edited)" in html


def test_reviewers_see_no_verify_button_and_may_not_verify(client, reviewer, events):
    client.force_login(reviewer)
    assert "/review/audit/verify/" not in client.get("/review/audit/").content.decode()
    assert client.post("/review/audit/verify/").status_code == 403


def test_the_day_filter_starts_at_midnight_where_the_reader_is(client, admin_user, brand):
    # 2026-03-02 00:30 in Shanghai is 2026-03-01 16:30 UTC: on the 2nd for the reader.
    with time_machine.travel(datetime(2026, 3, 1, 16, 30, tzinfo=UTC), tick=False):
        event = audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, after={"n": 1})
    client.force_login(admin_user)
    assert admin_user.timezone == "Asia/Shanghai"
    assert event.pk in rows_on_page(client, "?since=2026-03-02")
    assert event.pk not in rows_on_page(client, "?since=2026-03-03")
    assert timedelta(0) < datetime(2026, 3, 2, tzinfo=UTC) - event.created_at
