"""Company lexicons: services, audit events and version bumps, file imports, pages and permissions."""

import codecs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals import engine
from approvals.models import AuditEvent, Lexicon, LexiconTerm, Screening
from approvals.services import (
    TermsImportError,
    lexicon_create,
    lexicon_term_add,
    lexicon_term_remove,
    lexicon_terms_import,
    lexicon_update,
    screening_run,
)
from config.errors import DomainError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def version():
    return engine.read_stamp()[0]


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def code_names(admin_user, brand):
    return lexicon_create(actor=admin_user, brand=brand, name="Code names", category="confidential")


# --- services ---------------------------------------------------------------------------


def test_creating_a_lexicon_bumps_the_version_and_is_audited(admin_user, brand):
    start = version()
    lexicon = lexicon_create(actor=admin_user, brand=brand, name="Rivals", category="competitor", severity="review")
    assert version() == start + 1
    (event,) = events("approvals.lexicon.create")
    assert event.actor == admin_user
    assert event.object_type == "approvals.lexicon" and event.object_id == str(lexicon.pk)
    assert event.after["category"] == "competitor" and event.after["policy_version"] == start + 1


def test_a_category_must_be_a_slug(admin_user, brand):
    with pytest.raises(DomainError) as caught:
        lexicon_create(actor=admin_user, brand=brand, name="Odd", category="Secret Projects!")
    assert caught.value.field == "category"
    assert not Lexicon.objects.exists()


def test_a_custom_category_slug_is_accepted(admin_user, brand):
    assert lexicon_create(actor=admin_user, brand=brand, name="Recalls", category="product_recall").category == (
        "product_recall"
    )


def test_a_brand_cannot_have_two_lexicons_of_the_same_name(admin_user, brand, other_brand, code_names):
    with pytest.raises(DomainError) as caught:
        lexicon_create(actor=admin_user, brand=brand, name="code NAMES", category="confidential")
    assert caught.value.field == "name"
    lexicon_create(actor=admin_user, brand=other_brand, name="Code names", category="confidential")
    lexicon_create(actor=admin_user, brand=None, name="Code names", category="confidential")
    with pytest.raises(DomainError):
        lexicon_create(actor=admin_user, brand=None, name="Code Names", category="confidential")


def test_updating_a_lexicon_records_what_changed(admin_user, code_names):
    start = version()
    lexicon_update(actor=admin_user, lexicon=code_names, severity="review", is_active=False)
    (event,) = events("approvals.lexicon.update")
    assert event.before == {"severity": "block", "is_active": True}
    assert event.after == {"severity": "review", "is_active": False, "policy_version": start + 1}
    assert version() == start + 1


def test_an_update_that_changes_nothing_is_not_recorded(admin_user, code_names):
    start = version()
    lexicon_update(actor=admin_user, lexicon=code_names, name="Code names", severity="block")
    assert events("approvals.lexicon.update") == []
    assert version() == start


def test_adding_a_term_bumps_the_version_and_is_audited_on_the_lexicon(admin_user, code_names):
    start = version()
    term = lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划", note="改称“新平台”")
    assert version() == start + 1
    assert term.created_by == admin_user and term.normalized == "天穹计划"
    (event,) = events("approvals.lexicon_term.add")
    assert event.object_type == "approvals.lexicon" and event.object_id == str(code_names.pk)
    assert event.after["term"] == "天穹计划" and event.after["policy_version"] == start + 1


@pytest.mark.parametrize("spelling", ["ＳＫＹ　ＤＯＭＥ", "sky-dome", "Sky.Dome", "SKYDOME"])
def test_a_term_spelled_differently_is_the_same_term(admin_user, code_names, spelling):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="Sky Dome")
    with pytest.raises(DomainError) as caught:
        lexicon_term_add(actor=admin_user, lexicon=code_names, term=spelling)
    assert caught.value.field == "term"
    assert "Sky Dome" in caught.value.message
    assert code_names.terms.count() == 1


def test_traditional_characters_are_the_same_term(admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    with pytest.raises(DomainError):
        lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹計劃")


@pytest.mark.parametrize("term", ["", "   ", "***", "x" * 201])
def test_an_empty_unmatchable_or_too_long_term_is_refused(admin_user, code_names, term):
    with pytest.raises(DomainError) as caught:
        lexicon_term_add(actor=admin_user, lexicon=code_names, term=term)
    assert caught.value.field == "term"
    assert not code_names.terms.exists()


def test_a_bad_severity_is_refused(admin_user, code_names):
    with pytest.raises(DomainError) as caught:
        lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹", severity="fatal")
    assert caught.value.field == "severity"


def test_removing_a_term_by_its_text_or_id_is_audited(admin_user, code_names):
    first = lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="Aurora X")
    start = version()
    lexicon_term_remove(actor=admin_user, lexicon=code_names, term="aurora  x")
    lexicon_term_remove(actor=admin_user, lexicon=code_names, term_id=first.pk)
    assert not code_names.terms.exists()
    assert version() == start + 2
    removed = [event.before["term"] for event in events("approvals.lexicon_term.remove")]
    assert removed == ["Aurora X", "天穹计划"]


