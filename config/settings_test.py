"""Test settings: the environment's database and broker, a non-UTC zone, fast hashing."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/social_matrix")

from .settings import *  # noqa: E402,F403

# Tests run in a zone that is neither UTC nor the default, so code that forgets USE_TZ shows.
TIME_ZONE = "America/Sao_Paulo"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Uploads made by tests go to a throwaway folder, never into the checkout.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="social-matrix-test-media-"))
