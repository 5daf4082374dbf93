"""`GET /api/v1/audit-events/`: read the append-only audit log, newest first.

Admins read every event. Reviewers read the events of the posts they can see (their brand's) and
of those posts' review steps: the trail of the content they answer for, found with two semi-joins
on the (object_type, object_id) index, not a scan of the log. Everyone else gets 403; an event
outside one's scope is not found (404).

Newest first, by id: ids follow the chain (appends are serialised by an advisory lock), so the
order is the order events were written. Pages are numbered like every list; a script that follows
the log should filter with `since` rather than walk page numbers while events keep arriving.
"""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from accounts.models import Role
from content.filters import OffsetDateTimeFilter
from content.policies import posts_visible_to

from .models import AuditEvent, ReviewStep


def audit_events_visible_to(user, queryset=None):
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role == Role.REVIEWER:
        # object_id is text (it names objects of any model); compare it with the ids as text.
        posts = posts_visible_to(user).annotate(id_text=Cast("pk", CharField())).values("id_text")
        steps = (ReviewStep.objects.filter(post__in=posts_visible_to(user).values("pk"))
                 .annotate(id_text=Cast("pk", CharField())).values("id_text"))
        return queryset.filter(
            Q(object_type="content.post", object_id__in=posts)
            | Q(object_type="approvals.reviewstep", object_id__in=steps)
        )
    return queryset.none()


def audit_user_can_read(user):
    return user.is_authenticated and user.is_active and (user.is_admin or user.role == Role.REVIEWER)


class AuditEventFilter(django_filters.FilterSet):
    object = django_filters.CharFilter(
        method="filter_object",
        help_text=_("`content.post:12`, or just `12` (any type with that id; add `object_type` to narrow it)."),
        validators=[RegexValidator(r"^([a-z_][a-z0-9_]*\.[a-z0-9_]+:)?[^:\s]+$",
                                   _("Give app_label.model:id, e.g. content.post:12, or an id."))],
    )
    object_type = django_filters.CharFilter(field_name="object_type",
                                            help_text=_("app_label.model, e.g. content.post."))
    actor = django_filters.CharFilter(
        method="filter_actor",
        help_text=_("A person's id or username (as recorded on the event); `system` for automatic events."),
    )
    action = django_filters.CharFilter(
        method="filter_action",
        help_text=_("An action (`content.post.approve`) or a prefix ending in `*` (`content.post.*`)."),
        validators=[RegexValidator(r"^[^*]*\*?$", _("Only a trailing * is allowed, e.g. content.post.*"))],
    )
    since = OffsetDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                 help_text=_("Events at or after this time (ISO 8601 with offset)."))

    class Meta:
        model = AuditEvent
        fields = ["object", "object_type", "actor", "action", "since"]

    def filter_object(self, queryset, name, value):
        object_type, _colon, object_id = value.strip().rpartition(":")
        if object_type:
            queryset = queryset.filter(object_type=object_type)
        return queryset.filter(object_id=object_id)

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        condition = Q(actor_label=value)
        if value.isdigit():
            condition |= Q(actor_id=int(value))
        return queryset.filter(condition)

    def filter_action(self, queryset, name, value):
        if value.endswith("*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
                  "before", "after", "hash", "prev_hash"]
        read_only_fields = fields
        extra_kwargs = {
            "actor": {"help_text": _("Id of the person; null for automatic events.")},
            "actor_label": {"help_text": _("Username at the time of the event, or `system`.")},
            "hash": {"help_text": _("sha256 of this event's content and `prev_hash`.")},
            "prev_hash": {"help_text": _("`hash` of the event before it in the chain.")},
        }


class AuditReader(permissions.BasePermission):
    message = _("Only admins and reviewers read the audit log.")

    def has_permission(self, request, view):
        return audit_user_can_read(request.user)


@extend_schema_view(
    list=extend_schema(summary="Audit events, newest first",
                       description="Admins: every event. Reviewers: events of the posts they can see and of "
                                   "those posts' review steps. Others: 403."),
    retrieve=extend_schema(summary="One audit event"),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditEventSerializer
    permission_classes = [permissions.IsAuthenticated, AuditReader]
    filterset_class = AuditEventFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return audit_events_visible_to(self.request.user).order_by("-id")
