"""Pages of posts and campaigns: compose, the post list, a post with its review, and campaigns.

Views read forms, call services and render; the rules are in `content.services`, who may do what
in `content.policies` (and `approvals.workflow` for review steps), reads in `content.selectors`.
A PermissionDeniedError from a service is a 403; any other DomainError is shown next to the field it
names, and the page comes back with everything that was typed (uploads included).
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Role
from approvals import workflow
from approvals.models import Screening, StepKind, StepStatus
from approvals.services import screening_run
from config.errors import DomainError, PermissionDeniedError
from matrix.models import Platform
from matrix.policies import brands_visible_to
from matrix.timezones import all_timezones

from . import selectors, services
from .forms import (
    DATETIME_LOCAL_FORMAT,
    ZONE_EACH,
    ZONE_ONE,
    CampaignForm,
    ComposeForm,
    DecisionForm,
    PostFilterForm,
    one_newline,
    utc_to_local,
)
from .models import Campaign, Post, PostStatus
from .policies import (
    accounts_writable_by,
    campaign_user_can,
    campaigns_visible_to,
    post_user_can,
    posts_visible_to,
)

# A service names the field it refuses; on the compose page some are called differently.
COMPOSE_FIELDS = {"account": "accounts", "text": "body", "file": "files"}


def _add_error(form, exc, aliases=None):
    field = (aliases or {}).get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def _upload(user, brand, files):
    """Store each uploaded file; (the media stored, [(file name, why it was refused)])."""
    uploaded, errors = [], []
    for file in files:
        if brand is None:
            errors.append((file.name, _("Choose an account before adding media.")))
            continue
        try:
            uploaded.append(services.media_upload(actor=user, brand=brand, file=file))
        except DomainError as exc:
            errors.append((file.name, exc.message))
    return uploaded, errors


def _with_uploads(request, brand):
    """The submitted data with the files just uploaded appended to its media, so that an error
    elsewhere on the form never loses an upload; and the per-file errors."""
    data = request.POST.copy()
    uploaded, file_errors = _upload(request.user, brand, request.FILES.getlist("files"))
    for media in uploaded:
        data.appendlist("media", str(media.pk))
    return data, file_errors


def _status_message(request, post):
    if post.status == PostStatus.BLOCKED:
        messages.warning(request, _("%(account)s: screening blocked the post. Change the highlighted passages and "
                                    "submit it again.") % {"account": post.account})
    elif post.status == PostStatus.IN_REVIEW:
        messages.success(request, _("%(account)s: submitted; the post waits for review.") % {"account": post.account})
    elif post.status == PostStatus.SCHEDULED:
        messages.success(request, _("%(account)s: approved without a human step and scheduled.")
                         % {"account": post.account})
    else:
        messages.success(request, _("%(account)s: saved.") % {"account": post.account})


# --- compose ---------------------------------------------------------------------------------


def _zone_summary(accounts):
    zones = sorted({a.timezone for a in accounts})
    return {"zones": zones, "zones_text": ", ".join(zones), "mixed_zones": len(zones) > 1}


def _template_context(post, body):
    """What the compose page shows for a campaign draft: the template cut into locked wording and
    fields, each field's value now, and how the text differs from the template filled in."""
    if not post or not post.template_body:
        return {}
    template = post.template_body
    names = workflow.template_fields(template)
    defaults = services.campaign_fill_values(post.account)
    current = selectors.template_values(template, body) or {}
    values = {name: current.get(name, defaults.get(name, "")) for name in names}
    return {
        "template": template,
        "template_parts": selectors.template_parts(template),
        "template_fields": [(name, values[name]) for name in names],
        **_template_state(template, body, values),
    }


def _template_state(template, body, values):
    filled = workflow.template_fill(template, values)
    unchanged = workflow.template_matches(template, body)
    return {
        "template_unchanged": unchanged,
        "template_diff": None if unchanged else selectors.text_diff(filled, body),
    }


