from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from matrix.timezones import validate_timezone


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MARKETER = "marketer", _("Marketer")
    REVIEWER = "reviewer", _("Reviewer")
    EXECUTIVE = "executive", _("Executive")
    EMPLOYEE = "employee", _("Employee")
    DEALER_OPERATOR = "dealer_operator", _("Dealer operator")


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `createsuperuser` makes an admin in the product's sense too, not an "employee".
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person in the company. The role is mirrored into a Django group of the same name."""

    objects = UserManager()

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE, db_index=True)
    brand = models.ForeignKey(
        "matrix.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("brand")
    )
    department = models.ForeignKey(
        "matrix.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("department"),
    )
    dealer = models.ForeignKey(
        "matrix.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("dealer")
    )
    title = models.CharField(_("title"), max_length=120, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    # The language this person last chose with the switcher: the one of the emails they receive and
    # of the pages on a browser that has not chosen one yet. Empty: the site's default.
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    offboarded_at = models.DateTimeField(_("offboarded at"), null=True, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="dealer_operator") | models.Q(dealer__isnull=False),
                name="dealer_operator_names_dealer",
                violation_error_message=_("A dealer operator must belong to a dealer."),
                violation_error_code="dealer",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_admin(self):
        return self.is_superuser or self.role == Role.ADMIN


class ImportJob(models.Model):
    """One upload of people and accounts: previewed (dry run), then applied."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="import_jobs")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEWED)
    skip_invalid = models.BooleanField(default=False)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"
