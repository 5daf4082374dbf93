"""The demo matrix seeded by `make run`, and its content (no Django imports at module level: the launcher
imports this file to print the logins)."""

DEMO_PASSWORD = "demo-matrix-2026"

DEALERS = [
    ("E001", "Shanghai Pudong Motors", "East", "Shanghai"),
    ("E002", "Hangzhou Westlake Auto", "East", "Hangzhou"),
    ("E003", "Nanjing Riverside Cars", "East", "Nanjing"),
    ("S001", "Guangzhou Tianhe Motors", "South", "Guangzhou"),
    ("S002", "Shenzhen Bay Auto", "South", "Shenzhen"),
]

PEOPLE = [
    ("admin.demo", "admin", "Ada", "Lin", "", None),
    ("marketer.demo", "marketer", "Mei", "Wang", "Brand Marketing", None),
    ("reviewer.demo", "reviewer", "Rui", "Zhao", "PR & Legal", None),
    ("executive.demo", "executive", "Evan", "Chen", "Executive Office", None),
    ("employee.demo", "employee", "Emma", "Liu", "Product Line EV", None),
    ("dealer.demo", "dealer_operator", "Dong", "Huang", "", "E001"),
]

# --- demo content: a campaign and posts in every status --------------------------------------
#
# Seeded after the matrix, through the same services as the app (so every post has its revisions,
# screening, review steps and audit events). Two more people make the reviews realistic: a
# copywriter whose brand posts marketer.demo approves, and an operator for the Guangzhou store.

SUPPORTING_PEOPLE = [
    ("copywriter.demo", "marketer", "Lei", "Sun", "Brand Marketing", None),
    ("guangzhou.demo", "dealer_operator", "Gao", "Feng", "", "S001"),
]

CAMPAIGN = {
    "name": "Spring test drive",
    "brief": "Every store invites its city to test-drive the S7 this spring. Keep the offer as written; "
             "add local details (parking, opening hours) if you like.",
    "template_body": "{dealer_name}春季试驾季开启！到{city}门店预约 Aurora S7 试驾，即享免费车辆检测一次。",
    "window_days": 30,
}
CAMPAIGN_ADAPTATION = "本周末到店还有咖啡和小礼品，停车免费。"

# (account handle, author, days from today, local hour, poster?, text, what happens after the draft)
# Steps: ("submit",), ("approve", username), ("changes", username, comment), ("cancel",).
POSTS = [
    # Brand accounts: the copywriter writes, marketer.demo approves, reviewer.demo looks at hits.
    ("aurora_weibo", "copywriter.demo", 1, 10, False,
     "Aurora S7 今日正式上市：续航 650 公里，15 分钟快充至 80%。欢迎到店试驾，预约请点主页链接。",
     [("submit",)]),
    ("aurora_wechat_oa", "copywriter.demo", 2, 20, False,
     "【深度】Aurora S7 的电池是怎么做出来的？我们走进宁德工厂，记录一块电芯从涂布到装车的 48 小时。",
     [("submit",)]),
    ("aurora_linkedin", "copywriter.demo", 2, 9, False,
     "Aurora S7 连续三个月蝉联同级销量第一，感谢每一位车主的信任！",
     [("submit",), ("approve", "marketer.demo")]),
    ("aurora_weibo", "copywriter.demo", 3, 12, False,
     "买车就是投资！Aurora 车主理财计划，稳赚不赔，年化收益 8%。",
     [("submit",)]),
    ("aurora_xiaohongshu", "copywriter.demo", 1, 19, True,
     "周末带着 S7 去莫干山露营，后备箱装下了两顶帐篷和一台咖啡机 ☕️ 你们的露营清单是什么？",
     [("submit",), ("approve", "marketer.demo")]),
    ("aurora_douyin", "copywriter.demo", 4, 18, True,
     "30 秒看懂 S7 的单踏板模式：松开电门就能减速，城市通勤更轻松。",
     []),
    ("aurora_weibo", "copywriter.demo", 5, 10, False,
     "S7 车主专属：五一自驾路线推荐（待定）",
     [("cancel",)]),
    # Self-operated accounts.
    ("aurora_service", "copywriter.demo", 1, 9, False,
     "Aurora 服务热线升级：400-800-1234，节假日照常服务。",
     [("submit",), ("changes", "marketer.demo", "请补充热线的服务时间，并说明节假日是否有人工坐席。")]),
    ("aurora_careers", "copywriter.demo", 3, 10, False,
     "We're hiring battery engineers in Shanghai and Munich. Join the team building Aurora's next platform.",
     [("submit",), ("approve", "marketer.demo")]),
    ("aurora_ev", "employee.demo", 2, 18, True,
     "Aurora EV 实验室开放日报名开始！带你看碰撞测试和电池针刺实验。",
     [("submit",)]),
    # The executive's accounts: comms drafts, the executive approves, then a reviewer.
    ("evan_chen_linkedin", "marketer.demo", 2, 8, False,
     "Five years ago we set out to build an EV that families could trust. Today the S7 ships. "
     "Thank you to every engineer who made it happen.",
     [("submit",)]),
    ("evan_chen_weibo", "executive.demo", 1, 21, False,
     "今天去了趟嘉定工厂，和产线的同事一起装了一台 S7。向一线的伙伴们致敬！",
     [("submit",)]),
    ("evan_chen_weibo", "marketer.demo", 3, 9, False,
     "明天在上海车展和大家聊聊智能驾驶的下一步，欢迎来 5.1 馆找我。",
     [("submit",), ("approve", "executive.demo"), ("approve", "reviewer.demo")]),
    # An employee's own accounts (the Douyin one still waits for her consent: drafts only).
    ("emma_drives", "employee.demo", 2, 20, True,
     "提车三个月，S7 的真实用车感受：冬天续航掉了 15% 左右，座椅加热很给力。",
     [("submit",)]),
    ("emma_drives", "employee.demo", 6, 20, False,
     "S7 和 S5 怎么选？写给纠结的朋友们（草稿）",
     []),
    ("emma_liu_dy", "employee.demo", 4, 19, False,
     "我的 S7 提车 vlog 第一集",
     []),
    # Dealer accounts, besides the campaign.
    ("aurora_e001_wb", "dealer.demo", 2, 14, False,
     "本周六下午浦东店车主沙龙，现场有 S7 试驾和咖啡，报名电话 138 0013 8000。",
     [("submit",), ("approve", "marketer.demo")]),
    ("aurora_e001_wb", "dealer.demo", 3, 11, False,
     "来店购车送理财，保本保息稳赚！",
     [("submit",)]),
    ("aurora_e002_wb", "copywriter.demo", 2, 10, False,
     "全市最低价！S7 限时优惠，到店即享。",
     [("submit",), ("changes", "marketer.demo", "“全市最低价”违反广告法，请改成具体的优惠金额和期限。")]),
]


