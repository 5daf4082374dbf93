"""`{% load pause_tags %}{% pause_holding post as pause %}`: the active pause holding a scheduled post."""

from django import template

from content.models import PostStatus
from content.pauses import pause_covering

register = template.Library()

# The statuses in which a pause holds a post back: due or about to be. Others are not going out.
HELD_STATUSES = {PostStatus.SCHEDULED}


@register.simple_tag
def pause_holding(post):
    """The active pause covering the post's account while the post is scheduled, else None (one
    query, for a scheduled post only)."""
    if post.status not in HELD_STATUSES:
        return None
    return pause_covering(post.account)
