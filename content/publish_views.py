"""The page where someone who posted an assisted post by hand confirms it with its live URL.

It shows exactly the approved revision (never the working copy, which may have been edited since)
with a button to copy the text, and its media. The rules are in
`content.services.post_confirm_published`; who may confirm in `content.policies`.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError, PermissionDeniedError
from matrix.models import Publisher

from . import services
from .models import Media, Post, PostStatus
from .policies import post_user_can, posts_visible_to


class ConfirmPublishedForm(forms.Form):
    # A plain text field: the service says what a good URL is, for the page and the API alike.
    url = forms.CharField(label=gettext_lazy("Live URL"), max_length=services.LIVE_URL_MAX_LENGTH,
                          widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
                          help_text=gettext_lazy("The address of the post on the platform, once it is live."))


def _confirm_post(user, pk):
    try:
        post = posts_visible_to(user).select_related(
            "account__platform", "account__brand", "account__owner", "approved_revision"
        ).get(pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc
    if not post_user_can(user, "confirm_published", post):
        raise PermissionDenied(_("You cannot confirm that this post was published."))
    return post


def _revision_media(revision):
    if revision is None:
        return []
    ids = [item["id"] for item in revision.media or []]
    by_id = Media.objects.in_bulk(ids)
    return [by_id[media_id] for media_id in ids if media_id in by_id]


@login_required
def post_confirm(request, pk):
    post = _confirm_post(request.user, pk)
    form = ConfirmPublishedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_confirm_published(actor=request.user, post=post, url=form.cleaned_data["url"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            form.add_error("url" if exc.field == "url" else None, exc.message)
        else:
            messages.success(request, _("%(account)s: confirmed; the post is published.") % {"account": post.account})
            return redirect("content:post_detail", pk=post.pk)
    revision = post.approved_revision
    context = {
        "post": post,
        "account": post.account,
        "revision": revision,
        "media": _revision_media(revision),
        "form": form,
        "by_hand": post.account.publisher == Publisher.ASSISTED,
        "awaiting": post.status in services.CONFIRMABLE,
        "published": post.status == PostStatus.PUBLISHED,
    }
    return render(request, "content/post_confirm.html", context, status=400 if form.errors else 200)
