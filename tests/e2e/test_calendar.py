"""The calendars in the browser: a marketer drags a post to another day and its approval stands; drops
the calendar refuses (a DST gap, an executive's blocked day) snap back with the reason; an empty
slot opens the compose page for that time; an executive approves from My calendar, blocks a day and
manages the ICS link; and the calendar in Simplified Chinese.

The browser's clock is the real one: every post is planned relative to today, and the calendar is
opened on its date with `?date=`."""

import io
import re
import zoneinfo
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from approvals.models import AuditEvent, ReviewStep, StepKind, WorkflowStep
from content import services
from content.models import BlockedDay, Post, PostStatus
from tests.e2e.helpers import login, zh
from tests.factories import UserFactory

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BODY = "春季新车今日到店，欢迎周末试驾。"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def writer(brand):
    """The communications team member who drafts the posts (nobody approves their own)."""
    return UserFactory(username="comms.writer", role="marketer", brand=brand)


def _in_zone(tz):
    def at(day, hour, minute=0):
        return datetime.combine(day, time(hour, minute), tz)
    return at


def _week_after_next(tz):
    """The Sunday that starts the week after this one in `tz` (English weeks start on Sunday)."""
    today = timezone.now().astimezone(tz).date()
    return today + timedelta(days=(6 - today.weekday()) % 7 + 7)


def _next_spring_forward(tz):
    """The next day whose clocks jump forward in `tz`."""
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    for _ in range(400):
        if datetime.combine(day, time(4), tz).utcoffset() > datetime.combine(day, time(1), tz).utcoffset():
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{tz} has no daylight saving time")


def _scheduled(writer, approver, account, when, body=BODY):
    """A post written by `writer`, approved by `approver` through the real workflow: scheduled."""
    post = services.post_submit(actor=writer, post=services.post_create(actor=writer, account=account, body=body,
                                                                        scheduled_at=when))
    post = services.post_approve(actor=approver, post=post, comment="", revision_sha256=post.revision.sha256)
    assert post.status == PostStatus.SCHEDULED
    return post


def _set_zone(user, name):
    user.timezone = name
    user.save(update_fields=["timezone"])


def _open(page, live_server, path, day, view):
    page.goto(f"{live_server.url}{path}?date={day.isoformat()}&view={view}")
    expect(page.locator(".fc-view-harness")).to_be_visible()
    page.wait_for_load_state("networkidle")


def _event(page, post):
    return page.locator(f".fc-event[data-post='{post.pk}']")


def _drag(page, source, target, *, slot=None):
    """Press on the post, move in small steps (FullCalendar starts a drag past a few pixels) and
    let go over the target: a day's cell, or a week view's column at the height of `slot` (HH:MM)."""
    height = None
    if slot is not None:
        lane = page.locator(f"td.fc-timegrid-slot-lane[data-time='{slot}:00']")
        lane.scroll_into_view_if_needed()
        box = lane.bounding_box()
        height = box["y"] + box["height"] / 2
    else:
        target.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + min(start["height"] / 2, 8)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 6, y + 6, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, height if height is not None else end["y"] + end["height"] / 2,
                    steps=20)
    page.mouse.up()


def _slot_middle(page, hhmm):
    """The height of the middle of the week view's half-hour slot starting at `hhmm`."""
    slot = page.locator(f"td.fc-timegrid-slot-lane[data-time='{hhmm}:00']")
    slot.scroll_into_view_if_needed()
    box = slot.bounding_box()
    return box["y"] + box["height"] / 2


def _column(page, day):
    return page.locator(f"td.fc-timegrid-col[data-date='{day.isoformat()}']")


