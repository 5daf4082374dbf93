"""Background work for people: applying large imports."""

from celery import shared_task

from . import importing


@shared_task(acks_late=True)
def import_job_apply(job_id):
    """Apply a confirmed import (see importing.import_job_run), moving its progress bar.

    acks_late: a worker that dies mid-import has its transaction rolled back and the task is
    delivered again; the service's per-job lock and status check make a second delivery harmless."""
    with importing.JobProgress(job_id) as progress:
        importing.import_job_run(job_id=job_id, progress=progress)
