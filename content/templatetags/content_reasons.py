"""`{% load content_reasons %}{{ post.last_error|reason }}`: a stored publishing reason (a post's last
error, an attempt's reason) in the reader's language (content/reasons.py). Display only: the stored
text and the API's `last_error` stay as written."""

from django import template

from content.reasons import describe

register = template.Library()


@register.filter
def reason(text):
    """The reason translated; a text that is not one of ours is shown as it is (autoescaped)."""
    return describe(text)
