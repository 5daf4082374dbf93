"""The posts API: compose, change and submit posts, decide their review, cancel them; upload media.

Every route calls the same service as the pages (`content.services`), so the browser and the API
cannot disagree. A post outside `posts_visible_to` is not found (404); a visible post the caller may
not change answers 403, and so does a review step that is not theirs to decide (or their own post).
Transitions refused by the post's status, and content the rules refuse, answer 400 naming the field.
"""

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from approvals.models import Review, ReviewStep
from config.errors import DomainError, PermissionDeniedError

from . import services
from .calendar_api import PostRescheduleSerializer, RescheduleRefusalSerializer, reschedule_refusal
from .filters import PostFilter
from .models import PostMedia
from .policies import post_user_can, posts_visible_to
from .serializers import (
    MediaSerializer,
    MediaUploadSerializer,
    PostCancelSerializer,
    PostConfirmPublishedSerializer,
    PostDecisionSerializer,
    PostRequestChangesSerializer,
    PostSerializer,
    PostWriteSerializer,
)

REFUSED = OpenApiResponse(description="`{field: [message]}`: bad input, or a transition the post's status refuses")


class PostPolicy(permissions.BasePermission):
    """Asks `content.policies.post_user_can` for the actions on a post it decides. Deciding a
    review step is the workflow's call (inside the service): who may depends on the step."""

    message = gettext_lazy("You are not allowed to do this to this post.")
    object_actions = {"partial_update": "change", "submit": "change", "cancel": "cancel",
                      "confirm_published": "confirm_published", "reschedule": "change"}

    def has_object_permission(self, request, view, obj):
        # Seeing the post was already decided by the queryset (404 otherwise).
        policy_action = self.object_actions.get(view.action)
        return policy_action is None or post_user_can(request.user, policy_action, obj)