def _compose_screening(user, body, account):
    if not (body or "").strip():
        return None
    try:
        return screening_run(body, actor=user, account=account, source=Screening.Source.POST, record=False)
    except DomainError:
        return None


def _compose_strings():
    """The messages compose.js shows, translated here ({name} is filled in by the script)."""
    return {
        "counter_none": _("{length} characters. Choose an account to see its limit."),
        "counter_one": _("{length} / {limit} characters on {platform} ({account})"),
        "counter_many": _("{length} / {limit} characters: the tightest limit of the {count} accounts chosen is "
                          "{platform} ({account})"),
        "counter_over": _("{over} characters too many for {account}"),
        "selected": _("{count} chosen"),
        "zones": _("The chosen accounts are in {count} time zones: {zones}."),
        "zone_each": _("each account's own time zone"),
        "refill_confirm": _("Replace the text with the template filled in? Your changes to the wording are lost."),
    }


def _render_compose(request, form, *, post=None, file_errors=(), status=200, screening=None):
    accounts = form.account_rows if post is None else [post.account]
    selected = set(form.selected_ids())
    chosen = [a for a in accounts if a.pk in selected]
    body = form["body"].value() or ""
    context = {
        "form": form,
        "post": post,
        "accounts": accounts,
        "selected_ids": selected,
        "attached": form.media_objects(),
        "file_errors": file_errors,
        "screening": screening,
        "can_submit": post is None or post.status in services.SUBMITTABLE,
        "compose_strings": _compose_strings(),
        **_zone_summary(chosen),
        **_template_context(post, body),
    }
    return render(request, "content/post_compose.html", context, status=status)


def _create_posts(user, form, *, submit):
    """One post per chosen account. Accounts whose zones give the same instant are created together;
    all of it in one transaction, so the page creates every post or none."""
    data = form.cleaned_data
    groups = {}
    for account in data["accounts"]:
        groups.setdefault(form.schedule.get(account.pk), []).append(account)
    posts = []
    with transaction.atomic():
        for scheduled_at, accounts in groups.items():
            posts += services.post_create_many(actor=user, accounts=accounts, body=data["body"], media=data["media"],
                                               scheduled_at=scheduled_at, submit=submit)
    return posts


def _prefilled_time(query, accounts):
    """The time an empty calendar slot was clicked at (`?local=2026-03-10T09:00&timezone=Europe/Berlin`):
    a wall-clock time in the calendar's zone. It stays a wall-clock time in that zone (the form
    refuses it on submit if it falls in a DST gap) unless that is the chosen account's own zone."""
    try:
        naive = datetime.strptime(query.get("local", ""), DATETIME_LOCAL_FORMAT)
    except ValueError:
        return {}
    zone = query.get("timezone", "")
    if zone not in all_timezones():
        return {"scheduled_at": naive}
    if len(accounts) == 1 and accounts[0].timezone == zone:
        return {"scheduled_at": naive, "zone_mode": ZONE_EACH}
    return {"scheduled_at": naive, "zone_mode": ZONE_ONE, "timezone": zone}


