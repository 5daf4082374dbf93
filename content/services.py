"""Writes to posts, campaigns and media, and the transitions of a post's review.

Every transition looks alike (see STYLE.md): in one transaction, lock the post's row, check that its
status is one the transition accepts, change it, write an audit event, and send notifications after
commit. Views, the API and tasks all call these functions.
"""

import hashlib
import mimetypes
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import workflow
from approvals.audit import audit_record, audit_record_many
from approvals.models import Review, ReviewStatus, ReviewStep, StepStatus
from approvals.services import screening_run
from config.errors import DomainError, PermissionDeniedError
from matrix.models import AccountStatus

from . import calendar as calendar_lib
from . import media as media_lib
from . import ratelimits
from .models import Campaign, Media, Notification, Post, PostMedia, PostStatus, Revision, content_sha256
from .policies import account_writable, campaign_user_can, post_user_can
from .text import weighted_length

EDITABLE = {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.BLOCKED, PostStatus.IN_REVIEW,
            PostStatus.SCHEDULED}
SUBMITTABLE = {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.BLOCKED}
CANCELLABLE = {PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.BLOCKED, PostStatus.IN_REVIEW,
               PostStatus.SCHEDULED}
BODY_MAX_LENGTH = 100_000


def post_snapshot(post, media_ids=None):
    if media_ids is None:
        media_ids = [m.pk for m in _media_list(post)] if post.pk else []
    return {
        "account_id": post.account_id,
        "status": post.status,
        "body_sha256": hashlib.sha256((post.body or "").encode()).hexdigest(),
        "media_ids": list(media_ids),
        "scheduled_at": post.scheduled_at,
        "campaign_id": post.campaign_id,
    }


# --- notifications -------------------------------------------------------------------------


def notify(users, *, kind, post=None, message):
    """Queue an in-app notification for each user and an email after commit."""
    notifications = Notification.objects.bulk_create(
        [Notification(user=user, kind=kind, post=post, message=message) for user in users]
    )
    if notifications:
        ids = [n.pk for n in notifications]

        def send():
            from .tasks import notifications_email

            notifications_email.delay(ids)

        transaction.on_commit(send)
    return notifications


def _notify_step(step, post):
    notify(
        workflow.step_reviewers(step), kind=Notification.Kind.SUBMITTED, post=post,
        message=_("%(account)s: a post waits for your review (%(step)s).") % {"account": post.account, "step": _(step.name)},
    )


def _post_people(post):
    people = {post.author}
    if post.account.owner_id and post.account.owner_id != post.author_id:
        people.add(post.account.owner)
    return [p for p in people if p.is_active]


# --- validation ----------------------------------------------------------------------------


def _check_body(account, body, *, field="body"):
    if body is None:
        body = ""
    if len(body) > BODY_MAX_LENGTH:
        raise DomainError(_("The text is too long."), field=field)
    limit = account.platform.text_limit
    length = weighted_length(account.platform.slug, body)
    if length > limit:
        raise DomainError(
            _("%(account)s: the text has %(length)d characters; %(platform)s allows %(limit)d.")
            % {"account": account, "length": length, "platform": account.platform, "limit": limit},
            field=field,
        )
    return body


def _check_time(scheduled_at, *, now):
    if scheduled_at is not None:
        if timezone.is_naive(scheduled_at):
            raise DomainError(_("Give the time with its time zone."), field="scheduled_at")
        if scheduled_at < now:
            raise DomainError(_("This time has already passed."), field="scheduled_at")
    return scheduled_at


def _check_campaign_window(post):
    if post.campaign_id and post.campaign.window_end and post.scheduled_at and not (
        (post.campaign.window_start is None or post.campaign.window_start <= post.scheduled_at)
        and post.scheduled_at <= post.campaign.window_end
    ):
        raise DomainError(_("The time is outside the campaign's window."), field="scheduled_at")


def _check_blocked_day(account, scheduled_at, *, field="scheduled_at"):
    """Refuse a time on a day the account's owner blocked (the date in the owner's own zone)."""
    day = calendar_lib.blocked_day_for(account, scheduled_at)
    if day is None:
        return
    message = _("%(owner)s blocked %(date)s: nothing may go out on their accounts that day. Choose another day.")
    if day.note:
        message = _("%(owner)s blocked %(date)s (%(note)s): nothing may go out on their accounts that day. "
                    "Choose another day.")
    raise DomainError(message % {"owner": day.owner, "date": day.date.isoformat(), "note": day.note},
                      field=field, code="blocked_day")


def _check_media(account, media, *, for_submit):
    rules = account.platform.media_rules or {}
    for item in media:
        if item.brand_id != account.brand_id:
            raise DomainError(_("This media file belongs to another brand."), field="media")
    media_lib.check_for_platform(account.platform, media)
    if for_submit and rules.get("requires_media") and not media:
        raise DomainError(
            _("%(platform)s posts need an image or a video.") % {"platform": account.platform}, field="media"
        )


def _check_account_open(account, *, field="account"):
    if account.status != AccountStatus.ACTIVE:
        if account.status == AccountStatus.PENDING:
            message = _("%(account)s is waiting for its owner's consent; nothing can be submitted for it yet.")
        elif account.status == AccountStatus.PAUSED:
            message = _("%(account)s is paused; nothing can be submitted for it.")
        else:
            message = _("%(account)s is archived.")
        raise DomainError(message % {"account": account}, field=field)


def _set_media(post, media):
    PostMedia.objects.filter(post=post).delete()
    PostMedia.objects.bulk_create([PostMedia(post=post, media=item, position=i) for i, item in enumerate(media)])


def _media_list(post):
    return [a.media for a in PostMedia.objects.filter(post=post).select_related("media").order_by("position")]


# --- posts ---------------------------------------------------------------------------------


