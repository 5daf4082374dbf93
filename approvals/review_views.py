"""Pages of the review queue, the review of one post, notifications and the audit log.

Reads go through `approvals.selectors`, every change through a service (`content.services` for
decisions and notifications, `approvals.audit` for the audit log). A service's
`PermissionDeniedError` answers 403; any other `DomainError` is shown as a message.
"""

import csv
import json
from datetime import UTC, datetime, time
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from config.errors import DomainError, PermissionDeniedError
from content import selectors as content_selectors
from content import services as content_services
from content.models import Campaign, Notification
from content.policies import campaigns_visible_to, post_user_can
from matrix.models import Brand, Tier

from . import selectors, workflow
from .audit import audit_record, audit_verify
from .models import AuditEvent, StepKind, StepStatus

# --- forms --------------------------------------------------------------------------------

CATEGORY_LABELS = {
    "ad_law": gettext_lazy("Advertising Law"),
    "finance": gettext_lazy("Financial promises"),
    "pii": gettext_lazy("Personal data"),
    "profanity": gettext_lazy("Profanity"),
    "workplace": gettext_lazy("Workplace"),
    "platform": gettext_lazy("Platform rules"),
    "confidential": gettext_lazy("Confidential"),
    "competitor": gettext_lazy("Competitors"),
}