def test_removing_a_term_that_is_not_there_says_so(admin_user, code_names):
    with pytest.raises(DomainError) as caught:
        lexicon_term_remove(actor=admin_user, lexicon=code_names, term="nothing")
    assert caught.value.field == "term"


def test_a_reviewer_curates_the_lexicons_of_their_own_brand_only(reviewer, brand, other_brand, admin_user):
    own = lexicon_create(actor=reviewer, brand=brand, name="Rivals", category="competitor")
    lexicon_term_add(actor=reviewer, lexicon=own, term="Borealis")
    with pytest.raises(PermissionDeniedError):
        lexicon_create(actor=reviewer, brand=other_brand, name="Rivals", category="competitor")
    company_wide = lexicon_create(actor=admin_user, brand=None, name="Everyone", category="confidential")
    with pytest.raises(PermissionDeniedError):
        lexicon_term_add(actor=reviewer, lexicon=company_wide, term="天穹")
    with pytest.raises(PermissionDeniedError):
        lexicon_create(actor=reviewer, brand=None, name="Everyone 2", category="confidential")


@pytest.mark.parametrize("role", ["marketer", "employee", "executive"])
def test_other_roles_change_no_lexicon(request, role, code_names):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDeniedError):
        lexicon_term_add(actor=user, lexicon=code_names, term="天穹")
    with pytest.raises(PermissionDeniedError):
        lexicon_update(actor=user, lexicon=code_names, is_active=False)


# --- import ----------------------------------------------------------------------------

WORDS = "天穹计划\n北极星\treview\n\nPolaris X\twarn\t改称“新车型”\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (WORDS.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + WORDS.encode("utf-8"), "UTF-8 (BOM)"),
        (WORDS.encode("gb18030"), "GB18030"),
        (WORDS.replace("\n", "\r\n").encode("utf-16"), "UTF-16"),
    ],
)
def test_a_word_list_is_imported_in_each_encoding(admin_user, code_names, data, encoding):
    start = version()
    report = lexicon_terms_import(actor=admin_user, lexicon=code_names, data=data, filename="words.txt")
    assert (report.added, report.encoding) == (3, encoding)
    terms = {t.term: (t.severity, t.note) for t in code_names.terms.all()}
    assert terms == {"天穹计划": ("", ""), "北极星": ("review", ""), "Polaris X": ("warn", "改称“新车型”")}
    assert version() == start + 1  # one bump for the whole file
    (event,) = events("approvals.lexicon_term.import")
    assert event.after["added"] == 3 and event.after["filename"] == "words.txt"
    assert sorted(event.after["terms"]) == sorted(terms)


def test_an_import_with_a_bad_line_imports_nothing_and_names_every_bad_line(admin_user, code_names):
    data = "天穹计划\n北极星\tfatal\n***\n好词\treview\tnote\textra\n".encode()
    start = version()
    with pytest.raises(TermsImportError) as caught:
        lexicon_terms_import(actor=admin_user, lexicon=code_names, data=data, filename="words.txt")
    lines = [error.line for error in caught.value.errors]
    assert lines == [2, 3, 4]
    assert "fatal" in caught.value.errors[0].message
    assert str(caught.value.errors[0]).startswith("line 2:")
    assert not code_names.terms.exists()
    assert version() == start
    assert events("approvals.lexicon_term.import") == []


