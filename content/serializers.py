"""What the posts and media API reads and writes. Rules live in the services; these only shape data."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from approvals.models import Decision, ReviewStep
from approvals.serializers import HitSerializer
from matrix.policies import accounts_visible_to, brands_visible_to

from .models import Media, Post, Revision
from .policies import campaigns_visible_to
from .services import BODY_MAX_LENGTH

# A bound on one request's fan-out: each account gets its own post, screened and audited.
ACCOUNTS_MAX = 500


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its offset: a naive time would be read in the server's zone,
    silently, and a post would go out hours early or late."""

    default_error_messages = {
        "naive": _("Give the time with its offset, e.g. 2026-05-01T09:30:00+08:00 or …Z."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class RevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Revision
        fields = ["number", "sha256", "created_at"]
        extra_kwargs = {"sha256": {"help_text": _("Fingerprint of the text and media; approvals are bound to it.")}}


class PostScreeningSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    hits = HitSerializer(many=True)


class ReviewStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewStep
        fields = ["name", "kind", "status", "decided_by", "decided_at", "comment", "revision_sha256", "due_at"]
        extra_kwargs = {
            "decided_by": {"help_text": _("Id of the person who decided the step.")},
            "revision_sha256": {"help_text": _("The revision the decision was made on (empty while undecided).")},
        }


class PostSerializer(serializers.ModelSerializer):
    """A post as the API answers it. Expects the post from `PostViewSet.get_queryset()`, which
    brings its media ids and its latest review's steps along (no query per post)."""

    media = serializers.SerializerMethodField(help_text=_("Ids of the attached media, in order."))
    revision = RevisionSerializer(read_only=True, allow_null=True,
                                  help_text=_("The revision last submitted (null for a draft never submitted)."))
    screening = serializers.SerializerMethodField(help_text=_("Screening of the current revision."))
    steps = serializers.SerializerMethodField(help_text=_("Steps of the review in progress, else of the last one."))

    class Meta:
        model = Post
        fields = [
            "id", "account", "body", "scheduled_at", "campaign", "media", "status", "revision", "screening", "steps",
            "external_id", "url", "attempts", "last_error", "author", "submitted_at", "approved_at", "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_media(self, post) -> list[int]:
        return [attachment.media_id for attachment in post.attachments.all()]

    @staticmethod
    def _screening(post):
        if post.revision is None or not post.revision.screening:
            return None
        return {"decision": post.revision.screening.get("decision"), "hits": post.revision.screening.get("hits", [])}

    @extend_schema_field(PostScreeningSerializer(allow_null=True))
    def get_screening(self, post):
        screening = self._screening(post)
        return None if screening is None else PostScreeningSerializer(screening).data

    @extend_schema_field(ReviewStepSerializer(many=True))
    def get_steps(self, post):
        reviews = getattr(post, "latest_reviews", None)
        if reviews is None:  # not from PostViewSet.get_queryset(): read it
            reviews = post.reviews.order_by("-started_at", "-id")[:1]
        if not reviews:
            return []
        return ReviewStepSerializer(reviews[0].steps.all(), many=True).data


def _ids_in_order(ids, queryset, field, message):
    """The objects of `queryset` with these ids, in the order given; one query for all of them."""
    if len(set(ids)) != len(ids):
        raise serializers.ValidationError({field: [_("Each id may appear only once.")]})
    found = queryset.in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise serializers.ValidationError({field: [message % {"ids": ", ".join(map(str, missing))}]})
    return [found[pk] for pk in ids]


class PostWriteSerializer(serializers.Serializer):
    """What a client sends to create (one post, or one per account) or change a post.

    Objects the caller cannot see read as unknown ids (400); an account they can see but may not
    write for is refused by the service (403)."""

    account = serializers.IntegerField(required=False, help_text=_("The account to post on."))
    accounts = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_empty=False, max_length=ACCOUNTS_MAX,
        help_text=_("Instead of `account`: create one post per account, all or none; the answer is then a list."),
    )
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=BODY_MAX_LENGTH)
    scheduled_at = OffsetDateTimeField(required=False, allow_null=True,
                                       help_text=_("When to publish, with its offset; null: as soon as approved."))
    campaign = serializers.IntegerField(required=False, allow_null=True)
    media = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=100,
                                  help_text=_("Ids of uploaded media (POST /api/v1/media/), in order."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["accounts"].read_only = True

    @property
    def _user(self):
        return self.context["request"].user

    def validate_account(self, value):
        if self.instance is not None:
            if value != self.instance.account_id:
                raise serializers.ValidationError(_("A post stays on its account; create a new post for another."))
            return self.instance.account
        account = accounts_visible_to(self._user).select_related("platform", "brand").filter(pk=value).first()
        if account is None:
            raise serializers.ValidationError(_("No account with id %(id)s.") % {"id": value})
        return account

    def validate_accounts(self, value):
        return _ids_in_order(value, accounts_visible_to(self._user).select_related("platform", "brand"), "accounts",
                             _("No account with id %(ids)s."))

    def validate_campaign(self, value):
        if value is None:
            return None
        campaign = campaigns_visible_to(self._user).filter(pk=value).first()
        if campaign is None:
            raise serializers.ValidationError(_("No campaign with id %(id)s.") % {"id": value})
        return campaign

    def validate_media(self, value):
        visible = Media.objects.filter(brand__in=brands_visible_to(self._user))
        return _ids_in_order(value, visible, "media", _("No media with id %(ids)s."))

    def validate(self, attrs):
        if self.instance is None:
            if "account" in attrs and "accounts" in attrs:
                raise serializers.ValidationError({"accounts": [_("Give either account or accounts, not both.")]})
            if "account" not in attrs and "accounts" not in attrs:
                raise serializers.ValidationError({"account": [_("This field is required.")]})
        return attrs


class PostDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    revision = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, allow_blank=True,
        help_text=_("The sha256 of the revision you reviewed; if the post changed since, the decision is refused "
                    "(400 naming `revision`)."),
    )


class PostRequestChangesSerializer(PostDecisionSerializer):
    comment = serializers.CharField(max_length=5000, help_text=_("What needs to change."))


class PostCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class PostConfirmPublishedSerializer(serializers.Serializer):
    # What makes a good URL is the service's rule (the page asks it too); here only its presence.
    url = serializers.CharField(help_text=_("The live URL of the post, http(s), at most 500 characters."),
                                trim_whitespace=True)


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("An image (JPEG, PNG, GIF, WebP) or a video (MP4, MOV); "
                                             "recognised by its content, not its name."))
    brand = serializers.IntegerField(help_text=_("The brand whose posts may use it."))

    def validate_brand(self, value):
        brand = brands_visible_to(self.context["request"].user).filter(pk=value).first()
        if brand is None:
            raise serializers.ValidationError(_("No brand with id %(id)s.") % {"id": value})
        return brand


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.FileField(source="file", read_only=True, use_url=True)
    name = serializers.CharField(source="original_name", read_only=True)

    class Meta:
        model = Media
        fields = ["id", "brand", "kind", "content_type", "name", "size", "width", "height", "duration_seconds",
                  "sha256", "url", "created_at"]
        read_only_fields = fields
