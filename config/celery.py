import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("social_matrix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic schedule of the product is declared here, in one place.
app.conf.beat_schedule = {
    # Remind, then escalate, review steps waiting past their SLA. A run left in the queue longer than
    # a minute is dropped: the next one does the same work.
    "review-sla-check": {
        "task": "approvals.tasks.review_sla_check",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Write the audit event of each pause that ended at its `until`. Publishing does not wait for
    # it: a pause past its `until` is already inactive to every reader.
    # Publishing (content/dispatch.py). Every run is short and may overlap another: claims use
    # SKIP LOCKED and leases, so two dispatchers or two beats never send a post twice.
    "publish-dispatch": {
        "task": "content.tasks.dispatch_due",
        "schedule": 1.0,
        "options": {"expires": 10},
    },
    "publish-sweep": {
        "task": "content.tasks.sweep_leases",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "assisted-remind": {
        "task": "content.tasks.assisted_remind_due",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Email the notifications whose email failed or whose task was lost.
    "notifications-email-due": {
        "task": "content.tasks.notifications_email_due",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "pauses-expire": {
        "task": "content.tasks.pauses_expire",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}


# With CELERY_DB_REUSE_MAX the worker keeps its database connections between tasks: drop, around
# each task, only those past CONN_MAX_AGE or broken, as Django does around each request. Not around
# an eager task: it runs inside its caller's transaction.
@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, task=None, **kwargs):
    if getattr(getattr(task or sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


# The dispatcher runs every second: at INFO, beat's "Sending due task" and the worker's "received"
# and "succeeded" lines for it would be most of the log. They are dropped, except the "succeeded" of
# a run that claimed or failed posts. Other tasks log as usual.
QUIET_TASKS = ("content.tasks.dispatch_due", "publish-dispatch")
IDLE_DISPATCH = "{'claimed': 0, 'missed': 0}"


class _QuietEverySecond(logging.Filter):
    def filter(self, record):
        if record.levelno > logging.INFO:
            return True
        if isinstance(record.args, dict) and record.args.get("name") in QUIET_TASKS:
            return "return_value" in record.args and str(record.args["return_value"]) != IDLE_DISPATCH
        text = record.getMessage()
        return not any(task in text for task in QUIET_TASKS)


def _quiet(**kwargs):
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _QuietEverySecond) for f in log.filters):
            log.addFilter(_QuietEverySecond())


signals.after_setup_logger.connect(_quiet)
_quiet()
