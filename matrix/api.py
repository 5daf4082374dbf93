"""The matrix API: brands, dealers, platforms, social accounts (with consent) and the summary.

Every list starts from the policies' `*_visible_to`, so an object outside the caller's scope is
simply not found (404); an object they can see but not change answers 403."""

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User

from . import services
from .filters import DealerFilter, SocialAccountFilter
from .models import PERSONAL_TIERS, AccountStatus, Brand, Dealer, Platform, SocialAccount
from .policies import account_user_can, accounts_visible_to, brands_visible_to, dealers_visible_to
from .selectors import matrix_summary
from .serializers import (
    BrandSerializer,
    DealerSerializer,
    MatrixSummaryQuerySerializer,
    MatrixSummarySerializer,
    PlatformSerializer,
    SocialAccountSerializer,
)


class CreateByModelPermission(permissions.DjangoModelPermissions):
    """Reading is for everyone signed in (the queryset limits what they see); creating needs the
    role's model permission (`matrix.add_brand`, `matrix.add_dealer`: admins)."""

    perms_map = {**permissions.DjangoModelPermissions.perms_map, "GET": [], "HEAD": [], "OPTIONS": []}


class AtomicCreateMixin(mixins.CreateModelMixin):
    """Creates through the view's `create_service` (which validates and audits), in a savepoint, so
    that a constraint lost to a concurrent insert leaves the connection usable (the exception
    handler answers 400 naming the field)."""

    create_service = None

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.instance = type(self).create_service(actor=self.request.user, **serializer.validated_data)


class BrandViewSet(mixins.ListModelMixin, AtomicCreateMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    permission_classes = [permissions.IsAuthenticated, CreateByModelPermission]
    create_service = services.brand_create
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return brands_visible_to(self.request.user).order_by("name", "pk")


class DealerViewSet(mixins.ListModelMixin, AtomicCreateMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    queryset = Dealer.objects.all()
    serializer_class = DealerSerializer
    permission_classes = [permissions.IsAuthenticated, CreateByModelPermission]
    create_service = services.dealer_create
    filterset_class = DealerFilter
    lookup_value_regex = r"\d+"
    constraint_fields = {"dealer_code_unique_per_brand": "code"}

    def get_queryset(self):
        return dealers_visible_to(self.request.user).order_by("region", "code", "pk")


class PlatformViewSet(viewsets.ReadOnlyModelViewSet):
    """The platform registry: the slugs accounts name, text limits and media rules."""

    queryset = Platform.objects.all()
    serializer_class = PlatformSerializer
    lookup_field = "slug"


class SocialAccountPolicy(permissions.BasePermission):
    """Asks `matrix.policies.account_user_can`: registering and changing accounts is for admins,
    consent is for the account's owner alone."""

    message = gettext_lazy("You are not allowed to do this to this account.")
    object_actions = {"partial_update": "change", "update": "change", "consent": "consent",
                      "withdraw_consent": "consent"}

    def has_permission(self, request, view):
        if view.action == "create":
            return account_user_can(request.user, "create", None)
        return True

    def has_object_permission(self, request, view, obj):
        # Seeing the object was already decided by the queryset (404 otherwise).
        policy_action = self.object_actions.get(view.action)
        return policy_action is None or account_user_can(request.user, policy_action, obj)


class SocialAccountViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                           mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Social accounts of the matrix. The webhook secret is write-only: no answer ever holds it."""

    queryset = SocialAccount.objects.all()
    serializer_class = SocialAccountSerializer
    permission_classes = [permissions.IsAuthenticated, SocialAccountPolicy]
    filterset_class = SocialAccountFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"
    # Model validation reports these without a field; the answer names the field to fix.
    constraint_fields = {
        "account_handle_unique_per_platform": "handle",
        "one_brand_account_per_platform": "platform",
        "dealer_account_names_dealer": "dealer",
        "personal_accounts_have_owner": "owner",
        "webhook_publisher_has_url": "webhook_url",
    }

    def get_queryset(self):
        # Constant queries whatever the page size: platform joined, operator ids prefetched in one.
        return (
            accounts_visible_to(self.request.user)
            .select_related("platform")
            .prefetch_related(Prefetch("operators", queryset=User.objects.only("pk")))
            .order_by("brand_id", "tier", "platform__position", "handle", "pk")
        )

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        operators = fields.pop("operators", [])
        requested_status = fields.pop("status", None)
        starting_status = AccountStatus.PENDING if fields.get("tier") in PERSONAL_TIERS else AccountStatus.ACTIVE
        if requested_status not in (None, starting_status):
            raise ValidationError({"status": [
                _("A new %(tier)s account starts as “%(status)s”: personal accounts join the matrix only when "
                  "their owner consents.") % {"tier": fields.get("tier"), "status": starting_status}
            ]})
        serializer.instance = services.account_create(actor=self.request.user, operators=operators, **fields)

    def perform_update(self, serializer):
        account = serializer.instance
        changes = dict(serializer.validated_data)
        operators = changes.pop("operators", None)
        requested_status = changes.pop("status", account.status)
        archive = requested_status != account.status
        if archive and requested_status != AccountStatus.ARCHIVED:
            raise ValidationError({"status": [
                _("The status changes only through its own routes: the owner's consent (consent/, "
                  "withdraw-consent/), or “archived” to take the account out of the matrix.")
            ]})
        if archive and not account_user_can(self.request.user, "archive", account):
            raise PermissionDenied(_("You are not allowed to archive this account."))
        with transaction.atomic():  # the registration change and the archiving, or neither
            if changes or operators is not None:
                account = services.account_update(
                    actor=self.request.user, account=account, operators=operators, **changes
                )
            if archive:
                account = services.account_archive(actor=self.request.user, account=account, reason="archived via API")
        serializer.instance = account

    @extend_schema(request=None, responses=SocialAccountSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        """The owner brings their personal account into the matrix (`pending` or `paused` → `active`)."""
        account = services.account_consent(actor=request.user, account=self.get_object())
        return Response(self.get_serializer(account).data)

    @extend_schema(request=None, responses=SocialAccountSerializer)
    @action(detail=True, methods=["post"], url_path="withdraw-consent")
    def withdraw_consent(self, request, pk=None):
        """The owner takes their personal account out (`active` → `paused`); nothing publishes on it."""
        account = services.account_withdraw_consent(actor=request.user, account=self.get_object())
        return Response(self.get_serializer(account).data)


class MatrixSummaryApi(APIView):
    """Counts by tier × platform × status of the accounts the caller can see, and dormant accounts."""

    @extend_schema(
        parameters=[MatrixSummaryQuerySerializer],
        responses=MatrixSummarySerializer,
    )
    def get(self, request):
        query = MatrixSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        brand = None
        if query.validated_data.get("brand"):
            brand = _visible_brand(request.user, query.validated_data["brand"].strip())
        summary = matrix_summary(user=request.user, brand=brand, dormant_days=query.validated_data["dormant_days"])
        return Response(MatrixSummarySerializer(summary).data)


def _visible_brand(user, slug_or_id):
    """A brand the user can see, by slug or else by id; 404 for any other."""
    brands = brands_visible_to(user)
    brand = brands.filter(slug=slug_or_id).first()
    if brand is None and slug_or_id.isdigit():
        brand = brands.filter(pk=int(slug_or_id)).first()
    if brand is None:
        raise Http404
    return brand
