"""The screening links of the main navigation, each shown only to those the policies let use it."""

from django import template

from ..policies import lexicon_user_can

register = template.Library()


@register.inclusion_tag("approvals/includes/nav.html", takes_context=True)
def screening_nav(context):
    user = context["user"]
    return {
        # Anyone signed in may screen a text (see approvals.policies); the nav is only shown to them.
        "can_try": user.is_authenticated and user.is_active,
        "can_view_lexicons": lexicon_user_can(user, "view"),
    }