@transaction.atomic
def post_create(*, actor, account, body, media=(), scheduled_at=None, campaign=None, template_body=""):
    """A draft for one account. Checks the account may be written by `actor` and the text fits."""
    if not account_writable(actor, account):
        raise PermissionDeniedError(_("You cannot write posts for %(account)s.") % {"account": account}, field="account")
    if account.status == AccountStatus.ARCHIVED:
        raise DomainError(_("%(account)s is archived.") % {"account": account}, field="account")
    body = _check_body(account, body)
    _check_time(scheduled_at, now=timezone.now())
    _check_blocked_day(account, scheduled_at)
    media = list(media)
    _check_media(account, media, for_submit=False)
    if campaign is not None and campaign.brand_id != account.brand_id:
        raise DomainError(_("The campaign belongs to another brand."), field="campaign")
    post = Post.objects.create(
        account=account, author=actor, body=body, scheduled_at=scheduled_at, campaign=campaign,
        template_body=template_body,
    )
    _set_media(post, media)
    audit_record(actor=actor, action="content.post.create", obj=post, after=post_snapshot(post, [m.pk for m in media]))
    return post


@transaction.atomic
def post_create_many(*, actor, accounts, body, media=(), scheduled_at=None, campaign=None, submit=False):
    """One post per account, all or none: the first account that refuses the text names itself.
    With `submit`, each post is submitted at once."""
    accounts = list(accounts)
    if not accounts:
        raise DomainError(_("Choose at least one account."), field="accounts")
    posts = [post_create(actor=actor, account=account, body=body, media=media, scheduled_at=scheduled_at,
                         campaign=campaign)
             for account in accounts]
    if submit:
        posts = [post_submit(actor=actor, post=post) for post in posts]
    return posts


def _lock(post):
    return Post.objects.select_for_update(of=("self",)).select_related("account__platform", "account__brand", "author").get(
        pk=post.pk
    )


@transaction.atomic
def post_update(*, actor, post, body=None, media=None, scheduled_at=..., campaign=...):
    """Change a post's text, media or time.

    Changing the text or media of a post in review or scheduled sends it back to review with a new
    revision (the old approval never applies to new content); a save that changes nothing does not,
    and neither does moving only its time."""
    post = _lock(post)
    if not post_user_can(actor, "change", post):
        raise PermissionDeniedError(_("You cannot change this post."))
    if post.status not in EDITABLE:
        raise DomainError(
            _("A post that is %(status)s can no longer be changed.") % {"status": post.get_status_display()},
            code="invalid_status",
        )
    now = timezone.now()
    before = post_snapshot(post)
    old_media = _media_list(post)
    new_body = post.body if body is None else _check_body(post.account, body)
    new_media = old_media if media is None else list(media)
    if media is not None:
        _check_media(post.account, new_media, for_submit=False)
    content_changed = new_body != post.body or [m.pk for m in new_media] != [m.pk for m in old_media]
    if scheduled_at is not ... and scheduled_at != post.scheduled_at:
        _check_time(scheduled_at, now=now)
        _check_blocked_day(post.account, scheduled_at)
        if post.status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED):
            ratelimits.check_schedule(post, scheduled_at)
        post.scheduled_at = scheduled_at
        if post.status == PostStatus.SCHEDULED and scheduled_at is None:
            # As at an approval without a time: as soon as possible. A scheduled post without a time
            # would never be due.
            post.scheduled_at = now
        if post.status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED):
            _check_campaign_window(post)  # checked at submission; a move must not escape it
    if campaign is not ... and campaign != post.campaign:
        if post.status not in SUBMITTABLE:
            raise DomainError(_("The campaign of a submitted post cannot change."), field="campaign")
        if campaign is not None and campaign.brand_id != post.account.brand_id:
            raise DomainError(_("The campaign belongs to another brand."), field="campaign")
        post.campaign = campaign
    post.body = new_body
    if media is not None and content_changed:
        _set_media(post, new_media)
    post.save()
    after = post_snapshot(post, [m.pk for m in new_media])
    if after != before:
        audit_record(actor=actor, action="content.post.update", obj=post, before=before, after=after)
    if content_changed and post.status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED):
        # The content under review or approved is no longer what would go out: end that review and
        # start a new one on a new revision.
        active = Review.objects.select_for_update().filter(post=post, status=ReviewStatus.IN_PROGRESS).first()
        if active is not None:
            workflow.review_cancel(active, now=now)
        previous = post.status
        post.status = PostStatus.DRAFT
        post.approved_revision = None
        post.approved_at = None
        post.save(update_fields=["status", "approved_revision", "approved_at", "updated_at"])
        audit_record(actor=actor, action="content.post.back_to_review", obj=post,
                     before={"status": previous}, after={"status": PostStatus.DRAFT})
        post = _submit_locked(actor=actor, post=post, now=now)
    return post


@dataclass
class SubmitOutcome:
    post: Post
    review: Review | None


