from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """An append-only record of one change. Each row carries the sha256 of its content and of the
    row before it, so an edited or deleted event breaks the chain (see `verify_audit`)."""

    created_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class Severity(models.TextChoices):
    BLOCK = "block", _("Block")
    REVIEW = "review", _("Review")
    WARN = "warn", _("Warn")


class Decision(models.TextChoices):
    PASS = "pass", _("Pass")
    REVIEW = "review", _("Review")
    BLOCK = "block", _("Block")


category_validator = RegexValidator(
    r"^[a-z][a-z0-9_-]*\Z",
    _("Use a slug: lower-case letters, digits, “_” or “-”, starting with a letter (e.g. confidential, competitor)."),
)


class Lexicon(models.Model):
    """A company word list screened on top of the built-in packs: code names, competitors, custom
    categories. A lexicon without a brand applies to every brand."""

    brand = models.ForeignKey(
        "matrix.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="lexicons",
        verbose_name=_("brand"), help_text=_("Empty: the lexicon applies to every brand."),
    )
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(
        _("category"), max_length=40, validators=[category_validator],
        help_text=_("confidential, competitor, or a category of your own (a slug)."),
    )
    severity = models.CharField(
        _("default severity"), max_length=10, choices=Severity.choices, default=Severity.BLOCK
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("lexicon")
        verbose_name_plural = _("lexicons")
        constraints = [
            # Two constraints because NULL brands are never equal to each other in a plain one.
            models.UniqueConstraint(
                Lower("name"), "brand", condition=Q(brand__isnull=False), name="lexicon_name_unique_per_brand",
                violation_error_message=_("This brand already has a lexicon with this name."),
            ),
            models.UniqueConstraint(
                Lower("name"), condition=Q(brand__isnull=True), name="lexicon_name_unique_company_wide",
                violation_error_message=_("A company-wide lexicon with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("approvals:lexicon_detail", args=[self.pk])


class LexiconTerm(models.Model):
    """One term of a lexicon. An allow-list term cancels any hit it fully covers (of any lexicon or
    built-in pack), e.g. “第一次” cancels “第一”."""

    lexicon = models.ForeignKey(Lexicon, on_delete=models.CASCADE, related_name="terms", verbose_name=_("lexicon"))
    term = models.CharField(_("term"), max_length=200)
    # The term as the matcher sees it (case, width, traditional characters and separators folded):
    # two spellings that match the same texts are one term.
    normalized = models.CharField(_("normalized term"), max_length=400, editable=False)
    allow = models.BooleanField(_("allow-list"), default=False)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, blank=True,
        help_text=_("Empty: the lexicon's default severity."),
    )
    note = models.CharField(
        _("explanation or suggested rewrite"), max_length=300, blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["term", "id"]
        verbose_name = _("lexicon term")
        verbose_name_plural = _("lexicon terms")
        constraints = [
            models.UniqueConstraint(
                fields=["lexicon", "normalized"], name="lexicon_term_unique",
                violation_error_message=_("This term is already in the lexicon."),
            ),
        ]

    def __str__(self):
        return self.term

    @property
    def effective_severity(self):
        return self.severity or self.lexicon.severity


class PolicyVersion(models.Model):
    """One row: a counter bumped, in the same transaction, by every change to a lexicon or a term.
    Each web and worker process compares it with the version its compiled policy was built from
    (see `approvals.engine`)."""

    version = models.PositiveBigIntegerField(_("version"), default=0)
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy version")

    def __str__(self):
        return str(self.version)


class Screening(models.Model):
    """The record of one screening: the text as sent, the decision and the hits, and the policy
    version that produced them. A screening of a post is bound to the revision it screened through
    `subject` (a revision of the content app); screenings from the API, the "Try it" page or the
    command have none."""

    class Source(models.TextChoices):
        API = "api", _("API")
        TRY_IT = "try_it", _("Try it")
        COMMAND = "command", _("Command")
        POST = "post", _("Post")

    text = models.TextField(_("text"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    hits = models.JSONField(_("hits"), default=list, blank=True)
    policy_version = models.PositiveBigIntegerField(_("policy version"))
    # The sha256 of everything the policy held (built-in packs included): equal fingerprints give
    # equal results.
    policy_fingerprint = models.CharField(_("policy fingerprint"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("screened by"),
    )
    brand = models.ForeignKey(
        "matrix.Brand", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("brand"), help_text=_("Whose lexicons were applied."),
    )
    account = models.ForeignKey(
        "matrix.SocialAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("account"),
    )
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("subject type"),
    )
    subject_id = models.PositiveBigIntegerField(_("subject id"), null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="screening_subject_idx"),
            models.Index(fields=["brand", "-created_at"], name="screening_brand_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_type__isnull=True, subject_id__isnull=True)
                | Q(subject_type__isnull=False, subject_id__isnull=False),
                name="screening_subject_complete",
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} · {self.text[:40]}"


# --- review workflows ---------------------------------------------------------------------
#
# Modelled on Wagtail's workflows: a Workflow is an ordered list of WorkflowSteps (data, editable in
# the admin); a Review is one run of a workflow over one revision of a post; a ReviewStep is one
# step of that run. The steps are copied into the review when it starts, so editing a workflow in
# the admin never changes a review already under way.


class StepKind(models.TextChoices):
    ROLE = "role", _("Everyone with a role")
    GROUP = "group", _("A group of reviewers")
    OWNER = "owner", _("The account owner")


class StepCondition(models.TextChoices):
    ALWAYS = "always", _("Always")
    REVIEW = "review", _("Only when screening says review")


class Workflow(models.Model):
    """The review a post goes through, chosen by the account's tier (and brand, when a brand has
    its own). A workflow without a brand is the default for every brand."""

    name = models.CharField(_("name"), max_length=120)
    brand = models.ForeignKey(
        "matrix.Brand", on_delete=models.CASCADE, null=True, blank=True, related_name="workflows",
        verbose_name=_("brand"), help_text=_("Leave empty for the default of every brand."),
    )
    tier = models.CharField(_("tier"), max_length=20, choices=[
        ("brand", _("Brand")), ("self_operated", _("Self-operated")), ("dealer", _("Dealer")),
        ("executive", _("Executive")), ("employee", _("Employee")),
    ])
    skip_unchanged_template = models.BooleanField(
        _("skip unchanged campaign templates"), default=False,
        help_text=_("A post that is its campaign's template, unchanged, with no screening hits is approved "
                    "without a human step."),
    )
    sla_hours = models.DecimalField(
        _("SLA (working hours)"), max_digits=5, decimal_places=2, default=4,
        help_text=_("A step waiting longer reminds its reviewers; twice as long escalates it to the backup group."),
    )
    backup_group = models.ForeignKey(
        "auth.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("backup group"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tier", "brand_id", "name"]
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        constraints = [
            # Two constraints rather than one with NULLS NOT DISTINCT, which SQLite lacks: one active
            # workflow per tier for each brand, and one default (brand-less) per tier.
            models.UniqueConstraint(
                fields=["brand", "tier"], condition=Q(is_active=True, brand__isnull=False),
                name="one_active_workflow_per_brand_tier",
                violation_error_message=_("This brand already has an active workflow for this tier."),
            ),
            models.UniqueConstraint(
                fields=["tier"], condition=Q(is_active=True, brand__isnull=True), name="one_active_default_workflow_per_tier",
                violation_error_message=_("There already is an active default workflow for this tier."),
            ),
            models.CheckConstraint(condition=Q(sla_hours__gt=0), name="workflow_sla_positive"),
        ]

    def __str__(self):
        return self.name


class WorkflowStep(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps", verbose_name=_("workflow"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("who decides"), max_length=10, choices=StepKind.choices)
    role = models.CharField(_("role"), max_length=20, blank=True, help_text=_("For “everyone with a role”."))
    group = models.ForeignKey(
        "auth.Group", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("group"),
    )
    condition = models.CharField(_("when"), max_length=10, choices=StepCondition.choices, default=StepCondition.ALWAYS)
    categories = models.JSONField(
        _("only for categories"), default=list, blank=True,
        help_text=_("When set, the step runs only for posts with a hit in one of these categories."),
    )

    class Meta:
        ordering = ["workflow_id", "position", "id"]
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="role") & ~Q(role="")) | (Q(kind="group") & Q(group__isnull=False)) | Q(kind="owner"),
                name="workflow_step_names_who", violation_error_code="kind",
                violation_error_message=_("A role step names a role and a group step names a group."),
            ),
        ]

    def __str__(self):
        return self.name


class ReviewStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    CANCELLED = "cancelled", _("Cancelled")


class Review(models.Model):
    """One run of a workflow over one revision of a post. At most one is in progress per post."""

    post = models.ForeignKey("content.Post", on_delete=models.CASCADE, related_name="reviews", verbose_name=_("post"))
    revision = models.ForeignKey("content.Revision", on_delete=models.PROTECT, related_name="reviews",
                                 verbose_name=_("revision"))
    workflow = models.ForeignKey(Workflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("workflow"))
    status = models.CharField(_("status"), max_length=20, choices=ReviewStatus.choices,
                              default=ReviewStatus.IN_PROGRESS)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=Q(status="in_progress"), name="one_active_review_per_post",
                violation_error_message=_("This post is already in review."),
            ),
        ]

    def __str__(self):
        return f"review {self.pk} of post {self.post_id}"


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class ReviewStep(models.Model):
    """One step of a review, copied from its WorkflowStep when the review started. A decision is
    bound to the sha256 of the revision it was made on."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="steps", verbose_name=_("review"))
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("who decides"), max_length=10, choices=StepKind.choices)
    role = models.CharField(_("role"), max_length=20, blank=True)
    group = models.ForeignKey("auth.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("group"))
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.WAITING)
    # Denormalised from the review so the queue ("what waits for me") is one indexed scan.
    post = models.ForeignKey("content.Post", on_delete=models.CASCADE, related_name="+", verbose_name=_("post"))
    brand = models.ForeignKey("matrix.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    backup_group = models.ForeignKey("auth.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     verbose_name=_("backup group"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    revision_sha256 = models.CharField(_("revision sha256"), max_length=64, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["review_id", "position"]
        verbose_name = _("review step")
        verbose_name_plural = _("review steps")
        indexes = [
            models.Index(fields=["brand", "role", "started_at"], name="reviewstep_queue_idx",
                         condition=Q(status="in_progress")),
            models.Index(fields=["status", "due_at"], name="reviewstep_sla_idx", condition=Q(status="in_progress")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["review"], condition=Q(status="in_progress"), name="one_step_in_progress_per_review",
            ),
        ]

    def __str__(self):
        return self.name
