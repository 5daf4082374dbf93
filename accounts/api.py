"""The people API: API tokens, and registering, reading and changing people (admins)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response

from . import services
from .models import User
from .policies import user_can, users_visible_to
from .serializers import UserSerializer


class TokenObtainApi(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <key>`).

    Wrong credentials and offboarded people get 400 naming `non_field_errors`."""


class UserPolicy(permissions.BasePermission):
    """Asks `accounts.policies`: listing and registering people is for admins; anyone may read
    their own profile; people outside one's scope are not found (404, from the queryset)."""

    def has_permission(self, request, view):
        if view.action == "list":
            return user_can(request.user, "view")
        if view.action == "create":
            return user_can(request.user, "create")
        return True

    def has_object_permission(self, request, view, obj):
        if view.action in ("update", "partial_update"):
            return user_can(request.user, "change", obj)
        return True


class UserViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """People. Creating one without a password emails them an invitation to choose it."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated, UserPolicy]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"
    filterset_fields = ["role", "brand", "dealer", "department", "is_active"]
    constraint_fields = {"dealer_operator_names_dealer": "dealer"}

    def get_queryset(self):
        return users_visible_to(self.request.user).order_by("username", "pk")

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        password = fields.pop("password", None)
        serializer.instance = services.user_create(actor=self.request.user, password=password, **fields)

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            actor=self.request.user, user=serializer.instance, **serializer.validated_data
        )

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        """The signed-in person's own profile."""
        return Response(self.get_serializer(request.user).data)
