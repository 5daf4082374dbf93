"""Writes about people: registration, invitations, roles and offboarding."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from approvals.audit import audit_record
from config.errors import DomainError
from matrix.models import PERSONAL_TIERS, AccountStatus, Ownership, SocialAccount
from matrix.services import _validation_to_domain, account_archive, account_create, account_update

from .models import Role, User

USER_FIELDS = ["username", "email", "first_name", "last_name", "role", "brand_id", "department_id", "dealer_id",
               "title", "timezone", "is_active"]


def user_snapshot(user):
    return {name: getattr(user, name) for name in USER_FIELDS}


def _sync_role_group(user):
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups.exclude(name=user.role))
    user.groups.add(Group.objects.get_or_create(name=user.role)[0])
    # Admins reach the Django admin; nobody else does.
    wants_staff = user.role == Role.ADMIN or user.is_superuser
    if user.is_staff != wants_staff:
        user.is_staff = wants_staff
        user.save(update_fields=["is_staff"])


def invitation_link(user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("password_set", kwargs={"uidb64": uid, "token": token})


def invitation_send(*, user, language=None):
    """Email the person a link to choose their password (valid PASSWORD_RESET_TIMEOUT)."""
    if not user.email:
        raise DomainError(_("The person has no email address to send the invitation to."), field="email")
    with translation.override(language or translation.get_language()):
        context = {"user": user, "link": invitation_link(user), "site_url": settings.SITE_URL}
        subject = _("You are invited to Social Matrix")
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def user_create(*, actor, password=None, send_invitation=True, **fields):
    """Create a person with a role. Without a password they get an invitation to set one."""
    if fields.get("email") and User.objects.filter(email__iexact=fields["email"]).exists():
        raise DomainError(_("Someone is already registered with this email address."), field="email")
    if fields.get("dealer") is not None and not fields.get("brand"):
        fields["brand"] = fields["dealer"].brand
    if fields.get("department") is not None and not fields.get("brand"):
        fields["brand"] = fields["department"].brand
    user = User(**fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise _validation_to_domain(exc, model=User) from exc
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from exc
    user.save()
    _sync_role_group(user)
    audit_record(actor=actor, action="accounts.user.create", obj=user, after=user_snapshot(user))
    if not password and send_invitation and user.email:
        transaction.on_commit(lambda: invitation_send(user=user))
    return user


@transaction.atomic
def user_update(*, actor, user, **changes):
    """Change a person's details or role (a role change moves their group and is audited)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user_snapshot(user)
    email = changes.get("email")
    if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise DomainError(_("Someone is already registered with this email address."), field="email")
    for name, value in changes.items():
        setattr(user, name, value)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise _validation_to_domain(exc, model=User) from exc
    user.save()
    _sync_role_group(user)
    after = user_snapshot(user)
    if before["role"] != after["role"]:
        audit_record(actor=actor, action="accounts.user.role_change", obj=user,
                     before={"role": before["role"]}, after={"role": after["role"]})
    if {k: v for k, v in before.items() if k != "role"} != {k: v for k, v in after.items() if k != "role"}:
        audit_record(actor=actor, action="accounts.user.update", obj=user, before=before, after=after)
    return user


@transaction.atomic
def user_register(*, actor, person, accounts=()):
    """Register one person and any number of their social accounts, all or nothing.

    `person` holds user_create's fields; each item of `accounts` holds account_create's fields
    (the owner of a personal account, and the operator of a company one, is the new person)."""
    user = user_create(actor=actor, **person)
    created = []
    for index, fields in enumerate(accounts):
        fields = dict(fields)
        fields.setdefault("brand", user.brand)
        operators = list(fields.pop("operators", []))
        if fields.get("tier") in PERSONAL_TIERS:
            fields["owner"] = user
        elif user not in operators:
            operators.append(user)
        try:
            created.append(account_create(actor=actor, operators=operators, **fields))
        except DomainError as exc:
            exc.message = _("Account %(number)s: %(error)s") % {"number": index + 1, "error": exc.message}
            exc.field = f"accounts[{index}].{exc.field}" if exc.field else f"accounts[{index}]"
            raise
    return user, created


def offboarding_blockers(user):
    """Company accounts that the person operates alone: each needs another operator first."""
    operated = SocialAccount.objects.filter(operators=user, ownership=Ownership.COMPANY).exclude(
        status=AccountStatus.ARCHIVED
    )
    return [account for account in operated.prefetch_related("operators") if account.operators.count() == 1]


@transaction.atomic
def user_offboard(*, actor, user, handover=None):
    """Deactivate a leaver.

    `handover` maps company account ids to the user who takes them over. Every company account
    the leaver operates alone must be handed over; their personal accounts leave the matrix
    (archived, history kept); their API token stops working."""
    handover = handover or {}
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise DomainError(_("This person has already been offboarded."))
    if user.pk == actor.pk:
        raise DomainError(_("You cannot offboard yourself."))
    for account_id, successor in handover.items():
        if successor is None:
            continue
        if successor.pk == user.pk or not successor.is_active:
            raise DomainError(_("Hand the account to an active colleague, not the leaver."), field=f"handover.{account_id}")
        account = SocialAccount.objects.get(pk=account_id)
        operators = [op for op in account.operators.all() if op.pk != user.pk] + [successor]
        account_update(actor=actor, account=account, operators=operators)
    blockers = offboarding_blockers(user)
    if blockers:
        names = ", ".join(str(account) for account in blockers)
        raise DomainError(
            _("Hand these company accounts to another operator first: %(accounts)s") % {"accounts": names},
            field="handover",
        )
    for account in SocialAccount.objects.filter(operators=user):
        account.operators.remove(user)
    for account in SocialAccount.objects.filter(owner=user).exclude(status=AccountStatus.ARCHIVED):
        account_archive(actor=actor, account=account, reason="owner offboarded")
    before = user_snapshot(user)
    user.is_active = False
    user.offboarded_at = timezone.now()
    user.save(update_fields=["is_active", "offboarded_at"])
    Token.objects.filter(user=user).delete()
    audit_record(actor=actor, action="accounts.user.offboard", obj=user, before=before, after=user_snapshot(user))
    return user
