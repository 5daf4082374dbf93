"""What an uploaded file is (type, dimensions, duration), and whether a platform takes it.

Images are opened with Pillow (which reads only the header for the size). For MP4 and MOV videos
the duration is read from the `mvhd` box of the container, so no ffmpeg is needed.
"""

import struct
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from config.errors import DomainError

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"dash", b"iso5", b"iso6"}
IMAGE_MAX_BYTES = getattr(settings, "MEDIA_IMAGE_MAX_BYTES", 20 * 1024 * 1024)
VIDEO_MAX_BYTES = getattr(settings, "MEDIA_VIDEO_MAX_BYTES", 512 * 1024 * 1024)
IMAGE_MIN_SIDE = 100
IMAGE_MAX_SIDE = 10_000


@dataclass
class MediaInfo:
    kind: str
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


def _mb(size):
    return f"{size / 1024 / 1024:.0f} MB"


def inspect(file):
    """Identify `file` by its content, not its name; refuse what is not an image or video we take."""
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in VIDEO_BRANDS:
        if file.size > VIDEO_MAX_BYTES:
            raise DomainError(_("The video is larger than %(max)s.") % {"max": _mb(VIDEO_MAX_BYTES)}, field="file")
        duration, width, height = _mp4_facts(file)
        content_type = "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
        return MediaInfo("video", content_type, width, height, duration)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DomainError(
            _("This file is neither an image (JPEG, PNG, GIF, WebP) nor a video (MP4, MOV)."), field="file"
        ) from exc
    finally:
        file.seek(0)
    if kind not in IMAGE_TYPES:
        raise DomainError(_("Images must be JPEG, PNG, GIF or WebP."), field="file")
    if file.size > IMAGE_MAX_BYTES:
        raise DomainError(_("The image is larger than %(max)s.") % {"max": _mb(IMAGE_MAX_BYTES)}, field="file")
    if min(width, height) < IMAGE_MIN_SIDE or max(width, height) > IMAGE_MAX_SIDE:
        raise DomainError(
            _("The image is %(width)d×%(height)d pixels; each side must be between %(min)d and %(max)d.")
            % {"width": width, "height": height, "min": IMAGE_MIN_SIDE, "max": IMAGE_MAX_SIDE},
            field="file",
        )
    return MediaInfo("image", IMAGE_TYPES[kind], width, height)


def _boxes(file, start, end):
    position = start
    while position + 8 <= end:
        file.seek(position)
        header = file.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if size == 1:
            size = struct.unpack(">Q", file.read(8))[0]
            header_size = 16
        elif size == 0:
            size = end - position
        if size < header_size:
            return
        yield kind, position + header_size, position + size
        position += size


def _mp4_facts(file):
    """(duration in seconds, width, height) from the moov box; None where not found."""
    duration = width = height = None
    try:
        file.seek(0, 2)
        end = file.tell()
        for kind, body, box_end in _boxes(file, 0, end):
            if kind != b"moov":
                continue
            for inner, inner_body, inner_end in _boxes(file, body, box_end):
                if inner == b"mvhd":
                    file.seek(inner_body)
                    version = file.read(1)[0]
                    if version == 1:
                        file.seek(inner_body + 4 + 16)
                        timescale, length = struct.unpack(">IQ", file.read(12))
                    else:
                        file.seek(inner_body + 4 + 8)
                        timescale, length = struct.unpack(">II", file.read(8))
                    if timescale:
                        duration = length / timescale
                elif inner == b"trak" and width is None:
                    for part, part_body, _part_end in _boxes(file, inner_body, inner_end):
                        if part == b"tkhd":
                            file.seek(part_body)
                            version = file.read(1)[0]
                            # Width and height follow the times, ids, layer, volume and the 36-byte
                            # matrix: 76 bytes into the box body (88 with 64-bit times).
                            offset = part_body + (88 if version == 1 else 76)
                            file.seek(offset)
                            w, h = struct.unpack(">II", file.read(8))
                            if w and h:
                                width, height = w >> 16, h >> 16
    except (struct.error, IndexError, OSError):
        pass
    finally:
        file.seek(0)
    return duration, width, height


def check_for_platform(platform, media):
    """Refuse media the platform does not take: too many images, video where none is allowed, a
    video too long, or images and a video mixed."""
    rules = platform.media_rules or {}
    images = [m for m in media if m.kind == "image"]
    videos = [m for m in media if m.kind == "video"]
    if videos and images:
        raise DomainError(_("A post carries either images or one video, not both."), field="media")
    if len(videos) > 1:
        raise DomainError(_("A post carries at most one video."), field="media")
    max_images = rules.get("max_images")
    if max_images is not None and len(images) > max_images:
        raise DomainError(
            _("%(platform)s takes at most %(max)d images; this post has %(count)d.")
            % {"platform": platform, "max": max_images, "count": len(images)},
            field="media",
        )
    if videos and rules.get("video") is False:
        raise DomainError(_("%(platform)s does not take videos.") % {"platform": platform}, field="media")
    max_seconds = rules.get("max_video_seconds")
    if videos and max_seconds and videos[0].duration_seconds and videos[0].duration_seconds > max_seconds:
        raise DomainError(
            _("%(platform)s takes videos up to %(max)d seconds; this one lasts %(length)d.")
            % {"platform": platform, "max": max_seconds, "length": videos[0].duration_seconds},
            field="media",
        )
