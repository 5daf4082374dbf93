"""Who may write, see, change and decide which posts: one test per role at the edge of what it may do."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from config.errors import PermissionDeniedError
from content import services
from content.models import Post, PostStatus
from content.policies import (
    accounts_writable_by,
    campaign_user_can,
    campaigns_visible_to,
    post_user_can,
    posts_visible_to,
)
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CLEAN = "新车今日上市，欢迎到店试驾。"


def later():
    return timezone.now() + timedelta(days=1)


@pytest.fixture
def south_account(brand, platforms, dealer_south):
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="dealer", dealer=dealer_south,
                                handle="aurora_s001")


@pytest.fixture
def colleague_account(brand, platforms):
    colleague = UserFactory(username="colleague", role="employee", brand=brand)
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=colleague,
                                handle="colleague_drives")


@pytest.fixture
def brand_post(brand_account, marketer):
    return services.post_create(actor=marketer, account=brand_account, body=CLEAN, scheduled_at=later())


def test_an_outsider_sees_writes_and_decides_nothing_of_another_brand(outsider, brand, brand_account, brand_post):
    with pytest.raises(PermissionDeniedError):
        services.post_create(actor=outsider, account=brand_account, body=CLEAN)
    assert not posts_visible_to(outsider).exists()
    assert not post_user_can(outsider, "view", brand_post)
    with pytest.raises(PermissionDeniedError):
        services.post_update(actor=outsider, post=brand_post, body="hijacked")
    with pytest.raises(PermissionDeniedError):
        services.post_cancel(actor=outsider, post=brand_post)
    # A marketer, but of another brand: not a reviewer of ours.
    post = services.post_submit(actor=brand_post.author, post=brand_post)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=outsider, post=post)
    assert not campaign_user_can(outsider, "create", brand=brand)
    with pytest.raises(PermissionDeniedError):
        services.campaign_create(actor=outsider, brand=brand, name="Not yours", template_body="x")


def test_an_employee_writes_for_their_own_accounts_only(employee, employee_account, colleague_account, brand_account,
                                                        platforms, brand):
    operated = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="self_operated",
                                    operators=[employee])
    assert set(accounts_writable_by(employee)) == {employee_account, operated}
    services.post_create(actor=employee, account=employee_account, body=CLEAN)
    services.post_create(actor=employee, account=operated, body=CLEAN)
    for account in (colleague_account, brand_account):
        with pytest.raises(PermissionDeniedError):
            services.post_create(actor=employee, account=account, body=CLEAN)


def test_an_employee_cannot_see_or_touch_a_colleagues_post(employee, colleague_account):
    colleague = colleague_account.owner
    post = services.post_create(actor=colleague, account=colleague_account, body=CLEAN, scheduled_at=later())
    assert not post_user_can(employee, "view", post)
    assert post not in posts_visible_to(employee)
    with pytest.raises(PermissionDeniedError):
        services.post_update(actor=employee, post=post, body="mine now")
    with pytest.raises(PermissionDeniedError):
        services.post_submit(actor=employee, post=post)
    with pytest.raises(PermissionDeniedError):
        services.post_cancel(actor=employee, post=post)
    post.refresh_from_db()
    assert (post.body, post.status) == (CLEAN, PostStatus.DRAFT)


def test_a_dealer_operator_writes_for_their_dealer_and_not_another(dealer_operator, dealer_account, south_account,
                                                                   dealer_east, brand, platforms):
    other_store_account = SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer",
                                               dealer=dealer_east, handle="aurora_e001_dy")
    assert set(accounts_writable_by(dealer_operator)) == {dealer_account, other_store_account}
    services.post_create(actor=dealer_operator, account=dealer_account, body=CLEAN)
    with pytest.raises(PermissionDeniedError):
        services.post_create(actor=dealer_operator, account=south_account, body=CLEAN)
    south_post = services.post_create(actor=UserFactory(username="south.op", role="dealer_operator", brand=brand,
                                                        dealer=south_account.dealer),
                                      account=south_account, body=CLEAN)
    assert not post_user_can(dealer_operator, "view", south_post)
    with pytest.raises(PermissionDeniedError):
        services.post_update(actor=dealer_operator, post=south_post, body="x")


def test_a_reviewer_judges_posts_but_composes_none(reviewer, brand_account, brand_post, marketer):
    assert not accounts_writable_by(reviewer).exists()
    with pytest.raises(PermissionDeniedError):
        services.post_create(actor=reviewer, account=brand_account, body=CLEAN)
    assert post_user_can(reviewer, "view", brand_post)
    assert not post_user_can(reviewer, "change", brand_post)
    with pytest.raises(PermissionDeniedError):
        services.post_update(actor=reviewer, post=brand_post, body="rewritten by the reviewer")
    assert not campaign_user_can(reviewer, "create", brand=brand_account.brand)


def test_a_marketer_writes_for_every_account_of_the_brand_and_adapts_others_drafts(
        marketer, brand_account, dealer_account, dealer_operator, employee_account, outsider):
    writable = set(accounts_writable_by(marketer))
    assert {brand_account, dealer_account, employee_account} <= writable
    assert not any(account.brand_id != marketer.brand_id for account in writable)
    post = services.post_create(actor=dealer_operator, account=dealer_account, body=CLEAN, scheduled_at=later())
    post = services.post_update(actor=marketer, post=post, body=CLEAN + "欢迎来电。")
    assert post.author == dealer_operator and post.body.endswith("欢迎来电。")


def test_an_executive_writes_for_their_own_account_only(executive, executive_account, brand_account):
    services.post_create(actor=executive, account=executive_account, body="Proud of the team.")
    with pytest.raises(PermissionDeniedError):
        services.post_create(actor=executive, account=brand_account, body=CLEAN)


def test_people_outside_marketing_see_the_campaigns_they_received_a_draft_from(
        brand, marketer, dealer_operator, dealer_account, employee, reviewer):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring", template_body="{dealer_name}试驾",
                                        target={"tiers": ["dealer"]})
    hidden = services.campaign_create(actor=marketer, brand=brand, name="Internal", template_body="x")
    assert not campaigns_visible_to(dealer_operator).exists()
    services.campaign_push(actor=marketer, campaign=campaign)
    assert list(campaigns_visible_to(dealer_operator)) == [campaign]
    assert not campaigns_visible_to(employee).exists()
    assert set(campaigns_visible_to(reviewer)) == {campaign, hidden}
    for person in (dealer_operator, employee, reviewer):
        assert not campaign_user_can(person, "push", campaign)
        with pytest.raises(PermissionDeniedError):
            services.campaign_push(actor=person, campaign=campaign)


def test_an_admin_may_do_everything_but_decide_without_a_step(admin_user, brand_account, colleague_account, marketer):
    post = services.post_create(actor=admin_user, account=colleague_account, body=CLEAN, scheduled_at=later())
    assert post_user_can(admin_user, "change", post) and post_user_can(admin_user, "retry", post)
    post = services.post_submit(actor=admin_user, post=post)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=admin_user, post=post)  # the marketer's step, not the admin's
    assert services.post_approve(actor=marketer, post=post).status == PostStatus.SCHEDULED
    assert Post.objects.filter(pk=post.pk, status="scheduled").exists()


ROLE_VIEWS = {
    # role: (may view, may not view)
    "marketer": ({"view_post", "view_campaign", "view_review", "view_workflow", "view_lexicon"},
                 {"change_post", "view_screening", "view_auditevent"}),
    "reviewer": ({"view_post", "view_revision", "view_reviewstep", "view_lexicon", "view_screening"},
                 {"change_post", "change_lexicon", "view_auditevent"}),
    "executive": ({"view_post", "view_review", "view_campaign"}, {"view_lexicon", "view_workflow", "view_screening"}),
    "employee": ({"view_post", "view_media", "view_reviewstep"}, {"view_lexicon", "view_workflow", "change_post"}),
    "dealer_operator": ({"view_post", "view_campaign", "view_dealer"}, {"view_lexicon", "view_user"}),
}


@pytest.mark.parametrize("role", list(ROLE_VIEWS))
def test_each_role_group_has_the_view_permissions_of_its_work(role):
    granted = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    may, may_not = ROLE_VIEWS[role]
    assert may <= granted
    assert not may_not & granted
