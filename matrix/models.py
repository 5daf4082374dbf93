from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .timezones import validate_timezone


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self):
        return self.name


class Dealer(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="dealers", verbose_name=_("brand"))
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=160)
    region = models.CharField(_("region"), max_length=80, db_index=True)
    city = models.CharField(_("city"), max_length=80, blank=True)

    class Meta:
        ordering = ["region", "code"]
        verbose_name = _("dealer")
        verbose_name_plural = _("dealers")
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "code"], name="dealer_code_unique_per_brand",
                violation_error_message=_("This brand already has a dealer with this code."),
                violation_error_code="code",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Department(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="departments", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "name"], name="department_name_unique_per_brand",
                violation_error_message=_("This brand already has a department with this name."),
                violation_error_code="name",
            ),
        ]

    def __str__(self):
        return self.name


class Platform(models.Model):
    """A registry entry: what the platform is called, its limits and how posts reach it."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    text_limit = models.PositiveIntegerField(_("text limit (characters)"))
    media_rules = models.JSONField(_("media rules"), default=dict, blank=True)
    has_open_api = models.BooleanField(_("open publishing API"), default=False)
    # Rate limits (content/ratelimits.py), checked when a post is scheduled and again at dispatch.
    account_posts_per_hour = models.PositiveIntegerField(
        _("posts an hour per account"), null=True, blank=True,
        help_text=_("At most this many posts an hour on one account of this platform; empty for no limit."),
    )
    posts_per_hour = models.PositiveIntegerField(
        _("posts an hour on the platform"), null=True, blank=True,
        help_text=_("At most this many posts an hour across all accounts on this platform (an API quota)."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")

    def __str__(self):
        return self.name

    @property
    def local_name(self):
        """The platform's name in the language of the page (微博 to a Chinese reader)."""
        from django.utils.translation import get_language

        if self.name_zh and (get_language() or "").lower().startswith("zh"):
            return self.name_zh
        return self.name


class Tier(models.TextChoices):
    BRAND = "brand", _("Brand")
    SELF_OPERATED = "self_operated", _("Self-operated")
    DEALER = "dealer", _("Dealer / store")
    EXECUTIVE = "executive", _("Executive")
    EMPLOYEE = "employee", _("Employee")


PERSONAL_TIERS = (Tier.EXECUTIVE, Tier.EMPLOYEE)


# Each tier's place in the matrix, 1 + X + N + K: brand 0, self-operated 1, dealer 2, executive 3,
# employee 4 (the order of `Tier`). Lists sort on it; the slugs would sort brand, dealer, employee…
TIER_RANK = {tier.value: rank for rank, tier in enumerate(Tier)}


def tier_rank_expression():
    return models.Case(
        *(models.When(tier=tier, then=models.Value(rank)) for tier, rank in TIER_RANK.items()),
        default=models.Value(len(TIER_RANK)),
    )


class Ownership(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSONAL = "personal", _("Personal")


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending consent")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


class Publisher(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    ASSISTED = "assisted", _("Assisted (owner posts it)")


class SocialAccount(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("brand"))
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("platform"))
    handle = models.CharField(_("handle"), max_length=120)
    display_name = models.CharField(_("display name"), max_length=160, blank=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, db_index=True)
    # Stored, so the account list can walk an index in matrix order rather than sort the matrix.
    tier_rank = models.GeneratedField(
        expression=tier_rank_expression(), output_field=models.PositiveSmallIntegerField(), db_persist=True,
        verbose_name=_("tier rank"),
    )
    ownership = models.CharField(_("ownership"), max_length=10, choices=Ownership.choices)
    status = models.CharField(_("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_accounts",
        verbose_name=_("owner"),
    )
    dealer = models.ForeignKey(
        Dealer, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts", verbose_name=_("dealer")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("department"),
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="operated_accounts", verbose_name=_("operators")
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    publisher = models.CharField(_("publisher"), max_length=20, choices=Publisher.choices, default=Publisher.ASSISTED)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    # Never rendered or returned by the API: write-only everywhere.
    webhook_secret = models.CharField(_("webhook secret"), max_length=200, blank=True)
    posts_per_hour = models.PositiveIntegerField(
        _("posts an hour"), null=True, blank=True,
        help_text=_("At most this many posts an hour on this account; empty to use the platform's limit."),
    )
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand_id", "tier_rank", "platform_id", "handle"]
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        indexes = [
            models.Index(fields=["brand", "tier", "platform", "status"], name="account_grid_idx"),
            models.Index(fields=["status"], name="account_status_idx"),
            models.Index(fields=["tier_rank", "platform", "handle", "id"], name="account_list_rank_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("handle"), "platform", name="account_handle_unique_per_platform",
                violation_error_message=_("This handle is already registered on this platform."),
                violation_error_code="handle",
            ),
            models.UniqueConstraint(
                fields=["brand", "platform"],
                condition=Q(tier="brand") & ~Q(status="archived"),
                name="one_brand_account_per_platform",
                violation_error_message=_("This brand already has a brand account on this platform."),
                violation_error_code="tier",
            ),
            models.CheckConstraint(
                condition=~Q(tier="dealer") | Q(dealer__isnull=False),
                name="dealer_account_names_dealer",
                violation_error_message=_("A dealer account must name its dealer."),
                violation_error_code="dealer",
            ),
            models.CheckConstraint(
                condition=(Q(tier__in=["executive", "employee"]) & Q(ownership="personal") & Q(owner__isnull=False))
                | (~Q(tier__in=["executive", "employee"]) & Q(ownership="company")),
                name="personal_accounts_have_owner",
                violation_error_message=_(
                    "Executive and employee accounts are personal and name their owner; other tiers are company-owned."
                ),
                violation_error_code="owner",
            ),
            models.CheckConstraint(
                condition=~Q(publisher="webhook") | ~Q(webhook_url=""),
                name="webhook_publisher_has_url",
                violation_error_message=_("A webhook publisher needs a webhook URL."),
                violation_error_code="webhook_url",
            ),
        ]

    def __str__(self):
        return f"{self.platform.name} @{self.handle}" if self.platform_id else self.handle

    @property
    def is_personal(self):
        return self.tier in PERSONAL_TIERS

    @property
    def awaits_consent(self):
        """Its owner may consent now: it never joined, or they took it out themselves. An account
        paused for another reason is not theirs to bring back."""
        if not self.is_personal:
            return False
        return self.status == AccountStatus.PENDING or (
            self.status == AccountStatus.PAUSED and self.consent_withdrawn_at is not None
        )
