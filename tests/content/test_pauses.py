"""Pauses (crisis mode): which accounts each scope covers, the automatic end, lifting, who may pause,
and the audit trail of each pause, lift and expiry."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from approvals.models import AuditEvent
from config.errors import DomainError, PermissionDeniedError
from content import services
from content.models import Notification, Pause, Post, PostStatus
from content.pauses import accounts_paused_q, active_pauses, pause_covering, pauses_relevant_to
from matrix.models import SocialAccount
from tests.factories import DealerFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def south_account(brand, platforms, dealer_south):
    return SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_south,
                                handle="aurora_s001")


@pytest.fixture
def foreign_account(other_brand, platforms):
    """Another brand's account on the same platform, tier and region as ours: never covered."""
    dealer = DealerFactory(brand=other_brand, code="E900", region="East")
    return SocialAccountFactory(brand=other_brand, platform=platforms["wechat_oa"], tier="dealer", dealer=dealer,
                                handle="borealis_e900")


@pytest.fixture
def accounts(brand_account, dealer_account, executive_account, employee_account, south_account, foreign_account):
    return {"brand": brand_account, "dealer_east": dealer_account, "executive": executive_account,
            "employee": employee_account, "dealer_south": south_account, "foreign": foreign_account}


def pause(actor, brand, scope, value="", **extra):
    return services.pause_create(actor=actor, brand=brand, scope=scope, value=value,
                                 reason=extra.pop("reason", "Product recall"), **extra)


def covered_by_each_reader(accounts):
    """The accounts covered, asked three ways that must agree: one account at a time, in bulk on
    accounts, and in bulk on their posts."""
    one_by_one = {name for name, account in accounts.items() if pause_covering(account) is not None}
    ids = set(SocialAccount.objects.filter(accounts_paused_q()).values_list("pk", flat=True))
    in_bulk = {name for name, account in accounts.items() if account.pk in ids}
    assert one_by_one == in_bulk
    posts = {name: Post.objects.create(account=account, author=UserFactory(brand=account.brand), body="x")
             for name, account in accounts.items()}
    held = set(Post.objects.filter(accounts_paused_q(account_path="account")).values_list("pk", flat=True))
    assert {name for name, post in posts.items() if post.pk in held} == one_by_one
    return one_by_one


# --- scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "value", "covered"), [
    ("brand", "", {"brand", "dealer_east", "executive", "employee", "dealer_south"}),
    ("tier", "dealer", {"dealer_east", "dealer_south"}),
    ("tier", "executive", {"executive"}),
    ("platform", "weibo", {"brand", "employee"}),
    ("platform", "wechat_oa", {"dealer_east"}),
    ("region", "East", {"dealer_east"}),
    ("region", "South", {"dealer_south"}),
])
def test_each_scope_covers_exactly_its_accounts_of_its_brand(marketer, brand, accounts, scope, value, covered):
    pause(marketer, brand, scope, value)
    assert covered_by_each_reader(accounts) == covered


def test_an_account_pause_covers_that_account_alone(marketer, brand, accounts):
    pause(marketer, brand, "account", str(accounts["executive"].pk))
    assert covered_by_each_reader(accounts) == {"executive"}


def test_nothing_is_covered_without_a_pause(accounts):
    assert covered_by_each_reader(accounts) == set()


def test_covering_an_account_takes_one_query_loaded_or_not(marketer, brand, dealer_account,
                                                           django_assert_num_queries):
    created = pause(marketer, brand, "region", "East")
    fresh = SocialAccount.objects.get(pk=dealer_account.pk)
    with django_assert_num_queries(1):
        assert pause_covering(fresh) == created
    loaded = SocialAccount.objects.select_related("platform", "dealer").get(pk=dealer_account.pk)
    with django_assert_num_queries(1):
        assert pause_covering(loaded) == created


def test_the_python_rule_agrees_with_the_sql(marketer, brand, accounts):
    pauses = [pause(marketer, brand, "tier", "dealer"), pause(marketer, brand, "platform", "weibo"),
              pause(marketer, brand, "region", "South"), pause(marketer, brand, "account", str(accounts["executive"].pk))]
    for item in pauses:
        covered = set(SocialAccount.objects.filter(accounts_paused_q()).values_list("pk", flat=True))
        assert all(not item.covers(a) or a.pk in covered for a in accounts.values())
    assert not any(item.covers(accounts["foreign"]) for item in pauses)


