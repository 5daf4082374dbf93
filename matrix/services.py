"""Writes to the matrix. Every change is validated, locked where it races, and audited."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.audit import audit_record
from config.errors import DomainError, PermissionDeniedError

from .models import PERSONAL_TIERS, AccountStatus, Brand, Dealer, Ownership, SocialAccount
from .policies import account_user_can

# Fields shown in audit events. The webhook secret never is: only whether it changed.
AUDITED_FIELDS = [
    "brand_id", "platform_id", "handle", "display_name", "tier", "ownership", "status", "owner_id", "dealer_id",
    "department_id", "timezone", "publisher", "webhook_url",
]


def account_snapshot(account):
    data = {name: getattr(account, name) for name in AUDITED_FIELDS}
    if account.pk:
        data["operator_ids"] = sorted(account.operators.values_list("pk", flat=True))
    return data


def _validation_to_domain(exc, model=SocialAccount):
    """The first error of a model validation as a DomainError naming its field.

    Database constraints are reported under no field; each of ours carries the field it guards as
    its violation code (see the models' Meta.constraints)."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        error = errors[0]
        if field == "__all__":
            field = error.code if error.code in {f.name for f in model._meta.get_fields()} else None
        return DomainError(error.messages[0], field=field)
    return DomainError(exc.messages[0])


def _check_same_brand(account):
    """Dealer, department and owner must belong to the account's brand."""
    if account.dealer_id and account.dealer.brand_id != account.brand_id:
        raise DomainError(_("The dealer belongs to another brand."), field="dealer")
    if account.department_id and account.department.brand_id != account.brand_id:
        raise DomainError(_("The department belongs to another brand."), field="department")
    if account.owner_id and account.owner.brand_id not in (None, account.brand_id):
        raise DomainError(_("The owner works for another brand."), field="owner")


def _save_validated(account):
    try:
        account.full_clean()
    except ValidationError as exc:
        raise _validation_to_domain(exc) from exc
    _check_same_brand(account)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        # Validation passed, so a concurrent write won a constraint in the meantime.
        raise DomainError(_("Someone registered a conflicting account at the same moment; check and try again.")) from exc


@transaction.atomic
def account_create(*, actor, operators=(), **fields):
    """Register a social account. Personal accounts start `pending` until their owner consents."""
    tier = fields.get("tier")
    fields.setdefault("ownership", Ownership.PERSONAL if tier in PERSONAL_TIERS else Ownership.COMPANY)
    if tier in PERSONAL_TIERS:
        fields["status"] = AccountStatus.PENDING
    else:
        fields.setdefault("status", AccountStatus.ACTIVE)
    account = SocialAccount(**fields)
    _save_validated(account)
    if operators:
        account.operators.set(operators)
    audit_record(actor=actor, action="matrix.account.create", obj=account, after=account_snapshot(account))
    return account


@transaction.atomic
def account_update(*, actor, account, operators=None, **changes):
    """Change an account's registration. Status changes go through consent/archive services."""
    account = SocialAccount.objects.select_for_update().get(pk=account.pk)
    before = account_snapshot(account)
    secret_changed = "webhook_secret" in changes and changes["webhook_secret"] != account.webhook_secret
    was_personal, old_owner = account.tier in PERSONAL_TIERS, account.owner_id
    for name, value in changes.items():
        setattr(account, name, value)
    account.ownership = Ownership.PERSONAL if account.tier in PERSONAL_TIERS else Ownership.COMPANY
    if account.tier in PERSONAL_TIERS and (not was_personal or account.owner_id != old_owner):
        # Consent is the owner's: an account that becomes personal, or changes hands, waits for
        # its (new) owner to consent before anything is published on it.
        if account.status != AccountStatus.ARCHIVED:
            account.status = AccountStatus.PENDING
        account.consented_at = None
    _save_validated(account)
    if operators is not None:
        account.operators.set(operators)
    after = account_snapshot(account)
    if secret_changed:
        after["webhook_secret"] = "changed"
    if after != before:
        audit_record(actor=actor, action="matrix.account.update", obj=account, before=before, after=after)
    return account


def _transition(*, actor, account, allowed_from, to, action, permission, extra=None, accepts=None):
    """`accepts(account)`, if given, checks the locked row beyond its status."""
    account = SocialAccount.objects.select_for_update().get(pk=account.pk)
    if not account_user_can(actor, permission, account):
        raise PermissionDeniedError(_("Only the account's owner can do this."))
    if account.status not in allowed_from or (accepts is not None and not accepts(account)):
        raise DomainError(
            _("The account is %(status)s; this is not possible now.") % {"status": account.get_status_display()},
            field="status",
        )
    before = {"status": account.status}
    account.status = to
    for name, value in (extra or {}).items():
        setattr(account, name, value)
    account.save()
    audit_record(actor=actor, action=action, obj=account, before=before, after={"status": to, **(extra or {})})
    return account


@transaction.atomic
def account_consent(*, actor, account):
    """The owner brings their personal account into the matrix: pending → active, or back into it
    after withdrawing their consent: paused → active. A pause the owner did not make (no withdrawal
    recorded) is not lifted by their consent."""
    return _transition(
        actor=actor,
        account=account,
        allowed_from=[AccountStatus.PENDING, AccountStatus.PAUSED],
        accepts=lambda locked: locked.awaits_consent,
        to=AccountStatus.ACTIVE,
        action="matrix.account.consent",
        permission="consent",
        extra={"consented_at": timezone.now(), "consent_withdrawn_at": None},
    )


@transaction.atomic
def account_withdraw_consent(*, actor, account):
    """The owner takes their personal account out: active → paused; nothing may publish on it."""
    return _transition(
        actor=actor,
        account=account,
        allowed_from=[AccountStatus.ACTIVE],
        to=AccountStatus.PAUSED,
        action="matrix.account.withdraw_consent",
        permission="consent",
        extra={"consent_withdrawn_at": timezone.now()},
    )


@transaction.atomic
def account_archive(*, actor, account, reason=""):
    """Take an account out of the matrix for good; its history is kept."""
    account = SocialAccount.objects.select_for_update().get(pk=account.pk)
    if account.status == AccountStatus.ARCHIVED:
        return account
    before = {"status": account.status}
    account.status = AccountStatus.ARCHIVED
    account.archived_at = timezone.now()
    account.save(update_fields=["status", "archived_at", "updated_at"])
    audit_record(
        actor=actor, action="matrix.account.archive", obj=account, before=before,
        after={"status": account.status, "reason": reason},
    )
    return account


@transaction.atomic
def brand_create(*, actor, **fields):
    """Register a brand (the 1 of 1+X+N+K)."""
    brand = Brand(**fields)
    try:
        brand.full_clean()
    except ValidationError as exc:
        raise _validation_to_domain(exc, model=Brand) from exc
    brand.save()
    audit_record(actor=actor, action="matrix.brand.create", obj=brand,
                 after={"name": brand.name, "slug": brand.slug, "timezone": brand.timezone})
    return brand


@transaction.atomic
def dealer_create(*, actor, **fields):
    """Register a dealer or store of a brand's network."""
    dealer = Dealer(**fields)
    try:
        dealer.full_clean()
    except ValidationError as exc:
        raise _validation_to_domain(exc, model=Dealer) from exc
    dealer.save()
    audit_record(actor=actor, action="matrix.dealer.create", obj=dealer,
                 after={"brand_id": dealer.brand_id, "code": dealer.code, "name": dealer.name,
                        "region": dealer.region, "city": dealer.city})
    return dealer
