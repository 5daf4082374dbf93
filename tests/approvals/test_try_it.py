"""The "Try it" page, and highlighting hits in place without ever rendering the author's text as HTML."""

import pytest
from django.template import Context, Template
from django.utils import translation

from approvals.models import Screening
from approvals.services import lexicon_create, lexicon_term_add
from approvals.templatetags.screening import excerpt, highlight, hit_rows, message_parts
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


# --- highlight ---------------------------------------------------------------------------------


def hit(start, end, severity="block", message="why / why", category="profanity", term="t"):
    return {"category": category, "severity": severity, "term": term, "start": start, "end": end, "message": message}


def test_highlight_wraps_each_hit_in_place():
    text = "全网最低价，稳赚不赔"
    html = highlight(text, [hit(2, 5, "review", "最低价 rule / lowest price rule"), hit(6, 10, "block")])
    assert html == (
        '全网<mark class="hit hit-review" title="lowest price rule" data-hits="0" data-category="profanity">最低价</mark>，'
        '<mark class="hit hit-block" title="why" data-hits="1" data-category="profanity">稳赚不赔</mark>'
    )


def test_highlight_escapes_the_text_inside_and_outside_hits():
    text = '<script>alert("x")</script> & <b>fuck</b>'
    start = text.index("fuck")
    html = highlight(text, [hit(start, start + 4)])
    assert "<script>" not in html and "<b>" not in html
    assert html.startswith("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;<mark")
    assert html.endswith(">fuck</mark>&lt;/b&gt;")


def test_highlight_escapes_messages_and_categories_in_attributes():
    html = highlight("abc", [hit(0, 3, message='"><img src=x onerror=alert(1)>', category='"><svg>')])
    assert "<img" not in html and "<svg" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_highlight_of_a_text_without_hits_is_the_escaped_text():
    assert highlight("<i>ok</i>", []) == "&lt;i&gt;ok&lt;/i&gt;"
    assert highlight(None, None) == ""


def test_overlapping_hits_split_the_text_and_show_the_worst_severity():
    html = highlight("abcdef", [hit(0, 4, "review", "r / first"), hit(2, 6, "block", "b / second")])
    assert html == (
        '<mark class="hit hit-review" title="first" data-hits="0" data-category="profanity">ab</mark>'
        '<mark class="hit hit-block" title="first\nsecond" data-hits="0 1" data-category="profanity">cd</mark>'
        '<mark class="hit hit-block" title="second" data-hits="1" data-category="profanity">ef</mark>'
    )


def test_offsets_outside_the_text_and_unknown_severities_are_made_safe():
    html = highlight("abc", [hit(1, 99, "<evil>"), hit(5, 9), hit("x", 2), hit(2, 1)])
    assert html == 'a<mark class="hit hit-review" title="why" data-hits="0" data-category="profanity">bc</mark>'


def test_the_template_include_highlights_and_escapes():
    rendered = Template(
        '{% include "approvals/includes/highlighted_text.html" with text=text hits=hits %}'
    ).render(Context({"text": "<script>x</script>稳赚", "hits": [hit(18, 20)]}))
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered
    assert '<mark class="hit hit-block"' in rendered and ">稳赚</mark>" in rendered


def test_messages_are_shown_in_the_current_language_with_the_suggestion_apart():
    message = "“最好”属于绝对化用语。建议：优秀。 / \"最好\" is absolute. Suggestion: great."
    with translation.override("en"):
        assert message_parts(message) == ('"最好" is absolute.', "great")
    with translation.override("zh-hans"):
        assert message_parts(message) == ("“最好”属于绝对化用语。", "优秀")
    assert message_parts("just one language") == ("just one language", "")


def test_hit_rows_show_what_the_author_typed():
    (row,) = hit_rows("买 稳*赚 产品", [hit(2, 5, term="稳赚")])
    assert (row["typed"], row["term"], row["severity"]) == ("稳*赚", "稳赚", "block")


def test_an_excerpt_shifts_the_hits_into_its_window():
    text = "x" * 100 + "稳赚" + "y" * 100
    window = excerpt(text, [hit(100, 102)], radius=10)
    assert window["text"] == "x" * 10 + "稳赚" + "y" * 10
    assert (window["hits"][0]["start"], window["hits"][0]["end"]) == (10, 12)
    assert window["cut_before"] and window["cut_after"]


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin_user", "marketer", "reviewer", "executive", "employee", "dealer_operator"])
def test_everyone_signed_in_can_try_a_text(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/approvals/try/").status_code == 200
    response = client.post("/approvals/try/", {"text": "稳赚不赔"})
    assert response.status_code == 200
    assert response.context["screening"].decision == "block"


def test_signed_out_visitors_cannot_try(client, db):
    assert client.get("/approvals/try/").status_code == 302


def test_typing_screens_live_without_keeping_a_record(client, employee):
    client.force_login(employee)
    response = client.post("/approvals/try/", {"text": "全网最低价 <script>alert(1)</script>"}, headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and 'id="screening-result"' in html
    assert 'data-testid="decision"' in html and "Review" in html
    assert '<mark class="hit hit-review"' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not Screening.objects.exists()


def test_the_screen_button_keeps_a_record(client, employee, brand):
    client.force_login(employee)
    client.post("/approvals/try/", {"text": "稳赚不赔", "record": "1"}, headers=HTMX)
    screening = Screening.objects.get()
    assert (screening.source, screening.actor, screening.brand, screening.decision) == (
        "try_it", employee, brand, "block"
    )


def test_the_hit_list_shows_category_severity_explanation_and_suggestion(client, employee):
    client.force_login(employee)
    with translation.override("en"):
        html = client.post("/approvals/try/", {"text": "稳赚不赔"}, headers=HTMX).content.decode()
    assert 'data-testid="hit-list"' in html
    assert "<code>finance</code>" in html and "severity-block" in html
    assert "Suggestion" not in html  # shown in its own column
    assert "investing involves risk" in html


def test_an_emptied_textarea_shows_nothing(client, employee):
    client.force_login(employee)
    response = client.post("/approvals/try/", {"text": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "errorlist" not in response.content.decode() and response.context["screening"] is None


def test_the_company_lexicons_of_the_chosen_account_apply(client, admin_user, employee, brand, other_brand):
    lexicon = lexicon_create(actor=admin_user, brand=brand, name="Code names", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=lexicon, term="天穹计划")
    account = SocialAccountFactory(brand=brand, tier="employee", owner=employee)
    client.force_login(employee)
    response = client.post("/approvals/try/", {"text": "天穹计划", "account": account.pk}, headers=HTMX)
    assert response.context["screening"].decision == "block"
    assert response.context["screening"].tier == "employee"


def test_an_account_that_is_not_yours_cannot_be_chosen(client, employee, other_brand):
    stranger = SocialAccountFactory(brand=other_brand)
    client.force_login(employee)
    response = client.post("/approvals/try/", {"text": "hello", "account": stranger.pk}, headers=HTMX)
    assert response.context["screening"] is None
    assert "account" in response.context["form"].errors


def test_a_text_that_is_too_long_is_refused(client, employee):
    client.force_login(employee)
    response = client.post("/approvals/try/", {"text": "好" * 100_001}, headers=HTMX)
    assert response.context["screening"] is None
    assert "text" in response.context["form"].errors
