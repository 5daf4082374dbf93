"""The compose page: one text for many accounts, times in each account's zone, limits per platform,
live risk checks, media uploads, and campaign drafts adapted by the people who own the accounts."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from approvals.models import Screening
from config.errors import DomainError
from content import services
from content.forms import local_to_utc
from content.models import Media, Post, PostStatus
from tests.factories import DealerFactory, DepartmentFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db

# Early in 2026, before both of New York's daylight saving changes of that year.
NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png(name="photo.png", width=160, height=120):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def east_dealers(brand, platforms, dealer_east):
    """Three dealer accounts in the East region (two dealers) and one in the South."""
    other_east = DealerFactory(brand=brand, code="E002", region="East", city="Hangzhou")
    south = DealerFactory(brand=brand, code="S009", region="South", city="Shenzhen")
    return {
        "east": [
            SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, platform=platforms["weibo"], handle="e1_weibo"),
            SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, platform=platforms["douyin"], handle="e1_douyin"),
            SocialAccountFactory(brand=brand, tier="dealer", dealer=other_east, platform=platforms["weibo"], handle="e2_weibo"),
        ],
        "south": SocialAccountFactory(brand=brand, tier="dealer", dealer=south, platform=platforms["weibo"], handle="s9_weibo"),
    }


def compose(client, accounts, body="春季新车到店，欢迎试驾。", action="draft", **extra):
    data = {"accounts": [a.pk for a in accounts], "body": body, "action": action, "zone_mode": "account", **extra}
    return client.post("/posts/new/", data)


# --- one text, many accounts -------------------------------------------------------------


def test_composing_for_three_accounts_creates_three_posts(client, marketer, east_dealers):
    client.force_login(marketer)
    accounts = east_dealers["east"]
    response = compose(client, accounts, body="周末到店试驾，有礼相送。")
    assert response.status_code == 302
    assert response["Location"] == "/posts/?author=me"
    posts = Post.objects.filter(author=marketer).order_by("account__handle")
    assert sorted(p.account_id for p in posts) == sorted(a.pk for a in accounts)
    assert {p.body for p in posts} == {"周末到店试驾，有礼相送。"}
    assert {p.status for p in posts} == {PostStatus.DRAFT}


def test_submit_for_review_submits_every_post(client, marketer, east_dealers):
    client.force_login(marketer)
    response = compose(client, east_dealers["east"][::2], body="周末到店试驾。", action="submit",
                       scheduled_at="2026-02-10T10:00")
    assert response.status_code == 302
    posts = list(Post.objects.filter(author=marketer))
    assert len(posts) == 2 and {p.status for p in posts} == {PostStatus.IN_REVIEW}
    assert all(p.revision.number == 1 for p in posts)


def test_one_account_lands_on_its_post(client, marketer, brand_account):
    client.force_login(marketer)
    response = compose(client, [brand_account], body="新车上市")
    post = Post.objects.get(author=marketer)
    assert response["Location"] == f"/posts/{post.pk}/"


def test_the_quick_selector_chooses_every_dealer_account_of_a_region(client, marketer, east_dealers, brand_account):
    client.force_login(marketer)
    response = client.post("/posts/new/", {"action": "pick", "pick_tier": "dealer", "pick_region": "East",
                                           "accounts": [brand_account.pk], "body": "草稿不丢"})
    assert response.status_code == 200
    expected = {a.pk for a in east_dealers["east"]} | {brand_account.pk}
    assert response.context["selected_ids"] == expected
    assert "草稿不丢" in response.content.decode()
    assert not Post.objects.exists()


def test_the_quick_selector_filters_by_department(client, marketer, brand, platforms):
    ev = DepartmentFactory(brand=brand, name="EV")
    chosen = SocialAccountFactory(brand=brand, platform=platforms["weibo"], department=ev, handle="ev_weibo")
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], handle="other_dy")
    client.force_login(marketer)
    response = client.post("/posts/new/", {"action": "pick", "pick_department": str(ev.pk)})
    assert response.context["selected_ids"] == {chosen.pk}


def test_the_page_lists_only_accounts_the_person_may_write_for(client, dealer_operator, east_dealers, dealer_account,
                                                                brand_account):
    client.force_login(dealer_operator)
    response = client.get("/posts/new/")
    listed = {a.pk for a in response.context["accounts"]}
    # The dealer operator's own dealer (E001): its accounts, not the brand's or another dealer's.
    assert brand_account.pk not in listed and east_dealers["south"].pk not in listed
    assert dealer_account.pk in listed
    response = compose(client, [brand_account], body="越权")
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_a_reviewer_has_no_account_to_write_for(client, reviewer, brand_account):
    client.force_login(reviewer)
    response = client.get("/posts/new/")
    assert response.status_code == 200
    assert 'data-testid="no-accounts"' in response.content.decode()


def test_the_page_has_the_counter_data_and_the_live_screening_wiring(client, marketer, platforms, brand):
    x = SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_x", timezone="America/New_York")
    client.force_login(marketer)
    html = client.get("/posts/new/").content.decode()
    assert f'value="{x.pk}"' in html and 'data-platform="x"' in html and 'data-limit="280"' in html
    assert 'data-tz="America/New_York"' in html
    assert 'hx-post="/posts/screen/"' in html and "keyup changed delay:400ms" in html
    assert "js/compose.js" in html


# --- limits --------------------------------------------------------------------------------


def test_a_text_over_an_accounts_limit_is_refused_naming_the_account(client, marketer, brand, platforms, brand_account):
    x = SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_x")
    client.force_login(marketer)
    body = "新车" * 75  # 150 characters: fine on Weibo, 300 weighted on X (limit 280)
    response = compose(client, [brand_account, x], body=body)
    assert response.status_code == 400
    errors = response.context["form"].errors["body"]
    assert "@aurora_x" in errors[0] and "300" in errors[0] and "280" in errors[0]
    assert not Post.objects.exists()  # all or none
    assert body in response.content.decode()  # nothing typed is lost


def test_links_count_as_23_on_x(client, marketer, brand, platforms):
    x = SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_x")
    client.force_login(marketer)
    body = "a" * 250 + " https://example.com/" + "x" * 300  # 250 + 1 + 23 = 274
    response = compose(client, [x], body=body)
    assert response.status_code == 302


# --- time zones ------------------------------------------------------------------------------


def test_local_to_utc_reads_the_wall_clock_in_the_zone():
    assert local_to_utc(datetime(2026, 6, 1, 9, 0), "Asia/Shanghai") == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 6, 1, 9, 0), "America/New_York") == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)


def test_local_to_utc_refuses_a_time_in_the_spring_gap():
    with pytest.raises(DomainError) as refused:
        local_to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert refused.value.field == "scheduled_at" and refused.value.code == "nonexistent_time"
    assert "does not exist" in str(refused.value.message)


def test_local_to_utc_refuses_a_time_in_the_autumn_overlap():
    with pytest.raises(DomainError) as refused:
        local_to_utc(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert refused.value.code == "ambiguous_time"
    assert "happens twice" in str(refused.value.message)
    # The hours either side are fine.
    assert local_to_utc(datetime(2026, 11, 1, 0, 30), "America/New_York") == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 11, 1, 2, 30), "America/New_York") == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("typed, words", [("2026-03-08T02:30", "does not exist"), ("2026-11-01T01:30", "happens twice")])
def test_the_page_refuses_a_time_the_accounts_zone_skips_or_repeats(client, marketer, brand, platforms, typed, words):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    client.force_login(marketer)
    response = compose(client, [ny], body="Spring launch", scheduled_at=typed)
    assert response.status_code == 400
    [error] = response.context["form"].errors["scheduled_at"]
    assert words in error and "America/New_York" in error
    assert not Post.objects.exists()
    html = response.content.decode()
    assert "Spring launch" in html and f'value="{typed}"' in html


def test_the_same_wall_clock_time_in_each_accounts_zone(client, marketer, brand, platforms, brand_account):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    client.force_login(marketer)
    response = compose(client, [brand_account, ny], body="9 点见", scheduled_at="2026-06-01T09:00")
    assert response.status_code == 302
    times = {p.account_id: p.scheduled_at for p in Post.objects.all()}
    assert times[brand_account.pk] == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert times[ny.pk] == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)  # 09:00 in New York


def test_one_zone_for_every_account(client, marketer, brand, platforms, brand_account):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    client.force_login(marketer)
    response = compose(client, [brand_account, ny], body="同一时刻", scheduled_at="2026-06-01T09:00",
                       zone_mode="zone", timezone="Europe/Berlin")
    assert response.status_code == 302
    assert {p.scheduled_at for p in Post.objects.all()} == {datetime(2026, 6, 1, 7, 0, tzinfo=UTC)}


def test_mixed_zones_offer_the_choice(client, marketer, brand, platforms, brand_account):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    client.force_login(marketer)
    response = client.post("/posts/new/", {"action": "pick", "accounts": [brand_account.pk, ny.pk]})
    assert response.context["mixed_zones"] is True
    assert response.context["zones"] == ["America/New_York", "Asia/Shanghai"]
    response = client.get(f"/posts/new/?account={ny.pk}")
    assert response.context["zones"] == ["America/New_York"]


def test_a_past_time_is_refused_next_to_the_time(client, marketer, brand_account):
    client.force_login(marketer)
    response = compose(client, [brand_account], body="过去", scheduled_at="2026-01-01T09:00")
    assert response.status_code == 400
    assert response.context["form"].errors["scheduled_at"] == ["This time has already passed."]


# --- risk check while typing --------------------------------------------------------------


def test_typing_screens_the_text_with_the_accounts_brand_and_keeps_no_record(client, marketer, brand_account):
    client.force_login(marketer)
    response = client.post("/posts/screen/", {"body": "保本保息，稳赚不赔 <b>bold</b>", "accounts": [brand_account.pk]},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="screening-result"' in html
    assert '<mark class="hit hit-block"' in html and "稳赚" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert 'data-testid="hit-list"' in html
    assert not Screening.objects.exists()


def test_an_empty_text_screens_nothing(client, marketer):
    client.force_login(marketer)
    response = client.post("/posts/screen/", {"body": "   "})
    assert response.status_code == 200 and "<mark" not in response.content.decode()


# --- media ---------------------------------------------------------------------------------


def test_uploads_report_each_refused_file_and_attach_the_others(client, marketer, brand_account):
    client.force_login(marketer)
    response = client.post("/posts/media/", {
        "accounts": [brand_account.pk],
        "files": [png("one.png"), SimpleUploadedFile("notes.png", b"not an image"), png("two.png")],
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert [m.original_name for m in Media.objects.order_by("id")] == ["one.png", "two.png"]
    assert html.count('data-testid="media-item"') == 2
    assert "notes.png" in html and "neither an image" in html and 'hx-swap-oob="true"' in html


def test_media_are_attached_in_the_order_chosen(client, marketer, brand_account):
    client.force_login(marketer)
    first = services.media_upload(actor=marketer, brand=brand_account.brand, file=png("a.png"))
    second = services.media_upload(actor=marketer, brand=brand_account.brand, file=png("b.png"))
    response = compose(client, [brand_account], body="两张图", media=[second.pk, first.pk])
    assert response.status_code == 302
    post = Post.objects.get()
    assert [a.media_id for a in post.attachments.order_by("position")] == [second.pk, first.pk]


def test_files_sent_with_the_form_are_kept_when_the_form_is_refused(client, marketer, brand_account):
    client.force_login(marketer)
    response = client.post("/posts/new/", {"accounts": [brand_account.pk], "body": "带图", "action": "draft",
                                           "scheduled_at": "2026-03-08T99:99", "files": [png("kept.png")]})
    assert response.status_code == 400
    kept = Media.objects.get(original_name="kept.png")
    assert [m.pk for m in response.context["attached"]] == [kept.pk]
    assert f'name="media" value="{kept.pk}" checked' in response.content.decode()


def test_someone_elses_media_cannot_be_attached_by_id(client, marketer, brand, brand_account, admin_user):
    theirs = services.media_upload(actor=admin_user, brand=brand, file=png("theirs.png"))
    client.force_login(marketer)
    response = compose(client, [brand_account], body="借图", media=[theirs.pk])
    assert response.status_code == 400
    assert response.context["form"].errors["media"]
    assert not Post.objects.exists()


def test_a_platform_that_needs_media_refuses_the_submission_next_to_the_media(client, marketer, brand, platforms):
    douyin = SocialAccountFactory(brand=brand, platform=platforms["douyin"], handle="aurora_dy")
    client.force_login(marketer)
    response = compose(client, [douyin], body="只有文字", action="submit")
    assert response.status_code == 400
    assert "Douyin" in response.context["form"].errors["media"][0]
    assert not Post.objects.exists()


# --- editing, and campaign drafts ---------------------------------------------------------------


def test_editing_saves_and_submitting_sends_to_review(client, marketer, brand_account):
    post = services.post_create(actor=marketer, account=brand_account, body="初稿")
    client.force_login(marketer)
    assert client.get(f"/posts/{post.pk}/edit/").context["form"]["body"].value() == "初稿"
    response = client.post(f"/posts/{post.pk}/edit/", {"body": "第二稿\r\n第二行", "action": "submit",
                                                       "scheduled_at": "2026-02-20T20:00"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "第二稿\n第二行"  # line breaks stored as the API stores them
    assert post.status == PostStatus.IN_REVIEW
    assert post.scheduled_at == datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def test_the_edit_page_shows_the_time_in_the_accounts_zone(client, marketer, brand, platforms):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    post = services.post_create(actor=marketer, account=ny, body="x", scheduled_at=datetime(2026, 6, 1, 13, 0, tzinfo=UTC))
    client.force_login(marketer)
    html = client.get(f"/posts/{post.pk}/edit/").content.decode()
    assert 'value="2026-06-01T09:00"' in html and "America/New_York" in html


def test_a_refused_edit_changes_nothing(client, marketer, brand, platforms):
    x = SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_x")
    post = services.post_create(actor=marketer, account=x, body="short")
    client.force_login(marketer)
    response = client.post(f"/posts/{post.pk}/edit/", {"body": "长" * 200, "action": "submit"})
    assert response.status_code == 400
    assert "@aurora_x" in response.context["form"].errors["body"][0]
    post.refresh_from_db()
    assert post.body == "short" and post.status == PostStatus.DRAFT


def test_an_outsider_cannot_open_or_edit_another_brands_post(client, outsider, marketer, brand_account):
    post = services.post_create(actor=marketer, account=brand_account, body="内部")
    client.force_login(outsider)
    assert client.get(f"/posts/{post.pk}/edit/").status_code == 404
    assert client.post(f"/posts/{post.pk}/edit/", {"body": "改", "action": "draft"}).status_code == 404
    assert client.post("/posts/screen/", {"body": "x", "post": post.pk}).status_code == 404
    post.refresh_from_db()
    assert post.body == "内部"


def test_a_colleague_who_may_see_but_not_write_gets_403(client, reviewer, marketer, brand_account):
    post = services.post_create(actor=marketer, account=brand_account, body="内部")
    client.force_login(reviewer)
    assert client.get(f"/posts/{post.pk}/edit/").status_code == 403


@pytest.fixture
def campaign_draft(brand, marketer, dealer_account, dealer_operator):
    campaign = services.campaign_create(
        actor=marketer, brand=brand, name="Spring", target={"tiers": ["dealer"]},
        template_body="{dealer_name}春季试驾开启，欢迎来{city}店里看看。",
    )
    [post] = services.campaign_push(actor=marketer, campaign=campaign).created
    return post


def test_a_dealer_sees_the_campaign_fields_and_the_locked_wording(client, dealer_operator, campaign_draft):
    client.force_login(dealer_operator)
    response = client.get(f"/posts/{campaign_draft.pk}/edit/")
    assert response.status_code == 200
    assert dict(response.context["template_fields"]) == {"dealer_name": campaign_draft.account.dealer.name,
                                                         "city": "Shanghai"}
    assert response.context["template_unchanged"] is True
    html = response.content.decode()
    assert 'data-template-field="city"' in html and 'id="campaign-template"' in html
    assert 'data-testid="campaign-template"' in html


def test_changing_the_wording_shows_the_difference_from_the_template(client, dealer_operator, campaign_draft):
    client.force_login(dealer_operator)
    body = campaign_draft.body.replace("欢迎", "保证全场最低价，欢迎")
    response = client.post("/posts/screen/", {"body": body, "post": campaign_draft.pk, "tpl_city": "Shanghai",
                                              "tpl_dealer_name": campaign_draft.account.dealer.name})
    html = response.content.decode()
    assert response.context["template_unchanged"] is False
    assert 'id="template-diff"' in html and 'hx-swap-oob="true"' in html
    assert "<ins>保证全场最低价，</ins>" in html
    # Only a field changed: still the campaign's wording.
    response = client.post("/posts/screen/", {"body": campaign_draft.body.replace("Shanghai", "浦东"),
                                              "post": campaign_draft.pk, "tpl_city": "浦东"})
    assert response.context["template_unchanged"] is True


def test_a_campaign_draft_with_only_its_fields_changed_is_scheduled_without_a_person(client, dealer_operator,
                                                                                      campaign_draft):
    client.force_login(dealer_operator)
    response = client.post(f"/posts/{campaign_draft.pk}/edit/", {
        "body": campaign_draft.body.replace("Shanghai", "浦东"), "action": "submit",
        "scheduled_at": "2026-02-10T10:00", "tpl_city": "浦东",
        "media": [a.media_id for a in campaign_draft.attachments.all()],
    })
    assert response.status_code == 302
    campaign_draft.refresh_from_db()
    assert campaign_draft.status == PostStatus.SCHEDULED
