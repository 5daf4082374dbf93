"""The audit log is append-only and its sha256 chain shows any edit or deletion."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.audit import audit_record, audit_record_many, audit_verify
from approvals.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_events(admin_user, brand):
    return [
        audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, before={"n": i}, after={"n": i + 1})
        for i in range(3)
    ]


def test_each_event_links_to_the_one_before(three_events):
    first, second, third = three_events
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit_verify() == []


def test_verify_audit_passes_on_an_intact_chain(three_events, capsys):
    call_command("verify_audit")
    assert "intact (3 events)" in capsys.readouterr().out


def test_verify_audit_detects_an_edited_event(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).update(after={"n": 99})
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("verify_audit")


def test_verify_audit_detects_a_deleted_event(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).delete()
    problems = audit_verify()
    assert len(problems) == 1
    assert f"event {three_events[2].pk}" in problems[0]


def test_it_records_the_actor_action_object_and_values(three_events, admin_user, brand):
    event = three_events[0]
    assert event.actor == admin_user
    assert event.actor_label == admin_user.username
    assert (event.action, event.object_type, event.object_id) == ("matrix.brand.update", "matrix.brand", str(brand.pk))
    assert (event.before, event.after) == ({"n": 0}, {"n": 1})


# --- many events at once -----------------------------------------------------------------------


def test_many_events_are_chained_in_order_between_single_ones(admin_user, brand):
    first = audit_record(actor=admin_user, action="test.before", object_type="x", object_id="1")
    many = audit_record_many(actor=admin_user, events=[
        {"action": "matrix.brand.update", "obj": brand, "before": {"n": 0}, "after": {"n": 1}},
        {"action": "test.other", "object_type": "x", "object_id": 7, "after": {"when": brand.created_at}},
        {"action": "matrix.brand.update", "obj": brand, "before": {"n": 1}, "after": {"n": 2}},
    ])
    last = audit_record(actor=admin_user, action="test.after", object_type="x", object_id="2")

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == [
        "test.before", "matrix.brand.update", "test.other", "matrix.brand.update", "test.after",
    ]
    assert [e.pk for e in many] == [e.pk for e in events[1:4]]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[1].prev_hash == first.hash and last.prev_hash == events[3].hash
    assert audit_verify() == []


def test_many_events_hold_what_single_events_hold(admin_user, brand):
    single = audit_record(actor=admin_user, action="matrix.brand.update", obj=brand, before={"n": 0},
                          after={"at": brand.created_at})
    (bulk,) = audit_record_many(actor=admin_user, events=[
        {"action": "matrix.brand.update", "obj": brand, "before": {"n": 0}, "after": {"at": brand.created_at}},
    ])
    bulk = AuditEvent.objects.get(pk=bulk.pk)
    columns = ["actor_id", "actor_label", "action", "object_type", "object_id", "object_repr", "before", "after"]
    assert [getattr(bulk, c) for c in columns] == [getattr(single, c) for c in columns]
    assert (bulk.object_type, bulk.object_id, bulk.object_repr) == ("matrix.brand", str(brand.pk), str(brand))
    system = audit_record_many(actor=None, events=[{"action": "test.system", "object_type": "x", "object_id": 1}])
    assert (system[0].actor_id, system[0].actor_label) == (None, "system")
    assert audit_verify() == []


def test_many_events_cost_the_same_queries_as_a_few(admin_user, brand):
    def queries(n):
        events = [{"action": "test.bulk", "obj": brand, "after": {"i": i}} for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            audit_record_many(actor=admin_user, events=events, batch_size=1000)
        return [q["sql"] for q in ctx.captured_queries]

    few, many = queries(3), queries(900)
    assert len(few) == len(many)
    assert any("pg_advisory_xact_lock" in sql for sql in many)
    assert AuditEvent.objects.count() == 903
    assert audit_verify() == []


def test_no_events_write_nothing(admin_user):
    assert audit_record_many(actor=admin_user, events=[]) == []
    assert not AuditEvent.objects.exists()
