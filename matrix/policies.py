"""Who may see and change which social accounts. Views and the API both ask here."""

from django.db.models import Q

from accounts.models import Role

from .models import PERSONAL_TIERS, Brand, Dealer, SocialAccount


def accounts_visible_to(user, queryset=None):
    queryset = SocialAccount.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    # A subquery rather than a join on operators, so no DISTINCT over the whole matrix is needed.
    operated = SocialAccount.operators.through.objects.filter(user_id=user.pk).values("socialaccount_id")
    mine = Q(owner=user) | Q(pk__in=operated)
    if user.role in (Role.MARKETER, Role.REVIEWER) and user.brand_id:
        return queryset.filter(Q(brand_id=user.brand_id) | mine)
    if user.role == Role.DEALER_OPERATOR and user.dealer_id:
        return queryset.filter(Q(dealer_id=user.dealer_id) | mine)
    # Executives and employees: their own accounts and the ones they operate.
    return queryset.filter(mine)


def account_user_can(user, action, account):
    """`action` is one of view, change, consent, archive."""
    if not user.is_authenticated or not user.is_active:
        return False
    if action == "consent":
        # Only the person whose account it is can bring it into the matrix (or take it out).
        return account.tier in PERSONAL_TIERS and account.owner_id == user.pk
    if user.is_admin:
        return True
    if action == "view":
        return accounts_visible_to(user).filter(pk=account.pk).exists()
    return False


def brands_visible_to(user):
    if user.is_admin:
        return Brand.objects.all()
    if user.brand_id:
        return Brand.objects.filter(pk=user.brand_id)
    return Brand.objects.filter(pk__in=accounts_visible_to(user).values("brand_id"))


def dealers_visible_to(user):
    if user.is_admin:
        return Dealer.objects.all()
    if user.role == Role.DEALER_OPERATOR:
        return Dealer.objects.filter(pk=user.dealer_id)
    if user.role in (Role.MARKETER, Role.REVIEWER) and user.brand_id:
        return Dealer.objects.filter(brand_id=user.brand_id)
    return Dealer.objects.filter(pk__in=accounts_visible_to(user).values("dealer_id"))
