"""Who may see and change lexicons, and whose screenings one may read. Pages and API ask here.

- Admins: every lexicon, every screening.
- Reviewers (PR, legal, compliance) curate lexicons: those of their brand; a reviewer without a brand
  works on the company-wide ones. Company-wide lexicons of a reviewer who has a brand are read-only
  to them (a change would reach every other brand).
- Marketers read the lexicons of their brand and the company-wide ones, and change nothing.
- Everyone else (executives, employees, dealer operators) sees no lexicon: they hold confidential
  code names. Anyone signed in may screen a text ("Try it", the API).
- The recent screenings behind "would have caught" hold other people's drafts: only those who may
  change a lexicon read them, admins all, reviewers their brand's.
"""

from django.db.models import Q

from accounts.models import Role

from .models import Lexicon, Screening

READERS = (Role.MARKETER, Role.REVIEWER)


def lexicons_visible_to(user, queryset=None):
    queryset = Lexicon.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role in READERS:
        return queryset.filter(Q(brand__isnull=True) | Q(brand_id=user.brand_id)) if user.brand_id else queryset.filter(
            brand__isnull=True
        )
    return queryset.none()


def lexicon_user_can(user, action, lexicon=None, *, brand=None):
    """`action`: view, create (with `brand`: the brand of the new lexicon, None = company-wide),
    change (the lexicon itself or its terms), screenings (read the recent screenings)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if action == "view":
        if lexicon is None:
            return user.role in READERS
        return lexicons_visible_to(user).filter(pk=lexicon.pk).exists()
    if user.role != Role.REVIEWER:
        return False
    if action == "screenings":
        return True
    if action == "create":
        brand_id = brand.pk if brand is not None else None
        return brand_id == user.brand_id
    if action == "change":
        if lexicon is None:
            return True  # may change some lexicon (shows the forms)
        return lexicon.brand_id == user.brand_id
    return False


def brands_for_new_lexicon(user):
    """The brands `user` may create a lexicon for; None in the list stands for company-wide."""
    from matrix.models import Brand

    if user.is_admin:
        return [None, *Brand.objects.order_by("name")]
    if user.role == Role.REVIEWER:
        return [user.brand] if user.brand_id else [None]
    return []


def screenings_visible_to(user, queryset=None):
    queryset = Screening.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.role == Role.REVIEWER:
        if user.brand_id:
            return queryset.filter(brand_id=user.brand_id)
        return queryset.filter(actor_id=user.pk)
    return queryset.none()
