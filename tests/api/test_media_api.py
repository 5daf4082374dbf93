"""Uploading images and videos through the API: recognised by content, never by name."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from approvals.models import AuditEvent
from content.models import Media

MEDIA_FIELDS = {"id", "brand", "kind", "content_type", "name", "size", "width", "height", "duration_seconds",
                "sha256", "url", "created_at"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png_bytes(width=160, height=120):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, brand, content, name):
    return client.post("/api/v1/media/", {"brand": brand.pk, "file": SimpleUploadedFile(name, content)},
                       format="multipart")


def test_a_real_png_is_stored_with_its_facts(client_for, marketer, brand, media_root):
    content = png_bytes()
    response = upload(client_for(marketer), brand, content, "launch.png")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == MEDIA_FIELDS
    assert (data["kind"], data["content_type"], data["width"], data["height"]) == ("image", "image/png", 160, 120)
    assert data["size"] == len(content) and data["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["duration_seconds"] is None and data["brand"] == brand.pk and data["name"] == "launch.png"
    assert data["url"].startswith("http://testserver/media/") and data["url"].endswith(".png")
    media = Media.objects.get()
    assert media.uploaded_by == marketer
    assert (media_root / media.file.name).read_bytes() == content
    assert AuditEvent.objects.filter(action="content.media.upload", object_id=str(media.pk)).exists()


def test_an_uploaded_image_can_go_on_a_post(client_for, marketer, brand, brand_account):
    client = client_for(marketer)
    media_id = upload(client, brand, png_bytes(), "launch.png").json()["id"]
    response = client.post("/api/v1/posts/", {"account": brand_account.pk, "body": "New!", "media": [media_id]},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["media"] == [media_id]


def test_a_text_file_pretending_to_be_a_png_is_refused_naming_file(client_for, marketer, brand, media_root):
    response = upload(client_for(marketer), brand, b"just some words, honestly an image\n" * 20, "photo.png")
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert "neither an image" in response.json()["file"][0]
    assert not Media.objects.exists() and not AuditEvent.objects.exists()
    assert not any(media_root.rglob("*.png"))


def test_an_image_too_small_is_refused_naming_file(client_for, marketer, brand):
    response = upload(client_for(marketer), brand, png_bytes(40, 40), "icon.png")
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert "40×40" in response.json()["file"][0]
    assert not Media.objects.exists()


@pytest.mark.parametrize(("body", "field"), [({"brand": "{brand}"}, "file"), ({"file": "png"}, "brand"),
                                             ({"file": "png", "brand": 999999}, "brand"),
                                             ({"file": "png", "brand": "aurora"}, "brand")])
def test_missing_or_unknown_fields_are_named(client_for, marketer, brand, body, field):
    data = {key: (brand.pk if value == "{brand}" else value) for key, value in body.items()}
    if data.get("file") == "png":
        data["file"] = SimpleUploadedFile("a.png", png_bytes())
    response = client_for(marketer).post("/api/v1/media/", data, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_brand_one_cannot_see_reads_as_unknown(client_for, outsider, brand):
    response = upload(client_for(outsider), brand, png_bytes(), "launch.png")
    assert response.status_code == 400
    assert list(response.json()) == ["brand"]
    assert not Media.objects.exists()


def test_json_is_not_an_upload(client_for, marketer, brand):
    response = client_for(marketer).post("/api/v1/media/", {"brand": brand.pk, "file": "x"}, format="json")
    assert response.status_code == 415


def test_signing_in_is_required(api_client, brand):
    assert upload(api_client, brand, png_bytes(), "launch.png").status_code == 401
    assert not Media.objects.exists()
