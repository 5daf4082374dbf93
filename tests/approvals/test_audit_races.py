"""Appends to the audit chain racing each other on real PostgreSQL: each thread has its own
connection and transaction. Without the chain's lock the later one would read the same last hash as
the earlier one, whose rows are not committed yet, and fork the chain."""

import threading
import time

import pytest
from django.db import connection, transaction

from approvals.audit import audit_record, audit_record_many, audit_verify
from approvals.models import AuditEvent
from tests.transactional import migrated_data, reseeded_after_session  # noqa: F401 (fixtures)

# Committed transactions, as in production (serialized rollback, like the suite's other
# transactional tests: see tests/transactional.py).
pytestmark = pytest.mark.usefixtures("migrated_data")

HOLD_SECONDS = 0.3


def _in_threads(*calls, stagger):
    errors = []

    def run(index, call):
        try:
            time.sleep(stagger * index)
            call()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def test_a_bulk_append_and_a_single_one_at_the_same_moment_keep_one_chain(admin_user):
    def bulk_then_hold():
        with transaction.atomic():
            audit_record_many(actor=admin_user, events=[
                {"action": "test.bulk", "object_type": "x", "object_id": i} for i in range(20)
            ])
            time.sleep(HOLD_SECONDS)  # the single append arrives while these rows are uncommitted

    def single():
        audit_record(actor=admin_user, action="test.single", object_type="x", object_id="s")

    _in_threads(bulk_then_hold, single, stagger=HOLD_SECONDS / 3)

    assert AuditEvent.objects.count() == 21
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True))[-1] == "test.single"
    assert audit_verify() == []


def test_two_bulk_appends_at_the_same_moment_keep_one_chain(admin_user):
    def bulk(name):
        def append():
            with transaction.atomic():
                audit_record_many(actor=admin_user, events=[
                    {"action": f"test.{name}", "object_type": "x", "object_id": i} for i in range(10)
                ])
                time.sleep(HOLD_SECONDS)
        return append

    _in_threads(bulk("first"), bulk("second"), stagger=HOLD_SECONDS / 3)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["test.first"] * 10 + ["test.second"] * 10
    assert audit_verify() == []