# --- time ------------------------------------------------------------------------------------


def test_a_pause_whose_until_passed_is_inactive(marketer, brand, brand_account, frozen_time):
    created = pause(marketer, brand, "brand", until=NOW + timedelta(hours=2))
    assert pause_covering(brand_account) == created
    assert list(active_pauses(brand.pk)) == [created]
    frozen_time.move_to(NOW + timedelta(hours=2))
    assert pause_covering(brand_account) is None
    assert list(active_pauses(brand.pk)) == []
    assert not SocialAccount.objects.filter(accounts_paused_q()).exists()
    # Asked about an earlier moment, the pause was active then.
    assert pause_covering(brand_account, now=NOW + timedelta(hours=1)) == created


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(minutes=1)])
def test_the_end_of_a_new_pause_must_be_in_the_future(marketer, brand, until):
    with pytest.raises(DomainError) as error:
        pause(marketer, brand, "brand", until=until)
    assert error.value.field == "until"
    assert not Pause.objects.exists()


def test_the_expire_task_records_each_ended_pause_once(marketer, brand, frozen_time):
    ending = pause(marketer, brand, "tier", "dealer", until=NOW + timedelta(minutes=30))
    lifted = pause(marketer, brand, "tier", "employee", until=NOW + timedelta(minutes=30))
    services.pause_lift(actor=marketer, pause=lifted)
    pause(marketer, brand, "brand")  # no end: never expires
    from content.tasks import pauses_expire

    assert pauses_expire() == 0
    frozen_time.move_to(NOW + timedelta(hours=1))
    assert pauses_expire() == 1
    assert pauses_expire() == 0
    events = AuditEvent.objects.filter(action="content.pause.expire")
    assert [(e.object_id, e.actor_id, e.actor_label) for e in events] == [(str(ending.pk), None, "system")]
    ending.refresh_from_db()
    assert ending.expired_recorded_at == NOW + timedelta(hours=1)


# --- lifting ---------------------------------------------------------------------------------


def test_lifting_releases_the_accounts_and_is_audited(marketer, reviewer, brand, brand_account):
    created = pause(marketer, brand, "brand")
    lifted = services.pause_lift(actor=reviewer, pause=created, reason="Statement published")
    assert (lifted.lifted_at, lifted.lifted_by, lifted.lift_reason) == (NOW, reviewer, "Statement published")
    assert pause_covering(brand_account) is None
    event = AuditEvent.objects.get(action="content.pause.lift")
    assert event.actor_id == reviewer.pk and event.object_id == str(created.pk)
    assert event.before["lifted_at"] is None and event.after["lift_reason"] == "Statement published"


def test_a_pause_is_lifted_once(marketer, brand):
    created = pause(marketer, brand, "brand")
    services.pause_lift(actor=marketer, pause=created)
    with pytest.raises(DomainError) as error:
        services.pause_lift(actor=marketer, pause=created, reason="again")
    assert error.value.code == "invalid_status"
    assert AuditEvent.objects.filter(action="content.pause.lift").count() == 1
    created.refresh_from_db()
    assert created.lift_reason == ""


def test_a_pause_that_ended_on_its_own_cannot_be_lifted(marketer, brand, frozen_time):
    created = pause(marketer, brand, "brand", until=NOW + timedelta(minutes=5))
    frozen_time.move_to(NOW + timedelta(minutes=6))
    with pytest.raises(DomainError):
        services.pause_lift(actor=marketer, pause=created)


# --- creating: values, audit, notifications ----------------------------------------------------


