"""The OpenAPI schema generates, validates, and carries no warnings."""

from django.core.management import call_command


def test_the_schema_is_served(api_client, db):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/social-accounts/{id}/consent/" in response.content


def test_the_schema_validates_without_warnings(tmp_path, db):
    # --fail-on-warn turns any warning (an unguessable serializer, an untyped field…) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "webhook_secret" in schema and "writeOnly: true" in schema
