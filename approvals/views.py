"""Screening pages: lexicons and their terms, "would have caught", and "Try it".

Forms post to the same services as the API. htmx requests get the fragment they swap in; the same
URLs work without JavaScript (a redirect with a message, or the whole page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError

from . import engine, selectors, services
from .forms import LexiconForm, TermForm, TermsImportForm, TryItForm, WouldHaveCaughtForm
from .models import Screening
from .policies import lexicon_user_can, lexicons_visible_to


def _require(user, action, lexicon=None):
    if not lexicon_user_can(user, action, lexicon):
        raise PermissionDenied


def _visible_lexicon(user, pk):
    _require(user, "view")
    return get_object_or_404(lexicons_visible_to(user).select_related("brand"), pk=pk)


def _add_error(form, exc):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- lexicons ---------------------------------------------------------------------------


@login_required
def lexicon_list(request):
    _require(request.user, "view")
    can_create = lexicon_user_can(request.user, "change")
    form = LexiconForm(request.POST or None, user=request.user) if can_create else None
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        if form.is_valid():
            try:
                lexicon = services.lexicon_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("Lexicon “%(name)s” created.") % {"name": lexicon.name})
                return redirect(lexicon)
    return render(request, "approvals/lexicon_list.html", {
        "lexicons": selectors.lexicon_list(user=request.user),
        "form": form,
        "policy_version": engine.read_stamp()[0],
    })


def _terms_context(request, lexicon, *, term_form=None, page_number=None):
    page_number = page_number or request.GET.get("page") or request.POST.get("page") or 1
    query = (request.GET.get("q") or "").strip()
    return {
        "lexicon": lexicon,
        "page": selectors.lexicon_terms_page(lexicon=lexicon, number=page_number, query=query),
        "q": query,
        "term_form": term_form or TermForm(),
        "can_change": lexicon_user_can(request.user, "change", lexicon),
        "can_read_screenings": lexicon_user_can(request.user, "screenings"),
        "policy_version": engine.read_stamp()[0],
    }


@login_required
def lexicon_detail(request, pk):
    lexicon = _visible_lexicon(request.user, pk)
    can_change = lexicon_user_can(request.user, "change", lexicon)
    settings_form = LexiconForm(request.POST or None, instance=lexicon, user=request.user) if can_change else None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if settings_form.is_valid():
            try:
                services.lexicon_update(actor=request.user, lexicon=lexicon, **settings_form.cleaned_data)
            except DomainError as exc:
                _add_error(settings_form, exc)
            else:
                messages.success(request, _("Lexicon saved."))
                return redirect(lexicon)
    context = _terms_context(request, lexicon)
    context.update({
        "settings_form": settings_form,
        "import_form": TermsImportForm(),
        "history": selectors.lexicon_history(lexicon=lexicon),
    })
    return render(request, "approvals/lexicon_detail.html", context)


def _terms_fragment(request, lexicon, *, changed=False, notice="", **kwargs):
    """The terms section that htmx swaps in; after a change, the history too (out of band)."""
    context = _terms_context(request, lexicon, **kwargs)
    context["notice"] = notice
    if changed:
        context["history"] = selectors.lexicon_history(lexicon=lexicon)
        context["history_oob"] = True
    return render(request, "approvals/includes/lexicon_terms.html", context)


@login_required
def lexicon_terms(request, pk):
    """GET: a page of terms (htmx paging and search). POST: add a term or an allow-list phrase."""
    lexicon = _visible_lexicon(request.user, pk)
    if request.method != "POST":
        if not request.htmx:
            return redirect(reverse("approvals:lexicon_detail", args=[pk]) + "?" + request.GET.urlencode())
        return _terms_fragment(request, lexicon)
    _require(request.user, "change", lexicon)
    form = TermForm(request.POST)
    if form.is_valid():
        try:
            item = services.lexicon_term_add(actor=request.user, lexicon=lexicon, **form.cleaned_data)
        except DomainError as exc:
            _add_error(form, exc)
        else:
            message = (_("“%(term)s” added to the allow-list.") if item.allow else _("“%(term)s” added.")) % {
                "term": item.term
            }
            if not request.htmx:
                messages.success(request, message)
                return redirect(lexicon)
            return _terms_fragment(request, lexicon, changed=True, notice=message, page_number=1)
    if not request.htmx:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(lexicon)
    return _terms_fragment(request, lexicon, term_form=form)


@login_required
@require_POST
def lexicon_term_remove(request, pk, term_pk):
    lexicon = _visible_lexicon(request.user, pk)
    _require(request.user, "change", lexicon)
    try:
        removed = services.lexicon_term_remove(actor=request.user, lexicon=lexicon, term_id=term_pk)
    except DomainError as exc:
        message, ok = exc.message, False
    else:
        message, ok = _("“%(term)s” removed.") % {"term": removed["term"]}, True
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
        return redirect(lexicon)
    return _terms_fragment(request, lexicon, changed=ok, notice=message)


@login_required
@require_POST
def lexicon_terms_import(request, pk):
    lexicon = _visible_lexicon(request.user, pk)
    _require(request.user, "change", lexicon)
    form = TermsImportForm(request.POST, request.FILES)
    import_errors = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.IMPORT_MAX_BYTES:
            form.add_error("file", _("The file is larger than %(size)d MB.") % {
                "size": services.IMPORT_MAX_BYTES // 1024 // 1024
            })
        else:
            try:
                report = services.lexicon_terms_import(
                    actor=request.user, lexicon=lexicon, data=upload.read(), filename=upload.name,
                    allow=form.cleaned_data["allow"],
                )
            except services.TermsImportError as exc:
                form.add_error("file", exc.message)
                import_errors = exc.errors
            else:
                messages.success(request, _(
                    "Imported %(added)d term(s) from %(name)s (%(encoding)s); %(present)d already present, "
                    "%(duplicates)d repeated in the file."
                ) % {
                    "added": report.added, "name": upload.name, "encoding": report.encoding,
                    "present": report.already_present, "duplicates": report.duplicates,
                })
                return redirect(lexicon)
    context = _terms_context(request, lexicon)
    context.update({
        "settings_form": LexiconForm(instance=lexicon, user=request.user),
        "import_form": form,
        "import_errors": import_errors,
        "history": selectors.lexicon_history(lexicon=lexicon),
    })
    return render(request, "approvals/lexicon_detail.html", context, status=400)


@login_required
def would_have_caught(request):
    """Which recent screenings a term would have caught, before it is added."""
    _require(request.user, "screenings")
    form = WouldHaveCaughtForm(request.GET or None)
    report = None
    if form.is_valid():
        report = selectors.would_have_caught(
            user=request.user, term=form.cleaned_data["term"],
            category=form.cleaned_data["category"] or "confidential",
            severity=form.cleaned_data["severity"] or "block",
        )
    template = "approvals/includes/would_have_caught.html" if request.htmx else "approvals/would_have_caught.html"
    return render(request, template, {"form": form, "report": report, "limit": selectors.RECENT_SCREENINGS})


# --- try it -------------------------------------------------------------------------------


@login_required
def try_it(request):
    """Screen a text as you type. Typing screens without keeping a record; the "Screen" button
    records the screening (it then counts for "would have caught")."""
    form = TryItForm(request.POST or None, user=request.user)
    screening = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        record = bool(request.POST.get("record"))
        try:
            screening = services.screening_run(
                data["text"], actor=request.user, account=data.get("account"), tier=data.get("tier") or None,
                brand=data.get("brand"), source=Screening.Source.TRY_IT, record=record,
            )
        except DomainError as exc:
            _add_error(form, exc)
    elif request.method == "POST" and request.htmx and not (request.POST.get("text") or "").strip():
        form = TryItForm(user=request.user)  # an emptied textarea: no errors, no result
    context = {"form": form, "screening": screening}
    if request.htmx and request.method == "POST":
        return render(request, "approvals/includes/screening_result.html", context)
    return render(request, "approvals/try_it.html", context)