def _new_revision(actor, post, now):
    media = _media_list(post)
    number = (post.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    media_data = [{"id": m.pk, "sha256": m.sha256, "name": m.original_name, "kind": m.kind} for m in media]
    revision = Revision.objects.create(
        post=post, number=number, body=post.body, media=media_data,
        sha256=content_sha256(post.body, [m["sha256"] for m in media_data]), created_by=actor,
    )
    if not (post.body or "").strip():
        # A photo or video post without words: nothing to screen, so nothing to hit.
        from approvals import engine

        revision.screening = {"decision": "pass", "hits": [], "policy_version": engine.current_version(),
                              "screening_id": None}
        revision.save(update_fields=["screening"])
        return revision
    screening = screening_run(post.body, actor=actor, account=post.account, source="post", subject=revision)
    revision.screening = {
        "decision": screening.decision, "hits": screening.hits, "policy_version": screening.policy_version,
        "screening_id": screening.pk,
    }
    revision.save(update_fields=["screening"])
    return revision


def _submit_locked(*, actor, post, now):
    account = post.account
    _check_account_open(account)
    if not (post.body or "").strip() and not PostMedia.objects.filter(post=post).exists():
        raise DomainError(_("Write a text or add media before submitting."), field="body")
    _check_body(account, post.body)
    _check_media(account, _media_list(post), for_submit=True)
    if post.scheduled_at is not None and post.scheduled_at < now:
        raise DomainError(_("The scheduled time has passed; choose a new one."), field="scheduled_at")
    _check_campaign_window(post)
    _check_blocked_day(account, post.scheduled_at)
    ratelimits.check_schedule(post, post.scheduled_at)
    revision = _new_revision(actor, post, now)
    before_status = post.status
    post.revision = revision
    post.submitted_at = now
    decision = revision.screening["decision"]
    if decision == "block":
        post.status = PostStatus.BLOCKED
        post.save(update_fields=["revision", "submitted_at", "status", "updated_at"])
        audit_record(actor=actor, action="content.post.blocked", obj=post, before={"status": before_status},
                     after={"status": post.status, "revision": revision.number, "sha256": revision.sha256,
                            "hits": [h["term"] for h in revision.screening["hits"] if h["severity"] == "block"]})
        notify([p for p in _post_people(post) if p.pk != actor.pk], kind=Notification.Kind.BLOCKED, post=post,
               message=_("%(account)s: screening blocked the post; edit it and submit again.") % {"account": account})
        return post
    template_unchanged = bool(post.template_body) and workflow.template_matches(post.template_body, post.body) and (
        not post.campaign_id or [m["sha256"] for m in revision.media]
        == [m.sha256 for m in post.campaign.media.order_by("id")]
    )
    review = workflow.review_start(post=post, revision=revision, now=now, template_unchanged=template_unchanged)
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["revision", "submitted_at", "status", "updated_at"])
    audit_record(actor=actor, action="content.post.submit", obj=post, before={"status": before_status},
                 after={"status": post.status, "revision": revision.number, "sha256": revision.sha256,
                        "decision": decision, "review_id": review.pk,
                        "template_unchanged": template_unchanged})
    if review.status == ReviewStatus.APPROVED:
        _approve_post(actor=None, post=post, review=review, now=now)
    else:
        step = workflow.review_current_step(review)
        if step is not None:
            _notify_step(step, post)
    return post


@transaction.atomic
def post_submit(*, actor, post):
    """Freeze the post into a revision, screen it and route it: `blocked` when screening blocks,
    `scheduled` when no human step is needed, else `in_review` with its first step started."""
    post = _lock(post)
    if not post_user_can(actor, "change", post):
        raise PermissionDeniedError(_("You cannot submit this post."))
    if post.status not in SUBMITTABLE:
        raise DomainError(
            _("A post that is %(status)s cannot be submitted.") % {"status": post.get_status_display()},
            code="invalid_status",
        )
    return _submit_locked(actor=actor, post=post, now=timezone.now())


def _approve_post(*, actor, post, review, now):
    post.status = PostStatus.SCHEDULED
    post.approved_revision = review.revision
    post.approved_at = now
    if post.scheduled_at is None:
        post.scheduled_at = now  # "as soon as approved"
    post.save(update_fields=["status", "approved_revision", "approved_at", "scheduled_at", "updated_at"])
    audit_record(actor=actor, action="content.post.approve", obj=post, before={"status": PostStatus.IN_REVIEW},
                 after={"status": post.status, "revision": review.revision.number, "sha256": review.revision.sha256,
                        "scheduled_at": post.scheduled_at, "automatic": actor is None})
    notify([p for p in _post_people(post) if actor is None or p.pk != actor.pk], kind=Notification.Kind.APPROVED,
           post=post, message=_("%(account)s: the post is approved and scheduled.") % {"account": post.account})


def _decide_prepare(actor, post, revision_sha256, step_id=None):
    post = _lock(post)
    if post.status != PostStatus.IN_REVIEW:
        raise DomainError(
            _("This post is %(status)s, not in review.") % {"status": post.get_status_display()}, code="invalid_status"
        )
    review = Review.objects.select_for_update(of=("self",)).select_related("revision", "workflow").get(
        post=post, status=ReviewStatus.IN_PROGRESS
    )
    if revision_sha256 and revision_sha256 != review.revision.sha256:
        # The author changed the post after the reviewer opened it: the decision was about other words.
        raise DomainError(
            _("The post changed after you opened it; review the new revision."), field="revision", code="stale"
        )
    step = workflow.review_current_step(review, lock=True)
    if step is None:
        raise DomainError(_("No step of this review is waiting."), code="invalid_status")
    if step_id is not None and step.pk != int(step_id):
        # Someone decided the step this person opened while they read it: this decision would
        # land on the next step, which they have not seen.
        raise DomainError(_("This step was decided meanwhile; nothing was changed."), field="step", code="stale")
    step.post = post
    if not workflow.user_may_decide(actor, step, post):
        if actor.pk == post.author_id:
            raise PermissionDeniedError(_("You cannot approve or reject your own post."))
        raise PermissionDeniedError(_("This step (%(step)s) is not yours to decide.") % {"step": _(step.name)})
    if workflow.user_decided_earlier_step(actor, step):
        raise PermissionDeniedError(_("You already approved an earlier step of this review; another person must decide this one."))
    return post, review, step


@transaction.atomic
def post_approve(*, actor, post, comment="", revision_sha256=None, step_id=None):
    """Approve the current step of the post's review. The decision is bound to the revision's
    sha256 (and, given `step_id`, to the step the reviewer opened); when it was the last step, the
    post is scheduled."""
    post, review, step = _decide_prepare(actor, post, revision_sha256, step_id)
    now = timezone.now()
    step.status = StepStatus.APPROVED
    step.decided_by = actor
    step.decided_at = now
    step.comment = comment or ""
    step.revision_sha256 = review.revision.sha256
    step.save(update_fields=["status", "decided_by", "decided_at", "comment", "revision_sha256"])
    audit_record(actor=actor, action="approvals.step.approve", obj=step, object_type="approvals.reviewstep",
                 after={"post_id": post.pk, "review_id": review.pk, "step": step.name, "comment": step.comment,
                        "revision": review.revision.number, "sha256": review.revision.sha256})
    next_step = workflow.review_advance(review, now=now)
    if next_step is None:
        _approve_post(actor=actor, post=post, review=review, now=now)
    else:
        _notify_step(next_step, post)
    return post


