"""The calendars API: `GET /api/v1/calendar/`, `GET, POST, DELETE /api/v1/calendar/feed/`,
`GET, POST /api/v1/blocked-days/`, `DELETE /api/v1/blocked-days/{id}/`, and the ICS feed itself
(`GET /calendar/<token>.ics`, no login: the token is the secret). Rescheduling a post is an action of
the posts API (`POST /api/v1/posts/{id}/reschedule/`), whose request and refusal shapes are here.

Reads come from `content.calendar`, writes from `content.services`; who sees which posts is the posts
API's own policy. Query parameters the calendar cannot read answer 400 naming the parameter.
"""

import json
import zoneinfo
from datetime import timedelta

import django_filters
from django.core.validators import RegexValidator
from django.db import connections
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, pagination, renderers, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import User
from config.errors import DomainError
from matrix.models import Tier
from matrix.timezones import all_timezones

from . import calendar, services
from .models import BlockedDay, PostStatus
from .serializers import OffsetDateTimeField

REFUSED = OpenApiResponse(description="`{field: [message]}`: a parameter the calendar cannot read")


# --- GET /api/v1/calendar/ ---------------------------------------------------------------------


def _zone_name(value, field="timezone"):
    value = (value or "").strip()
    if value not in set(all_timezones()):
        raise serializers.ValidationError(
            {field: [_("“%(value)s” is not an IANA time zone (for example Asia/Shanghai).") % {"value": value}]})
    return value


def _ids(value, field):
    """`3` or `3,5,8`: whole numbers only."""
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise serializers.ValidationError({field: [_("Give an id, or ids separated by commas.")]})
    return [int(part) for part in parts]


class CalendarQuerySerializer(serializers.Serializer):
    """The query string of `GET /api/v1/calendar/` (documentation and reading in one place)."""

    start = serializers.CharField(help_text=gettext_lazy(
        "First instant (included): an ISO date (midnight in `timezone`) or date and time, e.g. 2026-03-01 or "
        "2026-03-01T00:00:00+08:00."))
    end = serializers.CharField(help_text=gettext_lazy(
        "Last instant (excluded), the same way; at most 62 days after `start`."))
    timezone = serializers.CharField(required=False, help_text=gettext_lazy(
        "IANA zone the events' `start` is given in (and dates are read in); default: yours."))
    account = serializers.CharField(required=False, help_text=gettext_lazy("Account id, or ids separated by commas."))
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    platform = serializers.CharField(required=False, help_text=gettext_lazy("Platform slug."))
    brand = serializers.CharField(required=False, help_text=gettext_lazy("Brand slug or id."))
    region = serializers.CharField(required=False, help_text=gettext_lazy("Dealer region."))
    owner = serializers.CharField(required=False, help_text=gettext_lazy("Account owner: `me` or a user id."),
                                  validators=[RegexValidator(r"^(me|[0-9]+)$", gettext_lazy("Give a user id or “me”."))])
    campaign = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False, help_text=gettext_lazy("Status, or statuses separated by commas."))
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=calendar.PAGE_SIZE_MAX,
                                         default=calendar.PAGE_SIZE_DEFAULT)
    cursor = serializers.CharField(required=False, help_text=gettext_lazy("From a previous response's `next`."))


