"""Media are identified by their content (Pillow for images, the MP4 boxes for videos), and each
platform's rules apply when they are attached: how many, which kind, how long. Text length is
counted the platform's way (X weighs CJK characters double)."""

import hashlib
import io
import struct
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from approvals.models import AuditEvent
from config.errors import DomainError, PermissionDeniedError
from content import services
from content.media import inspect
from content.models import Media, PostStatus
from content.text import weighted_length
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(width=800, height=600, name="poster.png", image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4(seconds, *, timescale=600, width=1280, height=720, version=0, name="clip.mp4"):
    """The smallest MP4 our inspector reads: ftyp, then moov with mvhd (duration) and one track's
    tkhd (size, in 16.16 fixed point), then a few bytes of mdat."""
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    length = round(seconds * timescale)
    if version == 1:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, timescale, length)
        tkhd = bytes([1, 0, 0, 7]) + struct.pack(">QQIIQ", 0, 0, 1, 0, length)
    else:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, timescale, length)
        tkhd = bytes([0, 0, 0, 7]) + struct.pack(">IIIII", 0, 0, 1, 0, length)
    # mvhd: rate, volume, reserved, matrix, pre-defined, next track id.
    mvhd += struct.pack(">IH", 0x10000, 0x100) + bytes(10) + UNITY_MATRIX + bytes(24) + struct.pack(">I", 2)
    # tkhd: reserved, layer, alternate group, volume, reserved, matrix, width, height.
    tkhd += bytes(8) + struct.pack(">hhHH", 0, 0, 0, 0) + UNITY_MATRIX + struct.pack(">II", width << 16, height << 16)
    moov = box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))
    data = ftyp + moov + box(b"mdat", bytes(32))
    return SimpleUploadedFile(name, data, content_type="video/mp4")


def later():
    return timezone.now() + timedelta(days=1)


@pytest.fixture
def x_account(brand, platforms, marketer):
    return SocialAccountFactory(brand=brand, platform=platforms["x"], tier="brand", handle="AuroraMotors",
                                operators=[marketer])


# --- images --------------------------------------------------------------------------------


def test_a_real_png_is_stored_with_its_size_type_and_hash(brand, marketer):
    upload = png(800, 600)
    data = upload.read()
    media = services.media_upload(actor=marketer, brand=brand, file=upload)
    media.refresh_from_db()
    assert (media.kind, media.content_type, media.width, media.height) == ("image", "image/png", 800, 600)
    assert media.size == len(data) and media.sha256 == hashlib.sha256(data).hexdigest()
    assert media.original_name == "poster.png" and media.file.read() == data
    event = AuditEvent.objects.get(action="content.media.upload")
    assert event.after["sha256"] == media.sha256


def test_an_image_is_known_by_its_content_not_its_name(brand, marketer):
    media = services.media_upload(actor=marketer, brand=brand, file=png(name="photo.jpg"))
    assert media.content_type == "image/png"
    jpeg = services.media_upload(actor=marketer, brand=brand, file=png(name="photo.png", image_format="JPEG"))
    assert jpeg.content_type == "image/jpeg"


@pytest.mark.parametrize("content", [b"GIF89a but not really", b"\x89PNG\r\n\x1a\n" + bytes(40), b"hello world"])
def test_a_file_that_only_pretends_to_be_an_image_is_refused(brand, marketer, content):
    with pytest.raises(DomainError) as refused:
        services.media_upload(actor=marketer, brand=brand, file=SimpleUploadedFile("fake.png", content))
    assert refused.value.field == "file"
    assert not Media.objects.exists()


def test_images_of_other_formats_and_tiny_images_are_refused(brand, marketer):
    with pytest.raises(DomainError) as refused:
        services.media_upload(actor=marketer, brand=brand, file=png(name="scan.bmp", image_format="BMP"))
    assert "JPEG, PNG, GIF or WebP" in str(refused.value.message)
    with pytest.raises(DomainError) as refused:
        services.media_upload(actor=marketer, brand=brand, file=png(50, 50))
    assert "50×50" in str(refused.value.message)


def test_media_are_uploaded_for_ones_own_brand_only(brand, outsider):
    with pytest.raises(PermissionDeniedError):
        services.media_upload(actor=outsider, brand=brand, file=png())


# --- videos --------------------------------------------------------------------------------


def test_an_mp4_is_read_for_its_duration_and_size(brand, marketer):
    media = services.media_upload(actor=marketer, brand=brand, file=mp4(12.5))
    assert (media.kind, media.content_type) == ("video", "video/mp4")
    assert media.duration_seconds == 12.5
    assert (media.width, media.height) == (1280, 720)


def test_an_mp4_with_64_bit_times_is_read_too(brand, marketer):
    info = inspect(mp4(3600.5, timescale=90000, width=1920, height=1080, version=1))
    assert (info.kind, info.duration_seconds, info.width, info.height) == ("video", 3600.5, 1920, 1080)


