import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Media(models.Model):
    """An uploaded image or video. Its sha256 is part of every revision that uses it."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")

    brand = models.ForeignKey("matrix.Brand", on_delete=models.PROTECT, related_name="media", verbose_name=_("brand"))
    file = models.FileField(_("file"), upload_to="media/%Y/%m/")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("media")
        verbose_name_plural = _("media")

    def __str__(self):
        return self.original_name or self.file.name


class Campaign(models.Model):
    """A brief with a suggested text pushed to many accounts, each getting its own post.

    The template's fields (`{dealer_name}`, `{city}`) are filled per account; its claims are locked:
    a post that is the unchanged filled template with no screening hits skips the human step."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUSHED = "pushed", _("Pushed")
        CLOSED = "closed", _("Closed")

    brand = models.ForeignKey("matrix.Brand", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=160)
    brief = models.TextField(_("brief"), blank=True)
    template_body = models.TextField(_("suggested text"), blank=True)
    media = models.ManyToManyField(Media, blank=True, related_name="campaigns", verbose_name=_("media"))
    target = models.JSONField(_("target accounts"), default=dict, blank=True)
    window_start = models.DateTimeField(_("window opens"), null=True, blank=True)
    window_end = models.DateTimeField(_("window closes"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__isnull=True) | Q(window_end__isnull=True) | Q(window_end__gt=models.F("window_start")),
                name="campaign_window_ordered",
                violation_error_message=_("The campaign window must close after it opens."),
            ),
        ]

    def __str__(self):
        return self.name


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    BLOCKED = "blocked", _("Blocked")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    CANCELLED = "cancelled", _("Cancelled")


