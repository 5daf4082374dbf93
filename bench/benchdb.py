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
