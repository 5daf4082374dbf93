"""Thin Celery tasks of the approvals app: call one service, own the retry policy."""

from celery import shared_task

from . import sla


@shared_task(acks_late=True, ignore_result=True)
def review_sla_check():
    """Remind and escalate overdue review steps (every minute, from beat). Safe to run twice at once:
    each reminder and escalation is claimed by one conditional update."""
    report = sla.review_sla_check()
    return {"reminded": len(report.reminded), "escalated": len(report.escalated)}