class Post(models.Model):
    """One post for one account. Its content is frozen into a Revision at each submission."""

    account = models.ForeignKey("matrix.SocialAccount", on_delete=models.PROTECT, related_name="posts",
                                verbose_name=_("account"))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="posts",
                                 verbose_name=_("campaign"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_posts",
                               verbose_name=_("author"))
    body = models.TextField(_("text"), blank=True)
    media = models.ManyToManyField(Media, blank=True, through="PostMedia", related_name="posts",
                                   verbose_name=_("media"))
    # The campaign template as filled for this account when it was pushed; a post whose body is
    # still exactly this (and has no hits) is an "unchanged campaign template".
    template_body = models.TextField(blank=True)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT,
                              db_index=True)
    revision = models.ForeignKey("Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("current revision"))
    approved_revision = models.ForeignKey("Revision", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("approved revision"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    # Publishing outcome (the publishers fill these in).
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    url = models.URLField(_("live URL"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # The last reminder to post it by hand (assisted publisher); claimed with a conditional update.
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    # Publishing (content/dispatch.py). A claim sets `publishing` with a lease; the publish task
    # moves it to sending (sending_started_at) with a conditional update on the token, so a
    # redelivered task or a second dispatcher finds "0 rows" and stops.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    sending_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over to be posted by hand"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="post_status_time_idx"),
            # The sweeper's look for leases that expired.
            models.Index(fields=["lease_expires_at"], name="post_publishing_lease_idx", condition=Q(status="publishing")),
            # The calendar walks a range of times in (scheduled_at, id) order (content/calendar.py), and
            # counts a month of a big matrix from this index alone (an index-only scan: 15 ms instead
            # of 25-55 ms for 50,000 posts, reading no table page).
            models.Index(fields=["scheduled_at", "id"], name="post_calendar_idx", condition=Q(scheduled_at__isnull=False),
                         include=["account_id", "author_id", "status", "campaign_id"]),
            # A slice of the calendar (one person's accounts, a dealer's, one tier on one platform):
            # the range of each of the slice's accounts, rather than the whole month filtered.
            models.Index(fields=["account", "scheduled_at"], name="post_account_time_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.body[:40]}"


class PublishAttempt(models.Model):
    """One try at sending a post to its platform, whatever came of it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="publish_attempts")
    number = models.PositiveIntegerField(_("attempt"))
    revision = models.ForeignKey("Revision", on_delete=models.PROTECT, related_name="+")
    publisher = models.CharField(_("publisher"), max_length=20)
    idempotency_key = models.CharField(max_length=100)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["post_id", "number"]
        verbose_name = _("publish attempt")
        verbose_name_plural = _("publish attempts")
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="publish_attempt_number_unique")]

    def __str__(self):
        return f"post {self.post_id} attempt {self.number}: {self.outcome or 'running'}"


class PostMedia(models.Model):
    """A media file attached to a post, in the order the author chose."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["post_id", "position"]
        constraints = [models.UniqueConstraint(fields=["post", "media"], name="post_media_once")]

    def __str__(self):
        return f"post {self.post_id} media {self.media_id}"


def content_sha256(body, media_hashes):
    """The fingerprint an approval is bound to: the text and the media, in order."""
    payload = json.dumps({"body": body, "media": list(media_hashes)}, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class Revision(models.Model):
    """An immutable snapshot of a post's content at one submission."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    media = models.JSONField(default=list)  # [{"id", "sha256", "name", "kind"}] in order
    sha256 = models.CharField(max_length=64)
    screening = models.JSONField(default=dict)  # {"decision", "hits", "policy_version"}
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post_id", "number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="revision_number_unique_per_post")]

    def __str__(self):
        return f"post {self.post_id} r{self.number}"


class Notification(models.Model):
    """A message for one person, shown in the app and (for most kinds) sent by email."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for your review")
        APPROVED = "approved", _("Approved")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        BLOCKED = "blocked", _("Blocked by screening")
        REMINDER = "reminder", _("Review overdue")
        ESCALATED = "escalated", _("Review escalated")
        CAMPAIGN = "campaign", _("Campaign draft to adapt")
        PUBLISH_BY_HAND = "publish_by_hand", _("Post it yourself")
        PUBLISH_REMINDER = "publish_reminder", _("Still to post yourself")
        PUBLISH_OVERDUE = "publish_overdue", _("Overdue: not posted")
        PUBLISHED = "published", _("Published")
        PUBLISH_FAILED = "publish_failed", _("Publishing failed")
        PAUSE = "pause", _("Publishing paused")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self):
        return self.message[:60]


class PauseScope(models.TextChoices):
    BRAND = "brand", _("Whole brand")
    TIER = "tier", _("Tier")
    PLATFORM = "platform", _("Platform")
    REGION = "region", _("Dealer region")
    ACCOUNT = "account", _("One account")


class Pause(models.Model):
    """Crisis mode: nothing is published, for as long as it is active, on the accounts of one brand
    that its scope covers. `value` names what the scope selects — a tier slug, a platform slug, a
    dealer region or an account id as text — and is empty for a brand-wide pause.

    A pause is active from `starts_at` until it is lifted or `until` passes; a pause whose `until`
    passed is simply inactive (nobody has to end it for publishing to resume)."""

    brand = models.ForeignKey("matrix.Brand", on_delete=models.PROTECT, related_name="pauses", verbose_name=_("brand"))
    scope = models.CharField(_("scope"), max_length=10, choices=PauseScope.choices)
    value = models.CharField(_("value"), max_length=120, blank=True)
    reason = models.TextField(_("reason"))
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    until = models.DateTimeField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("paused by"))
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("lifted by"))
    lift_reason = models.TextField(_("reason for lifting"), blank=True)
    # When the end at `until` was written to the audit log (claimed by `pauses_expire`, once).
    expired_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        indexes = [
            # "The active pauses of a brand": the dispatcher asks for every post it claims.
            models.Index(fields=["brand", "scope", "value"], condition=Q(lifted_at__isnull=True),
                         name="pause_unlifted_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="brand") & Q(value="")) | (~Q(scope="brand") & ~Q(value="")),
                name="pause_value_matches_scope",
                violation_error_message=_("A brand-wide pause names nothing else; any other scope needs a value."),
                violation_error_code="value",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=models.F("starts_at")),
                name="pause_ends_after_it_starts",
                violation_error_message=_("A pause must end after it starts."),
                violation_error_code="until",
            ),
        ]

    def __str__(self):
        return f"{self.brand_id}:{self.scope}:{self.value}" if self.value else f"{self.brand_id}:{self.scope}"

    def is_active(self, now=None):
        now = now or timezone.now()
        return self.lifted_at is None and self.starts_at <= now and (self.until is None or self.until > now)

    @property
    def active(self):
        return self.is_active()

    def covers(self, account):
        """Whether this pause's scope takes in `account` (active or not); the same rule as the
        selectors' SQL, for an account already in memory."""
        if account.brand_id != self.brand_id:
            return False
        if self.scope == PauseScope.BRAND:
            return True
        if self.scope == PauseScope.TIER:
            return account.tier == self.value
        if self.scope == PauseScope.PLATFORM:
            return account.platform.slug == self.value
        if self.scope == PauseScope.REGION:
            return account.dealer_id is not None and account.dealer.region == self.value
        return str(account.pk) == self.value

    @property
    def subject(self):
        """What the pause holds, in words. Uses the names `content.pauses.with_labels` brings along
        with the pause, falling back to the raw value."""
        from django.utils.translation import get_language

        from matrix.models import Tier

        if self.scope == PauseScope.BRAND:
            return self.brand.name
        if self.scope == PauseScope.TIER:
            return str(Tier(self.value).label) if self.value in Tier.values else self.value
        if self.scope == PauseScope.PLATFORM:
            name_zh = getattr(self, "platform_name_zh", "")
            if name_zh and (get_language() or "").lower().startswith("zh"):
                return name_zh
            return getattr(self, "platform_name", None) or self.value
        if self.scope == PauseScope.ACCOUNT:
            handle = getattr(self, "account_handle", None)
            return f"@{handle}" if handle else f"#{self.value}"
        return self.value


class BlockedDay(models.Model):
    """A day on which nothing may go out on the accounts its owner owns (their executive or employee
    accounts). The day is a date in the owner's own time zone (`User.timezone`): blocking 8 March
    blocks from midnight to midnight where that person lives, whoever looks at the calendar."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_days",
                              verbose_name=_("owner"))
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("blocked by"))

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("blocked day")
        verbose_name_plural = _("blocked days")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "date"], name="blocked_day_once_per_owner",
                violation_error_message=_("This day is already blocked."),
                violation_error_code="date",
            ),
        ]

    def __str__(self):
        return f"{self.owner_id}:{self.date.isoformat()}"


class CalendarFeed(models.Model):
    """A private ICS feed URL (`/calendar/<token>.ics`): whoever holds the token reads the calendar
    of the user's own accounts, with no login, so the token is the secret. Rotating revokes the old
    row and creates a new one; a revoked token is kept (and answers 404) so the history is auditable.
    The feed is written in `language`, the one its owner last read the link in (a calendar program's
    request says nothing about them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds",
                             verbose_name=_("user"))
    token = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(revoked_at__isnull=True),
                                    name="one_live_calendar_feed_per_user"),
        ]

    def __str__(self):
        return f"feed of {self.user_id}"