@transaction.atomic
def post_request_changes(*, actor, post, comment, revision_sha256=None, step_id=None):
    """Send the post back to its author with a comment saying what to change."""
    if not (comment or "").strip():
        raise DomainError(_("Say what needs to change."), field="comment")
    post, review, step = _decide_prepare(actor, post, revision_sha256, step_id)
    now = timezone.now()
    step.status = StepStatus.CHANGES_REQUESTED
    step.decided_by = actor
    step.decided_at = now
    step.comment = comment.strip()
    step.revision_sha256 = review.revision.sha256
    step.save(update_fields=["status", "decided_by", "decided_at", "comment", "revision_sha256"])
    ReviewStep.objects.filter(review=review, status=StepStatus.WAITING).update(status=StepStatus.CANCELLED)
    review.status = ReviewStatus.CHANGES_REQUESTED
    review.finished_at = now
    review.save(update_fields=["status", "finished_at"])
    post.status = PostStatus.CHANGES_REQUESTED
    post.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="content.post.request_changes", obj=post, before={"status": PostStatus.IN_REVIEW},
                 after={"status": post.status, "step": step.name, "comment": step.comment,
                        "revision": review.revision.number, "sha256": review.revision.sha256})
    notify([p for p in _post_people(post) if p.pk != actor.pk], kind=Notification.Kind.CHANGES_REQUESTED, post=post,
           message=_("%(account)s: changes requested — %(comment)s") % {"account": post.account, "comment": step.comment})
    return post


@transaction.atomic
def post_cancel(*, actor, post, reason=""):
    """Withdraw a post at any time before it starts publishing."""
    post = _lock(post)
    if not post_user_can(actor, "cancel", post):
        raise PermissionDeniedError(_("You cannot cancel this post."))
    if post.status not in CANCELLABLE:
        raise DomainError(
            _("A post that is %(status)s cannot be cancelled.") % {"status": post.get_status_display()},
            code="invalid_status",
        )
    now = timezone.now()
    active = Review.objects.select_for_update().filter(post=post, status=ReviewStatus.IN_PROGRESS).first()
    if active is not None:
        workflow.review_cancel(active, now=now)
    before = post.status
    post.status = PostStatus.CANCELLED
    post.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="content.post.cancel", obj=post, before={"status": before},
                 after={"status": post.status, "reason": reason})
    return post


@transaction.atomic
def posts_bulk_approve(*, actor, posts, comment=""):
    """Approve each post's current step where `actor` may and the post has no screening hits.
    Returns (approved, refused) where refused pairs a post with the reason."""
    approved, refused = [], []
    for post in posts:
        if not post.revision_id:
            # Never submitted: nothing was shown to approve (and no revision to bind a decision to).
            refused.append((post, _("This post has not been submitted.")))
            continue
        hits = post.revision.screening.get("hits") or []
        if hits:
            refused.append((post, _("It has screening hits; review it on its own.")))
            continue
        try:
            with transaction.atomic():
                approved.append(post_approve(actor=actor, post=post, comment=comment,
                                             revision_sha256=post.revision.sha256))
        except DomainError as exc:
            refused.append((post, exc.message))
    return approved, refused


# --- media ---------------------------------------------------------------------------------


@transaction.atomic
def media_upload(*, actor, brand, file):
    """Store an uploaded image or video after checking its type, size and dimensions."""
    if not actor.is_admin and actor.brand_id not in (None, brand.pk):
        raise PermissionDeniedError(_("You cannot upload media for this brand."))
    info = media_lib.inspect(file)
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    media = Media(
        brand=brand, file=file, kind=info.kind, content_type=info.content_type or mimetypes.guess_type(file.name)[0] or "",
        size=file.size, width=info.width, height=info.height, duration_seconds=info.duration_seconds,
        sha256=digest.hexdigest(), original_name=(file.name or "")[:255], uploaded_by=actor,
    )
    media.save()
    audit_record(actor=actor, action="content.media.upload", obj=media,
                 after={"name": media.original_name, "kind": media.kind, "size": media.size, "sha256": media.sha256})
    return media


# --- campaigns -----------------------------------------------------------------------------

CAMPAIGN_FIELDS = ["brand_id", "name", "brief", "template_body", "target", "window_start", "window_end", "status"]


def campaign_snapshot(campaign):
    return {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}