def test_a_marketer_drags_a_post_to_another_day_and_its_approval_stands(page, live_server, marketer, writer,
                                                                          brand_account):
    _set_zone(marketer, "America/New_York")
    at = _in_zone(NEW_YORK)
    sunday = _week_after_next(NEW_YORK)
    tuesday, wednesday = sunday + timedelta(days=2), sunday + timedelta(days=3)
    post = _scheduled(writer, marketer, brand_account, at(tuesday, 10))
    approved = (post.approved_revision_id, post.approved_at, post.revision_id)
    login(page, live_server, marketer.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_test_id("calendar-zone")).to_contain_text("America/New_York")
    _open(page, live_server, "/calendar/", tuesday, "timeGridWeek")
    event = _event(page, post)
    expect(event).to_contain_text("@aurora_official")
    expect(event).to_contain_text("Scheduled")
    # The account is in Shanghai: its own clock is shown on hover.
    title = event.get_attribute("title")
    assert "Asia/Shanghai" in title and at(tuesday, 10).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in title
    page.screenshot(path="/tmp/calendar-week.png", full_page=True)
    # The filters ask the API again: the marketer owns no account, then back to everyone's.
    filters = page.get_by_test_id("calendar-filters")
    filters.get_by_label("Owner").select_option("me")
    expect(_event(page, post)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"owner=me"))
    filters.get_by_label("Owner").select_option("")
    expect(_event(page, post)).to_be_visible()

    _drag(page, event, _column(page, wednesday), slot="11:30")

    expect(page.get_by_test_id("calendar-status")).to_contain_text(
        f"Moved: @aurora_official now goes out at {wednesday.isoformat()} 11:30 (America/New_York).")
    expect(_column(page, wednesday).locator(f".fc-event[data-post='{post.pk}']")).to_be_visible()
    post.refresh_from_db()
    assert post.scheduled_at == at(wednesday, 11, 30)
    assert post.status == PostStatus.SCHEDULED
    assert (post.approved_revision_id, post.approved_at, post.revision_id) == approved
    event = AuditEvent.objects.get(action="content.post.reschedule", object_id=str(post.pk))
    assert event.actor_id == marketer.pk
    assert event.after["local"].startswith(f"{wednesday.isoformat()}T11:30")


def test_a_drop_into_the_hour_the_clocks_skip_snaps_back_with_the_reason(page, live_server, marketer, writer,
                                                                           brand_account):
    _set_zone(marketer, "America/New_York")
    gap_day = _next_spring_forward(NEW_YORK)  # a Sunday: the first day of its week
    monday = gap_day + timedelta(days=1)
    post = _scheduled(writer, marketer, brand_account, _in_zone(NEW_YORK)(monday, 2, 30))
    before = Post.objects.values("scheduled_at", "status", "approved_at").get(pk=post.pk)
    login(page, live_server, marketer.username)
    _open(page, live_server, "/calendar/", monday, "timeGridWeek")
    expect(_column(page, monday).locator(f".fc-event[data-post='{post.pk}']")).to_be_visible()

    _drag(page, _event(page, post), _column(page, gap_day), slot="02:30")

    alert = page.get_by_test_id("calendar-alert")
    expect(alert).to_contain_text(f"Not moved: {gap_day.isoformat()} 02:30 does not exist in America/New_York")
    expect(_column(page, monday).locator(f".fc-event[data-post='{post.pk}']")).to_be_visible()
    expect(_column(page, gap_day).locator(".fc-event")).to_have_count(0)
    page.screenshot(path="/tmp/calendar-dst-refused.png", full_page=True)
    assert Post.objects.values("scheduled_at", "status", "approved_at").get(pk=post.pk) == before
    assert not AuditEvent.objects.filter(action="content.post.reschedule").exists()


def test_a_drop_on_an_executive_s_blocked_day_snaps_back(page, live_server, marketer, writer, reviewer, executive,
                                                          executive_account):
    at = _in_zone(SHANGHAI)
    sunday = _week_after_next(SHANGHAI)
    tuesday, wednesday = sunday + timedelta(days=2), sunday + timedelta(days=3)
    post = services.post_submit(actor=writer, post=services.post_create(
        actor=writer, account=executive_account, body=BODY, scheduled_at=at(tuesday, 10)))
    services.blocked_day_create(actor=executive, date=wednesday, note="Family day")
    login(page, live_server, marketer.username)
    _open(page, live_server, "/calendar/", tuesday, "dayGridMonth")
    expect(page.locator(".fc-bg-event.blocked-day")).to_contain_text("Family day")
    event = _event(page, post)
    expect(event).to_contain_text("In review")

    _drag(page, event, page.locator(f"td.fc-daygrid-day[data-date='{wednesday.isoformat()}']"))

    expect(page.get_by_test_id("calendar-alert")).to_contain_text("Not moved:")
    expect(page.locator(f"td.fc-daygrid-day[data-date='{tuesday.isoformat()}'] .fc-event[data-post='{post.pk}']")
           ).to_be_visible()
    page.screenshot(path="/tmp/calendar-month-blocked.png", full_page=True)
    post.refresh_from_db()
    assert (post.scheduled_at, post.status) == (at(tuesday, 10), PostStatus.IN_REVIEW)


