"""The review links of the main navigation: `{% load review_nav %}{% review_nav %}` renders them
(review/nav.html); `{% unread_notification_count as n %}` gives the count alone."""

from django import template

from accounts.models import Role
from approvals import selectors

register = template.Library()

# Roles whose work includes deciding review steps; others reach a step they are asked to decide
# (a group step, an escalation) through its notification.
QUEUE_ROLES = {Role.ADMIN, Role.MARKETER, Role.REVIEWER, Role.EXECUTIVE}


@register.simple_tag(takes_context=True)
def unread_notification_count(context):
    """How many notifications the signed-in person has not read: one query per request, however
    many times the page asks."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    if request is None:
        return selectors.notifications_unread_count(user=user)
    if not hasattr(request, "_unread_notification_count"):
        request._unread_notification_count = selectors.notifications_unread_count(user=user)
    return request._unread_notification_count


@register.inclusion_tag("review/nav.html", takes_context=True)
def review_nav(context):
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {
        "show": True,
        "can_use_queue": user.is_admin or user.role in QUEUE_ROLES,
        "unread_count": unread_notification_count(context),
        "can_read_audit": selectors.audit_user_can(user),
    }
