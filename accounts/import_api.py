"""`POST /api/v1/users/import/`: the bulk import of people and accounts, for scripts."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError

from . import importing
from .models import ImportJob
from .policies import user_can


class CanImport(permissions.BasePermission):
    def has_permission(self, request, view):
        return user_can(request.user, "import")


class UserImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8 with or without BOM, GB18030) or XLSX; at most 5 MB and "
                                           "20,000 rows. Columns as in the template on the import page.")
    dry_run = serializers.BooleanField(default=False, help_text="Only check the rows; write nothing.")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Import the valid rows even when others have errors (which are skipped).")


def _body(report, job=None):
    body = {"summary": report.get("summary", {}), "rows": report.get("rows", [])}
    if report.get("result") is not None:
        body["result"] = report["result"]
    if report.get("ignored_columns"):
        body["ignored_columns"] = report["ignored_columns"]
    if job is not None:
        body = {"job": job.pk, "status": job.status, "processed_rows": job.processed_rows,
                "total_rows": job.total_rows, **body}
    return body


class UserImportApi(APIView):
    """Import people and their social accounts from a CSV or XLSX file (admins).

    The answer lists every row with `valid`, `status` and `errors` (`column`, `value`, `message`).
    `dry_run`: check only, 200. Otherwise nothing is written while any row has an error (400 naming
    `file`) unless `skip_invalid` is true; a file applied at once answers 201 with `result`, a large
    one is queued for a worker and answers 202 with the job id: follow it with
    `GET /api/v1/users/import/?job=<id>`."""

    permission_classes = [permissions.IsAuthenticated, CanImport]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": UserImportRequestSerializer},
        responses={200: OpenApiResponse(description="dry run: per-row result"),
                   201: OpenApiResponse(description="imported: per-row result and counts"),
                   202: OpenApiResponse(description="queued for a worker: job id"),
                   400: OpenApiResponse(description="bad input, or rows with errors: nothing written")},
    )
    def post(self, request):
        serializer = UserImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        skip_invalid = serializer.validated_data["skip_invalid"]
        try:
            data, plan = importing.import_check(actor=request.user, uploaded_file=upload)
        except DomainError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        report = plan.report()
        if serializer.validated_data["dry_run"]:
            return Response({"dry_run": True, **_body(report)})
        refusal = importing.import_refusal(plan, skip_invalid)
        if refusal:
            return Response({"file": [refusal], **_body(report)}, status=status.HTTP_400_BAD_REQUEST)
        job = importing.import_job_create(actor=request.user, filename=upload.name or "import.csv", data=data,
                                          plan=plan, skip_invalid=skip_invalid)
        try:
            job = importing.import_confirm(actor=request.user, job=job, skip_invalid=skip_invalid)
        except DomainError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return self._job_answer(request, job)

    @extend_schema(
        parameters=[OpenApiParameter("job", OpenApiTypes.INT, required=True, description="id from a 202 answer")],
        responses={200: OpenApiResponse(description="the job's status, progress and per-row result")},
    )
    def get(self, request):
        try:
            job_id = int(request.query_params.get("job", ""))
        except ValueError:
            return Response({"job": [_("Give the id of an import job.")]}, status=status.HTTP_400_BAD_REQUEST)
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            return Response({"detail": _("No such import job.")}, status=status.HTTP_404_NOT_FOUND)
        return Response(_body(job.report, job))

    def _job_answer(self, request, job):
        body = _body(job.report, job)
        if job.status == ImportJob.Status.DONE:
            return Response(body, status=status.HTTP_201_CREATED)
        if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
            body["status_url"] = request.build_absolute_uri(reverse("user-import")) + f"?job={job.pk}"
            return Response(body, status=status.HTTP_202_ACCEPTED)
        if job.status == ImportJob.Status.PREVIEWED:
            # The database changed between the check and the write: nothing was written.
            return Response({"file": [job.error], **body}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": job.error, **body}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
