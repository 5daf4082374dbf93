"""System checks of the publishing settings (`manage.py check`, and every worker at start).

A lease shorter than a send could last lets the sweeper re-drive a post whose worker is still
waiting for the platform's answer: the same post would then be sent twice by two workers (the
webhook's idempotency key protects a platform that honours it; nothing protects the others). A
task time limit at or above the broker's visibility timeout lets Redis hand a running task to a
second worker."""

from django.conf import settings
from django.core import checks

# A send takes at most the connect timeout plus the read timeout; PUBLISH_SEND_MARGIN_SECONDS is room
# for the rest of the batch's work (recording). The dispatcher starts no send later than both before
# its lease ends (dispatch.SEND_DEADLINE_MARGIN): the lease needs the margin once more on top, for
# the time a post may wait for a free send thread.


@checks.register(checks.Tags.compatibility)
def publishing_settings(app_configs=None, **kwargs):
    problems = []
    timeout = int(getattr(settings, "PUBLISH_HTTP_TIMEOUT", 10))
    lease = int(getattr(settings, "PUBLISH_LEASE_SECONDS", 120))
    margin = int(getattr(settings, "PUBLISH_SEND_MARGIN_SECONDS", 30))
    needed = 2 * timeout + 2 * margin
    if lease < needed:
        problems.append(checks.Error(
            f"PUBLISH_LEASE_SECONDS ({lease}) must be at least twice PUBLISH_HTTP_TIMEOUT ({timeout}) plus "
            f"twice PUBLISH_SEND_MARGIN_SECONDS ({margin}): a lease that ends while a worker still waits for the "
            "platform lets the sweeper send the post a second time, and one barely longer leaves no time to start "
            "a send.",
            hint=f"Set PUBLISH_LEASE_SECONDS to {needed} or more, or lower "
                 "PUBLISH_HTTP_TIMEOUT.",
            id="content.E001",
        ))
    visibility = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("visibility_timeout")
    time_limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    if visibility and time_limit and time_limit >= visibility:
        problems.append(checks.Error(
            f"CELERY_TASK_TIME_LIMIT ({time_limit}) must stay below the broker's visibility timeout "
            f"({visibility}): Redis would hand a task still running to a second worker.",
            id="content.E002",
        ))
    return problems
