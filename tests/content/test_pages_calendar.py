"""The calendar pages: who sees which calendar, where an executive lands, what the filters offer, the
viewer's zone named and handed to FullCalendar, FullCalendar served from npm's files, the post
panel of My calendar, and the compose page prefilled from a clicked slot."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from content import services
from tests.factories import BrandFactory, DealerFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

VENDOR_FILES = [
    "vendor/luxon/luxon.min.js",
    "vendor/fullcalendar/core/index.global.min.js",
    "vendor/fullcalendar/daygrid/index.global.min.js",
    "vendor/fullcalendar/timegrid/index.global.min.js",
    "vendor/fullcalendar/list/index.global.min.js",
    "vendor/fullcalendar/interaction/index.global.min.js",
    "vendor/fullcalendar/luxon3/index.global.min.js",
]


def _config(response):
    html = response.content.decode()
    start = html.index('<script id="calendar-config" type="application/json">') + len(
        '<script id="calendar-config" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


def _options(response, name):
    """The values offered by the filter select `name`."""
    html = response.content.decode()
    select = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


@pytest.mark.parametrize("role", ["admin_user", "marketer", "reviewer"])
def test_marketing_roles_see_the_marketing_calendar(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/calendar/")
    assert response.status_code == 200
    assert _config(response)["mine"] is False
    assert b'href="/calendar/"' in response.content  # the nav entry


@pytest.mark.parametrize("role", ["executive", "employee"])
def test_executives_and_employees_are_sent_from_the_marketing_calendar_to_their_own(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/calendar/").url == "/calendar/mine/"
    response = client.get("/calendar/mine/")
    assert response.status_code == 200
    assert _config(response)["mine"] is True
    assert _config(response)["filters"] == {"owner": "me"}
    assert 'href="/calendar/mine/">My calendar</a>' in response.content.decode()


def test_marketing_is_sent_from_my_calendar_to_the_marketing_calendar(client, marketer):
    client.force_login(marketer)
    assert client.get("/calendar/mine/").url == "/calendar/"


def test_dealer_operators_have_no_calendar(client, dealer_operator):
    client.force_login(dealer_operator)
    assert client.get("/calendar/").status_code == 403
    assert client.get("/calendar/mine/").status_code == 403
    assert b"/calendar/" not in client.get("/posts/").content


def test_someone_signed_out_is_asked_to_log_in(client):
    assert client.get("/calendar/").url.startswith("/accounts/login/")
    assert client.get("/calendar/mine/").url.startswith("/accounts/login/")


def test_the_executive_lands_on_my_calendar_after_logging_in(client, executive):
    response = client.post("/accounts/login/", {"username": executive.username, "password": "pw-for-tests-1"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/calendar/mine/"
    assert response.status_code == 200


def test_an_employee_still_lands_on_their_accounts(client, employee):
    response = client.post("/accounts/login/", {"username": employee.username, "password": "pw-for-tests-1"})
    assert client.get(response.url).url == "/me/accounts/"


def test_the_filters_offer_only_what_the_marketer_may_see(client, marketer, brand, platforms, dealer_east,
                                                          executive_account):
    DealerFactory(brand=brand, code="N001", region="North", city="Beijing")  # no account: not offered
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_east, handle="e1_dy")
    other = BrandFactory(name="Borealis Bank", slug="borealis")
    other_dealer = DealerFactory(brand=other, code="W001", region="West", city="Chengdu")
    SocialAccountFactory(brand=other, platform=platforms["bilibili"], tier="dealer", dealer=other_dealer, handle="w1")
    stranger = UserFactory(username="stranger.exec", role="executive", brand=other)
    SocialAccountFactory(brand=other, platform=platforms["x"], tier="executive", owner=stranger,
                         ownership="personal", handle="stranger")
    client.force_login(marketer)

    response = client.get("/calendar/")

    assert _options(response, "tier") == ["", "dealer", "executive"]
    assert _options(response, "platform") == ["", *sorted(["douyin", "linkedin"],
                                                          key=lambda slug: platforms[slug].position)]
    assert _options(response, "brand") == ["", str(brand.pk)]
    assert _options(response, "region") == ["", "East"]
    assert _options(response, "owner") == ["", "me", str(executive_account.owner_id)]
    assert "stranger" not in response.content.decode()


def test_an_admin_is_offered_every_brand(client, admin_user, brand, platforms, dealer_east):
    other = BrandFactory(name="Borealis Bank", slug="borealis")
    other_dealer = DealerFactory(brand=other, code="W001", region="West", city="Chengdu")
    SocialAccountFactory(brand=other, platform=platforms["weibo"], tier="dealer", dealer=other_dealer, handle="w1")
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="dealer", dealer=dealer_east, handle="e1")
    client.force_login(admin_user)

    response = client.get("/calendar/")

    assert _options(response, "brand") == ["", str(brand.pk), str(other.pk)]
    assert _options(response, "region") == ["", "East", "West"]


def test_filters_in_the_address_reach_the_calendar_only_when_they_are_the_viewer_s(client, marketer, brand,
                                                                                   brand_account):
    other = BrandFactory(name="Borealis Bank", slug="borealis")
    client.force_login(marketer)

    config = _config(client.get(f"/calendar/?brand={brand.pk}&tier=brand&platform=weibo&owner=me"))
    assert config["filters"] == {"brand": str(brand.pk), "tier": "brand", "platform": "weibo", "owner": "me"}

    config = _config(client.get(f"/calendar/?brand={other.pk}&tier=nonsense&account={brand_account.pk}"))
    assert config["filters"] == {"account": str(brand_account.pk)}


def test_the_page_names_the_viewer_s_zone_and_gives_it_to_the_calendar(client, marketer):
    marketer.timezone = "America/New_York"
    marketer.save(update_fields=["timezone"])
    client.force_login(marketer)

    response = client.get("/calendar/?date=2026-03-08&view=timeGridWeek")

    assert "Times are in <strong>America/New_York</strong>, your time zone." in response.content.decode()
    config = _config(response)
    assert (config["timezone"], config["initialDate"], config["initialView"]) == (
        "America/New_York", "2026-03-08", "timeGridWeek")
    assert config["locale"] == "en"


def test_a_bad_date_or_view_in_the_address_is_ignored(client, executive):
    client.force_login(executive)
    config = _config(client.get("/calendar/mine/?date=2026-02-30&view=<script>"))
    assert (config["initialDate"], config["initialView"]) == (None, "listMonth")


def test_the_calendar_speaks_chinese_to_a_chinese_reader(client, marketer):
    client.force_login(marketer)
    client.cookies["django_language"] = "zh-hans"

    response = client.get("/calendar/")

    assert _config(response)["locale"] == "zh-cn"
    assert "/static/vendor/fullcalendar/core/locales/zh-cn.global.min.js" in response.content.decode()
    assert '<html lang="zh-hans">' in response.content.decode()


def test_fullcalendar_comes_from_npm_s_files_through_the_static_files(client, marketer):
    client.force_login(marketer)
    html = client.get("/calendar/").content.decode()
    for name in [*VENDOR_FILES, "js/calendar.js", "css/calendar.css"]:
        assert f"/static/{name}" in html
        found = finders.find(name)
        assert found, f"{name} is not found by the static files finders (make install runs npm ci)"
    for name in VENDOR_FILES:
        assert "node_modules" in finders.find(name)
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert len(b"".join(response.streaming_content)) > 1000
    assert finders.find("vendor/fullcalendar/core/locales/zh-cn.global.min.js")


# --- My calendar's post panel ------------------------------------------------------------------


@pytest.fixture
def waiting_for_the_executive(marketer, executive_account):
    """A post the executive's communications team wrote, waiting for the executive's own step."""
    post = services.post_create(actor=marketer, account=executive_account, body="新车发布会圆满结束，感谢各位伙伴。",
                                scheduled_at=timezone.now() + timedelta(days=3))
    return services.post_submit(actor=marketer, post=post)


def test_the_panel_offers_the_executive_their_decision(client, executive, waiting_for_the_executive):
    client.force_login(executive)

    response = client.get(f"/calendar/posts/{waiting_for_the_executive.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "新车发布会圆满结束" in html
    assert 'data-testid="panel-decision"' in html
    assert f'data-revision="{waiting_for_the_executive.revision.sha256}"' in html


def test_the_panel_offers_no_decision_to_someone_else(client, marketer, waiting_for_the_executive):
    client.force_login(marketer)
    response = client.get(f"/calendar/posts/{waiting_for_the_executive.pk}/")
    assert response.status_code == 200
    assert 'data-testid="panel-decision"' not in response.content.decode()


def test_the_panel_of_a_post_you_cannot_see_is_not_found(client, employee, waiting_for_the_executive):
    client.force_login(employee)
    assert client.get(f"/calendar/posts/{waiting_for_the_executive.pk}/").status_code == 404


def test_the_panel_escapes_the_text(client, marketer, executive, executive_account):
    post = services.post_create(actor=marketer, account=executive_account, body="<script>alert(1)</script>",
                                scheduled_at=timezone.now() + timedelta(days=3))
    client.force_login(executive)
    html = client.get(f"/calendar/posts/{post.pk}/").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- compose for a clicked slot ---------------------------------------------------------------


def test_compose_is_prefilled_with_the_clicked_time_in_the_calendar_s_zone(client, marketer, brand_account):
    client.force_login(marketer)

    response = client.get(f"/posts/new/?account={brand_account.pk}&local=2026-03-10T09:00&timezone=Europe/Berlin")

    form = response.context["form"]
    assert [a.pk for a in form.initial["accounts"]] == [brand_account.pk]
    html = response.content.decode()
    assert 'value="2026-03-10T09:00"' in html
    assert form.initial["zone_mode"] == "zone"
    assert '<option value="Europe/Berlin" selected>' in html


def test_compose_keeps_the_account_s_own_zone_when_the_calendar_is_in_it(client, marketer, brand_account):
    client.force_login(marketer)
    url = f"/posts/new/?account={brand_account.pk}&local=2026-03-10T09:00&timezone={brand_account.timezone}"
    form = client.get(url).context["form"]
    assert form.initial["zone_mode"] == "account"
    assert "timezone" not in form.initial


def test_compose_ignores_a_time_it_cannot_read(client, marketer, brand_account):
    client.force_login(marketer)
    form = client.get("/posts/new/?local=next-tuesday&timezone=Mars/Olympus").context["form"]
    assert "scheduled_at" not in form.initial
