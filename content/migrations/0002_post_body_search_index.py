"""A trigram index for the post list's search in the text (PostgreSQL only).

The list searches with `body__icontains`, which PostgreSQL runs as `UPPER(body) LIKE UPPER('%…%')`.
Without an index a word that few posts contain is found by reading the whole table (1.4 s on a
million posts); a GIN trigram index on exactly that expression answers in about 20 ms. Terms of one
or two characters cannot use it, and the planner keeps walking the `created_at` index for common
terms, which is fast because a page needs only 51 matches. The list's other filters and its keyset
pages need no new index: `created_at` (from 0001) gives the order, ties sorted incrementally by id.

SQLite, used for development only, has no pg_trgm: nothing happens there. On a large existing
table, build the index by hand first with CREATE INDEX CONCURRENTLY under the same name.
"""

from django.db import migrations

INDEX = "post_body_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON content_post USING gin (UPPER(body) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
