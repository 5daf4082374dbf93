"""The screening API: screen a text, and read and curate the company lexicons.

- `POST /screenings/`: anyone signed in. An `account` the caller cannot see is refused as unknown.
- `/lexicons/`: admins and reviewers write (reviewers: their brand's lexicons, or the company-wide
  ones when they have no brand); marketers read their brand's and the company-wide ones; everyone
  else gets 403 - lexicons hold confidential code names. A lexicon outside one's scope is 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import Screening
from .policies import lexicon_user_can
from .selectors import lexicon_list
from .serializers import (
    LexiconSerializer,
    LexiconTermSerializer,
    ScreeningRequestSerializer,
    ScreeningSerializer,
    TermRemoveSerializer,
    TermsImportReportSerializer,
    TermsImportSerializer,
)


class ScreeningCreateApi(APIView):
    """Screen a text with the current policy: the built-in packs and detectors plus the company
    lexicons of the account's brand (else the caller's). The screening is recorded."""

    @extend_schema(
        request=ScreeningRequestSerializer,
        responses={200: ScreeningSerializer, 400: OpenApiResponse(description="`{field: [message]}`")},
    )
    def post(self, request):
        query = ScreeningRequestSerializer(data=request.data, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        screening = services.screening_run(
            data["text"], actor=request.user, account=data.get("account"), tier=data.get("tier") or None,
            source=Screening.Source.API,
        )
        return Response(ScreeningSerializer(screening).data)


class LexiconPolicy(permissions.BasePermission):
    """Asks `approvals.policies.lexicon_user_can`."""

    write_actions = {"create", "partial_update", "update", "import_terms"}

    def has_permission(self, request, view):
        if not lexicon_user_can(request.user, "view"):
            return False
        if view.action in self.write_actions or (view.action == "terms" and request.method in ("POST", "DELETE")):
            return lexicon_user_can(request.user, "change")
        return True

    def has_object_permission(self, request, view, obj):
        # Seeing it was decided by the queryset (404 otherwise).
        if view.action in self.write_actions or (view.action == "terms" and request.method in ("POST", "DELETE")):
            return lexicon_user_can(request.user, "change", obj)
        return True


@extend_schema_view(
    list=extend_schema(summary="Lexicons the caller can see"),
    create=extend_schema(summary="Create a lexicon (admins; reviewers for their brand)"),
)
class LexiconViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Company lexicons screened on top of the built-in packs. Each change bumps the policy version
    and reaches every server within seconds."""

    serializer_class = LexiconSerializer
    permission_classes = [permissions.IsAuthenticated, LexiconPolicy]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"
    filterset_fields = ["brand", "category", "is_active"]

    def get_queryset(self):
        return lexicon_list(user=self.request.user)

    def _annotated(self, lexicon):
        return self.get_queryset().get(pk=lexicon.pk)

    def perform_create(self, serializer):
        lexicon = services.lexicon_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self._annotated(lexicon)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        changes.pop("brand", None)  # unchanged: validated by the serializer
        lexicon = services.lexicon_update(actor=self.request.user, lexicon=serializer.instance, **changes)
        serializer.instance = self._annotated(lexicon)

    @extend_schema(methods=["GET"], responses=LexiconTermSerializer(many=True), summary="Terms of a lexicon",
                   parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Terms containing this text.")])
    @extend_schema(methods=["POST"], request=LexiconTermSerializer, responses={201: LexiconTermSerializer},
                   summary="Add a term or an allow-list phrase")
    @extend_schema(
        methods=["DELETE"], request=None, responses={204: None}, summary="Remove a term",
        description="Name the term by `term` or `id`, in the query string or in a JSON body.",
        parameters=[
            OpenApiParameter("term", OpenApiTypes.STR, description="The term's text (any spelling that folds to it)."),
            OpenApiParameter("id", OpenApiTypes.INT, description="The term's id."),
        ],
    )
    @action(detail=True, methods=["get", "post", "delete"])
    def terms(self, request, pk=None):
        lexicon = self.get_object()
        if request.method == "POST":
            serializer = LexiconTermSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            item = services.lexicon_term_add(actor=request.user, lexicon=lexicon, **serializer.validated_data)
            return Response(LexiconTermSerializer(item).data, status=status.HTTP_201_CREATED)
        if request.method == "DELETE":
            source = request.data if hasattr(request.data, "get") and request.data else request.query_params
            serializer = TermRemoveSerializer(data={key: source.get(key) for key in ("term", "id") if source.get(key)})
            serializer.is_valid(raise_exception=True)
            services.lexicon_term_remove(
                actor=request.user, lexicon=lexicon, term=serializer.validated_data.get("term"),
                term_id=serializer.validated_data.get("id"),
            )
            return Response(status=status.HTTP_204_NO_CONTENT)
        terms = lexicon.terms.order_by("allow", "term", "pk")
        if request.query_params.get("q"):
            terms = terms.filter(term__icontains=request.query_params["q"])
        page = self.paginate_queryset(terms)
        return self.get_paginated_response(LexiconTermSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": TermsImportSerializer},
        responses={200: TermsImportReportSerializer, 400: OpenApiResponse(description="`{\"file\": [\"line 3: …\"]}`")},
        summary="Import terms from a text file (all or nothing)",
    )
    @action(detail=True, methods=["post"], url_path="terms/import", parser_classes=[MultiPartParser, FormParser])
    def import_terms(self, request, pk=None):
        lexicon = self.get_object()
        serializer = TermsImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > services.IMPORT_MAX_BYTES:
            raise ValidationError({"file": [_("The file is larger than %(size)d MB.") % {
                "size": services.IMPORT_MAX_BYTES // 1024 // 1024
            }]})
        try:
            report = services.lexicon_terms_import(
                actor=request.user, lexicon=lexicon, data=upload.read(), filename=upload.name,
                allow=serializer.validated_data["allow"],
            )
        except services.TermsImportError as exc:
            raise ValidationError(exc.as_dict()) from exc
        return Response(TermsImportReportSerializer(report).data)
