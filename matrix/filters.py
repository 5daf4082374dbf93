"""Query-string filters of the matrix API."""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AccountStatus, Dealer, Platform, SocialAccount, Tier


class IdFilter(django_filters.Filter):
    """An object id: whole numbers only (NumberFilter would take `1.5`)."""

    field_class = forms.IntegerField


def filter_brand_slug_or_id(queryset, name, value):
    """`brand=aurora` or `brand=3`: a slug, or a brand id (a slug made of digits matches too)."""
    value = value.strip()
    condition = Q(brand__slug=value)
    if value.isdigit():
        condition |= Q(brand_id=int(value))
    return queryset.filter(condition)


class DealerFilter(django_filters.FilterSet):
    brand = django_filters.CharFilter(method=filter_brand_slug_or_id, help_text=_("Brand slug or id."))
    region = django_filters.CharFilter(field_name="region")

    class Meta:
        model = Dealer
        fields = ["brand", "region"]


class SocialAccountFilter(django_filters.FilterSet):
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    platform = django_filters.ModelChoiceFilter(
        queryset=Platform.objects.all(), to_field_name="slug", help_text=_("Platform slug.")
    )
    brand = django_filters.CharFilter(method=filter_brand_slug_or_id, help_text=_("Brand slug or id."))
    region = django_filters.CharFilter(field_name="dealer__region", help_text=_("The dealer's region."))
    dealer = IdFilter(field_name="dealer_id")
    department = IdFilter(field_name="department_id")
    owner = django_filters.CharFilter(
        method="filter_owner", help_text=_("Owner id, or `me`."),
        validators=[RegexValidator(r"^(me|[0-9]+)$", _("Give an owner id or “me”."))],
    )
    search = django_filters.CharFilter(method="filter_search", help_text=_("Part of the handle or display name."))

    class Meta:
        model = SocialAccount
        fields = ["tier", "status", "platform", "brand", "region", "dealer", "department", "owner", "search"]

    def filter_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner_id=self.request.user.pk)
        return queryset.filter(owner_id=int(value))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(handle__icontains=value) | Q(display_name__icontains=value))