class QueueFilterForm(forms.Form):
    """The queue's filters; the same query string travels to each review page and back, so "next"
    stays within the filtered queue."""

    tier = forms.ChoiceField(label=gettext_lazy("Tier"), required=False,
                             choices=[("", gettext_lazy("All tiers")), *Tier.choices])
    category = forms.ChoiceField(label=gettext_lazy("Screening category"), required=False)
    campaign = forms.ModelChoiceField(label=gettext_lazy("Campaign"), required=False, queryset=Campaign.objects.none(),
                                      empty_label=gettext_lazy("All campaigns"))
    brand = forms.ModelChoiceField(label=gettext_lazy("Brand"), required=False, queryset=Brand.objects.none(),
                                   empty_label=gettext_lazy("All brands"))
    scope = forms.ChoiceField(label=gettext_lazy("Show"), required=False, choices=[
        ("", gettext_lazy("Waiting for me")), ("all", gettext_lazy("Everything waiting")),
    ])

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.fields["category"].choices = [("", gettext_lazy("All categories"))] + [
            (slug, CATEGORY_LABELS.get(slug, slug)) for slug in selectors.queue_categories(user=user)
        ]
        self.fields["campaign"].queryset = (
            campaigns_visible_to(user).exclude(status=Campaign.Status.DRAFT).order_by("-created_at", "-id")
        )
        if user.is_admin:
            self.fields["brand"].queryset = Brand.objects.order_by("name")
        else:
            del self.fields["brand"]
            del self.fields["scope"]

    def filters(self):
        """The selector's filters (empty when the form is invalid: the whole queue)."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


def _queue_filters(request, source):
    """(filters, query string) of the queue filters found in `source` (GET, or a form's hidden
    `filters` field)."""
    if not source:
        return {}, ""
    form = QueueFilterForm(source, user=request.user)
    filters = form.filters()
    query = urlencode({name: getattr(value, "pk", value) for name, value in filters.items()})
    return filters, query


def _with_query(url, query):
    return f"{url}?{query}" if query else url


class DecisionForm(forms.Form):
    # The sha256 of the revision the reviewer saw: the service refuses the decision if the post
    # changed since (a decision is bound to the words it was made on).
    revision_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    filters = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args, comment_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        if comment_required:
            self.fields["comment"].required = True
            self.fields["comment"].label = _("What needs to change")
            self.fields["comment"].error_messages["required"] = _("Say what needs to change.")


# --- who may see a step -------------------------------------------------------------------


def _visible_step(user, pk):
    """The step, when `user` may decide it or may see its post; otherwise 404 (a step of a post
    one may not see does not exist for them)."""
    step = selectors.review_step_detail(pk=pk)
    if step is None:
        raise Http404
    if not (workflow.user_may_decide(user, step, step.post) or post_user_can(user, "view", step.post)):
        raise Http404
    return step


def _may_decide(user, step):
    return workflow.user_may_decide(user, step, step.post) and not workflow.user_decided_earlier_step(user, step)


def _forbidden(request, exc):
    return render(request, "review/forbidden.html", {"message": exc.message}, status=403)


# --- the queue ----------------------------------------------------------------------------


@login_required
@require_GET
def queue(request):
    form = QueueFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    query = urlencode({name: getattr(value, "pk", value) for name, value in filters.items()})
    page = selectors.review_queue_page(
        user=request.user, filters=filters, after=request.GET.get("after"), before=request.GET.get("before"),
    )
    now = timezone.now()
    rows = [_queue_row(step, now) for step in page.rows]
    return render(request, "review/queue.html", {
        "form": form, "page": page, "rows": rows, "query": query,
        "count_limit": selectors.QUEUE_COUNT_LIMIT,
        "any_approvable": any(row["approvable"] for row in rows),
    })


def _queue_row(step, now):
    revision = step.review.revision
    hits = revision.screening.get("hits") or []
    return {
        "step": step,
        "post": step.post,
        "account": step.post.account,
        "revision": revision,
        "hits": hits,
        "decision": revision.screening.get("decision", "pass"),
        "excerpt": _excerpt(revision.body, hits),
        "waiting": now - step.started_at if step.started_at else None,
        "overdue": bool(step.due_at and step.due_at < now),
        # Bulk approval only for what has nothing to look at; the service checks again.
        "approvable": step.mine and not hits,
    }


def _excerpt(text, hits):
    from .templatetags.screening import excerpt

    return excerpt(text, hits, radius=90)


@login_required
@require_POST
def queue_bulk_approve(request):
    """Approve the checked queue rows that have no screening hits; report each one refused."""
    filters, query = _queue_filters(request, QueryDict(request.POST.get("filters", "")))
    back = _with_query(reverse("review:queue"), query)
    ids = [int(value) for value in request.POST.getlist("step")[:200] if value.isdigit()]
    if not ids:
        messages.warning(request, _("Tick the posts to approve first."))
        return redirect(back)
    # Only steps still waiting for this person; each is approved on the revision its review is
    # about, the one the queue showed (an edit since then makes the service refuse it as stale).
    steps = list(selectors.review_queue(user=request.user).filter(pk__in=ids))
    posts = []
    for step in steps:
        post = step.post
        post.revision = step.review.revision
        posts.append(post)
    missing = len(set(ids)) - len(steps)
    approved, refused = content_services.posts_bulk_approve(actor=request.user, posts=posts)
    if approved:
        messages.success(request, _("Approved %(count)d post(s).") % {"count": len(approved)})
    for post, reason in refused:
        messages.error(request, _("Not approved: %(account)s (post #%(post)s): %(reason)s") % {
            "account": post.account, "post": post.pk, "reason": reason,
        })
    if missing:
        messages.warning(request, _("%(count)d post(s) no longer wait for you (decided or changed meanwhile).")
                         % {"count": missing})
    return redirect(back)


# --- the review of one post ---------------------------------------------------------------

def _diffs(post, revision):
    """What the reviewer compares the text with: the campaign template filled in (as the compose
    page fills it: the values the text holds, else the account's), and the revision submitted before.
    Pieces come from `content.selectors.text_diff` and are escaped by content/includes/diff.html."""
    diffs = []
    if post.template_body:
        template = post.template_body
        names = workflow.template_fields(template)
        defaults = content_services.campaign_fill_values(post.account)
        current = content_selectors.template_values(template, revision.body) or {}
        values = {name: current.get(name, defaults.get(name, "")) for name in names}
        pieces = content_selectors.text_diff(workflow.template_fill(template, values), revision.body)
        diffs.append({
            "key": "template", "title": _("Against the campaign template"), "pieces": pieces,
            "changed": any(kind != "equal" for kind, _text in pieces),
            "fields": [(name, values[name]) for name in names],
        })
    previous = selectors.revision_before(revision)
    if previous is not None:
        pieces = content_selectors.text_diff(previous.body, revision.body)
        diffs.append({
            "key": "previous", "title": _("Against revision %(number)d") % {"number": previous.number},
            "pieces": pieces, "changed": any(kind != "equal" for kind, _text in pieces),
            "media_changed": previous.media != revision.media,
        })
    return diffs


def _review_context(request, step, *, filters, query, approve_form=None, changes_form=None):
    post = step.post
    revision = step.review.revision
    previous, following = selectors.review_queue_neighbours(user=request.user, filters=filters, step=step)
    may_decide = step.status == StepStatus.IN_PROGRESS and _may_decide(request.user, step)
    hits = revision.screening.get("hits") or []
    initial = {"revision_sha256": revision.sha256, "filters": query}
    return {
        "step": step, "post": post, "account": post.account, "revision": revision, "hits": hits,
        "decision": revision.screening.get("decision", "pass"),
        "is_current": post.revision_id == revision.pk,
        "diffs": _diffs(post, revision),
        "media": selectors.revision_media(revision),
        "history": [_with_waiting_for(item) for item in selectors.review_history(post=post)],
        "previous_step": previous, "next_step": following, "query": query,
        "may_decide": may_decide,
        "approve_form": approve_form or DecisionForm(initial=initial, prefix="approve"),
        "changes_form": changes_form or DecisionForm(initial=initial, prefix="changes", comment_required=True),
        "overdue": bool(step.status == StepStatus.IN_PROGRESS and step.due_at and step.due_at < timezone.now()),
    }


def _with_waiting_for(step):
    """Label who decides a step (for the history's undecided steps)."""
    if step.kind == StepKind.OWNER:
        step.waiting_for = _("the account owner")
    elif step.kind == StepKind.GROUP:
        step.waiting_for = step.group.name if step.group_id and step.group else _("a group")
    else:
        step.waiting_for = Role(step.role).label if step.role in Role.values else step.role
    return step


@login_required
@require_GET
def review_detail(request, pk):
    step = _visible_step(request.user, pk)
    filters, query = _queue_filters(request, request.GET)
    return render(request, "review/review.html", _review_context(request, step, filters=filters, query=query))


@login_required
@require_GET
def post_review(request, post_pk):
    """The review page of a post: its step in progress, else its latest one."""
    from content.models import Post

    post = get_object_or_404(Post, pk=post_pk)
    step = selectors.post_current_step(post=post)
    if step is None:
        if not post_user_can(request.user, "view", post):
            raise Http404
        messages.info(request, _("This post has not been through review yet."))
        return redirect("review:queue")
    _visible_step(request.user, step.pk)
    return redirect("review:detail", pk=step.pk)


@login_required
@require_POST
def review_approve(request, pk):
    return _decide(request, pk, approve=True)


@login_required
@require_POST
def review_request_changes(request, pk):
    return _decide(request, pk, approve=False)


def _decide(request, pk, *, approve):
    step = _visible_step(request.user, pk)
    post = step.post
    form = DecisionForm(request.POST, prefix="approve" if approve else "changes", comment_required=not approve)
    query = (request.POST.get(form.add_prefix("filters")) or "")[:2000]
    filters, query = _queue_filters(request, QueryDict(query))
    if not form.is_valid():
        context = _review_context(request, step, filters=filters, query=query,
                                  **{"approve_form" if approve else "changes_form": form})
        return render(request, "review/review.html", context, status=400)
    seen = form.cleaned_data["revision_sha256"]
    if step.status != StepStatus.IN_PROGRESS and post.revision_id == step.review.revision_id \
            and seen == step.review.revision.sha256:
        # Same words, but someone else decided this step meanwhile: deciding now would decide
        # the next step, which this person has not opened.
        messages.warning(request, _("This step was decided meanwhile (%(status)s); nothing was changed.")
                         % {"status": step.get_status_display()})
        return redirect(_with_query(reverse("review:detail", args=[step.pk]), query))
    try:
        if approve:
            content_services.post_approve(actor=request.user, post=post, comment=form.cleaned_data["comment"],
                                          revision_sha256=seen, step_id=step.pk)
        else:
            content_services.post_request_changes(actor=request.user, post=post, comment=form.cleaned_data["comment"],
                                                  revision_sha256=seen, step_id=step.pk)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        # A stale decision: show the post as it is now (its new review, if it has one).
        current = selectors.post_current_step(post=post) if exc.code == "stale" else step
        return redirect(_with_query(reverse("review:detail", args=[(current or step).pk]), query))
    if approve:
        messages.success(request, _("Approved: %(account)s.") % {"account": post.account})
    else:
        messages.success(request, _("Changes requested: %(account)s.") % {"account": post.account})
    following = selectors.review_queue_next(user=request.user, filters=filters, after_step=step)
    if following is None:
        messages.info(request, _("Nothing else waits for you."))
        return redirect(_with_query(reverse("review:queue"), query))
    return redirect(_with_query(reverse("review:detail", args=[following.pk]), query))


# --- notifications ------------------------------------------------------------------------

# Notifications that ask the person to decide go to the review page; the others (about one's own
# post: approved, changes requested, blocked, a campaign draft) to the post's page.
REVIEWER_KINDS = {Notification.Kind.SUBMITTED, Notification.Kind.REMINDER, Notification.Kind.ESCALATED}


def notification_target(notification):
    if notification.post_id is None:
        return None
    if notification.kind in REVIEWER_KINDS:
        return reverse("review:post", args=[notification.post_id])
    return reverse("content:post_detail", args=[notification.post_id])


@login_required
@require_GET
def notifications(request):
    page = selectors.notification_inbox_page(user=request.user, number=request.GET.get("page") or 1)
    rows = [{"notification": n, "url": notification_target(n)} for n in page.object_list]
    unread = selectors.notifications_unread_count(user=request.user)
    request._unread_notification_count = unread  # the navigation's count (review_nav) is this one
    return render(request, "review/notifications.html", {"page": page, "rows": rows, "unread": unread})


def _own_notification(request, pk):
    return get_object_or_404(Notification, pk=pk, user_id=request.user.pk)


@login_required
@require_POST
def notification_open(request, pk):
    """Mark a notification read and go to what it is about."""
    notification = _own_notification(request, pk)
    content_services.notification_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification_target(notification) or reverse("review:notifications"))


@login_required
@require_POST
def notification_read(request, pk):
    notification = _own_notification(request, pk)
    content_services.notification_mark_read(user=request.user, ids=[notification.pk])
    if request.htmx:
        notification.refresh_from_db()
        return render(request, "review/includes/notification_row.html", {
            "row": {"notification": notification, "url": notification_target(notification)},
            "unread": selectors.notifications_unread_count(user=request.user), "oob_count": True,
        })
    return redirect("review:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    count = content_services.notification_mark_read(user=request.user)
    messages.success(request, _("%(count)d notification(s) marked read.") % {"count": count})
    return redirect("review:notifications")


# --- the audit log ------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    object = forms.RegexField(
        label=gettext_lazy("Object"), required=False, max_length=150, regex=r"^[a-z_]+\.[a-z_]+(:[\w-]{1,64})?$",
        help_text=gettext_lazy("type:id, for example content.post:42"),
        error_messages={"invalid": gettext_lazy("Write the object as type:id, for example content.post:42.")},
        widget=forms.TextInput(attrs={"placeholder": "content.post:42"}),
    )
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False, max_length=150,
                            help_text=gettext_lazy("A username, or “system”."))
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=80,
                             help_text=gettext_lazy("An action or its beginning, for example content.post"),
                             widget=forms.TextInput(attrs={"placeholder": "content.post.approve"}))
    since = forms.DateField(label=gettext_lazy("Since"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self):
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        filters = {"actor": data["actor"].strip(), "action": data["action"].strip()}
        if data["object"]:
            object_type, _sep, object_id = data["object"].partition(":")
            filters.update(object_type=object_type, object_id=object_id)
        if data["since"]:
            # The start of that day where the reader is (the middleware activated their zone).
            filters["since"] = datetime.combine(data["since"], time.min, tzinfo=timezone.get_current_timezone())
        return {name: value for name, value in filters.items() if value not in (None, "")}

    def query(self):
        if not self.is_valid():
            return ""
        return urlencode({name: value for name, value in self.data.items() if name in self.fields and value})


def _require_audit(user, action="view"):
    if not selectors.audit_user_can(user, action):
        raise PermissionDenied


def _int_or_none(value):
    return int(value) if value and str(value).isdigit() else None


@login_required
@require_GET
def audit_log(request):
    _require_audit(request.user)
    form = AuditFilterForm(request.GET or None)
    page = selectors.audit_page(
        user=request.user, filters=form.filters(),
        before=_int_or_none(request.GET.get("before")), after=_int_or_none(request.GET.get("after")),
    )
    for event in page.events:
        event.before_json, event.after_json = _pretty_json(event.before), _pretty_json(event.after)
    return render(request, "review/audit.html", {
        "form": form, "page": page, "query": form.query(),
        "can_verify": selectors.audit_user_can(request.user, "verify"),
    })


def _pretty_json(value):
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, indent=2)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value):
        return value