def test_a_video_longer_than_the_platform_takes_is_refused_when_attached(brand, marketer, x_account, platforms):
    assert platforms["x"].media_rules["max_video_seconds"] == 140
    long_clip = services.media_upload(actor=marketer, brand=brand, file=mp4(141))
    short_clip = services.media_upload(actor=marketer, brand=brand, file=mp4(139.9))
    with pytest.raises(DomainError) as refused:
        services.post_create(actor=marketer, account=x_account, body="Spring test drive", media=[long_clip])
    assert refused.value.field == "media" and "140" in str(refused.value.message)
    post = services.post_create(actor=marketer, account=x_account, body="Spring test drive", media=[short_clip])
    with pytest.raises(DomainError):
        services.post_update(actor=marketer, post=post, media=[long_clip])
    assert list(post.media.all()) == [short_clip]


def test_a_post_carries_images_or_one_video_and_no_more_images_than_the_platform_takes(brand, marketer, x_account):
    clip = services.media_upload(actor=marketer, brand=brand, file=mp4(10))
    images = [services.media_upload(actor=marketer, brand=brand, file=png(name=f"{i}.png")) for i in range(5)]
    with pytest.raises(DomainError):
        services.post_create(actor=marketer, account=x_account, body="mixed", media=[clip, images[0]])
    with pytest.raises(DomainError) as refused:
        services.post_create(actor=marketer, account=x_account, body="five", media=images)
    assert "at most 4" in str(refused.value.message)
    assert services.post_create(actor=marketer, account=x_account, body="four", media=images[:4])


def test_media_of_another_brand_cannot_be_attached(brand, other_brand, marketer, x_account, admin_user):
    foreign = services.media_upload(actor=admin_user, brand=other_brand, file=png())
    with pytest.raises(DomainError):
        services.post_create(actor=marketer, account=x_account, body="borrowed", media=[foreign])


def test_a_platform_that_needs_media_refuses_a_submission_without(brand, platforms, marketer):
    douyin = SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="brand", operators=[marketer])
    post = services.post_create(actor=marketer, account=douyin, body="试驾视频", scheduled_at=later())
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=marketer, post=post)
    assert refused.value.field == "media"
    clip = services.media_upload(actor=marketer, brand=brand, file=mp4(30))
    services.post_update(actor=marketer, post=post, media=[clip])
    assert services.post_submit(actor=marketer, post=post).status == PostStatus.IN_REVIEW


def test_changing_the_media_of_an_approved_post_sends_it_back_to_review(brand, brand_account, marketer, admin_user):
    first, second = (services.media_upload(actor=admin_user, brand=brand, file=png(name=f"{n}.png")) for n in "ab")
    post = services.post_create(actor=admin_user, account=brand_account, body="新车到店", media=[first],
                                scheduled_at=later())
    post = services.post_approve(actor=marketer, post=services.post_submit(actor=admin_user, post=post))
    assert post.status == PostStatus.SCHEDULED
    post = services.post_update(actor=admin_user, post=post, media=[first])  # the same media: nothing changes
    assert post.status == PostStatus.SCHEDULED
    post = services.post_update(actor=admin_user, post=post, media=[second])
    assert post.status == PostStatus.IN_REVIEW and post.approved_revision is None
    assert [m["sha256"] for m in post.revision.media] == [second.sha256]


# --- text length ---------------------------------------------------------------------------


def test_x_counts_each_chinese_character_as_two(brand, marketer, x_account, brand_account):
    assert weighted_length("x", "春" * 150) == 300 and weighted_length("weibo", "春" * 150) == 150
    with pytest.raises(DomainError) as refused:
        services.post_create(actor=marketer, account=x_account, body="春" * 150)
    assert refused.value.field == "body" and "300" in str(refused.value.message)
    assert services.post_create(actor=marketer, account=x_account, body="春" * 140)
    assert services.post_create(actor=marketer, account=x_account, body="a" * 280)
    assert services.post_create(actor=marketer, account=brand_account, body="春" * 150)  # Weibo counts 150


def test_x_counts_a_link_as_23_whatever_its_length(x_account, marketer):
    link = "https://example.com/" + "a" * 200
    assert weighted_length("x", "看 " + link) == 3 + 23
    assert services.post_create(actor=marketer, account=x_account, body="春" * 120 + " " + link)


@pytest.mark.parametrize("text, weight", [
    ("é", 1), ("Ж", 1), ("—", 1), ("“”", 2), ("’", 1),  # Latin, Cyrillic and common punctuation: light
    ("中", 2), ("、", 2), ("ア", 2), ("한", 2), ("，", 2),  # CJK, kana, hangul, full-width: heavy
    ("…", 2), ("☕", 2), ("❤", 2), ("✨", 2), ("€", 2), ("😀", 2),  # everything else weighs two on X too
])
def test_x_weighs_characters_as_x_does(text, weight):
    assert weighted_length("x", text) == weight
