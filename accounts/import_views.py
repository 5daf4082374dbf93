"""Bulk import of people and accounts (upload → dry-run preview → confirm)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .policies import user_can


@login_required
def import_upload(request):
    if not user_can(request.user, "import"):
        raise PermissionDenied
    return render(request, "accounts/import_upload.html", {})
