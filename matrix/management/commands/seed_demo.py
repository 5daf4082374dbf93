"""Seed a demo matrix when the database is empty (used by `make run`)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from accounts.services import user_create
from matrix.demo import DEALERS, DEMO_PASSWORD, PEOPLE, seed_content
from matrix.models import AccountStatus, Brand, Dealer, Department, Platform, SocialAccount, Tier
from matrix.services import account_consent, account_create


class Command(BaseCommand):
    help = "Create a demo brand with accounts in all five tiers, two dealer regions and one user per role."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even if the database already has brands.")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if Brand.objects.exists() and not force:
            self.stdout.write("The database already has data: no demo seeded.")
            return
        brand = Brand.objects.create(name="Aurora Motors", slug="aurora", timezone="Asia/Shanghai")
        departments = {name: Department.objects.create(brand=brand, name=name) for name in
                       ["Brand Marketing", "PR & Legal", "Executive Office", "Product Line EV", "After-sales Service"]}
        dealers = {code: Dealer.objects.create(brand=brand, code=code, name=name, region=region, city=city)
                   for code, name, region, city in DEALERS}
        people = {}
        for username, role, first, last, department, dealer in PEOPLE:
            people[role] = user_create(
                actor=None, username=username, email=f"{username}@example.com", first_name=first, last_name=last,
                role=role, brand=brand, department=departments.get(department), dealer=dealers.get(dealer),
                password=DEMO_PASSWORD, send_invitation=False,
            )
        platforms = {p.slug: p for p in Platform.objects.all()}
        marketer = people[Role.MARKETER]

        def add(tier, platform, handle, name, **extra):
            operators = extra.pop("operators", [])
            return account_create(actor=None, brand=brand, platform=platforms[platform], handle=handle,
                                  display_name=name, tier=tier, operators=operators, **extra)

        for slug in ["weibo", "douyin", "wechat_oa", "xiaohongshu", "linkedin"]:
            add(Tier.BRAND, slug, f"aurora_{slug}", "Aurora Motors", operators=[marketer],
                department=departments["Brand Marketing"])
        add(Tier.SELF_OPERATED, "weibo", "aurora_service", "Aurora Service", operators=[marketer],
            department=departments["After-sales Service"])
        add(Tier.SELF_OPERATED, "douyin", "aurora_ev", "Aurora EV", operators=[people[Role.EMPLOYEE]],
            department=departments["Product Line EV"])
        add(Tier.SELF_OPERATED, "linkedin", "aurora_careers", "Aurora Careers", operators=[marketer])
        for code, dealer in dealers.items():
            operators = [people[Role.DEALER_OPERATOR]] if code == "E001" else []
            add(Tier.DEALER, "douyin", f"aurora_{code.lower()}_dy", dealer.name, dealer=dealer, operators=operators)
            add(Tier.DEALER, "weibo", f"aurora_{code.lower()}_wb", dealer.name, dealer=dealer, operators=operators)
        executive = people[Role.EXECUTIVE]
        for slug in ["weibo", "linkedin"]:
            account = add(Tier.EXECUTIVE, slug, f"evan_chen_{slug}", "Evan Chen", owner=executive,
                          department=departments["Executive Office"])
            account_consent(actor=executive, account=account)
        employee = people[Role.EMPLOYEE]
        consented = add(Tier.EMPLOYEE, "xiaohongshu", "emma_drives", "Emma Drives", owner=employee,
                        department=departments["Product Line EV"])
        account_consent(actor=employee, account=consented)
        add(Tier.EMPLOYEE, "douyin", "emma_liu_dy", "Emma Liu", owner=employee, department=departments["Product Line EV"])
        total = SocialAccount.objects.count()
        pending = SocialAccount.objects.filter(status=AccountStatus.PENDING).count()
        self.stdout.write(self.style.SUCCESS(
            f"Seeded brand {brand.name}: {total} accounts ({pending} waiting for consent), {len(dealers)} dealers "
            f"in 2 regions, {User.objects.count()} users."
        ))
        self.stdout.write(seed_content(brand))
        self.stdout.write("Demo logins (password %s): %s" % (DEMO_PASSWORD, ", ".join(u for u, *_ in PEOPLE)))
