from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from config.errors import DomainError
from matrix.models import SocialAccount

from . import services
from .forms import OffboardForm, PersonAccountFormSet, PersonForm
from .models import Role, User
from .policies import user_can, users_visible_to


def _require(user, action, target=None):
    if not user_can(user, action, target):
        raise PermissionDenied


@login_required
def user_list(request):
    _require(request.user, "create")
    people = users_visible_to(request.user).select_related("brand", "department", "dealer").annotate(
        account_count=Count("owned_accounts", distinct=True)
    )
    q = request.GET.get("q", "").strip()
    if q:
        people = people.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
        )
    if request.GET.get("role") in Role.values:
        people = people.filter(role=request.GET["role"])
    page = Paginator(people.order_by("username"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/user_list.html", {"page": page, "query": query.urlencode(), "roles": Role.choices})


@login_required
def user_detail(request, pk):
    person = get_object_or_404(users_visible_to(request.user).select_related("brand", "department", "dealer"), pk=pk)
    owned = SocialAccount.objects.filter(owner=person).select_related("platform")
    operated = SocialAccount.objects.filter(operators=person).select_related("platform")
    return render(request, "accounts/user_detail.html", {
        "person": person, "owned": owned, "operated": operated,
        "can_offboard": user_can(request.user, "offboard", person) and person.is_active and person.pk != request.user.pk,
    })


@login_required
def register(request):
    """Register one person and any number of their social accounts in one form."""
    _require(request.user, "create")
    person_form = PersonForm(request.POST or None, prefix="person")
    account_forms = PersonAccountFormSet(request.POST or None, prefix="accounts")
    if request.method == "POST" and person_form.is_valid() and account_forms.is_valid():
        person = dict(person_form.cleaned_data)
        accounts = [
            {name: value for name, value in form.cleaned_data.items() if name != "DELETE"}
            for form in account_forms.forms
            if form.has_changed() and not account_forms._should_delete_form(form)
        ]
        try:
            user, created = services.user_register(actor=request.user, person=person, accounts=accounts)
        except DomainError as exc:
            person_form.add_error(exc.field if exc.field in person_form.fields else None, exc.message)
        else:
            if person.get("password"):
                messages.success(request, _("%(person)s is registered with %(count)d account(s).") % {"person": user, "count": len(created)})
            else:
                messages.success(request, _("%(person)s is registered with %(count)d account(s); an invitation was sent to %(email)s.")
                                 % {"person": user, "count": len(created), "email": user.email})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/register.html", {"person_form": person_form, "account_forms": account_forms})


@login_required
def offboard(request, pk):
    person = get_object_or_404(User, pk=pk)
    _require(request.user, "offboard", person)
    blockers = services.offboarding_blockers(person)
    form = OffboardForm(request.POST if request.method == "POST" else None, leaver=person, blockers=blockers)
    personal = SocialAccount.objects.filter(owner=person).exclude(status="archived").select_related("platform")
    if request.method == "POST" and form.is_valid():
        try:
            services.user_offboard(actor=request.user, user=person, handover=form.handover())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(person)s has been offboarded.") % {"person": person})
            return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/offboard.html", {"person": person, "form": form, "blockers": blockers, "personal": personal})


@login_required
def resend_invitation(request, pk):
    person = get_object_or_404(User, pk=pk)
    _require(request.user, "create")
    if request.method == "POST":
        try:
            transaction.on_commit(lambda: services.invitation_send(user=person))
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": person.email})
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("accounts:user_detail", pk=person.pk)


def set_language(request):
    """Django's language switcher, which also remembers the choice on the signed-in user: their
    emails and notifications come in it, and so do the pages on a browser of theirs that has not
    chosen yet."""
    from django.utils.translation import check_for_language
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (request.method == "POST" and request.user.is_authenticated and check_for_language(language)
            and language in dict(settings.LANGUAGES)):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response
