"""Who may see, write and act on which posts and campaigns. Views, the API and services ask here.

Deciding a review step is not here: who decides depends on the step (`approvals.workflow`).
"""

from django.db.models import Q

from accounts.models import Role
from matrix.models import SocialAccount
from matrix.policies import accounts_visible_to

from .models import Campaign, Post


def posts_visible_to(user, queryset=None):
    queryset = Post.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role in (Role.MARKETER, Role.REVIEWER) and user.brand_id:
        return queryset.filter(Q(account__brand_id=user.brand_id) | Q(author=user))
    return queryset.filter(Q(account__in=accounts_visible_to(user).values("pk")) | Q(author=user))


def accounts_writable_by(user, queryset=None):
    """The accounts `user` may compose posts for."""
    queryset = SocialAccount.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role == Role.REVIEWER:
        return queryset.none()  # reviewers judge posts; they don't write them
    # Marketers write for their brand's accounts, dealer operators for their dealer's, everyone
    # for the accounts they own or operate: exactly the accounts they see.
    return accounts_visible_to(user, queryset)


def account_writable(user, account):
    return accounts_writable_by(user, SocialAccount.objects.filter(pk=account.pk)).exists()


def post_user_can(user, action, post):
    """`action`: view, change (edit, submit), cancel, retry, confirm_published."""
    if not user.is_authenticated or not user.is_active:
        return False
    if action == "view":
        return user.is_admin or posts_visible_to(user, Post.objects.filter(pk=post.pk)).exists()
    if action in ("change", "cancel"):
        if user.offboarded_at:
            return False
        if post.author_id == user.pk:
            return True
        return account_writable(user, post.account)
    if action == "retry":
        return user.is_admin or (user.role == Role.MARKETER and user.brand_id == post.account.brand_id)
    if action == "confirm_published":
        # Whoever posts by hand for the account (its owner, its operators), and marketing of the brand.
        if user.offboarded_at:
            return False
        account = post.account
        return (
            user.is_admin
            or account.owner_id == user.pk
            or (user.role == Role.MARKETER and user.brand_id == account.brand_id)
            or account.operators.filter(pk=user.pk).exists()
        )
    return False


def campaigns_visible_to(user, queryset=None):
    queryset = Campaign.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role in (Role.MARKETER, Role.REVIEWER) and user.brand_id:
        return queryset.filter(brand_id=user.brand_id)
    # Others see the campaigns they received a draft from.
    return queryset.filter(posts__in=posts_visible_to(user).values("pk")).distinct()


def campaign_user_can(user, action, campaign=None, *, brand=None):
    """`action`: view, create, change, push."""
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return False
    brand_id = campaign.brand_id if campaign is not None else getattr(brand, "pk", None)
    if action == "view":
        return campaign_is_visible(user, campaign)
    if user.is_admin:
        return True
    return user.role == Role.MARKETER and user.brand_id is not None and user.brand_id == brand_id


def campaign_is_visible(user, campaign):
    return campaigns_visible_to(user, Campaign.objects.filter(pk=campaign.pk)).exists()


# --- pauses ----------------------------------------------------------------------------------

# Roles that may pull the brake (and release it) on their brand: marketing runs the matrix, and PR
# or compliance — the reviewers — must be able to stop it in a crisis without asking marketing.
PAUSE_ROLES = (Role.MARKETER, Role.REVIEWER)


def pauses_visible_to(user, queryset=None):
    """Admins see every pause; marketers and reviewers their brand's; everyone else the pauses that
    cover an account they see (so the banner explains why their post is held)."""
    from .models import Pause
    from .pauses import pauses_covering_q

    queryset = Pause.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    covering = pauses_covering_q(accounts_visible_to(user))
    if user.role in PAUSE_ROLES and user.brand_id:
        return queryset.filter(Q(brand_id=user.brand_id) | covering)
    return queryset.filter(covering)


def pause_user_can(user, action, pause=None, *, brand=None):
    """`action`: view, create (on `brand`), lift."""
    if not user.is_authenticated or not user.is_active:
        return False
    if action == "view":
        return pause is not None and pauses_visible_to(user).filter(pk=pause.pk).exists()
    if user.offboarded_at:
        return False
    brand_id = pause.brand_id if pause is not None else getattr(brand, "pk", brand)
    if user.is_admin:
        return True
    if action in ("create", "lift"):
        return user.role in PAUSE_ROLES and user.brand_id is not None and (
            brand_id is None or user.brand_id == brand_id
        )
    return False
