"""The system checks that keep publishing settings from allowing a second send."""

from content.checks import publishing_settings


def test_default_settings_pass():
    assert publishing_settings() == []


def test_a_lease_shorter_than_a_send_could_last_is_an_error(settings):
    settings.PUBLISH_HTTP_TIMEOUT = 60
    settings.PUBLISH_LEASE_SECONDS = 120
    (problem,) = publishing_settings()
    assert problem.id == "content.E001" and "PUBLISH_LEASE_SECONDS (120)" in problem.msg
    assert "180" in problem.hint


def test_a_task_time_limit_above_the_visibility_timeout_is_an_error(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.CELERY_TASK_TIME_LIMIT = 900
    (problem,) = publishing_settings()
    assert problem.id == "content.E002"
