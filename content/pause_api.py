"""The pauses API (crisis mode): `GET, POST /api/v1/pauses/`, `POST /api/v1/pauses/{id}/lift/`.

The same services as the pauses page. A pause the caller may not see is not found (404); pausing or
lifting what their role does not allow answers 403; a value the scope refuses answers 400 naming
`value` (or `scope`, `reason`, `until`).
"""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from matrix.policies import brands_visible_to

from . import services
from .models import Pause, PauseScope
from .pauses import active_q
from .policies import pauses_visible_to
from .serializers import OffsetDateTimeField

REFUSED = OpenApiResponse(description="`{field: [message]}`: a value the scope refuses, an end in the past, "
                                      "or a pause already lifted or ended")


class PauseSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField(help_text=_("Whether the pause holds publishing now."))

    class Meta:
        model = Pause
        fields = ["id", "brand", "scope", "value", "reason", "starts_at", "until", "created_by", "created_at",
                  "lifted_at", "lifted_by", "lift_reason", "active"]
        read_only_fields = fields

    def get_active(self, pause) -> bool:
        return pause.is_active(self.context.get("now"))


class PauseCreateSerializer(serializers.Serializer):
    brand = serializers.IntegerField(help_text=_("The brand whose publishing stops."))
    scope = serializers.ChoiceField(choices=PauseScope.choices)
    value = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                  help_text=_("Tier slug, platform slug, dealer region or account id; empty for "
                                              "the whole brand."))
    reason = serializers.CharField(max_length=2000)
    until = OffsetDateTimeField(required=False, allow_null=True, default=None,
                                help_text=_("When publishing resumes by itself (with its offset); null: until "
                                            "lifted."))

    def validate_brand(self, value):
        brand = brands_visible_to(self.context["request"].user).filter(pk=value).first()
        if brand is None:
            raise serializers.ValidationError(_("No brand with id %(id)s.") % {"id": value})
        return brand


class PauseLiftSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class PauseFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(method="filter_active", help_text=_("Active now (true) or not (false)."))
    scope = django_filters.ChoiceFilter(choices=PauseScope.choices)
    brand = django_filters.CharFilter(method="filter_brand", help_text=_("Brand slug or id."))

    class Meta:
        model = Pause
        fields = ["active", "scope", "brand"]

    def filter_active(self, queryset, name, value):
        condition = active_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_brand(self, queryset, name, value):
        value = value.strip()
        condition = Q(brand__slug=value)
        if value.isdigit():
            condition |= Q(brand_id=int(value))
        return queryset.filter(condition)


@extend_schema_view(
    list=extend_schema(summary="Pauses the caller can see, newest first"),
    retrieve=extend_schema(summary="A pause"),
)
class PauseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PauseSerializer
    filterset_class = PauseFilter
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return pauses_visible_to(self.request.user).order_by("-starts_at", "-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(request=PauseCreateSerializer, responses={201: PauseSerializer, 400: REFUSED},
                   summary="Pause publishing on a scope of a brand",
                   description="Admins may pause any brand; marketers and reviewers their own (403 otherwise).")
    def create(self, request):
        data = PauseCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        pause = services.pause_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(pause).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PauseLiftSerializer, responses={200: PauseSerializer, 400: REFUSED},
                   summary="Lift a pause: held posts go out as they come due")
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        data = PauseLiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pause = services.pause_lift(actor=request.user, pause=self.get_object(), reason=data.validated_data["reason"])
        return Response(self.get_serializer(pause).data)