EXPORT_COLUMNS = ["id", "time_utc", "actor", "action", "object_type", "object_id", "object", "before", "after",
                  "hash", "prev_hash"]


def _cell(value):
    # A cell starting with = + - @ is a formula to Excel: prefix a quote so an object's name
    # cannot run anything on the auditor's machine.
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _json_cell(value):
    return "" if value is None else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def export_lines(events):
    writer = csv.writer(_Echo())
    # The byte order mark makes Excel read the file as UTF-8 (Chinese names and comments).
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    for event in events:
        yield writer.writerow([
            event.pk,
            event.created_at.astimezone(UTC).isoformat(),
            _cell(event.actor_label or (event.actor.get_username() if event.actor_id else "system")),
            _cell(event.action), _cell(event.object_type), _cell(event.object_id), _cell(event.object_repr),
            _json_cell(event.before), _json_cell(event.after), event.hash, event.prev_hash,
        ])


@login_required
@require_POST
def audit_export(request):
    """The filtered events as CSV, streamed. The export is itself an audit event, written before
    the first row; the file holds the events up to the one before it."""
    _require_audit(request.user)
    form = AuditFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Fix the filters before exporting."))
        return redirect("review:audit")
    filters = form.filters()
    up_to_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    audit_record(
        actor=request.user, action="approvals.audit.export", object_type="approvals.auditevent", object_id="",
        after={"filters": {name: form.data.get(name, "") for name in form.fields if form.data.get(name)},
               "up_to_id": up_to_id, "scope": "all" if request.user.is_admin else "brand"},
    )
    events = selectors.audit_export_rows(user=request.user, filters=filters, up_to_id=up_to_id)
    response = StreamingHttpResponse(export_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@login_required
@require_POST
def audit_verify_chain(request):
    """Walk the whole chain (admins) and show whether any event was edited or deleted."""
    _require_audit(request.user, "verify")
    problems = audit_verify()
    context = {"problems": problems, "checked": AuditEvent.objects.count(), "verified_at": timezone.now()}
    template = "review/includes/audit_verify_result.html" if request.htmx else "review/audit_verify.html"
    return render(request, template, context)
