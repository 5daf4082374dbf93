"""Which steps a submitted post goes through: the default workflow of its tier and its screening
decision (DESIGN.md, "Life of a post"), or the brand's own workflow where it has one."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals.models import Review, ReviewStep, StepKind, Workflow, WorkflowStep
from approvals.services import lexicon_create, lexicon_term_add
from config.errors import PermissionDeniedError
from content import services
from content.models import PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CLEAN = "新车今日上市，欢迎到店试驾。"
REVIEW = "我们是行业第一的品牌"  # ad_law: "第一" sends the post to review
BLOCK = "保本保息，稳赚不赔"  # finance: blocks


def later():
    return timezone.now() + timedelta(days=1)


def steps_of(post):
    return list(ReviewStep.objects.filter(post=post).order_by("position").values_list("name", "status"))


def submit(author, account, body):
    post = services.post_create(actor=author, account=account, body=body, scheduled_at=later())
    return services.post_submit(actor=author, post=post)


@pytest.fixture
def self_operated_account(brand, platforms, employee):
    return SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="self_operated",
                                handle="aurora_careers", operators=[employee])


@pytest.fixture
def author_marketer(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def accounts_and_authors(brand_account, self_operated_account, dealer_account, employee_account, executive_account,
                         author_marketer, dealer_operator, employee, executive):
    """tier -> (account, the person who writes for it)."""
    return {
        "brand": (brand_account, author_marketer),
        "self_operated": (self_operated_account, author_marketer),
        "dealer": (dealer_account, dealer_operator),
        "employee": (employee_account, employee),
        "executive": (executive_account, executive),
    }


ROUTES = {
    # tier: {decision: expected steps}
    "brand": {"pass": [("Marketing approval", "in_progress")],
              "review": [("Marketing approval", "in_progress"), ("Risk review", "waiting")]},
    "self_operated": {"pass": [("Marketing approval", "in_progress")],
                      "review": [("Marketing approval", "in_progress"), ("Risk review", "waiting")]},
    "dealer": {"pass": [("Marketing approval", "in_progress")],
               "review": [("Marketing approval", "in_progress"), ("Risk review", "waiting")]},
    "employee": {"pass": [("Marketing approval", "in_progress")],
                 "review": [("Marketing approval", "in_progress"), ("Risk review", "waiting")]},
    # The executive wrote it: their own step is already satisfied, and the reviewer always looks.
    "executive": {"pass": [("Owner approval", "skipped"), ("Risk review", "in_progress")],
                  "review": [("Owner approval", "skipped"), ("Risk review", "in_progress")]},
}


@pytest.mark.parametrize("tier", list(ROUTES))
@pytest.mark.parametrize("decision, body", [("pass", CLEAN), ("review", REVIEW)], ids=["pass", "review"])
def test_each_tier_routes_each_screening_decision_through_its_default_steps(accounts_and_authors, tier, decision,
                                                                             body, marketer, reviewer):
    account, author = accounts_and_authors[tier]
    post = submit(author, account, body)
    assert post.revision.screening["decision"] == decision
    assert post.status == PostStatus.IN_REVIEW
    assert steps_of(post) == ROUTES[tier][decision]
    review = Review.objects.get(post=post)
    assert review.workflow == Workflow.objects.get(brand__isnull=True, tier=tier, is_active=True)
    # Every step started gets its SLA.
    current = ReviewStep.objects.get(post=post, status="in_progress")
    assert current.started_at and current.due_at > current.started_at


@pytest.mark.parametrize("tier", list(ROUTES))
def test_screening_block_stops_every_tier_before_any_step(accounts_and_authors, tier):
    account, author = accounts_and_authors[tier]
    post = submit(author, account, BLOCK)
    assert post.status == PostStatus.BLOCKED
    assert post.revision.screening["decision"] == "block"
    assert not Review.objects.filter(post=post).exists()


@pytest.mark.parametrize("tier", ["brand", "self_operated"])
def test_company_accounts_need_a_marketer_other_than_the_author(accounts_and_authors, tier, marketer):
    account, author = accounts_and_authors[tier]
    post = submit(author, account, CLEAN)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=author, post=post)
    assert services.post_approve(actor=marketer, post=post).status == PostStatus.SCHEDULED


@pytest.mark.parametrize("tier", ["dealer", "employee"])
def test_personal_and_dealer_posts_go_marketer_then_reviewer_on_a_review_hit(accounts_and_authors, tier, marketer,
                                                                             reviewer):
    account, author = accounts_and_authors[tier]
    post = submit(author, account, REVIEW)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=reviewer, post=post)  # the marketer decides first
    services.post_approve(actor=marketer, post=post)
    post = services.post_approve(actor=reviewer, post=post)
    assert post.status == PostStatus.SCHEDULED
    assert steps_of(post) == [("Marketing approval", "approved"), ("Risk review", "approved")]


def test_an_executive_post_written_by_comms_waits_for_the_owner_then_a_reviewer(executive_account, executive, marketer,
                                                                                reviewer):
    post = submit(marketer, executive_account, CLEAN)
    assert steps_of(post) == [("Owner approval", "in_progress"), ("Risk review", "waiting")]
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=reviewer, post=post)
    services.post_approve(actor=executive, post=post)
    assert services.post_approve(actor=reviewer, post=post).status == PostStatus.SCHEDULED


def _campaign_draft(brand, marketer, account, template):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring test drive", template_body=template,
                                        target={"accounts": [account.pk]})
    (post,) = services.campaign_push(actor=marketer, campaign=campaign).created
    services.post_update(actor=post.author, post=post, scheduled_at=later())
    return post


@pytest.mark.parametrize("tier", ["dealer", "employee"])
def test_an_unchanged_campaign_template_without_hits_skips_every_step(brand, accounts_and_authors, marketer, tier):
    account, author = accounts_and_authors[tier]
    post = _campaign_draft(brand, marketer, account, "{account_name}：春季试驾开启，欢迎预约。")
    post = services.post_submit(actor=author, post=post)
    assert post.status == PostStatus.SCHEDULED and post.approved_revision == post.revision
    assert steps_of(post) == [("Marketing approval", "skipped")]
    assert Review.objects.get(post=post).status == "approved"


def test_an_unchanged_template_with_a_hit_still_goes_to_review(brand, dealer_account, dealer_operator, marketer):
    post = _campaign_draft(brand, marketer, dealer_account, "{dealer_name}：行业第一的服务，欢迎预约。")
    post = services.post_submit(actor=dealer_operator, post=post)
    assert post.status == PostStatus.IN_REVIEW
    assert steps_of(post) == [("Marketing approval", "in_progress"), ("Risk review", "waiting")]


def test_a_changed_template_needs_the_marketer(brand, dealer_account, dealer_operator, marketer):
    post = _campaign_draft(brand, marketer, dealer_account, "{dealer_name}：春季试驾开启，欢迎预约。")
    services.post_update(actor=dealer_operator, post=post, body=post.body + "到店即送保养一次！")
    post = services.post_submit(actor=dealer_operator, post=post)
    assert steps_of(post) == [("Marketing approval", "in_progress")]


def test_brand_and_self_operated_never_skip_an_unchanged_template(brand, brand_account, marketer, author_marketer):
    brand_account.operators.add(author_marketer)
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Launch", template_body="{brand}新车上市。",
                                        target={"accounts": [brand_account.pk]})
    (post,) = services.campaign_push(actor=marketer, campaign=campaign).created
    post = services.post_submit(actor=post.author, post=post)
    assert steps_of(post) == [("Marketing approval", "in_progress")]


# --- a brand's own workflow ----------------------------------------------------------------


@pytest.fixture
def east_marketing(brand):
    group = Group.objects.create(name="Regional marketing East")
    lead = UserFactory(username="east.lead", role="marketer", brand=brand)
    lead.groups.add(group)
    return group, lead


@pytest.fixture
def compliance(brand):
    group = Group.objects.create(name="Compliance")
    officer = UserFactory(username="compliance.officer", role="reviewer", brand=brand)
    officer.groups.add(group)
    return group, officer


@pytest.fixture
def aurora_dealer_workflow(brand, east_marketing, compliance):
    """What a car maker might set up in the admin: regional marketing for every dealer post, the
    compliance team for finance claims, the product team for recall wording."""
    workflow = Workflow.objects.create(brand=brand, tier="dealer", name="Aurora dealers", sla_hours=8)
    WorkflowStep.objects.create(workflow=workflow, position=0, name="Regional marketing", kind=StepKind.GROUP,
                                group=east_marketing[0])
    WorkflowStep.objects.create(workflow=workflow, position=1, name="Finance compliance", kind=StepKind.GROUP,
                                group=compliance[0], categories=["finance"])
    WorkflowStep.objects.create(workflow=workflow, position=2, name="Recall wording", kind=StepKind.ROLE,
                                role="reviewer", categories=["recall"])
    return workflow


@pytest.fixture
def company_lexicons(brand, reviewer):
    # Built-in finance terms block; a brand may list its own financing offers at "review" so that
    # they reach the compliance step instead of stopping the post.
    offers = lexicon_create(actor=reviewer, brand=brand, name="Financing offers", category="finance", severity="review")
    lexicon_term_add(actor=reviewer, lexicon=offers, term="零首付")
    recall = lexicon_create(actor=reviewer, brand=brand, name="Recall wording", category="recall", severity="review")
    lexicon_term_add(actor=reviewer, lexicon=recall, term="召回")


def test_a_brand_workflow_replaces_the_default_for_its_tier_only(aurora_dealer_workflow, dealer_account, dealer_operator,
                                                                 brand_account, author_marketer, other_brand, platforms):
    post = submit(dealer_operator, dealer_account, CLEAN)
    assert Review.objects.get(post=post).workflow == aurora_dealer_workflow
    assert steps_of(post) == [("Regional marketing", "in_progress")]
    # Other tiers of the brand, and the same tier of other brands, keep the default.
    assert steps_of(submit(author_marketer, brand_account, CLEAN)) == [("Marketing approval", "in_progress")]
    borealis_dealer = SocialAccountFactory(brand=other_brand, platform=platforms["weibo"], tier="dealer")
    admin = UserFactory(username="borealis.admin", role="admin", brand=other_brand)
    assert steps_of(submit(admin, borealis_dealer, CLEAN)) == [("Marketing approval", "in_progress")]


def test_a_category_step_runs_only_for_posts_with_a_hit_in_its_category(aurora_dealer_workflow, company_lexicons,
                                                                        dealer_account, dealer_operator):
    finance = submit(dealer_operator, dealer_account, "本月购车零首付，欢迎到店。")
    assert finance.revision.screening["decision"] == "review"
    assert {h["category"] for h in finance.revision.screening["hits"]} == {"finance"}
    assert steps_of(finance) == [("Regional marketing", "in_progress"), ("Finance compliance", "waiting")]

    recall = submit(dealer_operator, dealer_account, "关于部分车辆召回的说明，请车主到店检查。")
    assert steps_of(recall) == [("Regional marketing", "in_progress"), ("Recall wording", "waiting")]

    both = submit(dealer_operator, dealer_account, "召回车辆的车主换购享零首付。")
    assert steps_of(both) == [("Regional marketing", "in_progress"), ("Finance compliance", "waiting"),
                              ("Recall wording", "waiting")]


def test_the_groups_of_a_brand_workflow_decide_their_steps(aurora_dealer_workflow, company_lexicons, dealer_account,
                                                            dealer_operator, east_marketing, compliance, marketer):
    post = submit(dealer_operator, dealer_account, "本月购车零首付，欢迎到店。")
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=marketer, post=post)  # a marketer outside the regional group
    services.post_approve(actor=east_marketing[1], post=post)
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=east_marketing[1], post=post)
    post = services.post_approve(actor=compliance[1], post=post)
    assert post.status == PostStatus.SCHEDULED


def test_a_built_in_finance_hit_still_blocks_before_the_finance_step(aurora_dealer_workflow, company_lexicons,
                                                                     dealer_account, dealer_operator):
    post = submit(dealer_operator, dealer_account, "零首付，稳赚不赔")
    assert post.status == PostStatus.BLOCKED
    assert not Review.objects.filter(post=post).exists()


def test_an_inactive_brand_workflow_falls_back_to_the_default(aurora_dealer_workflow, dealer_account, dealer_operator):
    aurora_dealer_workflow.is_active = False
    aurora_dealer_workflow.save()
    post = submit(dealer_operator, dealer_account, CLEAN)
    assert steps_of(post) == [("Marketing approval", "in_progress")]