def test_an_import_skips_terms_already_present_or_repeated(admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    report = lexicon_terms_import(
        actor=admin_user, lexicon=code_names, data="天穹計劃\n北极星\n北 极 星\n新词\n".encode(), filename="w.txt"
    )
    assert (report.added, report.already_present, report.duplicates) == (2, 1, 1)
    assert code_names.terms.count() == 3


def test_an_import_as_allow_list(admin_user, code_names):
    lexicon_terms_import(actor=admin_user, lexicon=code_names, data="第一次\n最近\n".encode(), allow=True)
    assert set(code_names.terms.values_list("allow", flat=True)) == {True}


def test_a_file_that_is_not_text_is_refused(admin_user, code_names):
    with pytest.raises(TermsImportError):
        lexicon_terms_import(actor=admin_user, lexicon=code_names, data=b"\x81\x30\x81", filename="x.bin")
    with pytest.raises(TermsImportError):
        lexicon_terms_import(actor=admin_user, lexicon=code_names, data=b"\n\n", filename="empty.txt")


# --- pages: permissions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [("admin_user", 200), ("reviewer", 200), ("marketer", 200), ("employee", 403), ("executive", 403),
     ("dealer_operator", 403)],
)
def test_the_lexicon_pages_are_for_admins_reviewers_and_marketers(client, request, code_names, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/approvals/lexicons/").status_code == status
    assert client.get(f"/approvals/lexicons/{code_names.pk}/").status_code == status


def test_signed_out_visitors_are_sent_to_log_in(client, code_names):
    response = client.get(f"/approvals/lexicons/{code_names.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_lexicon_of_another_brand_is_not_found(client, outsider, code_names):
    client.force_login(outsider)
    assert client.get(f"/approvals/lexicons/{code_names.pk}/").status_code == 404
    assert code_names.name not in client.get("/approvals/lexicons/").content.decode()


def test_marketers_read_but_get_no_forms(client, marketer, admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    client.force_login(marketer)
    page = client.get(f"/approvals/lexicons/{code_names.pk}/").content.decode()
    assert "天穹计划" in page
    assert 'data-testid="term-add"' not in page and 'data-testid="term-import"' not in page
    response = client.post(f"/approvals/lexicons/{code_names.pk}/terms/", {"term": "北极星"})
    assert response.status_code == 403
    assert client.post("/approvals/lexicons/", {"name": "x", "category": "competitor"}).status_code == 403
    assert code_names.terms.count() == 1


# --- pages: changes --------------------------------------------------------------------------


def test_a_reviewer_creates_a_lexicon_for_their_brand_from_the_list(client, reviewer, brand):
    client.force_login(reviewer)
    response = client.post(
        "/approvals/lexicons/",
        {"brand": brand.pk, "name": "Rivals", "category": "competitor", "severity": "review", "is_active": "on"},
    )
    lexicon = Lexicon.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/approvals/lexicons/{lexicon.pk}/"
    assert (lexicon.brand, lexicon.category, lexicon.severity) == (brand, "competitor", "review")


def test_the_create_form_shows_a_bad_category(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/approvals/lexicons/", {"name": "Rivals", "category": "No Spaces", "severity": "review"})
    assert response.status_code == 200
    assert response.context["form"].errors["category"]
    assert not Lexicon.objects.exists()


def test_adding_a_term_with_htmx_returns_the_terms_and_the_history(client, reviewer, code_names):
    client.force_login(reviewer)
    response = client.post(
        f"/approvals/lexicons/{code_names.pk}/terms/", {"term": "天穹计划", "severity": "review", "note": "删除"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="terms"' in html and "天穹计划" in html
    assert 'id="lexicon-history" hx-swap-oob="true"' in html and "approvals.lexicon_term.add" in html
    assert "<html" not in html
    term = code_names.terms.get()
    assert (term.term, term.severity, term.note, term.created_by) == ("天穹计划", "review", "删除", reviewer)


def test_adding_an_allow_list_phrase(client, reviewer, code_names):
    client.force_login(reviewer)
    client.post(f"/approvals/lexicons/{code_names.pk}/terms/", {"term": "天穹计划书", "allow": "on"},
                headers={"HX-Request": "true"})
    assert code_names.terms.get().allow is True


def test_a_duplicate_term_shows_the_error_in_the_fragment(client, reviewer, admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    client.force_login(reviewer)
    response = client.post(f"/approvals/lexicons/{code_names.pk}/terms/", {"term": "天 穹 計 劃"},
                           headers={"HX-Request": "true"})
    assert "already in this lexicon" in response.content.decode()
    assert code_names.terms.count() == 1


def test_adding_a_term_without_javascript_redirects_with_a_message(client, reviewer, code_names):
    client.force_login(reviewer)
    response = client.post(f"/approvals/lexicons/{code_names.pk}/terms/", {"term": "北极星"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/approvals/lexicons/{code_names.pk}/"
    assert "北极星" in [str(m) for m in response.context["messages"]][0]


def test_removing_a_term_with_htmx(client, reviewer, admin_user, code_names):
    term = lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    client.force_login(reviewer)
    response = client.post(f"/approvals/lexicons/{code_names.pk}/terms/{term.pk}/remove/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert not code_names.terms.exists()
    assert "approvals.lexicon_term.remove" in response.content.decode()


def test_editing_the_lexicon_settings(client, reviewer, code_names):
    client.force_login(reviewer)
    response = client.post(
        f"/approvals/lexicons/{code_names.pk}/",
        {"name": "Code names 2027", "category": "confidential", "severity": "review", "description": ""},
    )
    assert response.status_code == 302
    code_names.refresh_from_db()
    assert (code_names.name, code_names.severity, code_names.is_active) == ("Code names 2027", "review", False)


def test_importing_a_file_from_the_page(client, reviewer, code_names):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(reviewer)
    upload = SimpleUploadedFile("words.txt", "天穹计划\n北极星\treview\n".encode("gb18030"), "text/plain")
    response = client.post(f"/approvals/lexicons/{code_names.pk}/import/", {"file": upload}, follow=True)
    assert "GB18030" in [str(m) for m in response.context["messages"]][0]
    assert code_names.terms.count() == 2


def test_an_import_with_bad_lines_lists_them_on_the_page(client, reviewer, code_names):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(reviewer)
    upload = SimpleUploadedFile("words.txt", "天穹计划\n北极星\tfatal\n".encode(), "text/plain")
    response = client.post(f"/approvals/lexicons/{code_names.pk}/import/", {"file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 2:" in html and "fatal" in html
    assert not code_names.terms.exists()


def test_the_detail_page_shows_the_version_and_the_history(client, admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="天穹计划")
    client.force_login(admin_user)
    response = client.get(f"/approvals/lexicons/{code_names.pk}/")
    html = response.content.decode()
    assert f"policy version {version()}" in html
    assert "approvals.lexicon.create" in html and "approvals.lexicon_term.add" in html


# --- would have caught ------------------------------------------------------------------------


def _screened(actor, *texts, account=None):
    for text in texts:
        screening_run(text, actor=actor, account=account, source=Screening.Source.API)


def test_would_have_caught_counts_the_recent_texts_a_term_matches(client, reviewer, employee):
    _screened(employee, "天穹计划下月发布", "我们的天 穹 計 劃很棒", "今天天气好", "天穹计划，天穹计划！")
    client.force_login(reviewer)
    response = client.get("/approvals/would-have-caught/", {"term": "天穹计划", "category": "confidential"})
    report = response.context["report"]
    assert (report.scanned, report.texts, report.occurrences) == (4, 3, 4)
    html = response.content.decode()
    assert '<mark class="hit hit-block"' in html


def test_would_have_caught_is_an_htmx_fragment_on_the_lexicon_page(client, reviewer, employee):
    _screened(employee, "北极星 is coming")
    client.force_login(reviewer)
    response = client.get("/approvals/would-have-caught/", {"term": "北极星"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()
    assert response.context["report"].texts == 1


def test_would_have_caught_reads_only_the_screenings_of_the_reviewers_brand(client, reviewer, outsider):
    _screened(outsider, "北极星 is coming")
    client.force_login(reviewer)
    report = client.get("/approvals/would-have-caught/", {"term": "北极星"}).context["report"]
    assert (report.scanned, report.texts) == (0, 0)


@pytest.mark.parametrize("role", ["marketer", "employee"])
def test_would_have_caught_is_not_for_other_roles(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/approvals/would-have-caught/", {"term": "x"}).status_code == 403


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _add_terms(lexicon, count, user):
    LexiconTerm.objects.bulk_create(
        LexiconTerm(lexicon=lexicon, term=f"term {lexicon.pk}-{i}", normalized=f"term{lexicon.pk}-{i}",
                    allow=i % 5 == 0, created_by=user)
        for i in range(LexiconTerm.objects.filter(lexicon=lexicon).count(), count)
    )


@pytest.mark.parametrize("role", ["admin_user", "reviewer"])
def test_the_detail_page_queries_do_not_grow_with_the_terms(client, request, code_names, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    htmx = {"headers": {"HX-Request": "true"}}
    _add_terms(code_names, 3, user)
    few = _queries(client, f"/approvals/lexicons/{code_names.pk}/")
    few_fragment = _queries(client, f"/approvals/lexicons/{code_names.pk}/terms/", **htmx)
    _add_terms(code_names, 400, user)
    assert _queries(client, f"/approvals/lexicons/{code_names.pk}/") == few
    assert _queries(client, f"/approvals/lexicons/{code_names.pk}/terms/?page=3", **htmx) == few_fragment


def test_the_terms_are_paginated(client, admin_user, code_names):
    _add_terms(code_names, 120, admin_user)
    client.force_login(admin_user)
    page = client.get(f"/approvals/lexicons/{code_names.pk}/").context["page"]
    assert (len(page.object_list), page.paginator.num_pages) == (50, 3)
    fragment = client.get(f"/approvals/lexicons/{code_names.pk}/terms/?page=3", headers={"HX-Request": "true"})
    assert len(fragment.context["page"].object_list) == 20


def test_the_list_page_queries_do_not_grow_with_lexicons_or_terms(client, admin_user, brand, other_brand):
    client.force_login(admin_user)
    lexicon = lexicon_create(actor=admin_user, brand=brand, name="L0", category="confidential")
    _add_terms(lexicon, 5, admin_user)
    few = _queries(client, "/approvals/lexicons/")
    for i in range(1, 15):
        lexicon = lexicon_create(actor=admin_user, brand=[brand, other_brand, None][i % 3], name=f"L{i}",
                                 category="competitor")
        _add_terms(lexicon, 30, admin_user)
    assert _queries(client, "/approvals/lexicons/") == few
