import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from matrix.models import AccountStatus, Brand, Dealer, Department, Platform, SocialAccount, Tier


class BrandFactory(DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    timezone = "Asia/Shanghai"


class DealerFactory(DjangoModelFactory):
    class Meta:
        model = Dealer

    brand = factory.SubFactory(BrandFactory)
    code = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.Sequence(lambda n: f"Dealer {n}")
    region = "East"
    city = "Shanghai"


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    role = Role.EMPLOYEE
    brand = factory.SubFactory(BrandFactory)
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def sync_group(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            from accounts.services import _sync_role_group

            _sync_role_group(obj)


def platform(slug="weibo"):
    return Platform.objects.get(slug=slug)


class SocialAccountFactory(DjangoModelFactory):
    """A company self-operated account unless told otherwise. Personal tiers get an owner."""

    class Meta:
        model = SocialAccount
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    platform = factory.LazyFunction(lambda: platform("weibo"))
    handle = factory.Sequence(lambda n: f"handle_{n}")
    display_name = factory.Sequence(lambda n: f"Account {n}")
    tier = Tier.SELF_OPERATED
    ownership = factory.LazyAttribute(lambda a: "personal" if a.tier in ("executive", "employee") else "company")
    status = AccountStatus.ACTIVE
    owner = factory.LazyAttribute(
        lambda a: UserFactory(brand=a.brand, role=a.tier) if a.tier in ("executive", "employee") else None
    )
    dealer = factory.LazyAttribute(lambda a: DealerFactory(brand=a.brand) if a.tier == "dealer" else None)

    @factory.post_generation
    def operators(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.operators.set(extracted)