def seed_content(brand):
    """Give the demo brand a pushed campaign and posts in every status, through the services. Runs
    inside `seed_demo`'s transaction, on a brand without posts; returns a one-line summary."""
    import io
    import zoneinfo
    from collections import Counter
    from datetime import datetime, time, timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from PIL import Image

    from accounts.models import User
    from accounts.services import user_create
    from content import services
    from content.models import Notification, Post
    from matrix.models import Dealer, Department, SocialAccount
    from matrix.services import account_update

    if Post.objects.filter(account__brand=brand).exists():
        return "The demo brand already has posts: none seeded."
    for username, role, first, last, department, dealer in SUPPORTING_PEOPLE:
        user_create(
            actor=None, username=username, email=f"{username}@example.com", first_name=first, last_name=last,
            role=role, brand=brand, department=Department.objects.filter(brand=brand, name=department).first(),
            dealer=Dealer.objects.filter(brand=brand, code=dealer).first(), send_invitation=False,
        )
    # The demo password, without hashing it again (the salted hash is a second of PBKDF2 each).
    User.objects.filter(username__in=[p[0] for p in SUPPORTING_PEOPLE]).update(
        password=User.objects.get(username="marketer.demo").password
    )
    people = {user.username: user for user in User.objects.filter(brand=brand)}
    accounts = {account.handle: account for account in SocialAccount.objects.filter(brand=brand)}
    for handle in ("aurora_s001_dy", "aurora_s001_wb"):
        account_update(actor=None, account=accounts[handle], operators=[people["guangzhou.demo"]])
    marketer = people["marketer.demo"]

    zone = zoneinfo.ZoneInfo(brand.timezone)
    today = timezone.now().astimezone(zone).date()

    def at(days, hour):
        return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)

    def poster(name, colour):
        buffer = io.BytesIO()
        Image.new("RGB", (1080, 1440), colour).save(buffer, format="PNG")
        return services.media_upload(actor=marketer, brand=brand,
                                     file=SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png"))

    spring_poster = poster("spring-test-drive.png", (46, 125, 50))
    s7_poster = poster("aurora-s7.png", (21, 101, 192))

    def play(post, steps):
        for step, *args in steps:
            if step == "submit":
                post = services.post_submit(actor=post.author, post=post)
            elif step == "approve":
                post = services.post_approve(actor=people[args[0]], post=post)
            elif step == "changes":
                post = services.post_request_changes(actor=people[args[0]], post=post, comment=args[1])
            elif step == "cancel":
                post = services.post_cancel(actor=post.author, post=post, reason="plans changed")
        return post

    # The campaign: pushed to every staffed store; the Pudong operator submits one draft as it came
    # (scheduled at once, no human step) and adapts the other (to the marketer).
    campaign = services.campaign_create(
        actor=marketer, brand=brand, name=CAMPAIGN["name"], brief=CAMPAIGN["brief"],
        template_body=CAMPAIGN["template_body"], target={"tiers": ["dealer"]}, media=[spring_poster],
        window_start=at(0, 0), window_end=at(CAMPAIGN["window_days"], 0),
    )
    pushed = {post.account.handle: post for post in services.campaign_push(actor=marketer, campaign=campaign).created}
    as_sent = services.post_update(actor=people["dealer.demo"], post=pushed["aurora_e001_wb"], scheduled_at=at(3, 10))
    play(as_sent, [("submit",)])
    adapted = services.post_update(actor=people["dealer.demo"], post=pushed["aurora_e001_dy"],
                                   body=pushed["aurora_e001_dy"].body + CAMPAIGN_ADAPTATION, scheduled_at=at(3, 18))
    play(adapted, [("submit",)])

    for handle, author, days, hour, with_poster, body, steps in POSTS:
        post = services.post_create(actor=people[author], account=accounts[handle], body=body,
                                    media=[s7_poster] if with_poster else [], scheduled_at=at(days, hour))
        play(post, steps)

    # The demo's history is not mailed to its example.com addresses; it waits in the app's inbox.
    Notification.objects.filter(user__brand=brand, emailed_at__isnull=True).update(emailed_at=timezone.now())
    statuses = Counter(Post.objects.filter(account__brand=brand).values_list("status", flat=True))
    return "Seeded campaign “%s” and %d posts (%s), written and reviewed with %s." % (
        campaign.name, sum(statuses.values()), ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
        ", ".join(username for username, *_ in SUPPORTING_PEOPLE),
    )