def _instant(value, tz, field):
    """An instant from a query parameter: a date is midnight in `tz`; a time without an offset is a
    wall-clock time in `tz` (refused in a DST gap or overlap, as everywhere)."""
    from .forms import local_to_utc

    value = value.strip()
    day = calendar.parse_day(value)
    if day is not None:
        return calendar.day_start(day, tz)
    try:
        parsed = parse_datetime(value.replace(" ", "+", 1) if value.count(" ") == 1 else value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise serializers.ValidationError({field: [_("Give an ISO date or time, e.g. 2026-03-01 or "
                                                     "2026-03-01T00:00:00+08:00.")]})
    if timezone.is_naive(parsed):
        try:
            return local_to_utc(parsed, tz.key, field=field)
        except DomainError as exc:
            raise serializers.ValidationError({field: [str(exc.message)]}) from exc
    return parsed


def read_calendar_query(request):
    """(start, end, zone, filters, page_size, after) from the query string; 400 naming the parameter."""
    query = CalendarQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    tz = zoneinfo.ZoneInfo(_zone_name(data.get("timezone") or calendar.user_zone_name(request.user)))
    start = _instant(data["start"], tz, "start")
    end = _instant(data["end"], tz, "end")
    if end <= start:
        raise serializers.ValidationError({"end": [_("The end must come after the start.")]})
    if end - start > timedelta(days=calendar.RANGE_MAX_DAYS):
        raise serializers.ValidationError({"end": [
            _("Ask for at most %(days)d days at a time.") % {"days": calendar.RANGE_MAX_DAYS}]})
    filters = calendar.CalendarFilters(
        tier=data.get("tier", ""), platform=data.get("platform", "").strip(), brand=data.get("brand", "").strip(),
        region=data.get("region", "").strip(), campaign=data.get("campaign"),
    )
    if "account" in data:
        filters.accounts = _ids(data["account"], "account")
    if "owner" in data:
        filters.owner = request.user.pk if data["owner"] == "me" else int(data["owner"])
    if "status" in data:
        statuses = [part.strip() for part in data["status"].split(",") if part.strip()]
        unknown = [part for part in statuses if part not in PostStatus.values]
        if unknown or not statuses:
            raise serializers.ValidationError({"status": [
                _("Unknown status “%(value)s”; give any of: %(values)s.")
                % {"value": ", ".join(unknown), "values": ", ".join(PostStatus.values)}]})
        filters.statuses = statuses
    after = None
    if data.get("cursor"):
        after = calendar.decode_cursor(data["cursor"])
        if after is None:
            raise serializers.ValidationError({"cursor": [_("This cursor is not valid: use the `next` link of a previous response.")]})
    return start, end, tz, filters, data["page_size"], after


class CalendarEventSerializer(serializers.Serializer):
    """One post on the calendar (documentation: the events are written by `content.calendar`)."""

    id = serializers.IntegerField()
    title = serializers.CharField(help_text=gettext_lazy("Account and the start of the text, at most 80 characters."))
    start = serializers.DateTimeField(help_text=gettext_lazy("With the offset of the requested `timezone`."))
    status = serializers.ChoiceField(choices=PostStatus.choices)
    account = serializers.IntegerField()
    account_label = serializers.CharField(help_text=gettext_lazy("`@handle`."))
    tier = serializers.ChoiceField(choices=Tier.choices)
    platform = serializers.CharField(help_text=gettext_lazy("Platform slug."))
    platform_name = serializers.CharField(help_text=gettext_lazy("In the language of the request."))
    brand = serializers.IntegerField()
    region = serializers.CharField(help_text=gettext_lazy("Dealer region, or empty."))
    owner = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The account owner's id."))
    campaign = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField()
    account_timezone = serializers.CharField()
    start_account_local = serializers.DateTimeField(help_text=gettext_lazy("With the account zone's offset."))
    zone_differs = serializers.BooleanField(
        help_text=gettext_lazy("The account's clock shows a different time from the requested zone."))
    editable = serializers.BooleanField(help_text=gettext_lazy("You may move it now."))
    url = serializers.CharField(help_text=gettext_lazy("Path of the post's page."))


class CalendarPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True, help_text=gettext_lazy("Always null: walk forward with `next`."))
    timezone = serializers.CharField()
    results = CalendarEventSerializer(many=True)


class RawJSON(bytes):
    """JSON already written (the calendar's events, by PostgreSQL): rendered as it is."""


class CalendarJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, except that the `RawJSON` values of a dict (the last keys) are appended
    as they are, unparsed."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, dict) or not any(isinstance(value, RawJSON) for value in data.values()):
            return super().render(data, accepted_media_type, renderer_context)
        rest = {key: value for key, value in data.items() if not isinstance(value, RawJSON)}
        raw = b",".join(json.dumps(key).encode() + b":" + value for key, value in data.items()
                        if isinstance(value, RawJSON))
        rendered = super().render(rest, accepted_media_type, renderer_context).rstrip()
        return rendered[:-1].rstrip() + (b"," if rest else b"") + raw + b"}"