def _check_campaign(campaign):
    from django.core.exceptions import ValidationError

    from matrix.services import _validation_to_domain

    try:
        campaign.full_clean(exclude=["created_by", "media"])
    except ValidationError as exc:
        raise _validation_to_domain(exc, model=Campaign) from exc
    unknown = set(campaign.target) - {"tiers", "platforms", "regions", "departments", "accounts"}
    if unknown:
        raise DomainError(_("Unknown target keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}, field="target")


@transaction.atomic
def campaign_create(*, actor, brand, name, brief="", template_body="", target=None, window_start=None,
                    window_end=None, media=()):
    """A campaign draft: a brief, a suggested text with `{fields}`, media and a target slice."""
    if not campaign_user_can(actor, "create", brand=brand):
        raise PermissionDeniedError(_("You cannot create campaigns for this brand."))
    campaign = Campaign(brand=brand, name=(name or "").strip(), brief=brief, template_body=template_body,
                        target=target or {}, window_start=window_start, window_end=window_end, created_by=actor)
    _check_campaign(campaign)
    campaign.save()
    if media:
        campaign.media.set(media)
    audit_record(actor=actor, action="content.campaign.create", obj=campaign, after=campaign_snapshot(campaign))
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign, media=None, **changes):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign_user_can(actor, "change", campaign):
        raise PermissionDeniedError(_("You cannot change this campaign."))
    before = campaign_snapshot(campaign)
    for name, value in changes.items():
        if name not in {"name", "brief", "template_body", "target", "window_start", "window_end"}:
            raise DomainError(_("“%(name)s” cannot be changed.") % {"name": name}, field=name)
        setattr(campaign, name, value)
    _check_campaign(campaign)
    campaign.save()
    if media is not None:
        campaign.media.set(media)
    after = campaign_snapshot(campaign)
    if after != before:
        audit_record(actor=actor, action="content.campaign.update", obj=campaign, before=before, after=after)
    return campaign


def campaign_target_accounts(campaign):
    """The active accounts of the campaign's brand that its target slice selects."""
    from matrix.models import SocialAccount

    target = campaign.target or {}
    queryset = SocialAccount.objects.filter(brand_id=campaign.brand_id, status=AccountStatus.ACTIVE)
    if target.get("accounts"):
        queryset = queryset.filter(pk__in=target["accounts"])
    if target.get("tiers"):
        queryset = queryset.filter(tier__in=target["tiers"])
    if target.get("platforms"):
        queryset = queryset.filter(platform__slug__in=target["platforms"])
    if target.get("regions"):
        queryset = queryset.filter(dealer__region__in=target["regions"])
    if target.get("departments"):
        queryset = queryset.filter(department_id__in=target["departments"])
    return queryset.select_related("dealer", "owner", "platform", "department").prefetch_related("operators")


def campaign_fill_values(account):
    """The values a campaign template's fields take for one account."""
    dealer = account.dealer
    return {
        "dealer_name": dealer.name if dealer else "",
        "dealer_code": dealer.code if dealer else "",
        "city": dealer.city if dealer else "",
        "region": dealer.region if dealer else "",
        "account_name": account.display_name or account.handle,
        "handle": account.handle,
        "owner_name": account.owner.get_full_name() if account.owner_id else "",
        "brand": account.brand.name,
    }


@dataclass
class PushReport:
    created: list
    skipped: list  # (account, reason)


@transaction.atomic
def campaign_push(*, actor, campaign):
    """Give each target account's owner (or first operator) a draft filled from the template.
    Accounts that already have a post of this campaign, or nobody to adapt it, are skipped."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign_user_can(actor, "push", campaign):
        raise PermissionDeniedError(_("You cannot push this campaign."))
    if campaign.status == Campaign.Status.CLOSED:
        raise DomainError(_("This campaign is closed."), code="invalid_status")
    if not campaign.template_body.strip():
        raise DomainError(_("Write the suggested text before pushing the campaign."), field="template_body")
    already = set(campaign.posts.exclude(status=PostStatus.CANCELLED).values_list("account_id", flat=True))
    media = list(campaign.media.order_by("id"))
    created, skipped = [], []
    for account in campaign_target_accounts(campaign):
        if account.pk in already:
            skipped.append((account, _("already has a draft of this campaign")))
            continue
        assignee = account.owner if account.owner_id else next(iter(account.operators.all()), None)
        if assignee is None or not assignee.is_active or assignee.offboarded_at:
            skipped.append((account, _("nobody owns or operates this account")))
            continue
        body = workflow.template_fill(campaign.template_body, campaign_fill_values(account))
        try:
            _check_body(account, body)
        except DomainError as exc:
            skipped.append((account, exc.message))
            continue
        post = Post.objects.create(account=account, author=assignee, body=body, campaign=campaign,
                                   template_body=campaign.template_body)
        _set_media(post, media)
        created.append(post)
        notify([assignee], kind=Notification.Kind.CAMPAIGN, post=post,
               message=_("Campaign “%(campaign)s”: a draft for %(account)s is ready for you to adapt and submit.")
               % {"campaign": campaign.name, "account": account})
    # Each draft has its own creation event, as a post written by hand has.
    audit_record_many(actor=actor, events=[
        {"action": "content.post.create", "obj": post,
         "after": {**post_snapshot(post, [m.pk for m in media]), "author_id": post.author_id}}
        for post in created
    ])
    before = campaign.status
    campaign.status = Campaign.Status.PUSHED
    campaign.pushed_at = timezone.now()
    campaign.save(update_fields=["status", "pushed_at"])
    audit_record(actor=actor, action="content.campaign.push", obj=campaign, before={"status": before},
                 after={"status": campaign.status, "created": [p.pk for p in created],
                        "skipped": [[a.pk, str(reason)] for a, reason in skipped]})
    return PushReport(created=created, skipped=skipped)


@transaction.atomic
def notification_mark_read(*, user, ids=None):
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())


# --- pauses (crisis mode) ------------------------------------------------------------------


def pause_snapshot(pause):
    return {
        "brand_id": pause.brand_id, "scope": pause.scope, "value": pause.value, "reason": pause.reason,
        "starts_at": pause.starts_at, "until": pause.until, "lifted_at": pause.lifted_at,
        "lift_reason": pause.lift_reason,
    }


def _check_pause_value(brand, scope, value):
    """The value a scope needs: a tier slug, a platform slug, a region among the brand's dealers, or
    the id of one of the brand's accounts; nothing for the whole brand."""
    from matrix.models import Dealer, Platform, SocialAccount, Tier

    from .models import PauseScope

    value = (value or "").strip()
    if scope not in PauseScope.values:
        raise DomainError(_("Choose a scope: brand, tier, platform, region or account."), field="scope")
    if scope == PauseScope.BRAND:
        if value:
            raise DomainError(_("A brand-wide pause takes no value."), field="value")
        return ""
    if not value:
        raise DomainError(_("Say which %(scope)s to pause.") % {"scope": PauseScope(scope).label.lower()},
                          field="value")
    if scope == PauseScope.TIER and value not in Tier.values:
        raise DomainError(_("“%(value)s” is not a tier (%(tiers)s).") % {"value": value, "tiers": ", ".join(Tier.values)},
                          field="value")
    if scope == PauseScope.PLATFORM and not Platform.objects.filter(slug=value).exists():
        raise DomainError(_("“%(value)s” is not a platform.") % {"value": value}, field="value")
    if scope == PauseScope.REGION and not Dealer.objects.filter(brand=brand, region=value).exists():
        raise DomainError(_("%(brand)s has no dealer in the region “%(value)s”.") % {"brand": brand, "value": value},
                          field="value")
    if scope == PauseScope.ACCOUNT:
        if not value.isdigit() or not SocialAccount.objects.filter(pk=int(value), brand=brand).exists():
            raise DomainError(_("%(brand)s has no account with id %(value)s.") % {"brand": brand, "value": value},
                              field="value")
        value = str(int(value))
    return value


def _pause_people(brand):
    """Who hears of a pause: the brand's marketers and the admins (of the brand, or of no brand)."""
    from django.db.models import Q

    from accounts.models import Role, User

    return User.objects.filter(is_active=True, offboarded_at__isnull=True).filter(
        Q(role=Role.MARKETER, brand=brand)
        | ((Q(role=Role.ADMIN) | Q(is_superuser=True)) & (Q(brand=brand) | Q(brand__isnull=True)))
    )


@transaction.atomic
def pause_create(*, actor, brand, scope, value="", reason, until=None):
    """Stop publishing on the accounts of `brand` that the scope covers, until lifted or `until`.

    Posts the pause covers are held, not failed (the dispatcher asks `content.pauses` at claim and
    send time); nothing is changed on the posts themselves, so lifting simply releases them."""
    from .models import Pause
    from .pauses import with_labels
    from .policies import pause_user_can

    if not pause_user_can(actor, "create", brand=brand):
        raise PermissionDeniedError(_("You cannot pause publishing for %(brand)s.") % {"brand": brand})
    value = _check_pause_value(brand, scope, value)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why publishing is paused."), field="reason")
    now = timezone.now()
    if until is not None:
        if timezone.is_naive(until):
            raise DomainError(_("Give the time with its time zone."), field="until")
        if until <= now:
            raise DomainError(_("The end of a pause must be in the future."), field="until")
    pause = Pause.objects.create(brand=brand, scope=scope, value=value, reason=reason, starts_at=now, until=until,
                                 created_by=actor)
    audit_record(actor=actor, action="content.pause.create", obj=pause, after=pause_snapshot(pause))
    labelled = with_labels(Pause.objects.filter(pk=pause.pk)).get()
    notify([person for person in _pause_people(brand) if person.pk != actor.pk], kind=Notification.Kind.PAUSE,
           message=_("Publishing is paused for %(subject)s (%(brand)s): %(reason)s")
           % {"subject": labelled.subject, "brand": brand, "reason": reason})
    return pause


@transaction.atomic
def pause_lift(*, actor, pause, reason=""):
    """End a pause now: the posts it held go out (or, past their missed window, fail) as the
    dispatcher finds them. A pause already lifted, or past its `until`, is refused."""
    from .models import Pause
    from .policies import pause_user_can

    pause = Pause.objects.select_for_update().get(pk=pause.pk)
    if not pause_user_can(actor, "lift", pause):
        raise PermissionDeniedError(_("You cannot lift this pause."))
    now = timezone.now()
    if pause.lifted_at is not None:
        raise DomainError(_("This pause was already lifted."), code="invalid_status")
    if pause.until is not None and pause.until <= now:
        raise DomainError(_("This pause already ended on its own."), code="invalid_status")
    before = pause_snapshot(pause)
    pause.lifted_at = now
    pause.lifted_by = actor
    pause.lift_reason = (reason or "").strip()
    pause.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit_record(actor=actor, action="content.pause.lift", obj=pause, before=before, after=pause_snapshot(pause))
    return pause


def pauses_expire(now=None):
    """Write one system audit event for each pause whose `until` passed without a lift.

    The pause was already inactive from `until` on (the selectors compare times); this only records
    the end. Each pause is claimed with a conditional update, so two runs at once, or a redelivered
    task, record it once. Returns the number recorded."""
    from .models import Pause

    now = now or timezone.now()
    recorded = 0
    due = Pause.objects.filter(lifted_at__isnull=True, until__lte=now, expired_recorded_at__isnull=True)
    for pause in due.order_by("until", "id"):
        with transaction.atomic():
            claimed = Pause.objects.filter(pk=pause.pk, lifted_at__isnull=True,
                                           expired_recorded_at__isnull=True).update(expired_recorded_at=now)
            if not claimed:
                continue  # someone else recorded it, or it was lifted meanwhile
            audit_record(actor=None, action="content.pause.expire", obj=pause,
                         after={"until": pause.until, "scope": pause.scope, "value": pause.value})
            recorded += 1
    return recorded


# --- publishing by hand (assisted publisher) -----------------------------------------------

# Assisted posts wait in `publishing` from the hand-over until someone confirms them; a post still
# `scheduled` may be confirmed too, by someone who posted it a little early.
CONFIRMABLE = {PostStatus.PUBLISHING, PostStatus.SCHEDULED}
LIVE_URL_MAX_LENGTH = 500


def _check_live_url(url):
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = (url or "").strip()
    if not url:
        raise DomainError(_("Give the live URL of the post."), field="url")
    if len(url) > LIVE_URL_MAX_LENGTH:
        raise DomainError(_("The URL is too long (at most %(max)d characters).") % {"max": LIVE_URL_MAX_LENGTH},
                          field="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise DomainError(_("Give the post's address, starting with https:// or http://."), field="url") from exc
    return url


@transaction.atomic
def post_confirm_published(*, actor, post, url):
    """Someone posted an assisted post by hand: record its live URL and mark it published.

    Only the account's owner and operators, the brand's marketers and admins may; only a post of an
    account published by hand, waiting for its confirmation (or still scheduled)."""
    from matrix.models import Publisher

    post = _lock(post)
    if not post_user_can(actor, "confirm_published", post):
        raise PermissionDeniedError(_("You cannot confirm that this post was published."))
    if post.account.publisher != Publisher.ASSISTED:
        raise DomainError(_("%(account)s publishes by itself; its posts are not confirmed by hand.")
                          % {"account": post.account}, code="invalid_status")
    if post.status not in CONFIRMABLE:
        raise DomainError(
            _("A post that is %(status)s cannot be confirmed as published.") % {"status": post.get_status_display()},
            code="invalid_status",
        )
    url = _check_live_url(url)
    before = {"status": post.status, "url": post.url, "external_id": post.external_id}
    post.status = PostStatus.PUBLISHED
    post.url = url
    post.external_id = ""
    post.last_error = ""
    post.save(update_fields=["status", "url", "external_id", "last_error", "updated_at"])
    audit_record(actor=actor, action="content.post.confirm_published", obj=post, before=before,
                 after={"status": post.status, "url": url, "external_id": "",
                        "revision": post.approved_revision.number if post.approved_revision_id else None})
    notify([p for p in _post_people(post) if p.pk != actor.pk], kind=Notification.Kind.PUBLISHED, post=post,
           message=_("%(account)s: the post is live at %(url)s") % {"account": post.account, "url": url})
    return post


# --- publishing ----------------------------------------------------------------------------

RETRYABLE = {PostStatus.FAILED, PostStatus.NEEDS_REVIEW}


@transaction.atomic
def post_retry(*, actor, post):
    """Send a failed (or needs-review) post again, as approved: it goes back to `scheduled`, due now.
    For a post that needed review, the marketer has checked that it is not live."""
    post = _lock(post)
    if not post_user_can(actor, "retry", post):
        raise PermissionDeniedError(_("Only a marketer of the brand or an admin can retry a post."))
    if post.status not in RETRYABLE:
        raise DomainError(
            _("A post that is %(status)s cannot be retried.") % {"status": post.get_status_display()},
            code="invalid_status",
        )
    if post.approved_revision_id is None or post.approved_revision_id != post.revision_id:
        raise DomainError(_("This post has no approved revision to send; submit it for review."), code="invalid_status")
    _check_account_open(post.account)
    now = timezone.now()
    before = {"status": post.status, "last_error": post.last_error, "attempts": post.attempts}
    post.status = PostStatus.SCHEDULED
    post.scheduled_at = now
    post.next_attempt_at = None
    post.attempts = 0
    post.reminded_at = None
    post.handed_over_at = None
    post.lease_token = None
    post.lease_expires_at = None
    post.sending_started_at = None
    post.save()
    audit_record(actor=actor, action="content.post.retry", obj=post, before=before,
                 after={"status": post.status, "scheduled_at": now})
    return post


# --- calendars -----------------------------------------------------------------------------


def _when(instant, tz_name):
    """An instant as the account's clock shows it, with the zone named, for messages."""
    return "%s (%s)" % (instant.astimezone(calendar_lib.zone(tz_name)).strftime("%Y-%m-%d %H:%M"), tz_name)


def _refuse_if_held(post, instant, now):
    """The rules a new time must pass, each refusal with its own code (the calendar names it)."""
    account = post.account
    if instant < now:
        raise DomainError(_("%(time)s has already passed; choose a time in the future.")
                          % {"time": _when(instant, account.timezone)}, field="scheduled_at", code="past")
    if calendar_lib.repeated_hour(instant, calendar_lib.zone(account.timezone)):
        raise DomainError(
            _("%(time)s happens twice in %(zone)s, the time zone of %(account)s (the clocks go back that night), "
              "so its audience could read it as either of two moments. Choose a time outside that hour.")
            % {"account": account, "time": instant.astimezone(calendar_lib.zone(account.timezone)).strftime(
                "%Y-%m-%d %H:%M"), "zone": account.timezone},
            field="scheduled_at", code="ambiguous_time",
        )
    _check_blocked_day(account, instant)
    pause = calendar_lib.pause_holding(account, instant, now)
    if pause is not None:
        if pause.until is None:
            message = _("Publishing is paused for %(subject)s until the pause is lifted (reason: %(reason)s). Ask a "
                        "marketer to lift it, or keep the post where it is.")
        else:
            message = _("Publishing is paused for %(subject)s until %(until)s (reason: %(reason)s). Choose a time "
                        "after the pause ends.")
        raise DomainError(message % {"subject": pause.subject, "reason": pause.reason,
                                     "until": _when(pause.until, account.timezone) if pause.until else ""},
                          field="scheduled_at", code="paused")
    campaign = post.campaign
    if campaign is not None and (
        (campaign.window_start is not None and instant < campaign.window_start)
        or (campaign.window_end is not None and instant > campaign.window_end)
    ):
        opens = _when(campaign.window_start, account.timezone) if campaign.window_start else "—"
        closes = _when(campaign.window_end, account.timezone) if campaign.window_end else "—"
        raise DomainError(
            _("The campaign “%(campaign)s” runs from %(opens)s to %(closes)s; choose a time inside its window.")
            % {"campaign": campaign.name, "opens": opens, "closes": closes},
            field="scheduled_at", code="campaign_window",
        )
    if post.status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED):
        try:
            ratelimits.check_schedule(post, instant)
        except DomainError as exc:
            raise DomainError(exc.message, field="scheduled_at", code="rate_limit") from exc


@transaction.atomic
def post_reschedule(*, actor, post, scheduled_at=None, local=None, tz_name=None):
    """Move a post to another time, and change nothing else: its text, revisions, approval and status
    stay as they are, so an approved post stays approved (the approval is bound to the content).

    The time is either an instant (`scheduled_at`, aware) or a wall-clock time `local` in the zone
    `tz_name` — what the person dropped the post on in the calendar — which is refused when it falls
    in a DST gap or overlap there. Refusals carry a code: not_reschedulable, nonexistent_time,
    ambiguous_time (also when the instant falls in the hour the account's own clock shows twice),
    past, blocked_day, paused, campaign_window, rate_limit."""
    from .forms import local_to_utc

    post = (Post.objects.select_for_update(of=("self",))
            .select_related("account__platform", "account__brand", "account__dealer", "campaign")
            .get(pk=post.pk))
    if not post_user_can(actor, "change", post):
        raise PermissionDeniedError(_("You cannot move this post."))
    if post.status not in calendar_lib.RESCHEDULABLE:
        raise DomainError(
            _("A post that is %(status)s can no longer be moved.") % {"status": post.get_status_display()},
            field="scheduled_at", code="not_reschedulable",
        )
    if local is not None:
        instant = local_to_utc(local, tz_name)
    elif scheduled_at is not None and not timezone.is_naive(scheduled_at):
        instant = scheduled_at
    else:
        raise DomainError(_("Give the new time with its time zone."), field="scheduled_at")
    now = timezone.now()
    _refuse_if_held(post, instant, now)
    if instant == post.scheduled_at:
        return post
    before = {"scheduled_at": post.scheduled_at, "status": post.status, "next_attempt_at": post.next_attempt_at}
    post.scheduled_at = instant
    # A retry or a rate-limit wait was computed for the old time; the new time decides now.
    post.next_attempt_at = None
    post.save(update_fields=["scheduled_at", "next_attempt_at", "updated_at"])
    audit_record(actor=actor, action="content.post.reschedule", obj=post, before=before,
                 after={"scheduled_at": post.scheduled_at, "status": post.status,
                        "local": local.isoformat() if local is not None else None, "timezone": tz_name})
    return post


def blocked_day_snapshot(day):
    return {"owner_id": day.owner_id, "date": day.date, "note": day.note}


@transaction.atomic
def blocked_day_create(*, actor, date, note="", owner=None):
    """Block a day for `owner` (oneself; an admin may name anyone): nothing may be scheduled on their
    accounts that day, in their own zone. Posts already there stay (the answer lists them as
    conflicts to move); a day already past is refused."""
    from django.db import IntegrityError

    from .models import BlockedDay

    owner = owner or actor
    if not calendar_lib.blocked_day_user_can(actor, "create", owner=owner):
        raise PermissionDeniedError(_("You can block only your own days."))
    note = (note or "").strip()
    note_max = BlockedDay._meta.get_field("note").max_length
    if len(note) > note_max:
        raise DomainError(_("The note has at most %(max)d characters.") % {"max": note_max}, field="note")
    today = timezone.now().astimezone(calendar_lib.zone(owner.timezone)).date()
    if date < today:
        raise DomainError(_("%(date)s has already passed.") % {"date": date.isoformat()}, field="date")
    if BlockedDay.objects.filter(owner=owner, date=date).exists():
        raise DomainError(_("%(date)s is already blocked.") % {"date": date.isoformat()}, field="date",
                          code="duplicate")
    try:
        with transaction.atomic():
            day = BlockedDay.objects.create(owner=owner, date=date, note=note, created_by=actor)
    except IntegrityError as exc:  # the same day blocked at the same moment in another request
        raise DomainError(_("%(date)s is already blocked.") % {"date": date.isoformat()}, field="date",
                          code="duplicate") from exc
    audit_record(actor=actor, action="calendar.blocked_day.create", obj=day, after=blocked_day_snapshot(day))
    return day


@transaction.atomic
def blocked_day_delete(*, actor, day):
    """Unblock a day (its owner, or an admin)."""
    from .models import BlockedDay

    day = BlockedDay.objects.select_for_update().get(pk=day.pk)
    if not calendar_lib.blocked_day_user_can(actor, "delete", day):
        raise PermissionDeniedError(_("Only the person who owns this day, or an admin, can unblock it."))
    before = blocked_day_snapshot(day)
    audit_record(actor=actor, action="calendar.blocked_day.delete", obj=day, before=before)
    day.delete()


def _lock_person(user):
    # Feeds are created, rotated and revoked under the person's row lock: two requests at once
    # would otherwise both create a live feed (the partial unique constraint would refuse one).
    from accounts.models import User

    return User.objects.select_for_update().get(pk=user.pk)


def _feed_language(language):
    """One of LANGUAGES for the feed: `language`, else the one active now (the request's)."""
    from django.conf import settings
    from django.utils import translation

    try:
        return translation.get_supported_language_variant(language or translation.get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def _new_feed(user, language):
    import secrets

    from .models import CalendarFeed

    return CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32), language=language)


