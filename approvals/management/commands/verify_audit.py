"""Verify the sha256 chain of the audit log; exit 1 naming each broken event."""

from django.core.management.base import BaseCommand, CommandError

from approvals.audit import audit_verify
from approvals.models import AuditEvent


class Command(BaseCommand):
    help = "Check that no audit event was edited or deleted."

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The audit chain is broken in {len(problems)} place(s).")
        self.stdout.write(self.style.SUCCESS(f"The audit chain is intact ({AuditEvent.objects.count()} events)."))
