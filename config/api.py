"""What every API module shares: domain errors and lost database races answered as 4xx, never 500."""

from functools import lru_cache

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.fields import get_error_detail
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, PermissionDeniedError


def exception_handler(exc, context):
    """DRF's handler, taught our errors.

    - `PermissionDeniedError` → 403 `{"detail": message}`;
    - `DomainError` → 400 `{field: [message]}` (`non_field_errors` when no field is known);
    - Django's `ValidationError` → 400 with its fields;
    - `IntegrityError` (a concurrent write won a database constraint after validation passed) → 400
      naming the field the constraint guards, never a 500.
    A view may name the field each database constraint guards in `constraint_fields`
    (`{constraint name: field}`): model validation reports constraint violations without a field."""
    view = context.get("view")
    if isinstance(exc, PermissionDeniedError):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, DomainError):
        exc = exceptions.ValidationError(_domain_error_detail(exc, view))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(_integrity_error_detail(exc, view))
    return drf_exception_handler(exc, context)


def _domain_error_detail(exc, view):
    if _constraint_name(exc) is not None:
        # A service caught a database constraint refusing the write (a concurrent insert won): say
        # what the constraint guards, not the database's words.
        detail = _integrity_error_detail(exc, view)
        if exc.field and api_settings.NON_FIELD_ERRORS_KEY in detail:
            detail = {exc.field: detail[api_settings.NON_FIELD_ERRORS_KEY]}
        return detail
    field, message = exc.field, exc.message
    # Model validation reports a constraint violation under no field (and a service may have guessed
    # one): the view knows which field the constraint guards.
    name = _constraint_named_by_message(message)
    if name is not None:
        field = _constraint_field(name, view) or field
    return {field or api_settings.NON_FIELD_ERRORS_KEY: [str(message)]}


def _django_validation_detail(exc):
    detail = get_error_detail(exc)
    if isinstance(detail, dict):
        return {api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key: value for key, value in detail.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: detail}


def _integrity_error_detail(exc, view):
    name = _constraint_name(exc)
    constraint = _constraints_by_name().get(name)
    field = _constraint_field(name, view) if name else None
    message = _constraint_message(constraint)
    return {field or api_settings.NON_FIELD_ERRORS_KEY: [message]}


def _constraint_message(constraint):
    if constraint is not None and constraint.violation_error_message != constraint.default_violation_error_message:
        return constraint.get_violation_error_message()
    return _("This conflicts with an existing record; nothing was saved.")


def _constraint_name(exc):
    """The name of the database constraint behind an IntegrityError that caused `exc`, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        diag = getattr(exc, "diag", None)  # psycopg's error details
        if diag is not None and getattr(diag, "constraint_name", None):
            return diag.constraint_name
        exc = exc.__cause__
    return None


@lru_cache(maxsize=1)
def _constraints_by_name():
    return {constraint.name: constraint for model in apps.get_models() for constraint in model._meta.constraints}


@lru_cache(maxsize=1)
def _unique_columns():
    """PostgreSQL's names for `unique=True` columns (`<table>_<column>_key` and Django's `…_uniq`)."""
    return {
        f"{model._meta.db_table}_{field.column}_": field.name
        for model in apps.get_models()
        for field in model._meta.local_fields
        if field.unique and not field.primary_key
    }


def _constraint_field(name, view):
    if not name:
        return None
    fields = getattr(view, "constraint_fields", None) or {}
    if name in fields:
        return fields[name]
    for prefix, field in _unique_columns().items():
        if name.startswith(prefix):
            return field
    return None


def _constraint_named_by_message(message):
    for constraint in _constraints_by_name().values():
        if str(message) == str(constraint.get_violation_error_message()):
            return constraint.name
    return None
