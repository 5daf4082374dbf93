"""The crisis banner on every page, the pauses page (pause, lift, who may), and a held post's page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import AuditEvent
from content import services
from content.models import Pause, Post, PostStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
PAGES = ["/posts/", "/matrix/", "/matrix/accounts/", "/me/accounts/", "/review/notifications/", "/pauses/"]


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=True):
        yield


def pause(actor, brand, scope="brand", value="", reason="Product recall", **extra):
    return services.pause_create(actor=actor, brand=brand, scope=scope, value=value, reason=reason, **extra)


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- the banner ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_the_banner_shows_on_every_page_for_a_marketer_of_the_brand(client, marketer, brand, url):
    pause(marketer, brand, reason="Recall of the X5")
    html = page(client, marketer, url)
    assert 'data-testid="pause-banner"' in html
    assert "Publishing is paused for Aurora Motors" in html and "Recall of the X5" in html


@pytest.mark.parametrize("url", PAGES)
def test_the_banner_does_not_show_to_another_brands_people(client, marketer, outsider, brand, url):
    pause(marketer, brand, reason="Recall of the X5")
    html = page(client, outsider, url)
    assert 'data-testid="pause-banner"' not in html and "Recall of the X5" not in html


def test_an_employee_sees_the_pause_covering_their_account_and_not_others(client, marketer, employee, brand,
                                                                         employee_account, dealer_account):
    pause(marketer, brand, "tier", "dealer", reason="Dealer pricing error")
    html = page(client, employee, "/posts/")
    assert 'data-testid="pause-banner"' not in html
    pause(marketer, brand, "platform", "weibo", reason="Weibo account hacked", until=NOW + timedelta(hours=3))
    html = page(client, employee, "/posts/")
    assert "Weibo account hacked" in html and "Dealer pricing error" not in html
    assert "Publishing is paused for Weibo (Aurora Motors)" in html


def test_the_banner_is_gone_once_the_pause_is_lifted_or_ends(client, marketer, brand):
    lifted = pause(marketer, brand, reason="First")
    pause(marketer, brand, "tier", "dealer", reason="Second", until=NOW + timedelta(minutes=10))
    services.pause_lift(actor=marketer, pause=lifted)
    html = page(client, marketer, "/posts/")
    assert "First" not in html and "Second" in html
    with time_machine.travel(NOW + timedelta(minutes=11)):
        assert 'data-testid="pause-banner"' not in page(client, marketer, "/posts/")


def test_the_banner_speaks_chinese(client, marketer, brand):
    pause(marketer, brand, "tier", "dealer")
    client.force_login(marketer)
    response = client.get("/posts/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'data-testid="pause-banner"' in response.content.decode()


def _pause_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), sum('"content_pause"' in q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("url", ["/posts/", "/matrix/"])
def test_the_banner_costs_one_query_per_page_however_many_pauses(client, marketer, brand, dealer_east, employee_account,
                                                                 url, django_assert_num_queries):
    client.force_login(marketer)
    pause(marketer, brand)
    one_total, one_pause_queries = _pause_queries(client, url)
    assert one_pause_queries == 1
    pause(marketer, brand, "tier", "dealer")
    pause(marketer, brand, "region", "East")
    pause(marketer, brand, "account", str(employee_account.pk))
    pause(marketer, brand, "platform", "weibo")
    with django_assert_num_queries(one_total):
        html = client.get(url).content.decode()
    assert html.count('data-testid="pause-banner-item"') == 5


def test_a_page_without_pauses_makes_the_same_one_query(client, marketer, brand):
    client.force_login(marketer)
    assert _pause_queries(client, "/posts/")[1] == 1


# --- the pauses page -------------------------------------------------------------------------


def test_a_marketer_pauses_a_region_from_the_page(client, marketer, brand, dealer_east):
    html = page(client, marketer, "/pauses/")
    assert 'data-testid="pause-form"' in html and 'href="/pauses/"' in html
    response = client.post("/pauses/", {"brand": brand.pk, "scope": "region", "value": "East",
                                        "reason": "Flood in the east", "until": "2026-02-03T08:00"})
    assert response.status_code == 302
    created = Pause.objects.get()
    assert (created.scope, created.value, created.created_by) == ("region", "East", marketer)
    # Typed in the brand's zone (Asia/Shanghai, UTC+8).
    assert created.until == datetime(2026, 2, 3, 0, 0, tzinfo=UTC)
    html = client.get("/pauses/").content.decode()
    assert "Flood in the east" in html and 'data-testid="lift-form"' in html


def test_one_account_is_named_by_its_handle(client, reviewer, brand, employee_account):
    client.force_login(reviewer)
    response = client.post("/pauses/", {"brand": brand.pk, "scope": "account", "account": "@emp_wang",
                                        "reason": "Leaked memo"})
    assert response.status_code == 302
    assert Pause.objects.get().value == str(employee_account.pk)


def test_the_page_names_the_field_it_refuses(client, marketer, brand):
    client.force_login(marketer)
    response = client.post("/pauses/", {"brand": brand.pk, "scope": "region", "value": "", "reason": "x"})
    assert response.status_code == 400
    response = client.post("/pauses/", {"brand": brand.pk, "scope": "brand", "reason": "x",
                                        "until": "2026-02-01T08:00"})
    assert response.status_code == 400 and "must be in the future" in response.content.decode()
    assert not Pause.objects.exists()


def test_an_employee_reads_the_page_but_cannot_pause(client, employee, marketer, brand, employee_account):
    pause(marketer, brand, reason="Recall")
    html = page(client, employee, "/pauses/")
    assert "Recall" in html
    assert 'data-testid="pause-form"' not in html and 'data-testid="lift-form"' not in html
    assert 'href="/pauses/">' not in html.split("</nav>")[0]  # no nav link for them
    response = client.post("/pauses/", {"brand": brand.pk, "scope": "brand", "reason": "mine"})
    assert response.status_code == 403
    assert Pause.objects.count() == 1


def test_lifting_from_the_page_is_audited_and_happens_once(client, marketer, brand):
    created = pause(marketer, brand)
    client.force_login(marketer)
    assert client.post(f"/pauses/{created.pk}/lift/", {"reason": "All clear"}).status_code == 302
    created.refresh_from_db()
    assert created.lift_reason == "All clear" and created.lifted_by == marketer
    response = client.post(f"/pauses/{created.pk}/lift/", follow=True)
    assert "already lifted" in response.content.decode()
    assert AuditEvent.objects.filter(action="content.pause.lift").count() == 1


def test_another_brands_pause_is_not_found(client, marketer, outsider, brand):
    created = pause(marketer, brand, reason="Ours alone")
    client.force_login(outsider)
    assert client.post(f"/pauses/{created.pk}/lift/").status_code == 404
    assert "Ours alone" not in client.get("/pauses/").content.decode()
    created.refresh_from_db()
    assert created.lifted_at is None


def test_an_employee_who_sees_a_pause_cannot_lift_it(client, marketer, employee, brand, employee_account):
    created = pause(marketer, brand)
    client.force_login(employee)
    assert client.post(f"/pauses/{created.pk}/lift/").status_code == 403


# --- a held post -----------------------------------------------------------------------------


def test_a_scheduled_post_on_a_covered_account_says_it_is_held(client, marketer, brand, dealer_account):
    post = Post.objects.create(account=dealer_account, author=marketer, body="Spring sale", status=PostStatus.SCHEDULED,
                               scheduled_at=NOW + timedelta(hours=1))
    assert 'data-testid="held-by-pause"' not in page(client, marketer, f"/posts/{post.pk}/")
    pause(marketer, brand, "region", "East", reason="Flood in the east")
    html = page(client, marketer, f"/posts/{post.pk}/")
    assert 'data-testid="held-by-pause"' in html and "Flood in the east" in html
    Post.objects.filter(pk=post.pk).update(status=PostStatus.DRAFT)
    assert 'data-testid="held-by-pause"' not in page(client, marketer, f"/posts/{post.pk}/")
