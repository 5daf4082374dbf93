"""The pauses page (crisis mode): the active pauses first, then the history; a form to pause a scope of
a brand and a button to lift a pause.

The rules are in `content.services` (`pause_create`, `pause_lift`) and who may do what in
`content.policies`; a pause the reader may not see is not found (404), an action they may not take is
a 403. The time a pause ends is typed as a wall clock in the brand's zone.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.errors import DomainError, PermissionDeniedError
from matrix.models import Brand, Dealer, Platform, SocialAccount, Tier

from . import services
from .forms import WallClockField, local_to_utc
from .models import Pause, PauseScope
from .pauses import pause_history
from .policies import pause_user_can, pauses_visible_to

PAUSES_PER_PAGE = 50


def brands_pausable_by(user):
    if user.is_admin:
        return Brand.objects.order_by("name")
    return Brand.objects.filter(pk=user.brand_id) if pause_user_can(user, "create") else Brand.objects.none()


class PauseForm(forms.Form):
    """Pause one scope of a brand. `value` is the tier, platform or region chosen from a list (the
    page shows the list of the chosen scope); one account is named by its id or its handle."""

    brand = forms.ModelChoiceField(label=gettext_lazy("Brand"), queryset=Brand.objects.none(), empty_label=None)
    scope = forms.ChoiceField(label=gettext_lazy("Pause"), choices=PauseScope.choices)
    value = forms.ChoiceField(label=gettext_lazy("Which one"), required=False)
    account = forms.CharField(label=gettext_lazy("Account"), required=False, max_length=120,
                              help_text=gettext_lazy("Its id, or its handle."))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    until = WallClockField(label=gettext_lazy("Resume automatically at"), required=False,
                           help_text=gettext_lazy("In the brand's time zone; leave empty to pause until lifted."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        brands = list(brands_pausable_by(user))
        self.fields["brand"].queryset = Brand.objects.filter(pk__in=[b.pk for b in brands]).order_by("name")
        self.brands = brands
        if len(brands) == 1:
            self.fields["until"].help_text = _("In %(zone)s, the brand's time zone; leave empty to pause until "
                                               "lifted.") % {"zone": brands[0].timezone}
        # Each option carries its scope (and, for regions, its brand): the page's script shows the
        # options of the chosen scope and brand only.
        self.value_options = [("tier", None, tier.value, tier.label) for tier in Tier]
        self.value_options += [("platform", None, p.slug, p.local_name) for p in Platform.objects.order_by("position")]
        regions = Dealer.objects.filter(brand__in=[b.pk for b in brands]).values_list("brand_id", "region").distinct()
        self.value_options += [("region", brand_id, region, region) for brand_id, region in sorted(regions)]
        self.fields["value"].choices = [("", "—")] + [(value, label) for _scope, _brand, value, label
                                                     in self.value_options]

    def clean(self):
        data = super().clean()
        brand, scope = data.get("brand"), data.get("scope")
        if brand is None or scope is None:
            return data
        if scope == PauseScope.ACCOUNT:
            wanted = (data.get("account") or "").strip().lstrip("@")
            accounts = SocialAccount.objects.filter(brand=brand)
            account = (accounts.filter(pk=int(wanted)).first() if wanted.isdigit() else None) or (
                accounts.filter(handle__iexact=wanted).order_by("pk").first() if wanted else None)
            if account is None:
                self.add_error("account", _("%(brand)s has no such account.") % {"brand": brand})
            else:
                data["value"] = str(account.pk)
        elif scope == PauseScope.BRAND:
            data["value"] = ""
        if data.get("until") is not None:
            try:
                data["until"] = local_to_utc(data["until"], brand.timezone, field="until")
            except DomainError as exc:
                self.add_error("until", exc.message)
        return data


def _render_page(request, form, *, status=200):
    user = request.user
    page = Paginator(pause_history(user), PAUSES_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for pause in page:
        pause.active_now = pause.is_active(now)
        pause.can_lift = pause.active_now and pause_user_can(user, "lift", pause)
    return render(request, "content/pauses.html", {
        "page": page, "form": form, "can_create": form is not None, "now": now,
    }, status=status)


@login_required
def pause_list(request):
    """GET: the pauses the reader may see (and the form, to those who may pause). POST: pause."""
    user = request.user
    may_create = pause_user_can(user, "create")
    if request.method != "POST":
        initial = {key: request.GET[key] for key in ("scope", "value", "account", "brand") if key in request.GET}
        return _render_page(request, PauseForm(user=user, initial=initial) if may_create else None)
    if not may_create:
        raise PermissionDenied
    form = PauseForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.pause_create(actor=user, brand=data["brand"], scope=data["scope"], value=data.get("value", ""),
                                  reason=data["reason"], until=data.get("until"))
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            field = "account" if exc.field == "value" and data["scope"] == PauseScope.ACCOUNT else exc.field
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Publishing is paused."))
            return redirect("content:pause_list")
    return _render_page(request, form, status=400)


@login_required
@require_POST
def pause_lift(request, pk):
    user = request.user
    pause = pauses_visible_to(user, Pause.objects.filter(pk=pk)).first()
    if pause is None:
        raise Http404
    try:
        services.pause_lift(actor=user, pause=pause, reason=(request.POST.get("reason") or "")[:2000])
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The pause is lifted; held posts go out as they come due."))
    return redirect("content:pause_list")