def test_a_pause_is_audited_and_told_to_the_brands_marketers_and_admins(marketer, reviewer, admin_user, employee,
                                                                        outsider, brand, platforms):
    other_marketer = UserFactory(username="second.marketer", role="marketer", brand=brand)
    created = pause(reviewer, brand, "platform", "weibo", reason="Hacked account on Weibo")
    event = AuditEvent.objects.get(action="content.pause.create")
    assert event.actor_id == reviewer.pk and event.object_id == str(created.pk)
    assert event.after["scope"] == "platform" and event.after["value"] == "weibo"
    told = set(Notification.objects.filter(kind=Notification.Kind.PAUSE).values_list("user__username", flat=True))
    assert told == {marketer.username, other_marketer.username, admin_user.username}
    message = Notification.objects.filter(kind=Notification.Kind.PAUSE).first().message
    assert "Weibo" in message and "Hacked account on Weibo" in message


@pytest.mark.parametrize(("scope", "value"), [
    ("tier", "dealers"), ("platform", "myspace"), ("region", "North"), ("region", ""), ("account", "abc"),
    ("brand", "aurora"),
])
def test_a_value_the_scope_refuses_names_the_value(marketer, brand, dealer_east, scope, value):
    with pytest.raises(DomainError) as error:
        pause(marketer, brand, scope, value)
    assert error.value.field == "value"


def test_a_region_or_account_of_another_brand_is_refused(marketer, brand, foreign_account, dealer_east):
    with pytest.raises(DomainError) as error:
        pause(marketer, brand, "account", str(foreign_account.pk))
    assert error.value.field == "value"
    DealerFactory(brand=foreign_account.brand, code="N1", region="North")
    with pytest.raises(DomainError):
        pause(marketer, brand, "region", "North")


def test_a_reason_is_required(marketer, brand):
    with pytest.raises(DomainError) as error:
        services.pause_create(actor=marketer, brand=brand, scope="brand", reason="  ")
    assert error.value.field == "reason"


def test_the_database_keeps_the_value_matching_the_scope(marketer, brand):
    with pytest.raises(IntegrityError), transaction.atomic():
        Pause.objects.create(brand=brand, scope="brand", value="weibo", reason="x", created_by=marketer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pause.objects.create(brand=brand, scope="tier", value="", reason="x", created_by=marketer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pause.objects.create(brand=brand, scope="brand", reason="x", created_by=marketer, starts_at=NOW, until=NOW)


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "executive", "dealer_operator"])
def test_other_roles_cannot_pause_or_lift(request, marketer, brand, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDeniedError):
        pause(user, brand, "brand")
    created = pause(marketer, brand, "brand")
    with pytest.raises(PermissionDeniedError):
        services.pause_lift(actor=user, pause=created)


def test_a_marketer_of_another_brand_cannot_pause_or_lift_ours(outsider, marketer, brand, other_brand):
    with pytest.raises(PermissionDeniedError):
        pause(outsider, brand, "brand")
    created = pause(marketer, brand, "brand")
    with pytest.raises(PermissionDeniedError):
        services.pause_lift(actor=outsider, pause=created)
    assert pause(outsider, other_brand, "brand").brand == other_brand


def test_an_admin_pauses_any_brand(admin_user, other_brand):
    assert pause(admin_user, other_brand, "tier", "brand").scope == "tier"


def test_people_see_the_pauses_covering_accounts_they_see(marketer, employee, dealer_operator, outsider, brand,
                                                          accounts):
    everything = pause(marketer, brand, "brand")
    dealers = pause(marketer, brand, "tier", "dealer")
    south = pause(marketer, brand, "region", "South")
    employees = pause(marketer, brand, "account", str(accounts["employee"].pk))
    assert set(pauses_relevant_to(marketer)) == {everything, dealers, south, employees}
    assert set(pauses_relevant_to(employee)) == {everything, employees}
    assert set(pauses_relevant_to(dealer_operator)) == {everything, dealers}  # East only: not South
    assert pauses_relevant_to(outsider) == []


def test_a_scheduled_post_on_a_covered_account_is_held_by_the_pause(marketer, brand, dealer_account, brand_account):
    created = pause(marketer, brand, "tier", "dealer")
    due = [Post.objects.create(account=account, author=marketer, body="x", status=PostStatus.SCHEDULED,
                               scheduled_at=NOW) for account in (dealer_account, brand_account)]
    held = Post.objects.filter(pk__in=[p.pk for p in due]).filter(accounts_paused_q(account_path="account"))
    assert list(held) == [due[0]]
    assert pause_covering(due[0].account) == created
