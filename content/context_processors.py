"""What every page needs from the content app: the pauses behind the crisis banner."""

from django.utils.functional import SimpleLazyObject

from .pauses import pauses_relevant_to
from .policies import pause_user_can


def pauses(request):
    """`active_pauses`: the active pauses covering an account the signed-in person sees, read once
    per request and only when a template looks; `can_manage_pauses`: whether the navigation links
    to the pauses page (a role check, no query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def read():
        if not hasattr(request, "_active_pauses"):
            request._active_pauses = pauses_relevant_to(user)
        return request._active_pauses

    return {
        "active_pauses": SimpleLazyObject(read),
        "can_manage_pauses": pause_user_can(user, "create"),
    }
