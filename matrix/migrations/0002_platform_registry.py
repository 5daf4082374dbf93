from django.db import migrations

# The platform registry: names, text limits and media rules as the platforms document them.
# Editable in the admin afterwards; this only seeds what is missing.
PLATFORMS = [
    ("weibo", "Weibo", "微博", 2000, {"max_images": 18, "video": True, "max_video_seconds": 900}, True),
    ("douyin", "Douyin", "抖音", 1000, {"max_images": 35, "video": True, "max_video_seconds": 900, "requires_media": True}, True),
    ("wechat_oa", "WeChat Official Account", "微信公众号", 20000, {"max_images": 100, "video": True}, True),
    ("wechat_channels", "WeChat Channels", "微信视频号", 1000, {"max_images": 9, "video": True, "max_video_seconds": 3600, "requires_media": True}, False),
    ("xiaohongshu", "Xiaohongshu", "小红书", 1000, {"max_images": 18, "video": True, "max_video_seconds": 900, "requires_media": True}, False),
    ("bilibili", "Bilibili", "哔哩哔哩", 2000, {"max_images": 9, "video": True}, True),
    ("kuaishou", "Kuaishou", "快手", 500, {"max_images": 31, "video": True, "max_video_seconds": 600, "requires_media": True}, True),
    ("zhihu", "Zhihu", "知乎", 10000, {"max_images": 50, "video": True}, False),
    ("linkedin", "LinkedIn", "领英", 3000, {"max_images": 20, "video": True, "max_video_seconds": 600}, True),
    ("x", "X", "X", 280, {"max_images": 4, "video": True, "max_video_seconds": 140}, True),
]


def seed(apps, schema_editor):
    Platform = apps.get_model("matrix", "Platform")
    for position, (slug, name, name_zh, limit, media, api) in enumerate(PLATFORMS):
        Platform.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "name_zh": name_zh, "text_limit": limit, "media_rules": media,
                      "has_open_api": api, "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("matrix", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
