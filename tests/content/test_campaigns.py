"""Campaigns: a brief and a suggested text pushed to a slice of the matrix, one draft per account,
filled in for each dealer and given to whoever owns or operates the account."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent
from config.errors import DomainError
from content import services
from content.models import Campaign, Media, Notification, PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "{dealer_name}（{city}）春季试驾开启，欢迎预约！"


@pytest.fixture
def south_operator(brand, dealer_south):
    return UserFactory(username="south.operator", role="dealer_operator", brand=brand, dealer=dealer_south)


@pytest.fixture
def south_account(brand, platforms, dealer_south, south_operator):
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="dealer", dealer=dealer_south,
                                handle="aurora_s001", operators=[south_operator])


@pytest.fixture
def unstaffed_account(brand, platforms, dealer_east):
    """A store account nobody operates yet."""
    return SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_east,
                                handle="aurora_e001_dy")


def campaign(brand, marketer, **extra):
    fields = {"name": "Spring test drive", "template_body": TEMPLATE, "target": {"tiers": ["dealer"]}}
    fields.update(extra)
    return services.campaign_create(actor=marketer, brand=brand, **fields)


def test_a_push_gives_each_dealer_account_a_draft_filled_in_for_its_store(
        brand, marketer, dealer_east, dealer_south, dealer_account, south_account, dealer_operator, south_operator,
        unstaffed_account):
    dealer_east.name, dealer_south.name = "Shanghai Pudong Motors", "Guangzhou Tianhe Motors"
    dealer_east.save()
    dealer_south.save()
    spring = campaign(brand, marketer)
    report = services.campaign_push(actor=marketer, campaign=spring)

    drafts = {post.account: post for post in report.created}
    assert set(drafts) == {dealer_account, south_account}
    assert drafts[dealer_account].body == "Shanghai Pudong Motors（Shanghai）春季试驾开启，欢迎预约！"
    assert drafts[south_account].body == "Guangzhou Tianhe Motors（Guangzhou）春季试驾开启，欢迎预约！"
    assert drafts[dealer_account].author == dealer_operator and drafts[south_account].author == south_operator
    for post in report.created:
        assert post.status == PostStatus.DRAFT and post.campaign == spring and post.template_body == TEMPLATE
    assert [(account, str(reason)) for account, reason in report.skipped] == [
        (unstaffed_account, "nobody owns or operates this account")]
    notes = Notification.objects.filter(kind=Notification.Kind.CAMPAIGN)
    assert {(n.user, n.post) for n in notes} == {(dealer_operator, drafts[dealer_account]),
                                                 (south_operator, drafts[south_account])}
    spring.refresh_from_db()
    assert spring.status == Campaign.Status.PUSHED and spring.pushed_at is not None


def test_the_push_is_audited_with_what_was_created_and_what_was_skipped(
        brand, marketer, dealer_account, unstaffed_account):
    spring = campaign(brand, marketer)
    report = services.campaign_push(actor=marketer, campaign=spring)
    event = AuditEvent.objects.get(action="content.campaign.push")
    assert event.actor == marketer and event.object_id == str(spring.pk)
    assert event.before == {"status": "draft"}
    assert event.after == {
        "status": "pushed", "created": [report.created[0].pk],
        "skipped": [[unstaffed_account.pk, "nobody owns or operates this account"]],
    }
    draft = report.created[0]
    created = AuditEvent.objects.get(action="content.post.create", object_id=str(draft.pk))
    assert created.actor == marketer and created.after["author_id"] == draft.author_id
    assert created.after["campaign_id"] == spring.pk


def test_a_second_push_skips_accounts_that_already_have_a_draft(brand, marketer, dealer_account, south_account):
    spring = campaign(brand, marketer)
    first = services.campaign_push(actor=marketer, campaign=spring)
    assert len(first.created) == 2
    late_store = SocialAccountFactory(brand=brand, platform=dealer_account.platform, tier="dealer",
                                      dealer=dealer_account.dealer, handle="aurora_e001_new",
                                      operators=list(dealer_account.operators.all()))
    second = services.campaign_push(actor=marketer, campaign=spring)
    assert [post.account for post in second.created] == [late_store]
    assert {account for account, _reason in second.skipped} == {dealer_account, south_account}
    assert {str(reason) for _account, reason in second.skipped} == {"already has a draft of this campaign"}
    assert spring.posts.count() == 3
    second_event = AuditEvent.objects.filter(action="content.campaign.push").order_by("id").last()
    assert second_event.after["created"] == [second.created[0].pk]
    assert sorted(pk for pk, _reason in second_event.after["skipped"]) == sorted([dealer_account.pk, south_account.pk])


def test_a_cancelled_draft_is_given_again_on_the_next_push(brand, marketer, dealer_account, dealer_operator):
    spring = campaign(brand, marketer)
    (post,) = services.campaign_push(actor=marketer, campaign=spring).created
    services.post_cancel(actor=dealer_operator, post=post)
    (again,) = services.campaign_push(actor=marketer, campaign=spring).created
    assert again.account == dealer_account and again.pk != post.pk


def test_personal_accounts_go_to_their_owner_and_an_offboarded_owner_gets_none(brand, marketer, employee,
                                                                               employee_account, platforms):
    leaver = UserFactory(username="leaver", role="employee", brand=brand)
    gone = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=leaver)
    leaver.is_active = False
    leaver.offboarded_at = timezone.now()
    leaver.save()
    pending = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=employee,
                                   status="pending")
    voices = campaign(brand, marketer, template_body="我在{brand}的一天", target={"tiers": ["employee"]})
    report = services.campaign_push(actor=marketer, campaign=voices)
    assert [(p.account, p.author, p.body) for p in report.created] == [(employee_account, employee, "我在Aurora Motors的一天")]
    assert [account for account, _reason in report.skipped] == [gone]
    assert not pending.posts.exists()  # not in the matrix until its owner consents


def test_a_text_too_long_for_the_platform_is_skipped_with_the_reason(brand, marketer, platforms, employee):
    x_account = SocialAccountFactory(brand=brand, platform=platforms["x"], tier="self_operated", operators=[employee])
    weibo_account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated",
                                         operators=[employee])
    long_text = "春" * 150 + "{brand}"  # 150 CJK characters weigh 300 on X
    report = services.campaign_push(actor=marketer, campaign=campaign(
        brand, marketer, template_body=long_text, target={"tiers": ["self_operated"]}))
    assert [p.account for p in report.created] == [weibo_account]
    ((skipped, reason),) = report.skipped
    assert skipped == x_account and "280" in str(reason)


def test_the_target_slices_the_matrix(brand, marketer, dealer_account, south_account, brand_account, platforms):
    def pushed_to(**target):
        c = campaign(brand, marketer, name=f"c{Campaign.objects.count()}", target=target)
        return {post.account for post in services.campaign_push(actor=marketer, campaign=c).created}

    brand_account.operators.add(marketer)
    assert pushed_to(regions=["South"]) == {south_account}
    assert pushed_to(platforms=["wechat_oa"]) == {dealer_account}
    assert pushed_to(accounts=[brand_account.pk, south_account.pk]) == {brand_account, south_account}
    assert pushed_to(tiers=["dealer"], regions=["East"]) == {dealer_account}


def test_campaigns_with_the_media_of_the_brand_give_it_to_every_draft(brand, marketer, dealer_account,
                                                                      dealer_operator):
    poster = Media.objects.create(brand=brand, file="media/spring.png", kind="image", content_type="image/png",
                                  size=10, width=800, height=600, sha256="a" * 64, uploaded_by=marketer)
    spring = campaign(brand, marketer, template_body="{dealer_name}春季试驾", media=[poster])
    (post,) = services.campaign_push(actor=marketer, campaign=spring).created
    assert list(post.media.all()) == [poster]
    post = services.post_update(actor=dealer_operator, post=post, scheduled_at=timezone.now() + timedelta(days=1))
    post = services.post_submit(actor=dealer_operator, post=post)
    # The draft is the template with its media, unchanged: no human step.
    assert post.status == PostStatus.SCHEDULED
    assert post.revision.media[0]["sha256"] == "a" * 64


def test_a_push_refuses_a_closed_campaign_and_an_empty_text(brand, marketer, dealer_account):
    empty = campaign(brand, marketer, template_body="  ")
    with pytest.raises(DomainError) as refused:
        services.campaign_push(actor=marketer, campaign=empty)
    assert refused.value.field == "template_body"
    closed = campaign(brand, marketer, name="Winter")
    Campaign.objects.filter(pk=closed.pk).update(status=Campaign.Status.CLOSED)
    with pytest.raises(DomainError):
        services.campaign_push(actor=marketer, campaign=closed)
    assert not dealer_account.posts.exists()


def test_a_campaign_window_must_close_after_it_opens_and_holds_its_posts(brand, marketer, dealer_account,
                                                                         dealer_operator):
    start = timezone.now() + timedelta(days=2)
    with pytest.raises(DomainError):
        campaign(brand, marketer, window_start=start, window_end=start - timedelta(hours=1))
    with pytest.raises(DomainError) as refused:
        campaign(brand, marketer, target={"dealers": [1]})
    assert refused.value.field == "target"
    spring = campaign(brand, marketer, window_start=start, window_end=start + timedelta(days=7))
    (post,) = services.campaign_push(actor=marketer, campaign=spring).created
    services.post_update(actor=dealer_operator, post=post, scheduled_at=start + timedelta(days=8))
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=dealer_operator, post=post)
    assert refused.value.field == "scheduled_at"
    services.post_update(actor=dealer_operator, post=post, scheduled_at=start + timedelta(days=1))
    assert services.post_submit(actor=dealer_operator, post=post).status == PostStatus.SCHEDULED


def test_a_campaign_change_is_audited_and_a_save_without_change_is_not(brand, marketer):
    spring = campaign(brand, marketer)
    services.campaign_update(actor=marketer, campaign=spring, brief="Focus on the EV line")
    services.campaign_update(actor=marketer, campaign=spring, brief="Focus on the EV line")
    events = AuditEvent.objects.filter(action="content.campaign.update")
    assert [(e.before["brief"], e.after["brief"]) for e in events] == [("", "Focus on the EV line")]
    with pytest.raises(DomainError):
        services.campaign_update(actor=marketer, campaign=spring, status="closed")


def test_an_approved_campaign_post_cannot_be_moved_outside_the_window(brand, marketer, dealer_account,
                                                                       dealer_operator):
    start = timezone.now() + timedelta(days=2)
    spring = campaign(brand, marketer, window_start=start, window_end=start + timedelta(days=7))
    (post,) = services.campaign_push(actor=marketer, campaign=spring).created
    services.post_update(actor=dealer_operator, post=post, scheduled_at=start + timedelta(days=1))
    post = services.post_submit(actor=dealer_operator, post=post)
    assert post.status == PostStatus.SCHEDULED
    with pytest.raises(DomainError) as refused:
        services.post_update(actor=dealer_operator, post=post, scheduled_at=start + timedelta(days=30))
    assert refused.value.field == "scheduled_at"
    post.refresh_from_db()
    assert post.scheduled_at == start + timedelta(days=1)
    post = services.post_update(actor=dealer_operator, post=post, scheduled_at=start + timedelta(days=2))
    assert post.status == PostStatus.SCHEDULED and post.approved_revision_id == post.revision_id