def test_an_empty_slot_opens_the_compose_page_for_that_time(page, live_server, marketer, brand_account):
    _set_zone(marketer, "Europe/Berlin")
    sunday = _week_after_next(zoneinfo.ZoneInfo("Europe/Berlin"))
    thursday = sunday + timedelta(days=4)
    login(page, live_server, marketer.username)
    page.goto(f"{live_server.url}/calendar/?date={thursday.isoformat()}&view=timeGridWeek&account={brand_account.pk}")
    expect(page.locator(".fc-view-harness")).to_be_visible()
    column = _column(page, thursday)
    y = _slot_middle(page, "09:00")
    box = column.bounding_box()

    page.mouse.click(box["x"] + box["width"] / 2, y)

    expect(page).to_have_url(re.compile(r"/posts/new/\?"))
    expect(page.locator("#id_scheduled_at")).to_have_value(f"{thursday.isoformat()}T09:00")
    expect(page.locator(f"input[name=accounts][value='{brand_account.pk}']")).to_be_checked()


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 60, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile("launch.png", buffer.getvalue(), content_type="image/png")


def test_an_executive_approves_a_post_from_my_calendar(page, live_server, brand, writer, executive,
                                                        executive_account):
    # A company whose executives' posts need only their own approval (workflows are data).
    WorkflowStep.objects.filter(workflow__tier="executive", kind=StepKind.ROLE).delete()
    day = _week_after_next(SHANGHAI) + timedelta(days=1)
    media = services.media_upload(actor=writer, brand=brand, file=_png())
    body = "这是我们做过最好的一台车，欢迎试驾。"  # an absolute claim: screening flags it for review
    post = services.post_submit(actor=writer, post=services.post_create(
        actor=writer, account=executive_account, body=body, media=[media], scheduled_at=_in_zone(SHANGHAI)(day, 9)))
    assert post.status == PostStatus.IN_REVIEW

    login(page, live_server, executive.username)
    expect(page).to_have_url(re.compile(r"/calendar/mine/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My calendar")
    _open(page, live_server, "/calendar/mine/", day, "listMonth")
    event = _event(page, post)
    expect(event).to_contain_text("In review")
    # With the keyboard: the post is a link in the list; Enter opens it in place, Escape closes it.
    event.locator(".fc-list-event-title a").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("post-panel")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("post-panel")).to_be_hidden()
    event.locator(".fc-list-event-title").click()

    panel = page.get_by_test_id("post-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("highlighted-text")).to_contain_text(body)
    expect(panel.locator("mark.hit").first).to_be_visible()
    expect(panel.get_by_test_id("panel-thumbs").locator("img")).to_be_visible()
    page.screenshot(path="/tmp/calendar-mine-panel.png", full_page=True)
    panel.get_by_test_id("panel-approve").click()

    expect(panel.get_by_test_id("panel-status")).to_have_text("Scheduled")
    expect(panel.get_by_test_id("panel-decision")).to_have_count(0)
    expect(page.get_by_test_id("calendar-status")).to_have_text("Approved.")
    expect(_event(page, post)).to_have_attribute("data-status", "scheduled")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    step = ReviewStep.objects.get(post=post, kind=StepKind.OWNER)
    assert (step.decided_by_id, step.revision_sha256) == (executive.pk, post.revision.sha256)


def test_an_executive_blocks_a_day_and_manages_the_calendar_link(page, live_server, writer, executive,
                                                                  executive_account):
    day = _week_after_next(SHANGHAI) + timedelta(days=2)
    post = services.post_create(actor=writer, account=executive_account, body=BODY,
                                scheduled_at=_in_zone(SHANGHAI)(day, 18))
    login(page, live_server, executive.username)
    _open(page, live_server, "/calendar/mine/", day, "dayGridMonth")

    frame = page.locator(f"td.fc-daygrid-day[data-date='{day.isoformat()}'] .fc-daygrid-day-frame")
    frame.click(position={"x": 5, "y": frame.bounding_box()["height"] - 4})  # below the post: an empty spot
    form = page.get_by_test_id("blocked-form")
    expect(form.get_by_label("Date")).to_have_value(day.isoformat())
    expect(form.get_by_label("Note")).to_be_focused()
    page.keyboard.type("Board retreat")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("calendar-alert")).to_contain_text(
        f"{day.isoformat()} is blocked, but 1 post is planned that day: it will not go out unless it is moved.")
    expect(page.get_by_test_id("blocked-list")).to_contain_text("Board retreat")
    expect(page.locator(".fc-bg-event.blocked-day")).to_contain_text("Board retreat")
    blocked = BlockedDay.objects.get(owner=executive)
    assert (blocked.date, blocked.note) == (day, "Board retreat")
    assert post.pk  # the post stays where it is: the owner decides what to move

    feed = page.get_by_test_id("calendar-feed")
    url = feed.get_by_test_id("feed-url")
    expect(url).to_have_value(re.compile(r"^http.*/calendar/[\w-]+\.ics$"))
    first = url.input_value()
    page.screenshot(path="/tmp/calendar-mine-month.png", full_page=True)
    page.on("dialog", lambda dialog: dialog.accept())
    feed.get_by_role("button", name="New link (the old one stops working)").click()
    expect(feed).to_contain_text("A new link is ready")
    assert url.input_value() != first
    # The link names the site's public address (SITE_URL); here the feed is read from the test server.
    assert page.request.get(live_server.url + urlsplit(first).path).status == 404
    assert page.request.get(live_server.url + urlsplit(url.input_value()).path).status == 200
    feed.get_by_role("button", name="Turn off").click()
    expect(feed).to_contain_text("The subscription link is turned off.")
    expect(url).to_be_hidden()

    page.get_by_test_id("blocked-list").get_by_role("button", name=f"Unblock {day.isoformat()}").click()
    expect(page.get_by_test_id("calendar-status")).to_have_text(f"{day.isoformat()} is no longer blocked.")
    assert not BlockedDay.objects.filter(owner=executive).exists()


