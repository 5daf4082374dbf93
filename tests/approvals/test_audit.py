"""The audit log is append-only and its sha256 chain shows any edit or deletion."""

import pytest
from django.core.management import CommandError, call_command

from approvals.audit import audit_record, audit_verify
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
