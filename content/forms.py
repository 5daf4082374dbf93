"""Forms of the post and campaign pages. They read what a person typed; the services decide.

Times are typed as a wall clock (`<input type="datetime-local">`) in the zone of the account (posts)
or the brand (campaigns), never in the viewer's zone, and converted with `local_to_utc`.
"""

import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from matrix.models import Brand, Dealer, Department, Platform, Tier
from matrix.policies import brands_visible_to
from matrix.timezones import timezone_choices

from .models import Campaign, Media, PostMedia, PostStatus
from .policies import campaign_user_can
from .services import BODY_MAX_LENGTH

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def one_newline(text):
    """Browsers send a textarea's line breaks as CRLF; the API and templates use LF. Stored text uses
    LF, so a campaign template typed in one place still matches a post typed in another, and a line
    break counts as one character, as the page's counter shows it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def local_to_utc(naive, tz_name, *, field="scheduled_at"):
    """The instant a wall-clock time in `tz_name` stands for, in UTC.

    A time the clocks skip (the spring-forward gap) or show twice (the autumn overlap) is refused,
    not shifted: publishing an hour early or late under the company's name is worse than asking
    the person which moment they mean."""
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise DomainError(_("“%(zone)s” is not a time zone.") % {"zone": tz_name}, field=field) from exc
    naive = naive.replace(tzinfo=None)
    earlier = naive.replace(tzinfo=tz, fold=0)
    later = naive.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        shown = naive.strftime("%Y-%m-%d %H:%M")
        # In a gap, the time read with either offset comes back as another wall-clock time.
        if earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise DomainError(
                _("%(time)s does not exist in %(zone)s: the clocks jump forward over it for daylight saving "
                  "time. Choose another time.") % {"time": shown, "zone": tz_name},
                field=field, code="nonexistent_time",
            )
        raise DomainError(
            _("%(time)s happens twice in %(zone)s: the clocks go back for daylight saving time, so it could "
              "mean two moments an hour apart. Choose a time outside that hour.") % {"time": shown, "zone": tz_name},
            field=field, code="ambiguous_time",
        )
    return earlier.astimezone(UTC)


def utc_to_local(value, tz_name):
    """`value` as a wall-clock time (naive) in `tz_name`, for a datetime-local input."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(tz_name)).replace(tzinfo=None)


class WallClockField(forms.DateTimeField):
    """A date and time as a clock shows it, without a zone. Django's own field would read it in the
    viewer's zone; whose zone it is in is the page's decision (see `local_to_utc`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.DateTimeInput(format=DATETIME_LOCAL_FORMAT, attrs={"type": "datetime-local"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            result = parse_datetime(value.strip())
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if result is None:
            result = forms.BaseTemporalField.to_python(self, value)
        if result.tzinfo is not None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return result


class MediaOrderField(forms.Field):
    """Media ids in the order the person arranged them (one `media` value per attached file)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for item in values:
            try:
                pk = int(item)
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("Unknown media file."), code="invalid") from exc
            if pk not in ids:
                ids.append(pk)
        return ids


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the page uploads each and reports each one's error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,video/mp4,video/quicktime"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


def usable_media(user, *, post=None, campaign=None):
    """The media a person may attach: what they uploaded, and what the post or campaign they are
    editing already carries (a campaign's images on a dealer's draft)."""
    allowed = Q(uploaded_by=user)
    if post is not None and post.pk:
        allowed |= Q(pk__in=PostMedia.objects.filter(post=post).values("media_id"))
    if campaign is not None and campaign.pk:
        allowed |= Q(pk__in=Campaign.media.through.objects.filter(campaign_id=campaign.pk).values("media_id"))
    return Media.objects.filter(allowed)