@login_required
def post_create(request):
    """Write one text for one account or many at once; each account gets its own post."""
    user = request.user
    accounts = list(selectors.compose_accounts(user=user))
    queryset = selectors.compose_accounts(user=user)
    if request.method != "POST":
        preselect = request.GET.get("account", "")
        initial = {"accounts": [a for a in accounts if str(a.pk) == preselect]}
        if len(accounts) == 1:
            initial["accounts"] = accounts
        initial.update(_prefilled_time(request.GET, initial["accounts"]))
        form = ComposeForm(user=user, accounts=accounts, account_queryset=queryset, initial=initial)
        return _render_compose(request, form)
    action = request.POST.get("action") or "draft"
    chosen_ids = set(request.POST.getlist("accounts"))
    chosen = [a for a in accounts if str(a.pk) in chosen_ids]
    brand = chosen[0].brand if chosen else user.brand
    data, file_errors = _with_uploads(request, brand)
    form = ComposeForm(data, user=user, accounts=accounts, account_queryset=queryset)
    if action == "pick":
        # The quick selector without JavaScript: add the matching accounts, keep everything else.
        ids = form.selected_ids() + [a.pk for a in form.picked_accounts()]
        data.setlist("accounts", [str(pk) for pk in dict.fromkeys(ids)])
        form = ComposeForm(data, user=user, accounts=accounts, account_queryset=queryset)
        return _render_compose(request, form, file_errors=file_errors)
    if not file_errors and form.is_valid():
        try:
            posts = _create_posts(user, form, submit=action == "submit")
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            _add_error(form, exc, COMPOSE_FIELDS)
        else:
            if len(posts) == 1:
                _status_message(request, posts[0])
                return redirect("content:post_detail", pk=posts[0].pk)
            by_status = {}
            for post in posts:
                by_status[post.get_status_display()] = by_status.get(post.get_status_display(), 0) + 1
            messages.success(request, ngettext(
                "%(count)d post created (%(statuses)s).", "%(count)d posts created (%(statuses)s).", len(posts)
            ) % {"count": len(posts), "statuses": ", ".join(f"{label}: {n}" for label, n in by_status.items())})
            return redirect(reverse("content:post_list") + "?author=me")
    return _render_compose(request, form, file_errors=file_errors, status=400)


def _visible_post(user, pk):
    try:
        return (
            posts_visible_to(user)
            .select_related("account__platform", "account__brand", "account__dealer", "account__owner", "campaign")
            .get(pk=pk)
        )
    except Post.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def post_edit(request, pk):
    """Change a post's text, media or time; "Submit for review" saves and submits."""
    user = request.user
    post = _visible_post(user, pk)
    if not post_user_can(user, "change", post):
        raise PermissionDenied
    if post.status not in services.EDITABLE:
        messages.error(request, _("A post that is %(status)s can no longer be changed.")
                       % {"status": post.get_status_display()})
        return redirect("content:post_detail", pk=post.pk)
    if request.method != "POST":
        initial = {
            "body": post.body,
            "media": [a.media for a in post.attachments.select_related("media").order_by("position")],
            "scheduled_at": utc_to_local(post.scheduled_at, post.account.timezone),
        }
        form = ComposeForm(user=user, post=post, initial=initial)
        return _render_compose(request, form, post=post,
                               screening=_compose_screening(user, post.body, post.account))
    action = request.POST.get("action") or "draft"
    data, file_errors = _with_uploads(request, post.account.brand)
    form = ComposeForm(data, user=user, post=post)
    if not file_errors and form.is_valid():
        values = form.cleaned_data
        try:
            # Saving and submitting together: a submission refused leaves the post as it was.
            with transaction.atomic():
                post = services.post_update(actor=user, post=post, body=values["body"], media=values["media"],
                                            scheduled_at=form.schedule[post.account_id])
                if action == "submit" and post.status in services.SUBMITTABLE:
                    post = services.post_submit(actor=user, post=post)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            _add_error(form, exc, COMPOSE_FIELDS)
        else:
            _status_message(request, post)
            return redirect("content:post_detail", pk=post.pk)
    return _render_compose(request, form, post=post, file_errors=file_errors, status=400,
                           screening=_compose_screening(user, data.get("body"), post.account))


@login_required
@require_POST
def post_screen(request):
    """Screen the text being typed (htmx, debounced), without keeping a record: the hits highlighted
    in place with their explanations, and for a campaign draft how it differs from the template."""
    user = request.user
    body = one_newline(request.POST.get("body"))
    post = None
    account = None
    if (request.POST.get("post") or "").isdigit():
        post = posts_visible_to(user).select_related("account__brand", "account__dealer",
                                                               "account__owner").filter(pk=request.POST["post"]).first()
        if post is None:
            raise Http404
        account = post.account
    else:
        ids = [value for value in request.POST.getlist("accounts") if value.isdigit()]
        if ids:
            account = accounts_writable_by(user).select_related("brand").filter(pk=ids[0]).first()
    context = {"screening": None, "screen_error": ""}
    if body.strip():
        try:
            context["screening"] = screening_run(body, actor=user, account=account, source=Screening.Source.POST,
                                                 record=False)
        except DomainError as exc:
            context["screen_error"] = exc.message
    if post is not None and post.template_body:
        names = workflow.template_fields(post.template_body)
        defaults = services.campaign_fill_values(post.account)
        values = {name: request.POST.get(f"tpl_{name}", defaults.get(name, "")) for name in names}
        context.update(_template_state(post.template_body, body, values))
        context["template"] = post.template_body
        context["template_oob"] = True
    return render(request, "content/includes/screening_panel.html", context)


