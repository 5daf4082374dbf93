"""Bulk import of people and accounts (upload → dry-run preview → confirm → progress → result)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.errors import DomainError

from . import importing
from .models import ImportJob
from .policies import user_can

ROWS_PER_PAGE = 100
ERRORS_LISTED = 200


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        help_text=gettext_lazy("At most 5 MB and 20,000 rows. CSV in UTF-8 (with or without BOM) or GB18030, as "
                               "Excel saves it."),
    )
    skip_invalid = forms.BooleanField(
        label=gettext_lazy("Skip rows with errors and import the others"), required=False,
        help_text=gettext_lazy("Otherwise nothing is imported while any row has an error."),
    )


def _require_import(user):
    if not user_can(user, "import"):
        raise PermissionDenied


@login_required
def import_upload(request):
    _require_import(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = importing.import_preview(
                actor=request.user, uploaded_file=form.cleaned_data["file"],
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("accounts:import_detail", pk=job.pk)
    return render(request, "accounts/import_upload.html", {
        "form": form,
        "columns": importing.COLUMNS,
        "jobs": ImportJob.objects.select_related("created_by")[:10],
        "async_threshold": settings.IMPORT_ASYNC_THRESHOLD,
    })


@login_required
@require_GET
def import_template(request, fmt):
    _require_import(request.user)
    if fmt == "csv":
        response = HttpResponse(importing.template_csv(actor=request.user), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            importing.template_xlsx(actor=request.user),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="social-matrix-import.{fmt}"'
    return response


_STATUS_LABELS = {
    "valid": gettext_lazy("OK"),
    "invalid": gettext_lazy("Errors"),
    "imported": gettext_lazy("Imported"),
    "skipped": gettext_lazy("Skipped"),
}


def _grid(report, rows):
    columns = report.get("columns", [])
    grid = []
    for row in rows:
        bad_columns = {error["column"] for error in row["errors"]}
        grid.append({
            "number": row["row"],
            "valid": row["valid"],
            "status": row["status"],
            "status_label": _STATUS_LABELS.get(row["status"], row["status"]),
            "cells": [{"column": column, "value": row["values"].get(column, ""), "bad": column in bad_columns}
                      for column in columns],
            "errors": row["errors"],
        })
    return grid


@login_required
def import_detail(request, pk):
    """The preview (rows and their errors, Confirm), the progress bar, then the result."""
    _require_import(request.user)
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    report = job.report or {}
    rows = report.get("rows", [])
    only_errors = request.GET.get("show") == "errors"
    shown = [row for row in rows if not row["valid"]] if only_errors else rows
    page = Paginator(shown, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    errors = [{"row": row["row"], **error} for row in rows for error in row["errors"]]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/import_detail.html", {
        "job": job,
        "report": report,
        "summary": report.get("summary", {}),
        "result": report.get("result"),
        "headers": [report.get("headers", {}).get(column, column) for column in report.get("columns", [])],
        "grid": _grid(report, page.object_list),
        "page": page,
        "query": query.urlencode(),
        "only_errors": only_errors,
        "errors": errors[:ERRORS_LISTED],
        "errors_more": max(0, len(errors) - ERRORS_LISTED),
        "in_progress": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        "can_confirm": job.status == ImportJob.Status.PREVIEWED and report.get("summary", {}).get("valid"),
    })


@login_required
@require_POST
def import_confirm(request, pk):
    _require_import(request.user)
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        job = importing.import_confirm(actor=request.user, job=job, skip_invalid=bool(request.POST.get("skip_invalid")))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if job.status == ImportJob.Status.DONE:
            result = job.report.get("result", {})
            messages.success(request, _("Imported %(rows)s rows: %(users)s people and %(accounts)s accounts.") % {
                "rows": result.get("imported_rows", 0), "users": result.get("users", 0),
                "accounts": result.get("accounts", 0)})
        elif job.error:
            messages.error(request, job.error)
    return redirect("accounts:import_detail", pk=job.pk)


@login_required
@require_GET
def import_progress(request, pk):
    """Polled by the page every second while a worker applies the import."""
    _require_import(request.user)
    job = get_object_or_404(ImportJob, pk=pk)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        # Finished (or sent back to the preview): show the whole page again.
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("accounts:import_detail", pk=job.pk)
    return render(request, "accounts/import_progress.html", {"job": job})
