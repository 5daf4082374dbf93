"""The campaign pages: a brief with a suggested text and its fields, a target slice previewed, a
window in the brand's zone, the push with what it created and skipped, and who may do what."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from content import services
from content.models import Campaign, Media, Post, PostStatus
from tests.factories import DealerFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
TEMPLATE = "{dealer_name}春季试驾开启，欢迎来{city}店里看看。"


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(name="key-visual.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 200, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.fixture
def spring(brand, marketer):
    return services.campaign_create(actor=marketer, brand=brand, name="Spring", template_body=TEMPLATE,
                                    brief="Test drives in every store", target={"tiers": ["dealer"]})


def form_data(**fields):
    data = {"name": "Spring", "brief": "Test drives", "template_body": TEMPLATE, "tiers": ["dealer"]}
    data.update(fields)
    return data


# --- create and edit ---------------------------------------------------------------------------


def test_a_marketer_creates_a_campaign_with_a_target_slice_and_a_window_in_the_brands_zone(
        client, marketer, brand, dealer_east):
    client.force_login(marketer)
    assert client.get("/campaigns/new/").status_code == 200
    response = client.post("/campaigns/new/", form_data(
        brand=brand.pk, regions=["East"], platforms=["weibo", "douyin"],
        window_start="2026-03-01T09:00", window_end="2026-03-31T18:00", files=[png()],
    ))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.target == {"tiers": ["dealer"], "platforms": ["weibo", "douyin"], "regions": ["East"]}
    assert campaign.template_body == TEMPLATE and campaign.status == Campaign.Status.DRAFT
    # Asia/Shanghai is UTC+8.
    assert campaign.window_start == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert campaign.window_end == datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
    assert [m.original_name for m in campaign.media.all()] == ["key-visual.png"]


def test_a_window_time_the_brands_zone_skips_is_refused_next_to_it(client, marketer, brand):
    brand.timezone = "America/New_York"
    brand.save()
    client.force_login(marketer)
    response = client.post("/campaigns/new/", form_data(brand=brand.pk, window_start="2026-03-08T02:30"))
    assert response.status_code == 400
    assert "does not exist in America/New_York" in response.context["form"].errors["window_start"][0]
    assert not Campaign.objects.exists()


def test_a_window_that_closes_before_it_opens_is_refused_and_the_input_kept(client, marketer, brand):
    client.force_login(marketer)
    response = client.post("/campaigns/new/", form_data(brand=brand.pk, window_start="2026-03-10T09:00",
                                                        window_end="2026-03-01T09:00", files=[png("kept.png")]))
    assert response.status_code == 400
    assert response.context["form"].errors["window_end"] == ["The campaign window must close after it opens."]
    html = response.content.decode()
    assert TEMPLATE in html and 'value="2026-03-10T09:00"' in html
    kept = Media.objects.get(original_name="kept.png")
    assert [m.pk for m in response.context["attached"]] == [kept.pk]
    assert not Campaign.objects.exists()


def test_editing_changes_the_target_and_the_text(client, marketer, spring, dealer_east):
    client.force_login(marketer)
    page = client.get(f"/campaigns/{spring.pk}/edit/")
    assert page.context["form"]["template_body"].value() == TEMPLATE
    response = client.post(f"/campaigns/{spring.pk}/edit/", form_data(
        name="Spring 2", template_body="{city}见", tiers=["dealer", "employee"], regions=["East"]))
    assert response.status_code == 302
    spring.refresh_from_db()
    assert (spring.name, spring.template_body) == ("Spring 2", "{city}见")
    assert spring.target == {"tiers": ["dealer", "employee"], "regions": ["East"]}


def test_editing_keeps_the_accounts_named_through_the_api(client, marketer, brand, dealer_account):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Named", template_body="x",
                                        target={"accounts": [dealer_account.pk]})
    client.force_login(marketer)
    response = client.post(f"/campaigns/{campaign.pk}/edit/", form_data(name="Named", template_body="y", tiers=[]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.target == {"accounts": [dealer_account.pk]} and campaign.template_body == "y"


def test_only_marketers_of_the_brand_and_admins_create_or_change_campaigns(client, spring, employee, reviewer,
                                                                           outsider, admin_user):
    for person in (employee, reviewer):
        client.force_login(person)
        assert client.get("/campaigns/new/").status_code == 403
        assert client.post("/campaigns/new/", form_data()).status_code == 403
    client.force_login(reviewer)
    assert client.get(f"/campaigns/{spring.pk}/").status_code == 200  # reviewers read them
    assert client.get(f"/campaigns/{spring.pk}/edit/").status_code == 403
    assert client.post(f"/campaigns/{spring.pk}/push/").status_code == 403
    client.force_login(outsider)
    assert client.get(f"/campaigns/{spring.pk}/").status_code == 404
    assert client.get(f"/campaigns/{spring.pk}/edit/").status_code == 404
    assert client.post(f"/campaigns/{spring.pk}/push/").status_code == 404
    client.force_login(admin_user)
    assert client.get(f"/campaigns/{spring.pk}/edit/").status_code == 200


# --- fields and the target preview -----------------------------------------------------------


def test_the_preview_shows_the_fields_and_their_values_for_a_sample_account(client, marketer, brand, dealer_account):
    client.force_login(marketer)
    response = client.post("/campaigns/preview/", {"brand": brand.pk, "template_body": TEMPLATE + "{shoe_size}",
                                                   "tiers": ["dealer"]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["fields"] == ["dealer_name", "city", "shoe_size"]
    assert response.context["sample"] == dealer_account
    values = dict(response.context["field_values"])
    assert values["city"] == "Shanghai" and values["dealer_name"] == dealer_account.dealer.name
    assert response.context["unknown_fields"] == ["shoe_size"]
    assert response.context["target_count"] == 1
    html = response.content.decode()
    assert "unknown field" in html and f"{dealer_account.dealer.name}春季试驾开启" in html


def test_the_preview_escapes_the_template(client, marketer, brand):
    client.force_login(marketer)
    response = client.post("/campaigns/preview/", {"brand": brand.pk, "template_body": "<img src=x onerror=alert(1)>"})
    assert "<img src=x" not in response.content.decode()


def test_the_detail_previews_the_target_accounts_count_and_the_first_50(client, marketer, brand, platforms, spring):
    for i in range(53):
        SocialAccountFactory(brand=brand, tier="dealer", platform=platforms["weibo"], handle=f"store_{i:02d}")
    SocialAccountFactory(brand=brand, tier="dealer", platform=platforms["weibo"], handle="paused_store", status="paused")
    SocialAccountFactory(brand=brand, tier="self_operated", platform=platforms["weibo"], handle="service")
    client.force_login(marketer)
    response = client.get(f"/campaigns/{spring.pk}/")
    assert response.context["target_count"] == 53
    assert len(response.context["target_accounts"]) == 50
    html = response.content.decode()
    assert "Target: 53 accounts" in html and "The first 50 are shown." in html
    assert "nobody: it will be skipped" in html  # dealer accounts without an operator
    assert 'class="template-field">{city}</span>' in html


def test_the_detail_uses_the_same_number_of_queries_for_few_or_many_accounts_and_posts(
        client, marketer, brand, platforms, spring, dealer_operator):
    client.force_login(marketer)
    dealer = DealerFactory(brand=brand, region="East")
    for i in range(2):
        SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer, handle=f"few_{i}", operators=[dealer_operator])
    services.campaign_push(actor=marketer, campaign=spring)
    few = queries(client, f"/campaigns/{spring.pk}/"), queries(client, "/campaigns/")
    for i in range(20):
        SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer, handle=f"many_{i}", operators=[dealer_operator])
    services.campaign_push(actor=marketer, campaign=spring)
    for i in range(5):
        services.campaign_create(actor=marketer, brand=brand, name=f"C{i}", template_body="x")
    assert (queries(client, f"/campaigns/{spring.pk}/"), queries(client, "/campaigns/")) == few


# --- push ----------------------------------------------------------------------------------------


def test_pushing_shows_what_was_created_and_what_was_skipped_and_why(client, marketer, brand, spring, dealer_account,
                                                                    dealer_operator):
    orphan = SocialAccountFactory(brand=brand, tier="dealer", handle="no_operator")
    client.force_login(marketer)
    response = client.post(f"/campaigns/{spring.pk}/push/")
    assert response.status_code == 200
    report = response.context["report"]
    assert [p.account for p in report.created] == [dealer_account]
    assert [(a, str(reason)) for a, reason in report.skipped] == [(orphan, "nobody owns or operates this account")]
    html = response.content.decode()
    assert 'data-testid="push-report"' in html and "no_operator" in html and "nobody owns or operates" in html
    spring.refresh_from_db()
    assert spring.status == Campaign.Status.PUSHED
    # Pushing again skips the account that already has its draft.
    response = client.post(f"/campaigns/{spring.pk}/push/")
    assert {(a, str(reason)) for a, reason in response.context["report"].skipped} == {
        (dealer_account, "already has a draft of this campaign"), (orphan, "nobody owns or operates this account")}
    assert Post.objects.filter(campaign=spring).count() == 1


def test_a_push_without_text_is_refused_with_the_message(client, marketer, brand):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Empty")
    client.force_login(marketer)
    response = client.post(f"/campaigns/{campaign.pk}/push/", follow=True)
    assert "Write the suggested text before pushing the campaign." in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_the_campaigns_posts_with_their_status(client, marketer, spring, dealer_account, dealer_operator):
    [post] = services.campaign_push(actor=marketer, campaign=spring).created
    services.post_update(actor=dealer_operator, post=post, scheduled_at=datetime(2026, 2, 10, 2, 0, tzinfo=UTC))
    services.post_submit(actor=dealer_operator, post=Post.objects.get(pk=post.pk))
    client.force_login(marketer)
    response = client.get(f"/campaigns/{spring.pk}/")
    assert [p.pk for p in response.context["posts"]] == [post.pk]
    assert response.context["status_counts"] == [("Scheduled", 1)]
    assert Post.objects.get(pk=post.pk).status == PostStatus.SCHEDULED


def test_the_dealer_who_received_a_draft_sees_the_campaign_but_cannot_change_it(client, marketer, spring,
                                                                                dealer_account, dealer_operator,
                                                                                employee):
    client.force_login(dealer_operator)
    assert client.get(f"/campaigns/{spring.pk}/").status_code == 404  # nothing received yet
    [post] = services.campaign_push(actor=marketer, campaign=spring).created
    response = client.get(f"/campaigns/{spring.pk}/")
    assert response.status_code == 200
    assert not response.context["can_change"] and not response.context["can_push"]
    assert [c.pk for c in client.get("/campaigns/").context["page"]] == [spring.pk]
    assert client.get(f"/campaigns/{spring.pk}/edit/").status_code == 403
    # The draft itself opens on the compose page with the template's fields.
    assert client.get(f"/posts/{post.pk}/edit/").context["template_fields"]
    client.force_login(employee)
    assert client.get(f"/campaigns/{spring.pk}/").status_code == 404


def test_campaign_pages_list_what_the_viewer_may_see(client, marketer, outsider, spring, other_brand):
    theirs = services.campaign_create(actor=UserFactory(role="admin", brand=None, username="root"), brand=other_brand,
                                      name="Theirs")
    client.force_login(marketer)
    assert [c.pk for c in client.get("/campaigns/").context["page"]] == [spring.pk]
    client.force_login(outsider)
    assert [c.pk for c in client.get("/campaigns/").context["page"]] == [theirs.pk]