class _MediaFormMixin:
    def _init_media(self, user, *, post=None, campaign=None):
        self._media_user, self._media_post, self._media_campaign = user, post, campaign
        self._media_objects = None

    def media_objects(self):
        """The attached media in order, read from the submitted ids (also when the form is invalid,
        so an error never loses an upload)."""
        if self._media_objects is None:
            if self.is_bound:
                try:
                    ids = self.fields["media"].to_python(self.data.getlist("media") if hasattr(self.data, "getlist")
                                                         else self.data.get("media"))
                except ValidationError:
                    ids = []
            else:
                ids = [m.pk for m in self.initial.get("media", [])]
            found = usable_media(self._media_user, post=self._media_post, campaign=self._media_campaign).in_bulk(ids)
            self._media_objects = [found[pk] for pk in ids if pk in found]
        return self._media_objects

    def clean_media(self):
        ids = self.cleaned_data.get("media") or []
        objects = self.media_objects()
        if len(objects) != len(ids):
            raise ValidationError(_("One of the media files is not available to you; upload it again."))
        return objects


ZONE_EACH = "account"
ZONE_ONE = "zone"


class ComposeForm(_MediaFormMixin, forms.Form):
    """Write one text for one account or many (each gets its own post), or edit one post.

    `accounts` are the ones the person may write for (already read, in display order); with `post`,
    the account is the post's and cannot change."""

    accounts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Accounts"), queryset=None, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one account.")},
    )
    body = forms.CharField(
        label=gettext_lazy("Text"), required=False, strip=False, max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    media = MediaOrderField(label=gettext_lazy("Media"), required=False)
    files = MultipleFileField(label=gettext_lazy("Add images or a video"), required=False)
    scheduled_at = WallClockField(
        label=gettext_lazy("Publish at"), required=False,
        help_text=gettext_lazy("Leave empty to publish as soon as it is approved."),
    )
    zone_mode = forms.ChoiceField(
        label=gettext_lazy("The time is"), required=False, initial=ZONE_EACH, widget=forms.RadioSelect,
        choices=[(ZONE_EACH, gettext_lazy("in each account's own time zone")),
                 (ZONE_ONE, gettext_lazy("in one time zone for all"))],
    )
    timezone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False, choices=timezone_choices)
    # The quick selector (without JavaScript, its button adds the matching accounts).
    pick_tier = forms.ChoiceField(label=gettext_lazy("Tier"), required=False)
    pick_platform = forms.ChoiceField(label=gettext_lazy("Platform"), required=False)
    pick_region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    pick_department = forms.ChoiceField(label=gettext_lazy("Department"), required=False)

    def __init__(self, *args, user, accounts=(), account_queryset=None, post=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.post = post
        self.account_rows = list(accounts)
        self._init_media(user, post=post)
        self.fields["body"].widget.attrs.update({
            "hx-post": reverse_lazy("content:post_screen"),
            "hx-trigger": "keyup changed delay:400ms, paste delay:400ms, cut delay:400ms, refill",
            "hx-target": "#screening-result", "hx-swap": "outerHTML", "hx-sync": "this:replace",
            "data-compose-body": "",
        })
        if post is not None:
            for name in ("accounts", "zone_mode", "timezone", "pick_tier", "pick_platform", "pick_region",
                         "pick_department"):
                del self.fields[name]
            return
        self.fields["accounts"].queryset = account_queryset
        self.fields["timezone"].initial = user.timezone
        rows = self.account_rows
        self.fields["pick_tier"].choices = [("", _("Any tier"))] + [
            (value, label) for value, label in Tier.choices if any(a.tier == value for a in rows)
        ]
        platforms = {a.platform.slug: a.platform for a in rows}
        self.fields["pick_platform"].choices = [("", _("Any platform"))] + [
            (slug, platform.name) for slug, platform in sorted(platforms.items(), key=lambda i: i[1].position)
        ]
        regions = sorted({a.dealer.region for a in rows if a.dealer_id and a.dealer.region})
        self.fields["pick_region"].choices = [("", _("Any region"))] + [(r, r) for r in regions]
        departments = {a.department_id: a.department for a in rows if a.department_id}
        self.fields["pick_department"].choices = [("", _("Any department"))] + [
            (str(pk), d.name) for pk, d in sorted(departments.items(), key=lambda i: i[1].name)
        ]

    def clean_body(self):
        return one_newline(self.cleaned_data.get("body"))

    def picked_accounts(self):
        """The accounts the quick selector's current choice matches (for the button without JavaScript)."""
        tier = self.data.get("pick_tier") or ""
        platform = self.data.get("pick_platform") or ""
        region = self.data.get("pick_region") or ""
        department = self.data.get("pick_department") or ""
        return [
            a for a in self.account_rows
            if (not tier or a.tier == tier) and (not platform or a.platform.slug == platform)
            and (not region or (a.dealer_id and a.dealer.region == region))
            and (not department or str(a.department_id) == department)
        ]

    def selected_ids(self):
        """The ids of the accounts ticked, as submitted (also on an invalid form)."""
        if self.post is not None:
            return [self.post.account_id]
        if not self.is_bound:
            return [a.pk for a in self.initial.get("accounts", [])]
        ids = []
        for value in self.data.getlist("accounts"):
            if value.isdigit() and int(value) not in ids:
                ids.append(int(value))
        return ids

    def clean(self):
        data = super().clean()
        naive = data.get("scheduled_at")
        self.schedule = {}  # account pk -> the UTC instant (or None: as soon as approved)
        if self.post is not None:
            accounts = [self.post.account]
        else:
            chosen = data.get("accounts")
            # In the order the page lists them, so the first account to refuse is the first shown.
            order = {a.pk: i for i, a in enumerate(self.account_rows)}
            accounts = sorted(chosen, key=lambda a: order.get(a.pk, len(order))) if chosen is not None else []
            data["accounts"] = accounts
        if naive is None:
            self.schedule = {a.pk: None for a in accounts}
            return data
        try:
            if self.post is None and data.get("zone_mode") == ZONE_ONE:
                zone = data.get("timezone") or self.user.timezone
                instant = local_to_utc(naive, zone)
                self.schedule = {a.pk: instant for a in accounts}
            else:
                by_zone = {}
                for account in accounts:
                    if account.timezone not in by_zone:
                        by_zone[account.timezone] = local_to_utc(naive, account.timezone)
                    self.schedule[account.pk] = by_zone[account.timezone]
        except DomainError as exc:
            self.add_error("scheduled_at", exc.message)
        return data


class PostFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Text contains"), required=False, max_length=200)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), required=False)
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), required=False)
    brand = forms.ChoiceField(label=gettext_lazy("Brand"), required=False)
    campaign = forms.ChoiceField(label=gettext_lazy("Campaign"), required=False)
    author = forms.ChoiceField(label=gettext_lazy("Author"), required=False)
    scheduled_from = forms.DateField(
        label=gettext_lazy("Scheduled from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scheduled_to = forms.DateField(
        label=gettext_lazy("Scheduled until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, brands=(), platforms=(), campaigns=(), author_choice=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses"))] + list(PostStatus.choices)
        self.fields["tier"].choices = [("", _("All tiers"))] + list(Tier.choices)
        self.fields["platform"].choices = [("", _("All platforms"))] + [(str(p.pk), p.name) for p in platforms]
        self.fields["brand"].choices = [("", _("All brands"))] + [(str(b.pk), b.name) for b in brands]
        if len(brands) <= 1:
            self.fields["brand"].widget = forms.HiddenInput()
        self.fields["campaign"].choices = [("", _("Any campaign"))] + [(str(c.pk), c.name) for c in campaigns]
        self.fields["author"].choices = [("", _("Anyone")), ("me", _("Me"))] + (
            [(str(author_choice.pk), str(author_choice))] if author_choice is not None else []
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("scheduled_from"), data.get("scheduled_to")
        if start and end and end < start:
            self.add_error("scheduled_to", _("The end of the range is before its start."))
        return data


class CampaignForm(_MediaFormMixin, forms.Form):
    """A campaign's brief, suggested text, media, target slice and window (in the brand's zone)."""

    brand = forms.ModelChoiceField(label=gettext_lazy("Brand"), queryset=Brand.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=160)
    brief = forms.CharField(
        label=gettext_lazy("Brief"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What the campaign is about, for the people adapting it."),
    )
    template_body = forms.CharField(
        label=gettext_lazy("Suggested text"), required=False, strip=False, max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Write {dealer_name}, {city}, {region}, {account_name}, {owner_name}… where each "
                               "account's own value goes; the rest of the text is locked wording."),
    )
    media = MediaOrderField(label=gettext_lazy("Media"), required=False)
    files = MultipleFileField(label=gettext_lazy("Add images or a video"), required=False)
    tiers = forms.MultipleChoiceField(label=gettext_lazy("Tiers"), required=False, choices=Tier.choices,
                                      widget=forms.CheckboxSelectMultiple)
    platforms = forms.MultipleChoiceField(label=gettext_lazy("Platforms"), required=False,
                                          widget=forms.CheckboxSelectMultiple)
    regions = forms.MultipleChoiceField(label=gettext_lazy("Dealer regions"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    departments = forms.TypedMultipleChoiceField(label=gettext_lazy("Departments"), required=False, coerce=int,
                                                 widget=forms.CheckboxSelectMultiple)
    window_start = WallClockField(label=gettext_lazy("Window opens"), required=False)
    window_end = WallClockField(label=gettext_lazy("Window closes"), required=False)

    def __init__(self, *args, user, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.campaign = campaign
        self._init_media(user, campaign=campaign)
        preview = {
            "hx-post": reverse_lazy("content:campaign_preview"), "hx-target": "#campaign-preview",
            "hx-swap": "outerHTML", "hx-sync": "closest form:replace",
        }
        self.fields["template_body"].widget.attrs.update({**preview, "hx-trigger": "keyup changed delay:400ms"})
        for name in ("tiers", "platforms", "regions", "departments"):
            self.fields[name].widget.attrs.update({**preview, "hx-trigger": "change"})
        if campaign is not None:
            del self.fields["brand"]
            brand_ids = [campaign.brand_id]
        else:
            allowed = [b.pk for b in brands_visible_to(user) if campaign_user_can(user, "create", brand=b)]
            self.fields["brand"].queryset = Brand.objects.filter(pk__in=allowed).order_by("name")
            self.fields["brand"].widget.attrs.update({**preview, "hx-trigger": "change"})
            if user.brand_id in allowed:
                self.fields["brand"].initial = user.brand_id
            brand_ids = allowed
        self.fields["platforms"].choices = [(p.slug, p.name) for p in Platform.objects.order_by("position", "name")]
        self.fields["regions"].choices = [
            (r, r) for r in Dealer.objects.filter(brand_id__in=brand_ids).exclude(region="")
            .values_list("region", flat=True).distinct().order_by("region")
        ]
        self.fields["departments"].choices = [
            (d.pk, d.name) for d in Department.objects.filter(brand_id__in=brand_ids).order_by("name")
        ]

    def clean_brief(self):
        return one_newline(self.cleaned_data.get("brief"))

    def clean_template_body(self):
        return one_newline(self.cleaned_data.get("template_body"))

    def the_brand(self):
        if self.campaign is not None:
            return self.campaign.brand
        return self.cleaned_data.get("brand")

    def target(self):
        data = self.cleaned_data
        return {key: list(data[key]) for key in ("tiers", "platforms", "regions", "departments") if data.get(key)}

    def clean(self):
        data = super().clean()
        brand = self.the_brand()
        self.windows = {}
        for name in ("window_start", "window_end"):
            naive = data.get(name)
            if naive is None or brand is None:
                self.windows[name] = None
                continue
            try:
                self.windows[name] = local_to_utc(naive, brand.timezone, field=name)
            except DomainError as exc:
                self.add_error(name, exc.message)
        start, end = self.windows.get("window_start"), self.windows.get("window_end")
        if start and end and end <= start:
            # The model's constraint says the same; said here, it shows next to the field.
            self.add_error("window_end", _("The campaign window must close after it opens."))
        return data


class DecisionForm(forms.Form):
    """A reviewer's decision on the step waiting for them, bound to the revision they saw."""

    decision = forms.ChoiceField(choices=[("approve", "approve"), ("request_changes", "request_changes")])
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    revision_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)