class CalendarApi(APIView):
    """The posts the caller can see in a range of time, as calendar events."""

    renderer_classes = [CalendarJSONRenderer if cls is renderers.JSONRenderer else cls
                        for cls in api_settings.DEFAULT_RENDERER_CLASSES]

    @extend_schema(parameters=[CalendarQuerySerializer], responses={200: CalendarPageSerializer, 400: REFUSED},
                   summary="Calendar events in a range of at most 62 days",
                   description="Posts with a time, in (time, id) order, the ones you may see (as in "
                               "`/api/v1/posts/`). Paged by a cursor: follow `next` until it is null.")
    def get(self, request):
        start, end, tz, filters, page_size, after = read_calendar_query(request)
        queryset = calendar.calendar_posts(user=request.user, start=start, end=end, filters=filters)
        if connections[queryset.db].vendor == "postgresql":
            # The events written by PostgreSQL, passed through unparsed (the same answer, in a
            # fraction of the time for a month of a large matrix).
            page = calendar.calendar_page_json(user=request.user, queryset=queryset, tz=tz, after=after,
                                               page_size=page_size)
            events = RawJSON(page.events)
        else:
            page = calendar.calendar_page(user=request.user, queryset=queryset, tz=tz, after=after,
                                          page_size=page_size)
            events = page.events
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        return Response({"count": page.count, "next": next_url, "previous": None, "timezone": tz.key,
                         "results": events})


# --- the ICS feed --------------------------------------------------------------------------------


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text=gettext_lazy("Subscribe to it in Outlook, Google Calendar or Apple Calendar. "
                                                      "Whoever has it can read your calendar: keep it private."))
    created_at = serializers.DateTimeField()


def _feed_answer(feed, status_code=status.HTTP_200_OK):
    return Response({"url": calendar.feed_url(feed), "created_at": feed.created_at}, status=status_code)


