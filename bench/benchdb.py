"""The throwaway PostgreSQL database each benchmark seeds (imported by the scripts beside it)."""

from urllib.parse import urlparse


def recreate_database(url, *, keep=False):
    """Drop and create the database `url` names; with `keep`, leave it as it is when it exists.
    Returns whether it was (re)created empty."""
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and keep:
                return False
            if exists:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        admin.close()


def production_django(url, *, keep=False):
    """(Re)create the database `url` names (see `recreate_database`), set Django up on it with
    production settings (DEBUG off: no query log, no template debug information, no browsable
    API) as the test client would reach them over "HTTPS", and migrate it. Returns whether the
    database was (re)created empty."""
    import os

    created = recreate_database(url, keep=keep)
    os.environ.update(DATABASE_URL=url, DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings",
                      SECRET_KEY="bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.template import Template
    from django.test import override_settings
    from django.test.utils import _TestState, setup_test_environment

    setup_test_environment()  # the test client needs it (testserver host, locmem email)
    # It also instruments every template render (for assertTemplateUsed); production does not.
    Template._render = _TestState.saved_data.template_render
    # Static file names from the source folders (production serves them hashed, after collectstatic).
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    call_command("migrate", verbosity=0)
    return created