def test_the_calendar_in_simplified_chinese(page, live_server, marketer, writer, brand_account):
    day = _week_after_next(SHANGHAI) + timedelta(days=1)
    post = _scheduled(writer, marketer, brand_account, _in_zone(SHANGHAI)(day, 9))
    login(page, live_server, marketer.username)
    _open(page, live_server, "/calendar/", day, "dayGridMonth")

    page.locator("#language").select_option("zh-hans")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    toolbar = page.locator(".fc-header-toolbar")
    expect(toolbar.get_by_role("button", name="月", exact=True)).to_be_visible()
    expect(toolbar.get_by_role("button", name="周", exact=True)).to_be_visible()
    expect(toolbar.get_by_role("button", name="今天", exact=True)).to_be_visible()
    expect(page.locator(".fc-toolbar-title")).to_have_text(f"{day.year}年{day.month}月")
    filters = page.get_by_test_id("calendar-filters")
    for msgid in ("Tier", "Platform", "Brand", "Region", "Owner", "Campaign", "Any tier", "Any platform"):
        expect(filters).to_contain_text(zh(msgid))
    expect(page.get_by_role("navigation").first).to_contain_text(zh("Posts"))
    expect(_event(page, post)).to_contain_text(zh("Scheduled"))
    page.screenshot(path="/tmp/calendar-zh.png", full_page=True)


def test_a_period_with_more_posts_than_the_calendar_draws_says_how_to_see_the_rest(
        page, live_server, marketer, writer, brand_account, settings):
    settings.CALENDAR_MAX_EVENTS = 3
    day = _week_after_next(SHANGHAI) + timedelta(days=2)
    posts = [_scheduled(writer, marketer, brand_account, _in_zone(SHANGHAI)(day, 9 + index), body=f"{BODY} {index}")
             for index in range(5)]
    login(page, live_server, marketer.username)
    _open(page, live_server, "/calendar/", day, "timeGridWeek")

    expect(page.locator("[data-calendar-alert]")).to_contain_text("Showing the first 3 of 5 posts in this period")
    expect(page.locator(".fc-event[data-post]")).to_have_count(3)
    for post in posts[:3]:  # the first ones in time
        expect(_event(page, post)).to_be_visible()