@transaction.atomic
def calendar_feed_get(*, actor, language=None):
    """The person's live ICS feed, created on first use. The token is the secret: it is never
    written to the audit log, only the feed's id. The feed follows the language the person reads
    the link in (`language`, default the active one): a calendar program's request cannot say."""
    from .models import CalendarFeed

    _lock_person(actor)
    language = _feed_language(language)
    feed = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).first()
    if feed is None:
        feed = _new_feed(actor, language)
        audit_record(actor=actor, action="calendar.feed.create", obj=feed, after={"feed_id": feed.pk})
    elif feed.language != language:
        feed.language = language
        feed.save(update_fields=["language"])
    return feed


@transaction.atomic
def calendar_feed_rotate(*, actor, language=None):
    """Revoke the person's feed URL and give them a new one (the old one answers 404 from now on),
    in `language` (default the active one)."""
    from .models import CalendarFeed

    _lock_person(actor)
    now = timezone.now()
    old = list(CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).values_list("pk", flat=True))
    CalendarFeed.objects.filter(pk__in=old).update(revoked_at=now)
    feed = _new_feed(actor, _feed_language(language))
    audit_record(actor=actor, action="calendar.feed.rotate", obj=feed, before={"feed_ids": old},
                 after={"feed_id": feed.pk})
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor):
    """Revoke the person's feed URL; nothing is created until they ask for one again. Returns
    whether there was one."""
    from .models import CalendarFeed

    _lock_person(actor)
    old = list(CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).values_list("pk", flat=True))
    if not old:
        return False
    CalendarFeed.objects.filter(pk__in=old).update(revoked_at=timezone.now())
    audit_record(actor=actor, action="calendar.feed.revoke", object_type="content.calendarfeed",
                 object_id=old[0], before={"feed_ids": old})
    return True