@extend_schema_view(
    list=extend_schema(summary="Posts the caller can see, newest first"),
    retrieve=extend_schema(summary="A post with its current revision, screening and review steps"),
    create=extend_schema(
        summary="Create a draft (or one draft per account)",
        description="Give `account` for one post (the answer is the post), or `accounts` for one post per "
                    "account, all or none (the answer is the list of posts, in the order of `accounts`). "
                    "An account you cannot see is an unknown id (400); one you can see but may not write "
                    "for answers 403.",
        request=PostWriteSerializer,
        responses={
            201: PolymorphicProxySerializer(
                component_name="PostOrPosts", serializers=[PostSerializer, PostSerializer(many=True)],
                resource_type_field_name=None, many=False,
            ),
            400: REFUSED,
        },
    ),
    partial_update=extend_schema(
        summary="Change a post's text, media, time or campaign",
        description="Changing the text or media of a post in review or scheduled sends it back to review on a "
                    "new revision; a save that changes nothing, or a new time alone, keeps the approval.",
        request=PostWriteSerializer, responses={200: PostSerializer, 400: REFUSED},
    ),
)
class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PostSerializer
    permission_classes = [permissions.IsAuthenticated, PostPolicy]
    filterset_class = PostFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # Constant queries whatever the page size: the revision joined; media ids, the latest review
        # of each post and that review's steps in one query each.
        latest = Review.objects.filter(post_id=OuterRef("post_id")).order_by("-started_at", "-id").values("pk")[:1]
        return (
            posts_visible_to(self.request.user)
            .select_related("revision")
            .defer("revision__body", "revision__media")
            .prefetch_related(
                Prefetch("attachments", queryset=PostMedia.objects.only("id", "post_id", "media_id", "position")),
                Prefetch(
                    "reviews",
                    queryset=Review.objects.filter(pk=Subquery(latest)).prefetch_related(
                        Prefetch("steps", queryset=ReviewStep.objects.order_by("position", "id"))
                    ),
                    to_attr="latest_reviews",
                ),
            )
            .order_by("-created_at", "-id")
        )

    def _answer(self, post, status_code=status.HTTP_200_OK):
        """The post as it is now, read the way the list reads it."""
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data, status=status_code)

    def _write_serializer(self, instance=None):
        serializer = PostWriteSerializer(instance, data=self.request.data, partial=instance is not None,
                                         context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request):
        data = self._write_serializer()
        fields = {"body": data.get("body", ""), "media": data.get("media", []),
                  "scheduled_at": data.get("scheduled_at"), "campaign": data.get("campaign")}
        if "accounts" in data:
            posts = services.post_create_many(actor=request.user, accounts=data["accounts"], **fields)
            by_pk = self.get_queryset().in_bulk([post.pk for post in posts])
            return Response(PostSerializer([by_pk[post.pk] for post in posts], many=True).data,
                            status=status.HTTP_201_CREATED)
        post = services.post_create(actor=request.user, account=data["account"], **fields)
        return self._answer(post, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        post = self.get_object()
        data = self._write_serializer(post)
        changes = {name: data[name] for name in ("body", "media", "scheduled_at", "campaign") if name in data}
        post = services.post_update(actor=request.user, post=post, **changes)
        return self._answer(post)

    @extend_schema(request=None, responses={200: PostSerializer, 400: REFUSED},
                   summary="Submit: freeze a revision, screen it, route it",
                   description="The answer's `status` is `in_review` (waiting for its first step), `scheduled` "
                               "(no human step needed) or `blocked` (screening blocked it: edit and submit again).")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        post = services.post_submit(actor=request.user, post=self.get_object())
        return self._answer(post)

    @extend_schema(request=PostDecisionSerializer, responses={200: PostSerializer, 400: REFUSED},
                   summary="Approve the current review step",
                   description="Nobody approves their own post (403). Give `revision` (the sha256 you reviewed) "
                               "so that a post changed since is refused (400 naming `revision`).")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = self._decision(PostDecisionSerializer)
        post = services.post_approve(actor=request.user, post=self.get_object(), comment=data["comment"],
                                     revision_sha256=data.get("revision") or None)
        return self._answer(post)

    @extend_schema(request=PostRequestChangesSerializer, responses={200: PostSerializer, 400: REFUSED},
                   summary="Send the post back to its author with a comment")
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        data = self._decision(PostRequestChangesSerializer)
        post = services.post_request_changes(actor=request.user, post=self.get_object(), comment=data["comment"],
                                             revision_sha256=data.get("revision") or None)
        return self._answer(post)

    @extend_schema(request=PostCancelSerializer, responses={200: PostSerializer, 400: REFUSED},
                   summary="Withdraw a post before it starts publishing")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._decision(PostCancelSerializer)
        post = services.post_cancel(actor=request.user, post=self.get_object(), reason=data["reason"])
        return self._answer(post)

    @extend_schema(request=PostConfirmPublishedSerializer, responses={200: PostSerializer, 400: REFUSED},
                   summary="Confirm that a post published by hand is live",
                   description="For accounts whose publisher is `assisted`: the owner (or an operator, a marketer "
                               "of the brand, an admin) posted the approved text themselves and gives its live "
                               "`url`. The post becomes `published`. Refused (400) for a post that is not waiting "
                               "for a confirmation, and for a bad `url`.")
    @action(detail=True, methods=["post"], url_path="confirm-published")
    def confirm_published(self, request, pk=None):
        data = self._decision(PostConfirmPublishedSerializer)
        post = services.post_confirm_published(actor=request.user, post=self.get_object(), url=data["url"])
        return self._answer(post)

    @extend_schema(request=None, responses={200: PostSerializer, 400: REFUSED, 403: REFUSED},
                   summary="Send a failed post again",
                   description="A `failed` or `needs_review` post goes back to `scheduled`, due now, with its approved "
                               "revision unchanged. Marketers of the brand and admins only.")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        post = services.post_retry(actor=request.user, post=self.get_object())
        return self._answer(post)

    @extend_schema(
        request=PostRescheduleSerializer,
        responses={200: PostSerializer, 400: RescheduleRefusalSerializer, 403: REFUSED, 409: RescheduleRefusalSerializer},
        summary="Move a post to another time; its content and approval stay",
        description="Send `local` (a wall-clock time, e.g. `2026-03-08T09:30`) with its `timezone`, or `scheduled_at` "
                    "with its offset. Only the time changes: an approved post stays approved. A refusal answers "
                    "`{\"scheduled_at\": [message], \"code\"}` with code `nonexistent_time` or `ambiguous_time` "
                    "(a DST gap or overlap in `timezone`, or the repeated hour of the account's own zone), `past`, "
                    "`blocked_day` (the account's owner blocked that day), `paused`, `campaign_window` or "
                    "`rate_limit` (400), or `not_reschedulable` (409: the post is publishing, published, failed "
                    "or cancelled).",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        post = self.get_object()
        data = self._decision(PostRescheduleSerializer)
        try:
            post = services.post_reschedule(actor=request.user, post=post, **data)
        except PermissionDeniedError:
            raise
        except DomainError as exc:
            return reschedule_refusal(exc)
        return self._answer(post)

    def _decision(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class MediaViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Upload an image or a video for a brand's posts. The file is recognised by its content, not its
    name: a text file called `.png` is refused (400 naming `file`)."""

    serializer_class = MediaSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": MediaUploadSerializer},
                   responses={201: MediaSerializer, 400: OpenApiResponse(description="`{\"file\": [message]}`")},
                   summary="Upload an image or a video")
    def create(self, request):
        upload = MediaUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        media = services.media_upload(actor=request.user, brand=upload.validated_data["brand"],
                                      file=upload.validated_data["file"])
        return Response(self.get_serializer(media).data, status=status.HTTP_201_CREATED)
