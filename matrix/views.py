from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from approvals.models import AuditEvent
from config.errors import DomainError

from . import services
from .forms import AccountFilterForm, SocialAccountForm
from .models import Dealer, Department, Platform, SocialAccount
from .policies import account_user_can, accounts_visible_to, brands_visible_to
from .selectors import account_page, matrix_grid, my_account_list

PAGE_SIZE = 50


@login_required
def home(request):
    if request.user.role == Role.EXECUTIVE:
        return redirect("content:calendar_mine")  # the posts planned in their name, to approve
    if request.user.role == Role.EMPLOYEE:
        return redirect("matrix:my_accounts")
    if request.user.role == Role.REVIEWER:
        return redirect("review:queue")  # a reviewer's day starts with what waits for them
    return redirect("matrix:overview")


@login_required
def overview(request):
    brands = list(brands_visible_to(request.user))
    brand = None
    if request.GET.get("brand"):
        brand = next((b for b in brands if b.slug == request.GET["brand"]), None)
    elif len(brands) == 1:
        brand = brands[0]
    grid = matrix_grid(user=request.user, brand=brand)
    return render(request, "matrix/overview.html", {"grid": grid, "brands": brands, "brand": brand})


def _filter_choices(user):
    visible = accounts_visible_to(user)
    regions = (
        Dealer.objects.filter(pk__in=visible.values("dealer_id")).values_list("region", flat=True).distinct().order_by("region")
    )
    departments = Department.objects.filter(Q(pk__in=visible.values("department_id")))
    return {"regions": list(regions), "departments": list(departments), "platforms": list(Platform.objects.all())}


@login_required
def account_list_view(request):
    form = AccountFilterForm(request.GET or None, **_filter_choices(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {key: value for key, value in filters.items() if value not in (None, "")}
    if request.GET.get("brand"):
        filters["brand"] = request.GET["brand"]
    page = account_page(user=request.user, filters=filters, number=request.GET.get("page"), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "matrix/account_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "total": page.paginator.count},
    )


def _get_visible_account(user, pk):
    account = get_object_or_404(
        SocialAccount.objects.select_related("brand", "platform", "owner", "dealer", "department"), pk=pk
    )
    if not account_user_can(user, "view", account):
        raise Http404
    return account


@login_required
def account_detail(request, pk):
    account = _get_visible_account(request.user, pk)
    events = AuditEvent.objects.filter(object_type="matrix.socialaccount", object_id=str(account.pk)).order_by("-id")[:50]
    return render(
        request,
        "matrix/account_detail.html",
        {
            "account": account,
            "operators": list(account.operators.all()),
            "events": events,
            "can_consent": account_user_can(request.user, "consent", account),
            "can_change": account_user_can(request.user, "change", account),
        },
    )


@login_required
def my_accounts(request):
    accounts = list(my_account_list(user=request.user))
    # Pending accounts, and the ones their owner took out themselves, offer the owner a consent button.
    consentable = {
        account.pk for account in accounts
        if account.awaits_consent and account_user_can(request.user, "consent", account)
    }
    return render(request, "matrix/my_accounts.html", {"accounts": accounts, "consentable": consentable})


@login_required
@require_POST
def account_consent(request, pk):
    account = _get_visible_account(request.user, pk)
    withdraw = request.POST.get("action") == "withdraw"
    try:
        if withdraw:
            services.account_withdraw_consent(actor=request.user, account=account)
            messages.success(request, _("Consent withdrawn: nothing will be published on %(account)s.") % {"account": account})
        else:
            services.account_consent(actor=request.user, account=account)
            messages.success(request, _("Thank you: %(account)s has joined the matrix.") % {"account": account})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_safe_next(request, default=reverse("matrix:account_detail", args=[account.pk])))


def _safe_next(request, *, default):
    """The `next` the form posted, if it stays on this site; otherwise `default`. A link crafted
    elsewhere must not turn our redirect into a hop to another site."""
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _require_admin(user):
    if not user.is_admin:
        raise PermissionDenied


@login_required
def account_edit(request, pk=None):
    _require_admin(request.user)
    account = get_object_or_404(SocialAccount, pk=pk) if pk else None
    form = SocialAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        operators = list(data.pop("operators"))
        if not data.get("webhook_secret"):
            data.pop("webhook_secret")  # blank keeps the current secret
        try:
            if account is None:
                account = services.account_create(actor=request.user, operators=operators, **data)
                messages.success(request, _("Account %(account)s registered.") % {"account": account})
            else:
                account = services.account_update(actor=request.user, account=account, operators=operators, **data)
                messages.success(request, _("Account %(account)s saved.") % {"account": account})
            return redirect("matrix:account_detail", pk=account.pk)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "matrix/account_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_archive(request, pk):
    _require_admin(request.user)
    account = get_object_or_404(SocialAccount, pk=pk)
    services.account_archive(actor=request.user, account=account, reason=request.POST.get("reason", ""))
    messages.success(request, _("Account %(account)s archived.") % {"account": account})
    return redirect("matrix:account_detail", pk=account.pk)