@login_required
@require_POST
def media_upload(request):
    """Upload files for the compose or campaign page (htmx): the stored ones come back as items to
    attach, each refused file with its reason."""
    user = request.user
    brand = None
    if (request.POST.get("post") or "").isdigit():
        post = posts_visible_to(user).select_related("account__brand").filter(pk=request.POST["post"]).first()
        brand = post.account.brand if post else None
    elif (request.POST.get("campaign") or "").isdigit():
        campaign = campaigns_visible_to(user).select_related("brand").filter(pk=request.POST["campaign"]).first()
        brand = campaign.brand if campaign else None
    elif (request.POST.get("brand") or "").isdigit():
        brand = brands_visible_to(user).filter(pk=request.POST["brand"]).first()
    else:
        ids = [value for value in request.POST.getlist("accounts") if value.isdigit()]
        account = accounts_writable_by(user).select_related("brand").filter(pk=ids[0]).first() if ids else None
        brand = account.brand if account else user.brand
    uploaded, file_errors = _upload(user, brand, request.FILES.getlist("files"))
    return render(request, "content/includes/media_upload_result.html",
                  {"uploaded": uploaded, "file_errors": file_errors})


# --- the post list ---------------------------------------------------------------------------


@login_required
def post_list(request):
    user = request.user
    brands = list(brands_visible_to(user).order_by("name"))
    platforms = list(Platform.objects.order_by("position", "name"))
    campaigns = selectors.post_filter_campaigns(user=user)
    wanted_campaign = request.GET.get("campaign", "")
    if wanted_campaign.isdigit() and all(str(c.pk) != wanted_campaign for c in campaigns):
        campaigns += list(campaigns_visible_to(user).filter(pk=wanted_campaign).only("id", "name"))
    author_choice = None
    wanted_author = request.GET.get("author", "")
    if wanted_author.isdigit():
        # Named only when the viewer can see a post of theirs (no looking people up by id).
        first = posts_visible_to(user).filter(author_id=wanted_author).select_related("author").first()
        author_choice = first.author if first else None
    form = PostFilterForm(request.GET or None, brands=brands, platforms=platforms, campaigns=campaigns,
                          author_choice=author_choice)
    filters = {}
    if form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        if filters.get("author") == "me":
            filters["author"] = user.pk
    elif request.GET:
        filters = {"none": True}
    page = selectors.post_page(user=user, filters=filters, after=request.GET.get("after"),
                               before=request.GET.get("before")) if "none" not in filters else None
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(request, "content/post_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "can_compose": accounts_writable_by(user).exists(),
    })


# --- one post --------------------------------------------------------------------------------


