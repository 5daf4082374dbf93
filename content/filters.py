"""Query-string filters of the posts API."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from matrix.filters import IdFilter
from matrix.models import Platform, Tier

from .models import Post, PostStatus


class OffsetDateTimeField(forms.DateTimeField):
    """ISO 8601 with its offset (`Z`, `+08:00`): a naive time would silently be read in the server's
    zone, which is rarely the zone of whoever wrote the script."""

    default_error_messages = {
        "invalid": _("Enter an ISO 8601 time, e.g. 2026-05-01T00:00:00+08:00."),
        "naive": _("Give the time with its offset, e.g. 2026-05-01T00:00:00+08:00 or …Z."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(parsed):
            raise ValidationError(self.error_messages["naive"], code="naive")
        return parsed


@extend_schema_field(OpenApiTypes.DATETIME)
class OffsetDateTimeFilter(django_filters.Filter):
    field_class = OffsetDateTimeField


class PostFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=PostStatus.choices, help_text=_("Repeat to match any of several statuses."),
    )
    tier = django_filters.ChoiceFilter(field_name="account__tier", choices=Tier.choices)
    platform = django_filters.ModelChoiceFilter(
        field_name="account__platform", queryset=Platform.objects.all(), to_field_name="slug",
        help_text=_("Platform slug."),
    )
    brand = django_filters.CharFilter(method="filter_brand", help_text=_("Brand slug or id."))
    campaign = IdFilter(field_name="campaign_id")
    account = IdFilter(field_name="account_id")
    author = django_filters.CharFilter(
        method="filter_author", help_text=_("Author id, or `me`."),
        validators=[RegexValidator(r"^(me|[0-9]+)$", _("Give an author id or “me”."))],
    )
    scheduled_after = OffsetDateTimeFilter(
        field_name="scheduled_at", lookup_expr="gte",
        help_text=_("Scheduled at or after this time (ISO 8601 with offset)."),
    )
    scheduled_before = OffsetDateTimeFilter(
        field_name="scheduled_at", lookup_expr="lt",
        help_text=_("Scheduled before this time (ISO 8601 with offset)."),
    )

    class Meta:
        model = Post
        fields = ["status", "tier", "platform", "brand", "campaign", "account", "author", "scheduled_after",
                  "scheduled_before"]

    def filter_brand(self, queryset, name, value):
        value = value.strip()
        condition = Q(account__brand__slug=value)
        if value.isdigit():
            condition |= Q(account__brand_id=int(value))
        return queryset.filter(condition)

    def filter_author(self, queryset, name, value):
        if value == "me":
            return queryset.filter(author_id=self.request.user.pk)
        return queryset.filter(author_id=int(value))