class CalendarFeedApi(APIView):
    """Your private ICS feed URL: read it (created on first use), rotate it, revoke it."""

    @extend_schema(request=None, responses={200: CalendarFeedSerializer},
                   summary="Your ICS feed URL (created on first use)")
    def get(self, request):
        return _feed_answer(services.calendar_feed_get(actor=request.user))

    @extend_schema(request=None, responses={200: CalendarFeedSerializer},
                   summary="Rotate your ICS feed URL: the old one stops working")
    def post(self, request):
        return _feed_answer(services.calendar_feed_rotate(actor=request.user))

    @extend_schema(request=None, responses={204: None}, summary="Revoke your ICS feed URL")
    def delete(self, request):
        services.calendar_feed_revoke(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@require_GET
def calendar_feed_ics(request, token):
    """`/calendar/<token>.ics`: read by calendar programs, with no session; the token is the secret.
    An unknown or revoked token, or one of a person who left, is not found."""
    feed = calendar.live_feed(token)
    if feed is None:
        raise Http404
    response = HttpResponse(calendar.feed_calendar(feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="social-matrix.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- blocked days ----------------------------------------------------------------------------------


class BlockedDaySerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField(help_text=gettext_lazy("The owner's zone, in which the date is read."))

    class Meta:
        model = BlockedDay
        fields = ["id", "owner", "owner_name", "date", "note", "timezone"]
        read_only_fields = fields

    def get_owner_name(self, day) -> str:
        return str(day.owner)

    def get_timezone(self, day) -> str:
        return calendar.user_zone_name(day.owner)


class BlockedDayCreatedSerializer(BlockedDaySerializer):
    conflicts = serializers.SerializerMethodField(
        help_text=gettext_lazy("Ids of the owner's posts still to go out on that day: move them."))

    class Meta(BlockedDaySerializer.Meta):
        fields = [*BlockedDaySerializer.Meta.fields, "conflicts"]
        read_only_fields = fields

    def get_conflicts(self, day) -> list[int]:
        return calendar.blocked_day_conflicts(day)


class BlockedDayCreateSerializer(serializers.Serializer):
    date = serializers.DateField(help_text=gettext_lazy("The day, in the owner's zone."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    owner = serializers.IntegerField(required=False, help_text=gettext_lazy("Admins only: whose day; default yours."))

    def validate_owner(self, value):
        owner = User.objects.filter(pk=value, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError(_("No person with id %(id)s.") % {"id": value})
        return owner


class BlockedDayFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="date", lookup_expr="gte",
                                      help_text=gettext_lazy("First day (included), ISO date."))
    end = django_filters.DateFilter(field_name="date", lookup_expr="lt",
                                    help_text=gettext_lazy("Last day (excluded), ISO date."))
    owner = django_filters.CharFilter(
        method="filter_owner", help_text=gettext_lazy("Whose blocked days: `me` or a user id."),
        validators=[RegexValidator(r"^(me|[0-9]+)$", gettext_lazy("Give a user id or “me”."))],
    )

    class Meta:
        model = BlockedDay
        fields = ["start", "end", "owner"]

    def filter_owner(self, queryset, name, value):
        return queryset.filter(owner_id=self.request.user.pk if value == "me" else int(value))


class BlockedDayPagination(pagination.PageNumberPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 2000


@extend_schema_view(
    list=extend_schema(summary="Blocked days you can see: yours, and those of the owners of accounts you see"),
    retrieve=extend_schema(summary="A blocked day"),
)
class BlockedDayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Days on which nothing may go out on a person's own accounts."""

    serializer_class = BlockedDaySerializer
    filterset_class = BlockedDayFilter
    pagination_class = BlockedDayPagination
    http_method_names = ["get", "post", "delete", "head", "options"]
    lookup_value_regex = r"\d+"
    constraint_fields = {"blocked_day_once_per_owner": "date"}

    def get_queryset(self):
        return calendar.blocked_days_visible_to(self.request.user).select_related("owner").order_by(
            "date", "owner_id", "id")

    @extend_schema(request=BlockedDayCreateSerializer,
                   responses={201: BlockedDayCreatedSerializer, 400: REFUSED},
                   summary="Block a day (yours; admins may name the `owner`)",
                   description="Posts already scheduled that day stay; the answer lists them in `conflicts`. "
                               "Blocking for someone else answers 403 unless you are an admin.")
    def create(self, request):
        data = BlockedDayCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        day = services.blocked_day_create(actor=request.user, **data.validated_data)
        day = BlockedDay.objects.select_related("owner").get(pk=day.pk)
        return Response(BlockedDayCreatedSerializer(day).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, summary="Unblock a day (its owner or an admin)")
    def destroy(self, request, pk=None):
        services.blocked_day_delete(actor=request.user, day=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- POST /api/v1/posts/{id}/reschedule/ ---------------------------------------------------------


class PostRescheduleSerializer(serializers.Serializer):
    """Either a wall-clock time in a named zone (what the person dropped the post on), or an instant."""

    local = serializers.CharField(required=False, help_text=gettext_lazy(
        "A wall-clock time without an offset, e.g. 2026-03-08T09:30, read in `timezone`."))
    timezone = serializers.CharField(required=False, help_text=gettext_lazy("The IANA zone of `local`."))
    scheduled_at = OffsetDateTimeField(required=False, help_text=gettext_lazy(
        "Instead of `local`: the new time with its offset."))

    def validate(self, attrs):
        if "local" in attrs:
            if "scheduled_at" in attrs:
                raise serializers.ValidationError({"local": [_("Give either local and timezone, or scheduled_at.")]})
            try:
                local = parse_datetime(attrs["local"].strip())
            except ValueError:
                local = None
            if local is None:
                raise serializers.ValidationError({"local": [_("Give a date and time, e.g. 2026-03-08T09:30.")]})
            if not timezone.is_naive(local):
                raise serializers.ValidationError({"local": [
                    _("Give the time as the clock shows it, without an offset; or send scheduled_at instead.")]})
            if not attrs.get("timezone"):
                raise serializers.ValidationError({"timezone": [_("Say which time zone the local time is in.")]})
            return {"local": local, "tz_name": _zone_name(attrs["timezone"])}
        if "scheduled_at" not in attrs:
            raise serializers.ValidationError({"scheduled_at": [
                _("Give the new time: local and timezone, or scheduled_at with its offset.")]})
        return {"scheduled_at": attrs["scheduled_at"]}


class RescheduleRefusalSerializer(serializers.Serializer):
    scheduled_at = serializers.ListField(child=serializers.CharField(),
                                         help_text=gettext_lazy("What is wrong with the time, and what to do."))
    code = serializers.ChoiceField(choices=[
        ("not_reschedulable", "not_reschedulable"), ("nonexistent_time", "nonexistent_time"),
        ("ambiguous_time", "ambiguous_time"), ("past", "past"), ("blocked_day", "blocked_day"),
        ("paused", "paused"), ("campaign_window", "campaign_window"), ("rate_limit", "rate_limit"),
        ("invalid", "invalid"),
    ])


def reschedule_refusal(exc):
    """The answer to a refused reschedule: 409 when the post can no longer move, else 400."""
    code = exc.code if exc.code != "permission_denied" else "invalid"
    status_code = status.HTTP_409_CONFLICT if code == "not_reschedulable" else status.HTTP_400_BAD_REQUEST
    return Response({"scheduled_at": [str(exc.message)], "code": code}, status=status_code)