def _detail_post(user, pk):
    try:
        return selectors.post_detail(user=user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def _who_decides(step, post):
    if step.kind == StepKind.OWNER:
        return str(post.account.owner) if post.account.owner_id else _("the account owner")
    if step.kind == StepKind.GROUP:
        return step.group.name if step.group_id else _("a group")
    return Role(step.role).label if step.role in Role.values else step.role


def _render_detail(request, post, *, decision_form=None, status=200):
    user = request.user
    reviews = list(post.reviews.all())
    for review in reviews:
        for step in review.steps.all():
            step.who = _who_decides(step, post)
    active = next((r for r in reviews if r.status == "in_progress"), None)
    current_step = None
    if active is not None:
        current_step = next((s for s in active.steps.all() if s.status == StepStatus.IN_PROGRESS), None)
    may_decide = False
    if current_step is not None and post.status == PostStatus.IN_REVIEW:
        may_decide = workflow.user_may_decide(user, current_step, post) and not workflow.user_decided_earlier_step(
            user, current_step
        )
    if may_decide and decision_form is None:
        decision_form = DecisionForm(initial={"revision_sha256": active.revision.sha256})
    can_change = post_user_can(user, "change", post)
    can_cancel = post_user_can(user, "cancel", post)
    step_ids = [step.pk for review in reviews for step in review.steps.all()]
    revision = post.revision
    return render(request, "content/post_detail.html", {
        "post": post,
        "account": post.account,
        "attachments": list(post.attachments.all()),
        "revision": revision,
        "hits": (revision.screening or {}).get("hits", []) if revision else [],
        "body_changed_since_revision": revision is not None and revision.body != post.body,
        "revisions": selectors.post_revisions(post),
        "reviews": reviews,
        "active_review": active,
        "current_step": current_step,
        "decision_form": decision_form if may_decide else None,
        "events": selectors.post_audit_trail(post, step_ids=step_ids),
        "can_edit": can_change and post.status in services.EDITABLE,
        "can_submit": can_change and post.status in services.SUBMITTABLE,
        "can_cancel": can_cancel and post.status in services.CANCELLABLE,
        "can_retry": post.status in services.RETRYABLE and post_user_can(user, "retry", post),
        "attempts": list(post.publish_attempts.order_by("-number")[:20]),
    }, status=status)


@login_required
def post_detail(request, pk):
    return _render_detail(request, _detail_post(request.user, pk))


def _post_transition(request, pk, transition, on_success):
    """Run one transition service on a post the user sees: a refusal by permission is a 403, a
    refusal by rule a message; either way back to the post."""
    post = _detail_post(request.user, pk)
    try:
        post = transition(actor=request.user, post=post)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        on_success(post)
    return redirect("content:post_detail", pk=pk)


@login_required
@require_POST
def post_submit(request, pk):
    return _post_transition(request, pk, services.post_submit, lambda post: _status_message(request, post))


@login_required
@require_POST
def post_cancel(request, pk):
    reason = (request.POST.get("reason") or "")[:500]
    return _post_transition(
        request, pk, lambda **kwargs: services.post_cancel(reason=reason, **kwargs),
        lambda post: messages.success(request, _("The post is cancelled.")),
    )


@login_required
@require_POST
def post_retry(request, pk):
    return _post_transition(request, pk, services.post_retry,
                            lambda post: messages.success(request, _("The post will be sent again now.")))


@login_required
@require_POST
def post_decide(request, pk):
    """Approve or request changes on the step waiting for the viewer. The form carries the sha256 of
    the revision the reviewer read: if the author changed the post since, the decision is refused
    and the page shows the new revision."""
    user = request.user
    post = _detail_post(user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The decision could not be read; try again."))
        return redirect("content:post_detail", pk=pk)
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            services.post_approve(actor=user, post=post, comment=data["comment"],
                                  revision_sha256=data["revision_sha256"])
        else:
            services.post_request_changes(actor=user, post=post, comment=data["comment"],
                                          revision_sha256=data["revision_sha256"])
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        if exc.field == "comment":
            form.add_error("comment", exc.message)
            return _render_detail(request, post, decision_form=form, status=400)
        # Typically a stale page: show the post as it is now, with the comment kept, under a form
        # bound to the revision now in review.
        messages.error(request, exc.message)
        post = _detail_post(user, pk)
        active = next((r for r in post.reviews.all() if r.status == "in_progress"), None)
        fresh = DecisionForm(initial={"comment": data["comment"],
                                      "revision_sha256": active.revision.sha256 if active else ""})
        return _render_detail(request, post, decision_form=fresh, status=409)
    if data["decision"] == "approve":
        messages.success(request, _("Approved."))
    else:
        messages.success(request, _("Changes requested; the author is told."))
    return redirect("content:post_detail", pk=pk)


# --- campaigns -------------------------------------------------------------------------------


def _may_create_campaigns(user):
    return campaign_user_can(user, "create", brand=user.brand)


@login_required
def campaign_list(request):
    user = request.user
    page = selectors.campaign_page(user=user, number=request.GET.get("page"))
    return render(request, "content/campaign_list.html", {"page": page, "can_create": _may_create_campaigns(user)})


def _visible_campaign(user, pk):
    try:
        return selectors.campaign_detail(user=user, pk=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404 from exc


def _campaign_initial(campaign):
    brand_zone = campaign.brand.timezone
    target = campaign.target or {}
    return {
        "name": campaign.name, "brief": campaign.brief, "template_body": campaign.template_body,
        "media": list(campaign.media.all()),
        "tiers": target.get("tiers", []), "platforms": target.get("platforms", []),
        "regions": target.get("regions", []), "departments": target.get("departments", []),
        "window_start": utc_to_local(campaign.window_start, brand_zone),
        "window_end": utc_to_local(campaign.window_end, brand_zone),
    }


def _campaign_preview_context(user, *, brand, template, target):
    """Which fields the template has and the value each takes for a sample target account, and
    how many accounts the slice selects."""
    context = {"fields": workflow.template_fields(template), "template": template, "brand": brand}
    if brand is None:
        return context
    count, accounts = selectors.campaign_target_preview(Campaign(brand=brand, target=target), limit=1)
    context["target_count"] = count
    if accounts:
        sample = accounts[0]
        values = services.campaign_fill_values(sample)
        context.update({
            "sample": sample,
            "field_values": [(name, values.get(name)) for name in context["fields"]],
            "filled": workflow.template_fill(template, values),
        })
        context["unknown_fields"] = [name for name in context["fields"] if name not in values]
    return context


def _render_campaign_form(request, form, *, campaign=None, file_errors=(), status=200):
    brand = campaign.brand if campaign is not None else None
    if brand is None:
        value = form["brand"].value()
        brand = next((b for b in form.fields["brand"].queryset if str(b.pk) == str(value)), None)
    target = {}
    for key in ("tiers", "platforms", "regions", "departments"):
        value = form[key].value() or []
        if value:
            target[key] = [int(v) for v in value if str(v).isdigit()] if key == "departments" else list(value)
    preview = _campaign_preview_context(request.user, brand=brand, template=form["template_body"].value() or "",
                                        target=target)
    return render(request, "content/campaign_form.html", {
        "form": form, "campaign": campaign, "attached": form.media_objects(), "file_errors": file_errors,
        "brand": brand, **preview,
    }, status=status)


@login_required
def campaign_create(request):
    user = request.user
    if not _may_create_campaigns(user):
        raise PermissionDenied
    if request.method != "POST":
        return _render_campaign_form(request, CampaignForm(user=user))
    chosen = CampaignForm(request.POST, user=user).fields["brand"].queryset.filter(
        pk=request.POST.get("brand") if (request.POST.get("brand") or "").isdigit() else None
    ).first()
    data, file_errors = _with_uploads(request, chosen or user.brand)
    form = CampaignForm(data, user=user)
    if not file_errors and form.is_valid():
        values = form.cleaned_data
        try:
            campaign = services.campaign_create(
                actor=user, brand=values["brand"], name=values["name"], brief=values["brief"],
                template_body=values["template_body"], target=form.target(), media=values["media"],
                window_start=form.windows["window_start"], window_end=form.windows["window_end"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Campaign “%(name)s” saved as a draft.") % {"name": campaign.name})
            return redirect("content:campaign_detail", pk=campaign.pk)
    return _render_campaign_form(request, form, file_errors=file_errors, status=400)


def _edited_target(campaign, target):
    """The slice as the form sets it, keeping a list of named accounts (set through the API; the
    page has no field for it) rather than dropping it on save."""
    if (campaign.target or {}).get("accounts"):
        target["accounts"] = campaign.target["accounts"]
    return target


@login_required
def campaign_edit(request, pk):
    user = request.user
    campaign = _visible_campaign(user, pk)
    if not campaign_user_can(user, "change", campaign):
        raise PermissionDenied
    if request.method != "POST":
        return _render_campaign_form(request, CampaignForm(user=user, campaign=campaign,
                                                           initial=_campaign_initial(campaign)), campaign=campaign)
    data, file_errors = _with_uploads(request, campaign.brand)
    form = CampaignForm(data, user=user, campaign=campaign)
    if not file_errors and form.is_valid():
        values = form.cleaned_data
        try:
            services.campaign_update(
                actor=user, campaign=campaign, media=values["media"], name=values["name"], brief=values["brief"],
                template_body=values["template_body"], target=_edited_target(campaign, form.target()),
                window_start=form.windows["window_start"], window_end=form.windows["window_end"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("content:campaign_detail", pk=campaign.pk)
    return _render_campaign_form(request, form, campaign=campaign, file_errors=file_errors, status=400)


@login_required
@require_POST
def campaign_preview(request):
    """The template's fields and a sample account's values, and the target count (htmx)."""
    user = request.user
    campaign = None
    if (request.POST.get("campaign") or "").isdigit():
        campaign = _visible_campaign(user, request.POST["campaign"])
        if not campaign_user_can(user, "change", campaign):
            raise PermissionDenied
    elif not _may_create_campaigns(user):
        raise PermissionDenied
    form = CampaignForm(request.POST, user=user, campaign=campaign)
    form.is_valid()
    data = form.cleaned_data
    brand = campaign.brand if campaign is not None else data.get("brand")
    target = {key: list(data.get(key) or []) for key in ("tiers", "platforms", "regions", "departments")
              if data.get(key)}
    context = _campaign_preview_context(user, brand=brand, template=request.POST.get("template_body") or "",
                                        target=target)
    return render(request, "content/includes/campaign_preview.html", context)


def _render_campaign_detail(request, campaign, *, report=None):
    user = request.user
    count, accounts = selectors.campaign_target_preview(campaign)
    for account in accounts:
        operators = list(account.operators.all())
        account.assignee = account.owner if account.owner_id else (operators[0] if operators else None)
    sample_values = services.campaign_fill_values(accounts[0]) if accounts else {}
    fields = workflow.template_fields(campaign.template_body)
    counts, posts = selectors.campaign_posts(user=user, campaign=campaign)
    return render(request, "content/campaign_detail.html", {
        "campaign": campaign,
        "target_slice": selectors.campaign_target_labels(campaign),
        "template_parts": selectors.template_parts(campaign.template_body),
        "fields": [(name, sample_values.get(name)) for name in fields],
        "sample": accounts[0] if accounts else None,
        "target_count": count,
        "target_accounts": accounts,
        "status_counts": [(PostStatus(status).label, n) for status, n in counts.items() if status in PostStatus.values],
        "posts": posts,
        "report": report,
        "can_change": campaign_user_can(user, "change", campaign),
        "can_push": campaign_user_can(user, "push", campaign) and campaign.status != Campaign.Status.CLOSED,
    })


@login_required
def campaign_detail(request, pk):
    return _render_campaign_detail(request, _visible_campaign(request.user, pk))


@login_required
@require_POST
def campaign_push(request, pk):
    """Give each target account a draft; the page then lists what was created and what was skipped."""
    campaign = _visible_campaign(request.user, pk)
    try:
        report = services.campaign_push(actor=request.user, campaign=campaign)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("content:campaign_detail", pk=pk)
    messages.success(request, _("Pushed: %(created)d draft(s) created, %(skipped)d account(s) skipped.")
                     % {"created": len(report.created), "skipped": len(report.skipped)})
    return _render_campaign_detail(request, _visible_campaign(request.user, pk), report=report)
